"""Subjects and their identities: registering people, the identifiers they are known
by, age and account facts, and merging two records of one person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from tutela.decide import AccountStatus
from tutela.errors import LedgerError
from tutela.ledger import tables as t
from tutela.ledger.base import LedgerBase, aware, new_public_id, subject_stream, utc_now
from tutela.ledger.database import read, retrying
from tutela.ledger.identities import normalise

__all__ = ["Subjects"]


class Subjects(LedgerBase):
    """The ledger's subjects: who they are and by which identifiers."""

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
        now = utc_now()
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
            subject_stream(subject_id),
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

    def erased_among(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of ``pairs`` (normalised identities) that belong to an erased subject;
        one query per 500 of them."""
        s, i = t.subjects, t.identities
        wanted = list(dict.fromkeys(pairs))
        found: set[tuple[str, str]] = set()
        with read(self.engine) as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                query = (
                    select(i.c.kind, i.c.value)
                    .join(s, s.c.id == i.c.subject_id)
                    .where(
                        s.c.status == "erased",
                        or_(*(and_(i.c.kind == k, i.c.value == v) for k, v in chunk)),
                    )
                )
                found.update((row.kind, row.value) for row in conn.execute(query))
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
                subject_stream(row.id),
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
                .values(**changes, updated_at=utc_now())
            )
            payload = {
                k: v.isoformat() if isinstance(v, dt.date) else v for k, v in changes.items()
            }
            self._append(
                conn, subject_stream(row.id), "subject.updated", payload, subject_id=row.id
            )

        retrying(self.engine, work)

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
                    if name in mine and aware(mine[name].updated_at) >= aware(row.updated_at):
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
            changes: dict[str, Any] = {"updated_at": utc_now()}
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
                .values(merged_into=into.id, status="deactivated", updated_at=utc_now())
            )
            self._append(conn, subject_stream(into.id), "subject.merged", moved, subject_id=into.id)
            self._append(
                conn,
                subject_stream(gone.id),
                "subject.merged_away",
                {"into": keep},
                subject_id=gone.id,
            )

        retrying(self.engine, work)

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
