"""Read-only queries the adapters page through: subjects, consent history, identity batches.

Pages are keyset pages (``WHERE key > :after ORDER BY key LIMIT :n``), so a page
costs the same however deep it is and rows written meanwhile never shift it.
Subjects are keyed by their public id (internal row ids never leave the ledger);
events by their event id, which is public already as ``evt_<id>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Engine, and_, select, text

from tutela.errors import LedgerError, SubjectNotFound
from tutela.ledger import tables as t
from tutela.ledger.database import read
from tutela.ledger.store import EventRecord

__all__ = ["consent_page", "lookup_many", "ping", "subject_page"]

_BATCH = 500


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with read(engine) as conn:
        conn.execute(text("SELECT 1"))


def subject_page(engine: Engine, after: str | None, limit: int) -> list[str]:
    """Up to ``limit`` public subject ids after ``after``, in id order; merged-away
    subjects are left out (they live on in the subject they were merged into)."""
    query = select(t.subjects.c.public_id).where(t.subjects.c.merged_into.is_(None))
    if after is not None:
        query = query.where(t.subjects.c.public_id > after)
    with read(engine) as conn:
        rows = conn.execute(query.order_by(t.subjects.c.public_id).limit(limit))
        return [str(r) for r in rows.scalars()]


def consent_page(
    engine: Engine, public_id: str, after: int | None, limit: int
) -> list[EventRecord]:
    """Up to ``limit`` consent events of one subject after event ``after``, oldest first."""
    with read(engine) as conn:
        row = conn.execute(
            select(t.subjects.c.id, t.subjects.c.merged_into).where(
                t.subjects.c.public_id == public_id
            )
        ).first()
        if row is None:
            raise SubjectNotFound(f"no subject {public_id!r}")
        if row.merged_into is not None:
            raise LedgerError(f"subject {public_id!r} was merged into another subject")
        query = select(t.events).where(
            and_(t.events.c.stream == f"subject:{row.id}", t.events.c.kind == "consent")
        )
        if after is not None:
            query = query.where(t.events.c.id > after)
        rows = conn.execute(query.order_by(t.events.c.id).limit(limit))
        return [
            EventRecord(r.id, r.stream, r.seq, r.kind, json.loads(r.payload), r.at, r.hash)
            for r in rows
        ]


def lookup_many(engine: Engine, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Public ids of subjects known by any of these normalised (kind, value) pairs,
    in a few set queries rather than one query per pair."""
    by_kind: dict[str, set[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, set()).add(value)
    found: dict[tuple[str, str], str] = {}
    with read(engine) as conn:
        for kind, values in by_kind.items():
            ordered = sorted(values)
            for start in range(0, len(ordered), _BATCH):
                chunk = ordered[start : start + _BATCH]
                rows = conn.execute(
                    select(t.identities.c.value, t.subjects.c.public_id)
                    .join(t.subjects, t.subjects.c.id == t.identities.c.subject_id)
                    .where(and_(t.identities.c.kind == kind, t.identities.c.value.in_(chunk)))
                )
                for value, public_id in rows:
                    found[(kind, value)] = public_id
    return found
