"""Retention sweeps carried out on SQLite, PostgreSQL and MariaDB: rows past their period go
or lose the fields it covers, the rest stay, a dry run changes nothing, a second sweep
finds nothing, and the ledger records each step without a value."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine, insert, select, update
from typer.testing import CliRunner

from tests.connectors.test_durable import start_worker
from tests.test_retention_plan import shop_data
from tutela import Tutela
from tutela.cli import app
from tutela.connectors.schema import dataset_metadata
from tutela.errors import ConnectorError
from tutela.ledger import tables as t
from tutela.requests import Requests
from tutela.requests.model import RequestState, RequestType
from tutela.retention import sweep

NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)
OLD = dt.datetime(2018, 1, 1)  # past every period
RECENT = dt.datetime(2026, 3, 1)  # within every period


def _policy_file(tmp_path: Path) -> Path:
    data = shop_data()
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def shop(tmp_path: Path, product_url: str) -> Iterator[tuple[Tutela, Engine]]:
    """The shop's tables, each with an old and a recent row, and a Tutela on its policy."""
    path = _policy_file(tmp_path)
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Tutela.open(path, ledger, upgrade=True) as tutela:
        tables = dataset_metadata(tutela.policy.datasets[0])
        engine = create_engine(product_url)
        tables.create_all(engine)
        rows: dict[str, list[dict[str, Any]]] = {
            "users": [
                {"id": 1, "email": "anna@exempel.se", "display_name": "Anna", "closed_at": OLD},
                {"id": 2, "email": "bo@exempel.se", "display_name": "Bo", "closed_at": RECENT},
                {"id": 3, "email": "cy@exempel.se", "display_name": "Cy", "closed_at": None},
            ],
            "web_hits": [
                {"id": 1, "user_id": 1, "cookie": "c-old", "ip": "10.0.0.1", "seen_at": OLD},
                {"id": 2, "user_id": 2, "cookie": "c-new", "ip": "10.0.0.2", "seen_at": RECENT},
            ],
            "visits": [
                {"id": i, "user_id": 1, "visitor_name": "Anna", "ip": f"10.0.0.{i}", "seen_at": at}
                for i, at in ((1, OLD), (2, RECENT))
            ],
            "invoices": [
                {"id": 1, "user_id": 1, "billing_name": "Anna", "amount": 100, "issued_at": OLD},
                {"id": 2, "user_id": 1, "billing_name": "Anna", "amount": 200, "issued_at": RECENT},
            ],
            "newsletter": [
                {"id": 1, "address": "anna@exempel.se", "topics": "news", "last_opened_at": OLD},
                {"id": 2, "address": "bo@exempel.se", "topics": "deals", "last_opened_at": RECENT},
            ],
        }  # fmt: skip
        with engine.begin() as conn:
            for name, values in rows.items():
                conn.execute(insert(tables.tables[name]), values)
        try:
            yield tutela, engine
        finally:
            tables.drop_all(engine)
            engine.dispose()


def _rows(engine: Engine, tutela: Tutela, name: str) -> list[tuple[Any, ...]]:
    table = dataset_metadata(tutela.policy.datasets[0]).tables[name]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]


def test_a_sweep_deletes_and_clears_what_has_expired(shop: tuple[Tutela, Engine]) -> None:
    tutela, engine = shop
    before = {name: _rows(engine, tutela, name) for name in ("web_hits", "visits", "invoices")}
    dry = sweep(tutela, now=NOW, dry_run=True, connections={"app": engine}).steps
    assert {r.step.collection: r.rows for r in dry} == {
        "web_hits": 1,
        "visits": 1,
        "invoices": 1,
        "newsletter": 1,
    }
    assert {name: _rows(engine, tutela, name) for name in before} == before  # nothing changed

    done = sweep(tutela, now=NOW, connections={"app": engine}).steps
    assert {r.step.collection: r.rows for r in done} == {
        "web_hits": 1,
        "visits": 1,
        "invoices": 1,
        "newsletter": 1,
    }
    assert [r[0] for r in _rows(engine, tutela, "web_hits")] == [2]
    assert [r[0] for r in _rows(engine, tutela, "invoices")] == [2]
    visits = _rows(engine, tutela, "visits")
    assert [(r[0], r[2], r[3]) for r in visits] == [(1, "Anna", "0.0.0.0"), (2, "Anna", "10.0.0.2")]
    newsletter = _rows(engine, tutela, "newsletter")
    assert [(r[1], r[2]) for r in newsletter] == [
        ("anna@exempel.se", None),
        ("bo@exempel.se", "deals"),
    ]

    # Nothing is left to sweep at the same moment; later, the recent rows' turn comes.
    again = sweep(tutela, now=NOW, connections={"app": engine}).steps
    assert [r.rows for r in again] == [0, 0, 0, 0]
    later = sweep(tutela, now=NOW.replace(year=2034), connections={"app": engine}, dry_run=True)
    assert {r.step.collection: r.rows for r in later.steps} == {
        "web_hits": 1,
        "visits": 1,
        "invoices": 1,
        "newsletter": 1,
    }


def test_each_step_is_recorded_without_values(shop: tuple[Tutela, Engine]) -> None:
    tutela, engine = shop
    sweep(tutela, now=NOW, connections={"app": engine})
    with tutela.engine.connect() as conn:
        events = conn.execute(
            select(t.events.c.kind, t.events.c.payload).where(t.events.c.stream == "retention")
        ).all()
    recorded = {json.loads(p)["collection"]: json.loads(p) for _, p in events}
    assert set(recorded) == {"web_hits", "visits", "invoices", "newsletter", "users"}
    assert recorded["users"]["erasures_started"] == 1
    assert recorded["visits"]["fields"] == ["ip"] and recorded["visits"]["rows"] == 1
    assert recorded["invoices"]["deleted"] and recorded["invoices"]["rules"] == ["fiscal"]
    written = json.dumps(recorded)
    assert "10.0.0.1" not in written and "Anna" not in written and "anna@" not in written
    assert list(tutela.ledger.verify()) == []


def test_a_missing_database_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    path = _policy_file(tmp_path)
    with Tutela.open(path, f"sqlite:///{tmp_path / 'l.sqlite3'}", upgrade=True) as tutela:
        with pytest.raises(ConnectorError, match="APP_DATABASE_URL is not set"):
            sweep(tutela, now=NOW)
        empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        with pytest.raises(ConnectorError, match=r"retention step app\.web_hits failed"):
            sweep(tutela, now=NOW, connections={"app": empty})


def test_the_command(shop: tuple[Tutela, Engine], tmp_path: Path, product_url: str) -> None:
    tutela, engine = shop
    env = {
        "TUTELA_POLICY": str(tmp_path / "shop.yaml"),
        "TUTELA_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        "APP_DATABASE_URL": product_url,
    }
    runner = CliRunner(env=env)
    dry = runner.invoke(app, ["retention", "sweep", "--dry-run", "--at", "2026-03-31T12:00:00"])
    assert dry.exit_code == 0, dry.output
    assert "app.web_hits: 1 rows to delete, seen_at before 2025-02-28 [devices]" in dry.output
    assert "app.visits: 1 rows to clear (ip)" in dry.output
    assert "kept: devices: app.notes has no created timestamp field" in dry.output
    assert len(_rows(engine, tutela, "web_hits")) == 2
    done = runner.invoke(app, ["retention", "sweep", "--at", "2026-03-31T12:00:00", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert {s["collection"]: s["rows"] for s in report["steps"]}["web_hits"] == 1
    # Anna's account closed in 2018: her erasure is started and queued for the workers.
    (accounts,) = report["accounts"]
    assert accounts["closed"] == 1 and len(accounts["started"]) == 1
    assert report["queued"].startswith("batch_")
    assert len(_rows(engine, tutela, "web_hits")) == 1
    bad = runner.invoke(app, ["retention", "sweep", "--at", "yesterday"])
    assert bad.exit_code == 2 and "not an ISO 8601 moment" in bad.output


def test_accounts_closed_past_their_period_get_an_erasure(shop: tuple[Tutela, Engine]) -> None:
    tutela, engine = shop
    tutela.ledger.create_subject([("email", "anna@exempel.se")])
    dry = sweep(tutela, now=NOW, dry_run=True, connections={"app": engine})
    (accounts,) = dry.accounts
    assert (accounts.closed, accounts.started, accounts.under_way) == (1, (), 0)
    assert Requests(tutela).list() == []

    (done,) = sweep(tutela, now=NOW, connections={"app": engine}).accounts
    (request_id,) = done.started
    request = Requests(tutela).get(request_id)
    assert request.type is RequestType.erasure and request.state is RequestState.approved
    assert request.subject == tutela.resolve({"email": "anna@exempel.se"})
    # Bo closed his account a month ago and Cy has not: neither is touched.
    assert [r.id for r in Requests(tutela).list()] == [request_id]

    (again,) = sweep(tutela, now=NOW, connections={"app": engine}).accounts
    assert (again.started, again.under_way) == ((), 1)


def _worker(tmp_path: Path, product: str, schedule: str) -> Any:
    return start_worker(
        tmp_path / "shop.yaml",
        f"sqlite:///{tmp_path / 'ledger.sqlite3'}",
        product,
        "sweeper",
        0,
        None,
        "--retention-schedule",
        schedule,
    )


@pytest.mark.parametrize("product_url", ["sqlite"], indirect=True)
def test_a_worker_sweeps_on_its_schedule(shop: tuple[Tutela, Engine], tmp_path: Path) -> None:
    tutela, engine = shop
    # The worker sweeps as of the moment of each tick: make "recent" recent today.
    tables = dataset_metadata(tutela.policy.datasets[0]).tables
    today = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            update(tables["users"]).where(tables["users"].c.id == 2).values(closed_at=today)
        )
        conn.execute(
            update(tables["web_hits"]).where(tables["web_hits"].c.id == 2).values(seen_at=today)
        )
    worker = _worker(tmp_path, str(engine.url.render_as_string(False)), "* * * * * *")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_rows(engine, tutela, "web_hits")) > 1:
            time.sleep(0.5)
        assert [r[0] for r in _rows(engine, tutela, "web_hits")] == [2]
        # Anna's account closed in 2018: the sweep's erasure runs in the same worker.
        while time.monotonic() < deadline and any(
            r[1] == "anna@exempel.se" for r in _rows(engine, tutela, "users")
        ):
            time.sleep(0.5)
        states = [(r.type.value, r.state.value, r.reason) for r in Requests(tutela).list()]
        assert [r[1] for r in _rows(engine, tutela, "users")] == [
            "bo@exempel.se",
            "cy@exempel.se",
        ], states
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=20)
    assert b"Traceback" not in errors, errors[-3000:]


def test_a_schedule_that_is_no_cron_expression_is_refused(tmp_path: Path) -> None:
    _policy_file(tmp_path)
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Tutela.open(tmp_path / "shop.yaml", ledger, upgrade=True):
        pass
    worker = _worker(tmp_path, f"sqlite:///{tmp_path / 'p.sqlite3'}", "every day")
    _, errors = worker.communicate(timeout=60)
    assert worker.returncode == 2
    assert b"'every day' is not a cron expression" in errors


def test_an_erased_person_is_not_erased_again(shop: tuple[Tutela, Engine]) -> None:
    tutela, engine = shop
    anna = tutela.ledger.create_subject([("email", "Anna@Exempel.se")])
    tutela.ledger.update_subject(anna, status="erased")
    (accounts,) = sweep(tutela, now=NOW, connections={"app": engine}).accounts
    assert (accounts.closed, accounts.started, accounts.under_way) == (1, (), 0)
    assert Requests(tutela).list() == []
