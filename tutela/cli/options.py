"""Options shared by the ledger commands, and the one place their errors become exit codes.

Every command that needs a policy or a ledger takes ``--policy`` and
``--database`` (also read from ``TUTELA_POLICY`` and ``TUTELA_DATABASE_URL``).
A :class:`~tutela.errors.TutelaError` or a database that cannot be reached
ends the command with a message on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tutela.engine import Tutela
from tutela.errors import TutelaError
from tutela.ledger.database import DEFAULT_URL, driver_message, open_engine
from tutela.ledger.schema import ensure_current

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_URL",
    "EXIT_FOUND",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "DatabaseOption",
    "JsonOption",
    "PolicyOption",
    "fail",
    "handled",
    "open_engine_or_exit",
    "open_tutela_or_exit",
    "safe_url",
]

EXIT_OK = 0
EXIT_FOUND = 1
"""The command worked and the answer is "no" (denied, tampered, not found, rows rejected)."""
EXIT_UNUSABLE = 2
"""The input, the policy or the database could not be used."""

DEFAULT_POLICY = Path("policy.yaml")

PolicyOption = Annotated[
    Path,
    typer.Option(
        "--policy",
        envvar="TUTELA_POLICY",
        help="The policy file.",
        show_default=True,
    ),
]
DatabaseOption = Annotated[
    str,
    typer.Option(
        "--database",
        envvar="TUTELA_DATABASE_URL",
        help="The ledger database URL (sqlite:///FILE or postgresql://...).",
        show_default=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def safe_url(url: str) -> str:
    """The URL as it may be shown: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unreadable database URL>"


def fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    """Print ``message`` on stderr and end the command with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def handled(database: str | None = None) -> Iterator[None]:
    """Turn Tutela's refusals and unreachable databases into a message and exit 2."""
    try:
        yield
    except TutelaError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        where = f" {safe_url(database)}" if database else ""
        fail(f"the ledger database{where} failed: {driver_message(exc)}")


def open_engine_or_exit(database: str, *, current: bool = True) -> Engine:
    """An engine on the ledger; with ``current`` an outdated schema is refused (exit 2)
    with the command that upgrades it."""
    with handled(database):
        engine = open_engine(database)
        if current:
            ensure_current(engine)
        return engine
    raise AssertionError("unreachable")  # ``handled`` exits on every error


def open_tutela_or_exit(policy: Path, database: str, *, upgrade: bool = False) -> Tutela:
    """The policy and the ledger, opened together; any refusal ends the command (exit 2)."""
    with handled(database):
        return Tutela.open(policy=policy, database=database, upgrade=upgrade)
    raise AssertionError("unreachable")
