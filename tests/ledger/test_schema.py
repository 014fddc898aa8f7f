"""The migrations create exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tutela import Tutela
from tutela.ledger.schema import head_revision
from tutela.ledger.tables import metadata


def test_migrations_match_the_tables(tutela: Tutela) -> None:
    with tutela.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert context.get_current_revision() == head_revision()
        assert compare_metadata(context, metadata) == []
