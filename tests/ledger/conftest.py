"""Every ledger test runs on SQLite (a temp file) and on the local PostgreSQL (a fresh schema)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tutela import Tutela
from tutela.policy import load

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "james-pro" / "policy.yaml"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    schema = f"tutela_test_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_ADMIN}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def tutela(database_url: str) -> Iterator[Tutela]:
    """A Tutela on the James PRO example policy and a freshly migrated ledger."""
    with Tutela.open(policy=load(EXAMPLE), database=database_url, upgrade=True) as opened:
        yield opened


@pytest.fixture
def rules_tutela(database_url: str) -> Iterator[Tutela]:
    """A Tutela on the policy that exercises every decision rule."""
    from tests.ledger.policies import rules_policy

    with Tutela.open(policy=rules_policy(), database=database_url, upgrade=True) as opened:
        yield opened
