"""Erasing people in one batch ends exactly where erasing them one by one does.

Two identical copies of James PRO's sample database (same seed) on SQLite,
PostgreSQL and MariaDB: on one, eight people are erased one request at a time;
on the other, the same eight requests run as one batch. The databases must be
equal row for row afterwards, and each request's report the same, collection by
collection; the batch ran each collection's statements once for everyone.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, create_engine, event

from tests.databases import empty_database
from tests.demo.test_james_pro import (
    DONE,
    KEY,
    POLICY,
    REDIS_URL,
    USERS,
    _chosen,
    _dangling,
    _snapshot,
    _texts,
)
from tutela import Tutela
from tutela.connectors.schema import dataset_metadata
from tutela.demo import GroundTruth, Person, seed
from tutela.demo.truth import fold
from tutela.policy import Policy, loads
from tutela.requests import Requests, RequestState, Runner
from tutela.requests.batch import run_batch


@pytest.fixture(scope="module")
def policy() -> Policy:
    """James PRO's policy, its Redis sessions under a key prefix of this module's own."""
    prefix = f"tutela-test-{secrets.token_hex(6)}:"
    source = POLICY.read_text("utf-8")
    pattern = 'key_pattern: "session:{user_id}:*"'
    return loads(source.replace(pattern, f'key_pattern: "{prefix}session:{{user_id}}:*"'))


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def copies(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two empty product databases of one kind."""
    with (
        empty_database(request.param, tmp_path, "tutela_one_by_one") as one,
        empty_database(request.param, tmp_path, "tutela_batch") as batch,
    ):
        engines = create_engine(one), create_engine(batch)
        yield engines
        for engine in engines:
            engine.dispose()


def _ledger(policy: Policy, path: Path, truth: GroundTruth) -> Tutela:
    tutela = Tutela.open(policy=policy, database=f"sqlite:///{path}", upgrade=True)
    for person in truth.persons:
        if person.user_id is not None:
            ids = [("email", person.email), ("user_id", str(person.user_id))]
            if person.phone:
                ids.append(("phone", person.phone))
            tutela.ledger.create_subject(ids)
    return tutela


def _people(truth: GroundTruth) -> list[Person]:
    chosen = list(_chosen(truth).values())
    users = [p for p in truth.persons if p.user_id is not None and p not in chosen]
    return chosen + users[:4]


COUNTS = ("rows_deleted", "rows_masked", "rows_kept", "rows_scrubbed")


def _without(report: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in keys}


def _reports(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["collection"]: r for r in result["collections"]}


def test_a_batch_ends_where_one_by_one_ends(
    copies: tuple[Engine, Engine], policy: Policy, tmp_path: Path
) -> None:
    one, batch = copies
    truth = seed(policy, one, USERS)
    seed(policy, batch, USERS)
    metadata = dataset_metadata(next(d for d in policy.datasets if d.name == "app"))
    assert _snapshot(one, metadata) == _snapshot(batch, metadata)
    people = _people(truth)
    sessions = redis.Redis.from_url(REDIS_URL)
    results: dict[str, list[dict[str, Any]]] = {}
    statements: dict[str, int] = {}
    for name, engine in (("one", one), ("batch", batch)):
        with _ledger(policy, tmp_path / f"{name}.sqlite3", truth) as tutela:
            runner = Runner(
                tutela,
                connections={"app": engine, "sessions": sessions},
                packages=tmp_path / name,
                pseudonym_key=KEY,
            )
            requests = Requests(tutela)
            ids = [
                requests.create("erasure", ("email", p.email), source="product").id for p in people
            ]
            for node in runner.erasure_steps():  # reflected once, before counting
                if node[0] == "app":
                    runner.connector("app").table(node[1])
            count = [0]

            def counted(*_: Any, tally: list[int] = count) -> None:
                tally[0] += 1

            event.listen(engine, "before_cursor_execute", counted)
            done = [runner.run(i) for i in ids] if name == "one" else run_batch(runner, ids)
            event.remove(engine, "before_cursor_execute", counted)
            statements[name] = count[0]
            assert [d.state for d in done] == [d.state for d in done if d.state in DONE]
            results[name] = [d.result or {} for d in done]
            for d in done:
                if d.subject is not None:
                    assert tutela.ledger.state(d.subject).status.value == "erased"
    sessions.close()

    assert _snapshot(one, metadata) == _snapshot(batch, metadata)
    shared = 0
    for person, alone, together in zip(people, results["one"], results["batch"], strict=True):
        assert together["batch"] == len(people)
        assert together["found"] == alone["found"], person.email
        batch_reports, alone_reports = _reports(together), _reports(alone)
        assert set(batch_reports) == set(alone_reports)
        for collection, report in batch_reports.items():
            single = alone_reports[collection]
            # A row two of them share is counted for both in the batch; one by one,
            # whoever came first took it.
            for count in COUNTS:
                assert report[count] >= single[count], (person.email, collection, count)
            assert _without(report, COUNTS) == _without(single, COUNTS), person.email
        shared += sum(r[c] - alone_reports[k][c] for k, r in batch_reports.items() for c in COUNTS)
    assert shared < 10  # rows the same two people of the eight share are few
    # The batch reads and writes each collection a handful of times, not per person.
    assert statements["batch"] * 4 < statements["one"]

    # And, as after any erasure: no identifier of theirs left outside what the law keeps.
    after = _snapshot(batch, metadata)
    for person in people:
        needles = [fold(v) for v in person.identifiers]
        held = set(person.rows.get("invoices", []))
        for table, rows in after.items():
            for pk, row in rows.items():
                if table == "invoices" and pk in held:
                    continue
                for column, value in _texts(row):
                    assert not [n for n in needles if n in fold(value)], (table, column, pk)
    assert _dangling(batch, metadata) == []


def test_a_failing_step_fails_every_request_of_the_batch_naming_it(
    policy: Policy, tmp_path: Path
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'product.sqlite3'}")
    truth = seed(policy, engine, 6)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE mentions")
    with _ledger(policy, tmp_path / "ledger.sqlite3", truth) as tutela:
        runner = Runner(
            tutela,
            connections={"app": engine, "sessions": redis.Redis.from_url(REDIS_URL)},
            packages=tmp_path / "packages",
            pseudonym_key=KEY,
        )
        requests = Requests(tutela)
        people = [p for p in truth.persons if p.user_id is not None][:3]
        ids = [requests.create("erasure", ("email", p.email), source="product").id for p in people]
        with pytest.raises(Exception, match="mentions"):
            run_batch(runner, ids)
        for request_id in ids:
            failed = requests.get(request_id)
            assert failed.state is RequestState.failed
            assert "mentions" in (failed.reason or "")
    engine.dispose()


def test_a_batch_too_large_is_refused_before_anything_starts(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutela.errors import RequestError
    from tutela.requests import batch

    engine = create_engine(f"sqlite:///{tmp_path / 'product.sqlite3'}")
    truth = seed(policy, engine, 4)
    monkeypatch.setattr(batch, "MAX_BATCH", 2)
    with _ledger(policy, tmp_path / "ledger.sqlite3", truth) as tutela:
        runner = Runner(tutela, connections={"app": engine}, pseudonym_key=KEY)
        requests = Requests(tutela)
        people = [p for p in truth.persons if p.user_id is not None][:3]
        ids = [requests.create("erasure", ("email", p.email), source="product").id for p in people]
        with pytest.raises(RequestError, match="at most 2"):
            run_batch(runner, ids)
        assert {requests.get(i).state for i in ids} == {RequestState.approved}
    engine.dispose()


def test_a_worker_resuming_a_batch_step_reflects_before_its_transaction(
    policy: Policy, tmp_path: Path
) -> None:
    # A worker restarted after a crash skips the recorded preparation, so the first
    # step it runs is the first to reflect the tables. On SQLite that must happen
    # before the step's write transaction, or reflecting waits for that very lock.
    from tutela.requests.batch import erase_collection_batch, prepare_batch

    url = f"sqlite:///{tmp_path / 'product.sqlite3'}"
    engine = create_engine(url)
    truth = seed(policy, engine, 6)
    engine.dispose()
    with _ledger(policy, tmp_path / "ledger.sqlite3", truth) as tutela:
        before = Runner(tutela, connections={"app": url}, pseudonym_key=KEY)
        requests = Requests(tutela)
        people = [p for p in truth.persons if p.user_id is not None][:3]
        ids = [requests.create("erasure", ("email", p.email), source="product").id for p in people]
        prepared = prepare_batch(before, [before.start(i) for i in ids])
        after = Runner(tutela, connections={"app": url}, pseudonym_key=KEY)
        reports = erase_collection_batch(after, ("app", "comments"), prepared)
        expected = {p.email: len(p.rows.get("comments", [])) for p in people}
        by_email = {
            p.email: sum(reports[i][c] for c in ("rows_deleted", "rows_masked", "rows_kept"))
            for p, i in zip(people, ids, strict=True)
        }
        assert by_email == expected
        assert sum(expected.values()) > 0
