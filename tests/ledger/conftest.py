"""Every ledger test runs on SQLite (a temp file) and on the local PostgreSQL (a fresh schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import empty_database
from tutela import Tutela
from tutela.policy import load

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "james-pro" / "policy.yaml"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a new PostgreSQL schema."""
    with empty_database(request.param, tmp_path, "tutela_ledger") as url:
        yield url


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
