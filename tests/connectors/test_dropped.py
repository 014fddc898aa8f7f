"""A connection dropped mid-erasure is retried; after the retries the request fails naming
the step, and no collection is left half-erased (PostgreSQL, real backends terminated)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.connectors.test_sql import KEY, dump, seed, shop_policy
from tutela import Tutela
from tutela.errors import ConnectorError
from tutela.requests import Requests, RequestState, Runner

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def product() -> Iterator[tuple[str, Engine]]:
    schema = f"tutela_drop_{secrets.token_hex(4)}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG}?options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    seed(engine, shop_policy())
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class Cutter(threading.Thread):
    """Holds a lock on ``users`` that lets readers through but makes writers wait, and
    terminates every backend that waits for it, ``times``
    times (or for ever with None), like a network that drops connections."""

    def __init__(self, url: str, times: int | None) -> None:
        super().__init__(daemon=True)
        self.url, self.times, self.cut = url, times, 0
        self.stop = threading.Event()
        self.locked = threading.Event()

    def run(self) -> None:
        holder = create_engine(self.url).connect()
        killer = create_engine(PG, isolation_level="AUTOCOMMIT").connect()
        holder.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
        self.locked.set()
        mine = holder.execute(text("SELECT pg_backend_pid()")).scalar()
        while not self.stop.is_set() and (self.times is None or self.cut < self.times):
            waiting = (
                killer.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND pid <> :mine AND datname = 'test'"
                    ),
                    {"mine": mine},
                )
                .scalars()
                .all()
            )
            for pid in waiting:
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                self.cut += 1
            time.sleep(0.02)
        holder.rollback()
        holder.close()
        killer.close()


def _request(tmp_path: Path, url: str) -> tuple[Tutela, Requests, Runner, str]:
    tutela = Tutela.open(
        policy=shop_policy(), database=f"sqlite:///{tmp_path / 'l.sqlite3'}", upgrade=True
    )
    tutela.ledger.create_subject([("email", "anna@example.se"), ("user_id", "1")])
    requests = Requests(tutela)
    request = requests.create("erasure", ("email", "anna@example.se"), source="product")
    return tutela, requests, Runner(tutela, connections={"app": url}, pseudonym_key=KEY), request.id


def test_dropped_connection_is_retried(tmp_path: Path, product: tuple[str, Engine]) -> None:
    url, engine = product
    tutela, _, runner, request_id = _request(tmp_path, url)
    cutter = Cutter(url, times=1)
    cutter.start()
    cutter.locked.wait(10)
    try:
        done = runner.run(request_id)
    finally:
        cutter.stop.set()
        cutter.join(10)
        tutela.close()
    assert cutter.cut >= 1
    assert done.state is RequestState.completed
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE id = 1")).scalar() == 0


def test_after_the_retries_the_step_is_named(tmp_path: Path, product: tuple[str, Engine]) -> None:
    url, engine = product
    before = dump(engine)
    tutela, requests, runner, request_id = _request(tmp_path, url)
    cutter = Cutter(url, times=None)
    cutter.start()
    cutter.locked.wait(10)
    try:
        with pytest.raises(ConnectorError, match=r"step app\.users"):
            runner.run(request_id)
    finally:
        cutter.stop.set()
        cutter.join(10)
    failed = requests.get(request_id)
    tutela.close()
    assert failed.state is RequestState.failed and "app.users" in (failed.reason or "")
    after = dump(engine)
    # users was rolled back whole: every row as before. The children erased before it
    # are done whole (Anna's comment gone), so no collection is half-erased.
    assert after["users"] == before["users"]
    assert [c["id"] for c in after["comments"]] == [20, 22]
