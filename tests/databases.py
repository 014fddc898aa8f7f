"""Fresh, empty databases for tests: a SQLite file, a PostgreSQL schema, a MariaDB database.

The local PostgreSQL and MariaDB are shared by every test run, so each test gets
a uniquely named schema or database, dropped when it is done.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/test"


@contextmanager
def postgres_schema(prefix: str = "tutela_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema (via ``search_path``), dropped after."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield f"{PG_ADMIN}?options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@contextmanager
def mariadb_database(prefix: str = "tutela_test") -> Iterator[str]:
    """The URL of a new, empty MariaDB database, dropped after."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    admin = create_engine(MARIADB_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE `{name}`"))
        admin.dispose()


@contextmanager
def empty_database(kind: str, folder: Path, prefix: str = "tutela_test") -> Iterator[str]:
    """An empty database of ``kind`` (sqlite, postgres or mariadb)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{prefix}.sqlite3'}"
    elif kind == "postgres":
        with postgres_schema(prefix) as url:
            yield url
    elif kind == "mariadb":
        with mariadb_database(prefix) as url:
            yield url
    else:
        raise ValueError(kind)
