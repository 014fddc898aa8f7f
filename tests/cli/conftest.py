"""Fixtures for the ledger commands: a migrated SQLite file (or PostgreSQL schema) and a
runner that passes the policy and database through the environment, as deployments do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests.databases import empty_database
from tutela.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "james-pro" / "policy.yaml"

Invoke = Callable[..., Result]


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    """A SQLite file with no schema yet."""
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a new PostgreSQL schema dropped afterwards."""
    with empty_database(request.param, tmp_path, "tutela_cli") as url:
        yield url


def _runner(url: str) -> Invoke:
    runner = CliRunner(env={"TUTELA_POLICY": str(EXAMPLE), "TUTELA_DATABASE_URL": url})

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    return invoke


@pytest.fixture
def cli(empty_url: str) -> Invoke:
    """Run ``tutela`` on a freshly upgraded SQLite ledger and the James PRO policy."""
    invoke = _runner(empty_url)
    result = invoke("db", "upgrade")
    assert result.exit_code == 0, result.output
    return invoke


@pytest.fixture
def any_cli(any_empty_url: str) -> Invoke:
    """Like ``cli``, on SQLite and on PostgreSQL."""
    invoke = _runner(any_empty_url)
    result = invoke("db", "upgrade")
    assert result.exit_code == 0, result.output
    return invoke


@pytest.fixture
def bare_cli(empty_url: str) -> Invoke:
    """Run ``tutela`` on a SQLite file that has no schema yet."""
    return _runner(empty_url)
