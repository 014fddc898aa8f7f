"""Notices sent to people: who can be told by e-mail, and who has been told what.

A notice sent is an event in the person's stream (``notice.sent``), so sending the
same notice again can skip everyone it already reached.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, and_, select

from tutela.ledger import tables as t
from tutela.ledger.base import LedgerBase, subject_stream
from tutela.ledger.database import read, retrying

__all__ = ["Notices", "Reachable"]

_PAGE = 500


@dataclass(frozen=True, slots=True)
class Reachable:
    """A person who can be sent a notice by e-mail."""

    subject: str
    email: str
    country: str | None


class Notices(LedgerBase):
    """Who can be reached by e-mail, and which notices have reached whom."""

    def reachable_by_email(self) -> Iterator[Reachable]:
        """Every subject with an e-mail address, neither erased nor merged away, in the
        order they were registered (their first address each). Read a page at a time,
        so no transaction stays open while the caller sends mail."""
        s, i = t.subjects, t.identities
        after = 0
        while True:
            query = (
                select(s.c.id, s.c.public_id, s.c.country, i.c.value)
                .join(i, i.c.subject_id == s.c.id)
                .where(
                    and_(
                        s.c.id > after,
                        i.c.kind == "email",
                        s.c.status != "erased",
                        s.c.merged_into.is_(None),
                    )
                )
                .order_by(s.c.id, i.c.id)
                .limit(_PAGE)
            )
            with read(self.engine) as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            seen: set[int] = set()
            for row in rows:
                if row.id not in seen:
                    seen.add(row.id)
                    yield Reachable(row.public_id, row.value, row.country)
            after = rows[-1].id

    def notified(self, notice: str) -> frozenset[str]:
        """Public ids of the subjects a notice (by its key) has reached."""
        query = (
            select(t.subjects.c.public_id, t.events.c.payload)
            .join(t.events, t.events.c.subject_id == t.subjects.c.id)
            .where(t.events.c.kind == "notice.sent")
        )
        with read(self.engine) as conn:
            return frozenset(
                row.public_id
                for row in conn.execute(query)
                if json.loads(row.payload).get("notice") == notice
            )

    def record_notice(self, public_id: str, notice: str, channel: str) -> int:
        """Record that a notice reached a subject through a channel."""

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id)
            return self._append(
                conn,
                subject_stream(row.id),
                "notice.sent",
                {"notice": notice, "channel": channel},
                subject_id=row.id,
            )

        return retrying(self.engine, work)
