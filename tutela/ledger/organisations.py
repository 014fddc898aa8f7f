"""Organisations: their members, whose accounts they may manage, their administrators,
and the purposes they switch off for every member."""

from __future__ import annotations

from sqlalchemy import Connection, and_, delete, insert, select, update

from tutela.ledger import tables as t
from tutela.ledger.base import LedgerBase, new_public_id, subject_stream, utc_now
from tutela.ledger.database import read, retrying

__all__ = ["Organisations"]


class Organisations(LedgerBase):
    """Organisations whose administrators may manage their members' accounts."""

    def create_organisation(self, name: str) -> str:
        """Register an organisation whose administrator may manage members' accounts."""
        public_id = new_public_id("org")

        def work(conn: Connection) -> str:
            org_id = conn.execute(
                insert(t.organisations)
                .values(public_id=public_id, name=name, created_at=utc_now())
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
                .values(
                    organisation_id=org_id, managed=bool(managed and org_id), updated_at=utc_now()
                )
            )
            self._append(
                conn,
                subject_stream(row.id),
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
