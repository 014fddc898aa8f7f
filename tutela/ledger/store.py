"""The ledger: subjects, identities, and the append-only events that change them.

Every change is an event appended to a hash-chained stream (one per subject,
one per organisation, one for the system) and applied to the current-state
tables in the same transaction. :mod:`tutela.ledger.replay` rebuilds the same
state from the events alone; the tests hold the two to each other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)

from tutela.decide import AccountStatus, ConsentRecord, SubjectState
from tutela.errors import LedgerError, SubjectNotFound
from tutela.ledger import tables as t
from tutela.ledger.chain import GENESIS, Broken, canonical, event_hash, verify_stream
from tutela.ledger.database import is_sqlite, read, retrying
from tutela.ledger.identities import normalise

__all__ = ["CHANNELS", "SOURCES", "EventRecord", "Ledger", "new_public_id"]

CHANNELS = ("email", "sms", "push", "in_app", "post", "phone")
SOURCES = ("web", "api", "import", "admin", "email_link", "system")
SYSTEM_STREAM = "system"


def new_public_id(prefix: str) -> str:
    """An unguessable public id like ``sub_4f3c...``; internal row ids never leave the ledger."""
    return f"{prefix}_{secrets.token_hex(10)}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _timestamp(value: Any) -> dt.datetime:
    # Through a UNION, SQLite hands back the stored text rather than a datetime.
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _stream(subject_id: int) -> str:
    return f"subject:{subject_id}"


def _state_parts(with_organisation: bool) -> Any:
    # One UNION ALL instead of four queries, built once: a decision's cost is mostly
    # round trips and statement building.
    c, o, p, d = t.consents, t.objections, t.channel_prefs, t.org_disabled_purposes
    subject: Any = bindparam("subject_id")
    parts = [
        select(
            literal_column("'c'").label("k"),
            c.c.purpose.label("name"),
            c.c.granted.label("flag"),
            c.c.policy_version.label("version"),
            c.c.event_id.label("event"),
            c.c.updated_at.label("at"),
        ).where(c.c.subject_id == subject),
        select(literal_column("'o'"), o.c.purpose, null(), null(), null(), null()).where(
            o.c.subject_id == subject
        ),
        select(literal_column("'p'"), p.c.channel, null(), null(), null(), null()).where(
            and_(p.c.subject_id == subject, p.c.opted_out)
        ),
    ]
    if with_organisation:
        parts.append(
            select(literal_column("'d'"), d.c.purpose, null(), null(), null(), null()).where(
                d.c.organisation_id == bindparam("organisation_id")
            )
        )
    return union_all(*parts)


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
_STATE = _state_parts(False)
_STATE_IN_ORGANISATION = _state_parts(True)
_BY_PUBLIC_ID = select(t.subjects).where(t.subjects.c.public_id == bindparam("public_id"))
_BY_PUBLIC_ID_LOCKED = _BY_PUBLIC_ID.with_for_update()
_BY_IDENTITY = (
    select(t.subjects)
    .join(t.identities, t.identities.c.subject_id == t.subjects.c.id)
    .where(
        and_(t.identities.c.kind == bindparam("kind"), t.identities.c.value == bindparam("value"))
    )
)


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
    when = (at or _now()).astimezone(dt.UTC)
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


class Ledger:
    """The engine's own database of people, their choices and what happened to them."""

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

    # ------------------------------------------------------------ events

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
        query = _BY_PUBLIC_ID_LOCKED if lock and not is_sqlite(conn) else _BY_PUBLIC_ID
        row = conn.execute(query, {"public_id": public_id}).first()
        if row is None:
            raise SubjectNotFound(f"no subject {public_id!r}")
        if row.merged_into is not None:
            target = conn.execute(
                select(t.subjects.c.public_id).where(t.subjects.c.id == row.merged_into)
            ).scalar_one()
            raise LedgerError(f"subject {public_id!r} was merged into {target!r}")
        return row

    # ------------------------------------------------------------ subjects

    def create_subject(
        self,
        identities: Iterable[tuple[str, str]] = (),
        *,
        birth_date: dt.date | None = None,
        country: str | None = None,
        organisation: str | None = None,
        managed: bool = False,
        region: str | None = None,
    ) -> str:
        """Register a person; returns the public subject id.

        ``identities`` are (kind, value) pairs: email, phone, user_id, custom:NAME.
        An identity already known belongs to someone else: :class:`LedgerError`.
        """
        # The same identifier given twice (two spellings of one email) is one identity.
        normal = list(
            dict.fromkeys(normalise(k, v, region=region or country) for k, v in identities)
        )
        public_id = new_public_id("sub")
        country = country.upper() if country else None

        def work(conn: Connection) -> str:
            self._check_free(conn, normal)
            org_id = self._organisation_id(conn, organisation) if organisation else None
            self._insert_subject(
                conn,
                public_id,
                normal,
                birth_date=birth_date,
                country=country,
                organisation=(org_id, organisation),
                managed=managed,
            )
            return public_id

        return retrying(self.engine, work)

    def _insert_subject(
        self,
        conn: Connection,
        public_id: str,
        pairs: list[tuple[str, str]],
        *,
        birth_date: dt.date | None = None,
        country: str | None = None,
        organisation: tuple[int | None, str | None] = (None, None),
        managed: bool = False,
    ) -> int:
        """The subject's row, identities and ``subject.created`` event, in ``conn``."""
        now = _now()
        subject_id: int = conn.execute(
            insert(t.subjects)
            .values(
                public_id=public_id,
                status="active",
                birth_date=birth_date,
                country=country,
                restricted=False,
                organisation_id=organisation[0],
                managed=managed,
                created_at=now,
                updated_at=now,
            )
            .returning(t.subjects.c.id)
        ).scalar_one()
        for kind, value in pairs:
            conn.execute(insert(t.identities).values(subject_id=subject_id, kind=kind, value=value))
        self._append(
            conn,
            _stream(subject_id),
            "subject.created",
            {
                "public_id": public_id,
                "birth_date": birth_date.isoformat() if birth_date else None,
                "country": country,
                "organisation": organisation[1],
                "managed": managed,
                "identities": [list(pair) for pair in pairs],
            },
            subject_id=subject_id,
        )
        return subject_id

    def _check_free(self, conn: Connection, normal: list[tuple[str, str]]) -> None:
        for kind, value in normal:
            owner = conn.execute(
                select(t.identities.c.subject_id).where(
                    and_(t.identities.c.kind == kind, t.identities.c.value == value)
                )
            ).first()
            if owner is not None:
                raise LedgerError(f"this {kind} already belongs to another subject")

    def lookup(self, kind: str, value: str, *, region: str | None = None) -> str | None:
        """The public id of the subject with this identity, or ``None``."""
        kind, value = normalise(kind, value, region=region)
        with read(self.engine) as conn:
            found: str | None = conn.execute(
                select(t.subjects.c.public_id)
                .join(t.identities, t.identities.c.subject_id == t.subjects.c.id)
                .where(and_(t.identities.c.kind == kind, t.identities.c.value == value))
            ).scalar()
            return found

    def identities(self, public_id: str) -> list[tuple[str, str]]:
        """Every (kind, value) the subject is known by."""
        with read(self.engine) as conn:
            row = self._subject_row(conn, public_id)
            rows = conn.execute(
                select(t.identities.c.kind, t.identities.c.value)
                .where(t.identities.c.subject_id == row.id)
                .order_by(t.identities.c.id)
            )
            return [(r.kind, r.value) for r in rows]

    def add_identity(
        self, public_id: str, kind: str, value: str, *, region: str | None = None
    ) -> None:
        """Attach one more identifier to a subject."""
        pair = normalise(kind, value, region=region)

        def work(conn: Connection) -> None:
            row = self._subject_row(conn, public_id, lock=True)
            self._check_free(conn, [pair])
            conn.execute(
                insert(t.identities).values(subject_id=row.id, kind=pair[0], value=pair[1])
            )
            self._append(
                conn,
                _stream(row.id),
                "identity.added",
                {"kind": pair[0], "value": pair[1]},
                subject_id=row.id,
            )

        retrying(self.engine, work)

    def update_subject(
        self,
        public_id: str,
        *,
        birth_date: dt.date | None = None,
        country: str | None = None,
        status: AccountStatus | None = None,
    ) -> None:
        """Record age facts, country or account status (active, deactivated, erased)."""
        changes: dict[str, Any] = {}
        if birth_date is not None:
            changes["birth_date"] = birth_date
        if country is not None:
            changes["country"] = country.upper()
        if status is not None:
            changes["status"] = AccountStatus(status).value
        if not changes:
            return

        def work(conn: Connection) -> None:
            row = self._subject_row(conn, public_id, lock=True)
            if row.status == "erased" and changes.get("status", "erased") != "erased":
                raise LedgerError("an erased subject cannot be reactivated")
            conn.execute(
                update(t.subjects)
                .where(t.subjects.c.id == row.id)
                .values(**changes, updated_at=_now())
            )
            payload = {
                k: v.isoformat() if isinstance(v, dt.date) else v for k, v in changes.items()
            }
            self._append(conn, _stream(row.id), "subject.updated", payload, subject_id=row.id)

        retrying(self.engine, work)

    # ------------------------------------------------------------ consents and choices

    def record_consent(
        self,
        public_id: str,
        purpose: str,
        granted: bool,
        *,
        policy_version: str | None,
        channel: str | None = None,
        notice_hash: str | None = None,
        source: str = "api",
        ip: str | None = None,
        user_agent: str | None = None,
        at: dt.datetime | None = None,
    ) -> int:
        """Append a grant or withdrawal (Art. 7(1): who, what, when, which notice, how)."""
        if source not in SOURCES:
            raise LedgerError(f"unknown consent source {source!r}; use one of {', '.join(SOURCES)}")
        self._check_purpose(purpose)
        payload = {
            "purpose": purpose,
            "granted": bool(granted),
            "policy_version": policy_version,
            "channel": channel,
            "notice_hash": notice_hash,
            "source": source,
            "ip_hash": self._hash_ip(ip),
            "user_agent": (user_agent or None) and user_agent[:400],
        }

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id, lock=True)
            if row.status == "erased":
                raise LedgerError("consent cannot be recorded for an erased subject")
            when = at or _now()
            event_id = self._append(
                conn, _stream(row.id), "consent", payload, subject_id=row.id, at=when
            )
            self._upsert(
                conn,
                t.consents,
                {"subject_id": row.id, "purpose": purpose},
                {
                    "granted": bool(granted),
                    "policy_version": policy_version,
                    "event_id": event_id,
                    "updated_at": when,
                },
            )
            return event_id

        return retrying(self.engine, work)

    def _check_purpose(self, purpose: str) -> None:
        if self.purposes is not None and purpose not in self.purposes:
            raise LedgerError(f"unknown purpose {purpose!r}: the policy does not declare it")

    def _hash_ip(self, ip: str | None) -> str | None:
        if not ip or self._ip_key is None:
            return None
        return hmac.new(self._ip_key, ip.encode(), hashlib.sha256).hexdigest()

    def set_channel(
        self, public_id: str, channel: str, opted_out: bool, *, source: str = "api"
    ) -> int:
        """Opt a marketing channel out (or back in)."""
        if channel not in CHANNELS:
            raise LedgerError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id, lock=True)
            now = _now()
            event_id = self._append(
                conn,
                _stream(row.id),
                "channel",
                {"channel": channel, "opted_out": bool(opted_out), "source": source},
                subject_id=row.id,
                at=now,
            )
            self._upsert(
                conn,
                t.channel_prefs,
                {"subject_id": row.id, "channel": channel},
                {"opted_out": bool(opted_out), "event_id": event_id, "updated_at": now},
            )
            return event_id

        return retrying(self.engine, work)

    def set_objection(
        self, public_id: str, purpose: str, active: bool = True, *, source: str = "api"
    ) -> int:
        """Object to a purpose (Art. 21), or withdraw the objection. ``direct_marketing``
        objects to every marketing purpose."""
        if purpose != "direct_marketing":
            self._check_purpose(purpose)

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id, lock=True)
            now = _now()
            event_id = self._append(
                conn,
                _stream(row.id),
                "objection",
                {"purpose": purpose, "active": bool(active), "source": source},
                subject_id=row.id,
                at=now,
            )
            key = and_(t.objections.c.subject_id == row.id, t.objections.c.purpose == purpose)
            conn.execute(delete(t.objections).where(key))
            if active:
                conn.execute(
                    insert(t.objections).values(
                        subject_id=row.id, purpose=purpose, event_id=event_id, updated_at=now
                    )
                )
            return event_id

        return retrying(self.engine, work)

    def set_restriction(self, public_id: str, active: bool, reason: str) -> int:
        """Start or lift a restriction of processing (Art. 18), with its reason."""

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id, lock=True)
            event_id = self._append(
                conn,
                _stream(row.id),
                "restriction",
                {"active": bool(active), "reason": reason},
                subject_id=row.id,
            )
            conn.execute(
                update(t.subjects)
                .where(t.subjects.c.id == row.id)
                .values(
                    restricted=bool(active),
                    restriction_reason=reason if active else None,
                    updated_at=_now(),
                )
            )
            return event_id

        return retrying(self.engine, work)

    def _upsert(
        self, conn: Connection, table: Any, key: Mapping[str, Any], values: Mapping[str, Any]
    ) -> None:
        condition = and_(*(table.c[k] == v for k, v in key.items()))
        done = conn.execute(update(table).where(condition).values(**values))
        if done.rowcount == 0:
            conn.execute(insert(table).values(**key, **values))

    def merge(self, keep: str, absorb: str) -> None:
        """Two subjects turn out to be one person: move ``absorb``'s identities and choices
        to ``keep``. Where both chose for the same purpose or channel, the later choice wins;
        an objection or a restriction of either stays."""
        if keep == absorb:
            raise LedgerError("a subject cannot be merged into itself")

        def work(conn: Connection) -> None:
            into = self._subject_row(conn, keep, lock=True)
            gone = self._subject_row(conn, absorb, lock=True)
            if "erased" in (into.status, gone.status):
                raise LedgerError("an erased subject cannot be merged")
            conn.execute(
                update(t.identities)
                .where(t.identities.c.subject_id == gone.id)
                .values(subject_id=into.id)
            )
            moved: dict[str, Any] = {
                "from": absorb,
                "consents": [],
                "channels": [],
                "objections": [],
            }
            for table, key, bucket in (
                (t.consents, "purpose", "consents"),
                (t.channel_prefs, "channel", "channels"),
            ):
                theirs = {
                    r._mapping[key]: r
                    for r in conn.execute(select(table).where(table.c.subject_id == gone.id))
                }
                mine = {
                    r._mapping[key]: r
                    for r in conn.execute(select(table).where(table.c.subject_id == into.id))
                }
                for name, row in theirs.items():
                    if name in mine and _aware(mine[name].updated_at) >= _aware(row.updated_at):
                        continue
                    values = {
                        c: row._mapping[c] for c in row._mapping if c not in ("subject_id", key)
                    }
                    self._upsert(conn, table, {"subject_id": into.id, key: name}, values)
                    moved[bucket].append(name)
                conn.execute(delete(table).where(table.c.subject_id == gone.id))
            mine_obj = set(
                conn.execute(
                    select(t.objections.c.purpose).where(t.objections.c.subject_id == into.id)
                ).scalars()
            )
            for row in conn.execute(
                select(t.objections).where(t.objections.c.subject_id == gone.id)
            ).all():
                if row.purpose not in mine_obj:
                    conn.execute(
                        insert(t.objections).values(
                            subject_id=into.id,
                            purpose=row.purpose,
                            event_id=row.event_id,
                            updated_at=row.updated_at,
                        )
                    )
                    moved["objections"].append(row.purpose)
            conn.execute(delete(t.objections).where(t.objections.c.subject_id == gone.id))
            changes: dict[str, Any] = {"updated_at": _now()}
            if gone.restricted and not into.restricted:
                changes.update(restricted=True, restriction_reason=gone.restriction_reason)
                moved["restricted"] = gone.restriction_reason
            for column in ("birth_date", "country", "organisation_id"):
                if into._mapping[column] is None and gone._mapping[column] is not None:
                    changes[column] = gone._mapping[column]
                    moved[column] = str(gone._mapping[column])
            conn.execute(update(t.subjects).where(t.subjects.c.id == into.id).values(**changes))
            conn.execute(
                update(t.subjects)
                .where(t.subjects.c.id == gone.id)
                .values(merged_into=into.id, status="deactivated", updated_at=_now())
            )
            self._append(conn, _stream(into.id), "subject.merged", moved, subject_id=into.id)
            self._append(
                conn, _stream(gone.id), "subject.merged_away", {"into": keep}, subject_id=gone.id
            )

        retrying(self.engine, work)

    # ------------------------------------------------------------ organisations

    def create_organisation(self, name: str) -> str:
        """Register an organisation whose administrator may manage members' accounts."""
        public_id = new_public_id("org")

        def work(conn: Connection) -> str:
            org_id = conn.execute(
                insert(t.organisations)
                .values(public_id=public_id, name=name, created_at=_now())
                .returning(t.organisations.c.id)
            ).scalar_one()
            self._append(
                conn,
                f"organisation:{org_id}",
                "organisation.created",
                {"organisation": public_id, "name": name},
            )
            return public_id

        return retrying(self.engine, work)

    def _organisation_id(self, conn: Connection, public_id: str) -> int:
        org_id = conn.execute(
            select(t.organisations.c.id).where(t.organisations.c.public_id == public_id)
        ).scalar()
        if org_id is None:
            raise SubjectNotFound(f"no organisation {public_id!r}")
        return int(org_id)

    def set_membership(
        self, public_id: str, organisation: str | None, *, managed: bool = False
    ) -> None:
        """Put a subject in an organisation (or none); ``managed`` if it manages the account."""

        def work(conn: Connection) -> None:
            row = self._subject_row(conn, public_id, lock=True)
            org_id = self._organisation_id(conn, organisation) if organisation else None
            conn.execute(
                update(t.subjects)
                .where(t.subjects.c.id == row.id)
                .values(organisation_id=org_id, managed=bool(managed and org_id), updated_at=_now())
            )
            self._append(
                conn,
                _stream(row.id),
                "membership",
                {"organisation": organisation, "managed": bool(managed and org_id)},
                subject_id=row.id,
            )

        retrying(self.engine, work)

    def add_administrator(self, organisation: str, public_id: str) -> None:
        """Make a subject an administrator of an organisation."""

        def work(conn: Connection) -> None:
            org_id = self._organisation_id(conn, organisation)
            row = self._subject_row(conn, public_id)
            exists = conn.execute(
                select(t.org_admins).where(
                    and_(
                        t.org_admins.c.organisation_id == org_id,
                        t.org_admins.c.subject_id == row.id,
                    )
                )
            ).first()
            if exists is None:
                conn.execute(insert(t.org_admins).values(organisation_id=org_id, subject_id=row.id))
                self._append(
                    conn, f"organisation:{org_id}", "administrator.added", {"subject": public_id}
                )

        retrying(self.engine, work)

    def set_organisation_purpose(self, organisation: str, purpose: str, enabled: bool) -> None:
        """Switch a purpose off (or on again) for every member of an organisation."""

        def work(conn: Connection) -> None:
            org_id = self._organisation_id(conn, organisation)
            key = and_(
                t.org_disabled_purposes.c.organisation_id == org_id,
                t.org_disabled_purposes.c.purpose == purpose,
            )
            conn.execute(delete(t.org_disabled_purposes).where(key))
            if not enabled:
                conn.execute(
                    insert(t.org_disabled_purposes).values(organisation_id=org_id, purpose=purpose)
                )
            self._append(
                conn,
                f"organisation:{org_id}",
                "purpose.setting",
                {"organisation": organisation, "purpose": purpose, "enabled": enabled},
            )

        retrying(self.engine, work)

    # ------------------------------------------------------------ reading state

    def state(self, public_id: str) -> SubjectState:
        """The materialised state a decision reads."""
        with read(self.engine) as conn:
            row = self._subject_row(conn, public_id)
            return self._state(conn, row)

    def state_or_none(self, public_id: str) -> SubjectState | None:
        """Like :meth:`state`, ``None`` for an unknown (or merged-away) subject."""
        try:
            return self.state(public_id)
        except LedgerError:
            return None

    def state_for(self, kind: str, value: str) -> SubjectState | None:
        """The state of the subject named by an identity (or ``kind="id"`` and its public
        id), in two round trips; ``None`` if nobody matches."""
        with read(self.engine) as conn:
            if kind == "id":
                row = conn.execute(_BY_PUBLIC_ID, {"public_id": value}).first()
            else:
                kind, value = normalise(kind, value)
                row = conn.execute(_BY_IDENTITY, {"kind": kind, "value": value}).first()
            if row is None or row.merged_into is not None:
                return None
            return self._state(conn, row)

    def _state(self, conn: Connection, row: Any) -> SubjectState:
        consents: dict[str, ConsentRecord] = {}
        sets: dict[str, set[str]] = {"o": set(), "p": set(), "d": set()}
        if row.organisation_id is None:
            rows = conn.execute(_STATE, {"subject_id": row.id})
        else:
            rows = conn.execute(
                _STATE_IN_ORGANISATION,
                {"subject_id": row.id, "organisation_id": row.organisation_id},
            )
        for k, name, flag, version, event, at in rows:
            if k == "c":
                consents[name] = ConsentRecord(
                    granted=bool(flag),
                    policy_version=version,
                    event_id=f"evt_{event}",
                    at=_aware(_timestamp(at)),
                )
            else:
                sets[k].add(name)
        return SubjectState(
            subject_id=row.public_id,
            status=AccountStatus(row.status),
            birth_date=row.birth_date,
            country=row.country,
            restricted=bool(row.restricted),
            consents=consents,
            objections=frozenset(sets["o"]),
            channel_opt_outs=frozenset(sets["p"]),
            organisation_disabled=frozenset(sets["d"]),
        )

    def history(self, public_id: str) -> list[EventRecord]:
        """The subject's events, oldest first."""
        with read(self.engine) as conn:
            row = self._subject_row(conn, public_id)
            rows = conn.execute(
                select(t.events)
                .where(t.events.c.stream == _stream(row.id))
                .order_by(t.events.c.seq)
            )
            return [
                EventRecord(r.id, r.stream, r.seq, r.kind, json.loads(r.payload), r.at, r.hash)
                for r in rows
            ]

    def count_subjects(self) -> int:
        """How many subjects the ledger holds."""
        with read(self.engine) as conn:
            return int(conn.execute(select(func.count()).select_from(t.subjects)).scalar_one())

    # ------------------------------------------------------------ the audit chain

    def verify(self) -> Iterator[Broken]:
        """Walk every stream's chain; yield the first broken event of each broken stream."""
        columns = (
            t.events.c.id,
            t.events.c.stream,
            t.events.c.seq,
            t.events.c.kind,
            t.events.c.payload,
            t.events.c.at,
            t.events.c.prev_hash,
            t.events.c.hash,
        )
        with read(self.engine) as conn:
            heads = {r.name: (r.seq, r.hash) for r in conn.execute(select(t.streams))}
            rows = conn.execute(select(*columns).order_by(t.events.c.stream, t.events.c.seq))
            current: list[Any] = []
            stream: str | None = None
            seen: set[str] = set()
            for row in rows:
                if row.stream != stream:
                    if stream is not None:
                        yield from self._check(stream, current, heads)
                    stream, current = row.stream, []
                    seen.add(row.stream)
                current.append(tuple(row))
            if stream is not None:
                yield from self._check(stream, current, heads)
            for name, (seq, _) in heads.items():
                if name not in seen and seq > 0:
                    yield Broken(0, name, seq, "every event of this stream is missing")

    @staticmethod
    def _check(
        stream: str, rows: list[Any], heads: Mapping[str, tuple[int, str]]
    ) -> Iterator[Broken]:
        broken = verify_stream(rows)
        if broken is not None:
            yield broken
            return
        head = heads.get(stream)
        last = rows[-1]
        if head is None or head != (last[2], last[7]):
            yield Broken(last[0], stream, last[2], "events after this one are missing")

    # ------------------------------------------------------------ batched consents

    def record_consents(
        self,
        entries: Sequence[ConsentEntry],
        *,
        region: str | None = None,
        also: Callable[[Connection, list[int | str]], None] | None = None,
    ) -> list[int | str]:
        """Record many grants and withdrawals in one transaction; bulk imports use it.

        Each entry names its person by a subject id or by identities; a person
        not yet in the ledger is created from the identities (``region`` reads
        phone numbers written without a country code). Each result is the event
        id, or, for an entry that cannot be recorded (unknown or erased subject,
        identifiers of two different people, a bad identifier), the reason; those
        entries are skipped and the others kept. Where the person's current
        choice for the purpose is newer than the entry, the entry joins the
        history and the current choice stands: the later choice wins, whatever
        the order of the input. ``also(conn, results)`` runs in the same
        transaction, so a caller can record its progress with the consents.
        """
        normal: list[list[tuple[str, str]] | str] = []
        for entry in entries:
            try:
                normal.append([normalise(k, v, region=region) for k, v in entry.identities])
            except ValueError as exc:  # IdentityError: not an email, not a phone number
                normal.append(str(exc))

        def work(conn: Connection) -> list[int | str]:
            results: list[int | str] = []
            for entry, pairs in zip(entries, normal, strict=True):
                if isinstance(pairs, str):
                    results.append(pairs)
                    continue
                try:
                    results.append(self._consent_entry(conn, entry, pairs))
                except LedgerError as exc:
                    results.append(str(exc))
            if also is not None:
                also(conn, results)
            return results

        return retrying(self.engine, work)

    def _consent_entry(
        self, conn: Connection, entry: ConsentEntry, pairs: list[tuple[str, str]]
    ) -> int:
        # Every check happens before the first write of an entry, so a refused
        # entry leaves nothing behind and the batch's transaction carries on.
        if entry.source not in SOURCES:
            raise LedgerError(f"unknown consent source {entry.source!r}")
        public_id = entry.subject or self._owner(conn, pairs)
        if public_id is None:
            if not pairs:
                raise LedgerError("no subject id and no identifier to create the subject from")
            public_id = self._create_in(conn, pairs)
        row = self._subject_row(conn, public_id, lock=True)
        if row.status == "erased":
            raise LedgerError("consent cannot be recorded for an erased subject")
        when = (entry.at or _now()).astimezone(dt.UTC)
        payload = {
            "purpose": entry.purpose,
            "granted": bool(entry.granted),
            "policy_version": entry.policy_version,
            "channel": entry.channel,
            "notice_hash": None,
            "source": entry.source,
            "ip_hash": None,
            "user_agent": None,
        }
        event_id = self._append(
            conn, _stream(row.id), "consent", payload, subject_id=row.id, at=when
        )
        key = and_(t.consents.c.subject_id == row.id, t.consents.c.purpose == entry.purpose)
        current = conn.execute(select(t.consents.c.updated_at).where(key)).first()
        values = {
            "granted": bool(entry.granted),
            "policy_version": entry.policy_version,
            "event_id": event_id,
            "updated_at": when,
        }
        if current is None:
            conn.execute(
                insert(t.consents).values(subject_id=row.id, purpose=entry.purpose, **values)
            )
        elif _aware(current.updated_at) <= when:
            conn.execute(update(t.consents).where(key).values(**values))
        return event_id

    def _owner(self, conn: Connection, pairs: list[tuple[str, str]]) -> str | None:
        owners: set[str] = set()
        for kind, value in pairs:
            owner = conn.execute(
                select(t.subjects.c.public_id)
                .join(t.identities, t.identities.c.subject_id == t.subjects.c.id)
                .where(and_(t.identities.c.kind == kind, t.identities.c.value == value))
            ).scalar()
            if owner is not None:
                owners.add(owner)
        if len(owners) > 1:
            raise LedgerError("these identifiers belong to different subjects")
        return owners.pop() if owners else None

    def _create_in(self, conn: Connection, pairs: list[tuple[str, str]]) -> str:
        # The same rows and event as create_subject, inside the caller's transaction.
        public_id = new_public_id("sub")
        self._insert_subject(conn, public_id, pairs)
        return public_id

    # ------------------------------------------------------------ staff

    def administered_organisations(self, public_id: str) -> list[str]:
        """Public ids of the organisations the subject administers (none if unknown)."""
        query = (
            select(t.organisations.c.public_id)
            .join(t.org_admins, t.org_admins.c.organisation_id == t.organisations.c.id)
            .join(t.subjects, t.subjects.c.id == t.org_admins.c.subject_id)
            .where(t.subjects.c.public_id == public_id)
            .order_by(t.organisations.c.public_id)
        )
        with read(self.engine) as conn:
            return [str(row[0]) for row in conn.execute(query)]

    def record_view(self, staff: str, subject: str, what: str) -> int:
        """Record that a member of staff saw a subject's personal data (the
        ``staff-views`` stream): who looked, at whom, at what."""
        payload = {"staff": staff, "subject": subject, "what": what}
        return retrying(
            self.engine, lambda conn: self._append(conn, "staff-views", "staff.viewed", payload)
        )


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One grant or withdrawal for :meth:`Ledger.record_consents`.

    ``subject`` is a public subject id; without it, ``identities`` ((kind,
    value) pairs) find the person, or create them when nobody matches.
    """

    purpose: str
    granted: bool
    policy_version: str | None
    subject: str | None = None
    identities: tuple[tuple[str, str], ...] = ()
    channel: str | None = None
    source: str = "import"
    at: dt.datetime | None = None
