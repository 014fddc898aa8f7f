"""Opening the ledger database: SQLite (WAL, foreign keys, immediate write locks) or PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from tutela.errors import LedgerError

__all__ = ["DEFAULT_URL", "driver_message", "is_sqlite", "open_engine", "retrying", "write"]

DEFAULT_URL = "sqlite:///tutela.sqlite3"
"""The database used when none is given: a SQLite file in the working folder."""

T = TypeVar("T")


def driver_message(exc: BaseException) -> str:
    """What a database error says, in one line: the driver's first line says what went
    wrong (refused, unknown host, no such table); the rest quotes SQL and parameters,
    which may hold personal data."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def is_sqlite(engine: Engine | Connection) -> bool:
    """Whether the engine speaks SQLite (which needs its own locking and pragmas)."""
    return engine.dialect.name == "sqlite"


def open_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``. SQLite gets WAL, foreign keys, a busy timeout and
    ``BEGIN IMMEDIATE`` so two writers queue instead of failing mid-transaction."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise LedgerError(f"not a database URL: {exc}") from None
    if parsed.drivername.startswith("postgresql") and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes fails with
        # SQLITE_BUSY when another writer got in between; taking the write lock
        # up front makes writers wait their turn (busy_timeout) instead.
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction (committed on success, rolled back on error)."""
    with engine.begin() as conn:
        yield conn


def read(engine: Engine) -> Any:
    """A read-only transaction (``BEGIN DEFERRED`` on SQLite, so readers never block)."""
    if is_sqlite(engine):
        return engine.execution_options(sqlite_begin="DEFERRED").connect()
    return engine.connect()


def retrying(engine: Engine, work: Callable[[Connection], T], attempts: int = 8) -> T:
    """Run ``work`` in a write transaction, retrying on conflicts between writers
    (unique violations from a race, deadlocks, serialization failures, busy SQLite)."""
    delay = 0.01
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                return work(conn)
        except (IntegrityError, OperationalError, DBAPIError) as exc:
            if attempt == attempts - 1 or not _transient(exc):
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    raise AssertionError("unreachable")


def _transient(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return any(
        marker in text
        for marker in (
            "unique",
            "duplicate",
            "deadlock",
            "could not serialize",
            "database is locked",
            "busy",
        )
    )
