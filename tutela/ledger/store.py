"""The ledger: subjects, identities, and the append-only events that change them.

Every change is an event appended to a hash-chained stream (one per subject,
one per organisation, one for the system) and applied to the current-state
tables in the same transaction. :mod:`tutela.ledger.replay` rebuilds the same
state from the events alone; the tests hold the two to each other.

:class:`Ledger` joins the parts, each in its own module: the events and shared
lookups (:mod:`~tutela.ledger.base`), subjects and identities
(:mod:`~tutela.ledger.subjects`), choices (:mod:`~tutela.ledger.choices`),
organisations (:mod:`~tutela.ledger.organisations`) and notices sent
(:mod:`~tutela.ledger.notices`); reading state, history and the audit chain are here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, literal_column, null, select, union_all

from tutela.decide import AccountStatus, ConsentRecord, SubjectState
from tutela.errors import LedgerError
from tutela.ledger import tables as t
from tutela.ledger.base import (
    BY_PUBLIC_ID,
    CHANNELS,
    SOURCES,
    EventRecord,
    aware,
    new_public_id,
    subject_stream,
    timestamp_of,
)
from tutela.ledger.chain import Broken, verify_stream
from tutela.ledger.choices import Choices, ConsentEntry
from tutela.ledger.database import read, retrying
from tutela.ledger.identities import normalise
from tutela.ledger.notices import Notices
from tutela.ledger.organisations import Organisations

__all__ = ["CHANNELS", "SOURCES", "ConsentEntry", "EventRecord", "Ledger", "new_public_id"]


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


_STATE = _state_parts(False)
_STATE_IN_ORGANISATION = _state_parts(True)
_BY_IDENTITY = (
    select(t.subjects)
    .join(t.identities, t.identities.c.subject_id == t.subjects.c.id)
    .where(
        and_(t.identities.c.kind == bindparam("kind"), t.identities.c.value == bindparam("value"))
    )
)


class Ledger(Choices, Organisations, Notices):
    """The engine's own database of people, their choices and what happened to them."""

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
                row = conn.execute(BY_PUBLIC_ID, {"public_id": value}).first()
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
                    at=aware(timestamp_of(at)),
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
                .where(t.events.c.stream == subject_stream(row.id))
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

    # ------------------------------------------------------------ staff

    def record_sweep(self, payload: Mapping[str, Any]) -> int:
        """Record a step of a retention sweep (the ``retention`` stream): where, how many
        rows, which fields and rules; never a value."""
        return retrying(
            self.engine,
            lambda conn: self._append(conn, "retention", "retention.swept", payload),
        )

    def sweeps(self, limit: int = 50) -> list[EventRecord]:
        """The latest steps of retention sweeps, newest first."""
        with read(self.engine) as conn:
            rows = conn.execute(
                select(t.events)
                .where(t.events.c.stream == "retention")
                .order_by(t.events.c.seq.desc())
                .limit(limit)
            )
            return [
                EventRecord(r.id, r.stream, r.seq, r.kind, json.loads(r.payload), r.at, r.hash)
                for r in rows
            ]

    def record_view(self, staff: str, subject: str, what: str) -> int:
        """Record that a member of staff saw a subject's personal data (the
        ``staff-views`` stream): who looked, at whom, at what."""
        payload = {"staff": staff, "subject": subject, "what": what}
        return retrying(
            self.engine, lambda conn: self._append(conn, "staff-views", "staff.viewed", payload)
        )
