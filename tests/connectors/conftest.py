"""Product databases for connector tests: a SQLite file, a PostgreSQL schema, a MariaDB database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import empty_database


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def product_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty product database of each kind."""
    with empty_database(request.param, tmp_path, "tutela_product") as url:
        yield url
