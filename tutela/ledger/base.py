"""The ledger's foundation: events appended to hash-chained streams, and the lookups
every part of the ledger shares.

Every change is an event appended to a stream (one per subject, one per
organisation, one for the system), each event carrying the hash of the one
before it, and applied to the current-state tables in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, insert, select, update

from tutela.errors import LedgerError, SubjectNotFound
from tutela.ledger import tables as t
from tutela.ledger.chain import GENESIS, canonical, event_hash
from tutela.ledger.database import is_sqlite

__all__ = [
    "CHANNELS",
    "SOURCES",
    "EventRecord",
    "LedgerBase",
    "aware",
    "new_public_id",
    "subject_stream",
    "timestamp_of",
    "utc_now",
]

CHANNELS = ("email", "sms", "push", "in_app", "post", "phone")
SOURCES = ("web", "api", "import", "admin", "email_link", "system")


def new_public_id(prefix: str) -> str:
    """An unguessable public id like ``sub_4f3c...``; internal row ids never leave the ledger."""
    return f"{prefix}_{secrets.token_hex(10)}"


def utc_now() -> dt.datetime:
    """Now, in UTC: every moment the ledger stores is."""
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC, as stored."""
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def timestamp_of(value: Any) -> dt.datetime:
    """A stored moment as a datetime, whatever the driver handed back."""
    # Through a UNION, SQLite hands back the stored text rather than a datetime.
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def subject_stream(subject_id: int) -> str:
    """The name of a subject's stream of events."""
    return f"subject:{subject_id}"


# The statements of every append, built once (SQLAlchemy's compile cache still has
# to derive a cache key for a freshly built statement on every call).
_HEAD = (
    select(t.streams.c.seq, t.streams.c.hash)
    .where(t.streams.c.name == bindparam("name"))
    .with_for_update()
)
_NEW_STREAM = insert(t.streams).values(name=bindparam("b_name"), seq=0, hash=GENESIS)
_NEW_EVENT = insert(t.events).returning(t.events.c.id)
_MOVE_HEAD = (
    update(t.streams)
    .where(t.streams.c.name == bindparam("b_name"))
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)
# A subject's row by its public id; reading state uses it too.
BY_PUBLIC_ID = select(t.subjects).where(t.subjects.c.public_id == bindparam("public_id"))
BY_PUBLIC_ID_LOCKED = BY_PUBLIC_ID.with_for_update()


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as stored: what happened to whom, when, and its place in the chain."""

    id: int
    stream: str
    seq: int
    kind: str
    payload: Mapping[str, Any]
    at: dt.datetime
    hash: str


def _event_row(
    stream: str,
    seq: int,
    prev: str,
    kind: str,
    payload: Mapping[str, Any],
    subject_id: int | None,
    at: dt.datetime | None,
) -> dict[str, Any]:
    """One event, chained to the one before it by ``prev``."""
    when = (at or utc_now()).astimezone(dt.UTC)
    body = canonical(dict(payload))
    return {
        "stream": stream,
        "seq": seq,
        "subject_id": subject_id,
        "kind": kind,
        "payload": body,
        "at": when,
        "prev_hash": prev,
        "hash": event_hash(prev, stream, seq, kind, body, when),
    }


class LedgerBase:
    """What every part of the ledger stands on: the database, the policy's purposes,
    appending events, and finding a subject's or an organisation's row."""

    def __init__(
        self,
        engine: Engine,
        *,
        ip_key: bytes | None = None,
        purposes: frozenset[str] | None = None,
    ) -> None:
        self.engine = engine
        # The policy's purposes, when known: consents and objections must name one.
        self.purposes = purposes
        key = ip_key or os.environ.get("TUTELA_SECRET_KEY", "").encode()
        # Without a configured key, IP addresses are not stored at all rather
        # than hashed with a guessable default.
        self._ip_key = key or None

    def _append(
        self,
        conn: Connection,
        stream: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        subject_id: int | None = None,
        at: dt.datetime | None = None,
    ) -> int:
        seq, prev = self._head(conn, stream)
        row = _event_row(stream, seq + 1, prev, kind, payload, subject_id, at)
        event_id: int = conn.execute(_NEW_EVENT, row).scalar_one()
        conn.execute(_MOVE_HEAD, {"b_name": stream, "b_seq": row["seq"], "b_hash": row["hash"]})
        return event_id

    def _append_many(
        self,
        conn: Connection,
        stream: str,
        events: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        subject_id: int | None = None,
    ) -> None:
        """Several events at the end of one stream, in order: one read of its head, one
        insert of them all and one move of the head, whatever their number."""
        if not events:
            return
        seq, prev = self._head(conn, stream)
        rows = []
        for kind, payload in events:
            seq += 1
            rows.append(_event_row(stream, seq, prev, kind, payload, subject_id, None))
            prev = rows[-1]["hash"]
        conn.execute(insert(t.events), rows)
        conn.execute(_MOVE_HEAD, {"b_name": stream, "b_seq": seq, "b_hash": prev})

    @staticmethod
    def _head(conn: Connection, stream: str) -> tuple[int, str]:
        """The last sequence number and hash of a stream (locked), created if new."""
        head = conn.execute(_HEAD, {"name": stream}).first()
        if head is None:
            conn.execute(_NEW_STREAM, {"b_name": stream})
            return 0, GENESIS
        return int(head.seq), str(head.hash)

    def _subject_row(self, conn: Connection, public_id: str, *, lock: bool = False) -> Any:
        query = BY_PUBLIC_ID_LOCKED if lock and not is_sqlite(conn) else BY_PUBLIC_ID
        row = conn.execute(query, {"public_id": public_id}).first()
        if row is None:
            raise SubjectNotFound(f"no subject {public_id!r}")
        if row.merged_into is not None:
            target = conn.execute(
                select(t.subjects.c.public_id).where(t.subjects.c.id == row.merged_into)
            ).scalar_one()
            raise LedgerError(f"subject {public_id!r} was merged into {target!r}")
        return row

    def _organisation_id(self, conn: Connection, public_id: str) -> int:
        org_id = conn.execute(
            select(t.organisations.c.id).where(t.organisations.c.public_id == public_id)
        ).scalar()
        if org_id is None:
            raise SubjectNotFound(f"no organisation {public_id!r}")
        return int(org_id)

    def _upsert(
        self, conn: Connection, table: Any, key: Mapping[str, Any], values: Mapping[str, Any]
    ) -> None:
        condition = and_(*(table.c[k] == v for k, v in key.items()))
        done = conn.execute(update(table).where(condition).values(**values))
        if done.rowcount == 0:
            conn.execute(insert(table).values(**key, **values))

    def _check_purpose(self, purpose: str) -> None:
        if self.purposes is not None and purpose not in self.purposes:
            raise LedgerError(f"unknown purpose {purpose!r}: the policy does not declare it")

    def _hash_ip(self, ip: str | None) -> str | None:
        if not ip or self._ip_key is None:
            return None
        return hmac.new(self._ip_key, ip.encode(), hashlib.sha256).hexdigest()
