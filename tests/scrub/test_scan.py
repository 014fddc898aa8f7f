"""``tutela scan``: personal data in undeclared columns, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.conftest import base_policy
from tutela.cli import app
from tutela.scrub.discovery import classify_name, classify_values

runner = CliRunner()


@pytest.mark.parametrize(
    ("table", "column", "category"),
    [
        ("users", "email", "user.contact.email"),  # English
        ("users", "customer_email_address", "user.contact.email"),  # run of words
        ("kunder", "Personnummer", "user.government_id.national_identification_number"),  # sv
        ("kunder", "förnamn", "user.name"),  # Swedish with accent
        ("klanten", "telefoonnummer", "user.contact.phone_number"),  # Dutch
        ("klanten", "geboorteDatum", "user.demographic.date_of_birth"),  # camelCase
        ("clients", "date_de_naissance", "user.demographic.date_of_birth"),  # French
        ("clients", "motDePasse", "user.authorization.credentials"),  # French, camelCase
        ("zakaznici", "rodne_cislo", "user.government_id.national_identification_number"),  # cs
        ("zakaznici", "příjmení", "user.name"),  # Czech with diacritics
        ("sessions", "remote_addr", "user.device.ip_address"),  # English idiom
        ("users", "name", "user.name"),  # weak word in a table of people
    ],
)
def test_classify_name(table: str, column: str, category: str) -> None:
    assert category in [c for c, _ in classify_name(column, table)]


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("products", "name"),  # weak word, not a table of people
        ("orders", "total"),  # nothing personal
        ("users", "created_at"),  # a timestamp
    ],
)
def test_classify_name_ignores(table: str, column: str) -> None:
    assert classify_name(column, table) == []


def test_random_numbers_are_not_national_ids() -> None:
    # About one random nine-digit number in eleven passes the BSN test; a column
    # is only called a BSN column when most of its values are.
    rng = random.Random(5)
    values = [str(rng.randrange(100_000_000, 999_999_999)) for _ in range(200)]
    assert classify_values(values) == []


def test_values_reveal_an_unnamed_column() -> None:
    values = ["NL91ABNA0417164300", "GB29NWBK60161331926819", None, ""]
    assert [c for c, _ in classify_values(values)] == ["user.financial.bank_account"]


# --- the three databases -------------------------------------------------------------------


@dataclass
class Database:
    """A scratch database (or schema) and the arguments that point ``tutela scan`` at it."""

    engine: sa.Engine
    schema: str | None
    args: list[str]


def _fill(engine: sa.Engine, schema: str | None, with_phone: bool) -> None:
    metadata = sa.MetaData(schema=schema)
    users = sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200)),
        sa.Column("display_name", sa.String(200)),
        *([sa.Column("contact", sa.String(50))] if with_phone else []),
    )
    comments = sa.Table(
        "comments",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.Integer),
        sa.Column("body", sa.Text),
    )
    products = sa.Table(
        "products",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200)),
    )
    metadata.create_all(engine)
    phones = ["070-123 45 67", "+46 8 123 456 78", "06-12345678"]
    with engine.begin() as connection:
        connection.execute(
            users.insert(),
            [
                {
                    "id": i,
                    "email": f"person{i}@example.com",
                    "display_name": f"Person {i}",
                    **({"contact": phones[i % 3]} if with_phone else {}),
                }
                # From 1: MariaDB reads an id of 0 as "assign the next one".
                for i in range(1, 31)
            ],
        )
        connection.execute(
            comments.insert(),
            [{"id": 1, "author_id": 1, "body": "Ring mig på 070-123 45 67"}],
        )
        connection.execute(products.insert(), [{"id": 1, "name": "Chair"}])


def _sqlite(tmp_path: Path) -> Iterator[Callable[[bool], Database]]:
    def make(with_phone: bool) -> Database:
        path = tmp_path / f"{uuid.uuid4().hex}.db"
        engine = sa.create_engine(f"sqlite:///{path}")
        _fill(engine, None, with_phone)
        return Database(engine, None, [f"sqlite:///{path}"])

    yield make


def _postgres() -> Iterator[Callable[[bool], Database]]:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    engine = sa.create_engine(url)
    try:
        engine.connect().close()
    except sa.exc.OperationalError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    schemas: list[str] = []

    def make(with_phone: bool) -> Database:
        schema = f"scan_{uuid.uuid4().hex[:12]}"
        schemas.append(schema)
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        _fill(engine, schema, with_phone)
        return Database(engine, schema, [url, "--schema", schema])

    yield make
    with engine.begin() as connection:
        for schema in schemas:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def _mariadb() -> Iterator[Callable[[bool], Database]]:
    server = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    try:
        server.connect().close()
    except sa.exc.OperationalError:
        pytest.skip("MariaDB is not running on 127.0.0.1:3306")
    databases: list[str] = []
    engines: list[sa.Engine] = []

    def make(with_phone: bool) -> Database:
        name = f"scan_{uuid.uuid4().hex[:12]}"
        databases.append(name)
        with server.begin() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
        url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
        engine = sa.create_engine(url)
        engines.append(engine)
        _fill(engine, None, with_phone)
        return Database(engine, None, [url])

    yield make
    for engine in engines:
        engine.dispose()
    with server.begin() as connection:
        for name in databases:
            connection.execute(sa.text(f"DROP DATABASE {name}"))
    server.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[bool], Any]]:
    """A factory of scratch databases on one of the three engines, dropped afterwards."""
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
    elif request.param == "postgres":
        yield from _postgres()
    else:
        yield from _mariadb()


def test_scan_without_policy_reports_every_personal_column(
    database: Callable[[bool], Database],
) -> None:
    db = database(True)
    result = runner.invoke(app, ["scan", *db.args, "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    found = {(c["table"], c["column"]): c["categories"] for c in report["columns"]}
    assert found == {
        ("users", "email"): ["user.contact.email"],
        ("users", "display_name"): ["user.name"],
        ("users", "contact"): ["user.contact.phone_number"],
        ("comments", "body"): ["user.content"],
    }
    assert sorted(report["tables"]) == ["comments", "products", "users"]


def test_scan_against_policy_proposes_the_missing_fields(
    database: Callable[[bool], Database], write_policy: Callable[[Any], Path]
) -> None:
    policy = write_policy(base_policy())
    db = database(True)
    result = runner.invoke(app, ["scan", *db.args, "--policy", str(policy), "--sample", "10"])
    assert result.exit_code == 1, result.output
    assert "UNDECLARED users.contact: user.contact.phone_number" in result.stdout
    assert "declared   users.email" in result.stdout
    snippet = result.stdout.split("Add to the policy:\n\n", 1)[1]
    assert snippet == (
        "datasets:\n"
        "  - name: app\n"
        "    connection: APP_DATABASE_URL\n"
        "    collections:\n"
        "      - name: users\n"
        "        fields:\n"
        "          - {name: contact, categories: [user.contact.phone_number]}\n"
    )
    # No value sampled from the database appears in the report.
    assert "070-123" not in result.stdout
    assert "person1@example.com" not in result.stdout


def test_scan_passes_when_everything_is_declared(
    database: Callable[[bool], Database], write_policy: Callable[[Any], Path]
) -> None:
    policy = write_policy(base_policy())
    db = database(False)
    result = runner.invoke(app, ["scan", *db.args, "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert "Every personal column found is declared." in result.stdout


def test_scan_unreachable_database_exits_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/dir/x.db"
    result = runner.invoke(app, ["scan", url])
    assert result.exit_code == 2
    assert "cannot read the database" in result.stderr
