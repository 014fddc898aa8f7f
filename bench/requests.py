"""Benchmark: data subject requests (access and erasure) on James PRO's sample product database.

Prints one JSON record per line: {"name", "value", "unit", "cores"}; progress goes to
stderr. Goals: ``erasure_one_s`` under 1, ``erasure_1000_s`` under 20,
``access_export_peak_rss_mb`` under 300 for a person owning 1,000,000 rows.

- The product database: ``tutela demo seed`` (:func:`tutela.demo.seed`) fills the
  policy's 26 tables in a uniquely named PostgreSQL schema with 27,000 users, about
  1,000,000 rows (about 37 a user). The seed creates keys and foreign keys only; the
  bench then indexes every foreign-key and identity column (emails on
  ``lower(column)``, as the connector matches them), as a product database would be
  (PostgreSQL does not index referencing columns by itself). ``--no-indexes`` leaves
  them out. Free-text columns get no index (see ``erasure_scrub_scan_s``).
- The ledger: SQLite in a temporary folder; a subject with the person's email, user id
  and phone is created for each person a request is made for (intake is not timed).
- ``erasure_one_s``: one typical person (the median row count among users) erased by
  ``Runner.run``: every collection of the product database plus the ledger's state
  changes and the hand-over of the request to the policy's recipients (manual tasks:
  ledger rows only). One other person is erased first, to warm the connection pool.
- ``access_one_s``: the same person's access package (ZIP written to disk), before the
  erasure.
- ``erasure_one_rowwise_s``: the same erasure on an identical copy of the database
  (a second schema, copied set-based, same indexes), done one row per statement: the
  engine's own preparation (identities, names, scrub terms), then per collection in
  the engine's order and in one transaction each, the person's row keys selected and
  one DELETE or UPDATE issued per row; free text is scrubbed by the connector's own
  code (the same candidate rows and new text), its batched UPDATE sent one row per
  statement. No ledger work. Both copies are
  compared table by table afterwards (``erasure_rowwise_same_result``: 1 when equal).
- ``erasure_1000_s``: 1,000 other people erased as one batch
  (:func:`tutela.requests.batch.run_batch`): their approved requests started, each
  collection erased once for all of them, each request finished and completed with
  its own report. Intake is not timed.
- ``erasure_1000_one_by_one_*``: other people erased one after the other by
  ``Runner.run`` for up to ``--budget`` seconds: the people done, their time and the
  extrapolation to 1,000 (``erasure_1000_one_by_one_extrapolated_s``).
- ``*_connector_reused_*``: the same work by a ``Runner`` subclass that keeps one
  connector per dataset (``Runner.connector`` builds a new ``SqlConnector`` per call,
  and each reflects its tables from the database again); nothing else differs. It
  measures what the reflection costs. ``erasure_one_ledger_s``: ``start`` plus
  ``complete`` around ``execute`` (median of 10 people).
- ``erasure_scrub_scan_s``: the part of one erasure that scrubs other people's free
  text, alone: the connector's scan of every row of the collections with such text
  (``erasure_scrub_scan_rows``), in transactions rolled back.
- ``access_export_peak_rss_mb``: one person given 1,000,000 more usage events
  (``INSERT ... SELECT`` from ``generate_series``), exported by ``Runner.run`` in a
  subprocess that reports its own peak resident set (``VmHWM``) and its resident set
  just before the request ran.

The Redis dataset of the policy (live sessions) points at database 14 of the local
Redis under a key prefix of its own. A full run takes about ten minutes on two cores;
``--users`` and ``--big-rows`` shrink it for a quick run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Connection, Engine, create_engine, func, select, text

from tutela import Tutela
from tutela.connectors.schema import dataset_metadata
from tutela.connectors.sql import SqlConnector, is_pseudonym, pseudonym
from tutela.demo import GroundTruth, Person, seed
from tutela.demo.seed import ORDER
from tutela.ledger.database import open_engine
from tutela.plan import plan_erasure
from tutela.plan.steps import ErasureStep
from tutela.policy import Policy, loads
from tutela.policy.model import Dataset
from tutela.policy.references import resolve_reference
from tutela.requests import Requests, RequestState, Runner
from tutela.requests.batch import run_batch
from tutela.requests.service import Request

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "james-pro" / "policy.yaml"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/14"
KEY = b"bench-pseudonym-key-0123456789ab"
CORES = os.cpu_count() or 1
DONE = (RequestState.completed, RequestState.partially_completed)
SESSION_PATTERN = 'key_pattern: "session:{user_id}:*"'


def emit(name: str, value: float, unit: str) -> None:
    """One result line."""
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, "cores": CORES}))
    sys.stdout.flush()


def log(message: str) -> None:
    print(f"[requests bench] {message}", file=sys.stderr, flush=True)


def bench_policy(prefix: str) -> Policy:
    """James PRO's policy, its Redis sessions under a key prefix of the bench's own."""
    source = POLICY.read_text("utf-8")
    assert SESSION_PATTERN in source
    return loads(source.replace(SESSION_PATTERN, f'key_pattern: "{prefix}session:{{user_id}}:*"'))


def app_dataset(policy: Policy) -> Dataset:
    return next(d for d in policy.datasets if d.name == "app")


# ------------------------------------------------------------------ databases


@contextmanager
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A new PostgreSQL schema and a URL on it, dropped afterwards."""
    schema = f"tutela_bench_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema, f"{PG_ADMIN}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def add_indexes(engine: Engine, spec: Dataset) -> int:
    """Index every foreign-key and identity column (emails on lower(column))."""
    statements = []
    for collection in spec.collections:
        for fld in collection.fields:
            if fld.primary_key:
                continue
            same_dataset = fld.references is not None and (
                (target := resolve_reference(spec.name, fld.references)) is not None
                and target[0] == spec.name
            )
            if not same_dataset and fld.identity is None:
                continue
            column = f'lower("{fld.name}")' if fld.identity == "email" else f'"{fld.name}"'
            name = f"ix_{collection.name}_{fld.name}"
            statements.append(f'CREATE INDEX "{name}" ON "{collection.name}" ({column})')
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    return len(statements)


def analyze(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def copy_schema(source: str, target_url: str, spec: Dataset) -> None:
    """The same tables, keys and rows in another schema (set-based, foreign-key
    triggers set aside while copying, as users and teams point at each other)."""
    engine = create_engine(target_url)
    dataset_metadata(spec).create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in ORDER:
            conn.exec_driver_sql(f'INSERT INTO "{table}" SELECT * FROM "{source}"."{table}"')
    engine.dispose()


def table_digests(engine: Engine) -> dict[str, str]:
    """One digest of every table's rows in key order (json columns included, as text)."""
    out = {}
    with engine.connect() as conn:
        for table in ORDER:
            value = conn.exec_driver_sql(
                f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.id)) FROM \"{table}\" t"
            ).scalar_one()
            out[table] = str(value)
    return out


def count_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return sum(
            int(conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one()) for t in ORDER
        )


# ------------------------------------------------------------------ people and requests


def identities_of(person: Person) -> list[tuple[str, str]]:
    ids = [("email", person.email), ("user_id", str(person.user_id))]
    if person.phone:
        ids.append(("phone", person.phone))
    return ids


def row_count(person: Person) -> int:
    return sum(len(keys) for keys in person.rows.values())


def pick_people(truth: GroundTruth, others: int) -> dict[str, Any]:
    """The typical person (the median row count among users), a warm-up person, the
    person given a million rows, and ``others`` more picked at random."""
    users = sorted((p for p in truth.persons if p.user_id is not None), key=row_count)
    middle = len(users) // 2
    typical, warmup, big = users[middle], users[middle + 1], users[middle - 1]
    rest = [p for p in users if p not in (typical, warmup, big)]
    chosen = random.Random(2018).sample(rest, k=min(len(rest), others))
    return {"typical": typical, "warmup": warmup, "big": big, "others": chosen}


def erase_batch(
    tutela: Tutela, runner: Runner, people: Iterator[Person], count: int, budget: float
) -> tuple[int, float, list[float]]:
    """Erase up to ``count`` people one after the other by ``Runner.run`` within ``budget``
    seconds; the people done, their total time and each one's time."""
    times: list[float] = []
    deadline = time.monotonic() + budget
    for person in people:
        times.append(run_request(runner, new_request(tutela, "erasure", person)))
        if len(times) % 100 == 0:
            log(f"  {len(times)} erased, {sum(times):.1f} s")
        if len(times) == count or time.monotonic() > deadline:
            break
    return len(times), sum(times), times


def emit_batch(label: str, count: int, done: int, total: float, times: list[float]) -> None:
    emit(f"erasure{label}_measured_people", done, "people")
    emit(f"erasure{label}_measured_s", total, "s")
    emit(f"erasure_1000{label}_extrapolated_s", total / done * 1_000, "s")
    emit(f"erasure{label}_median_s", statistics.median(times), "s")


def new_request(tutela: Tutela, kind: str, person: Person) -> Request:
    """An approved request (an operator's, so verified) for a person the ledger knows."""
    request = Requests(tutela).create(kind, ("email", person.email), source="admin")
    assert request.state is RequestState.approved, request.state
    return request


def run_request(runner: Runner, request: Request) -> float:
    start = time.perf_counter()
    done = runner.run(request.id)
    seconds = time.perf_counter() - start
    assert done.state in DONE, (done.state, done.reason)
    return seconds


# ------------------------------------------------------------------ runners


class ReusingRunner(Runner):
    """The engine's runner, keeping one connector per dataset.

    ``Runner.connector`` makes a new :class:`SqlConnector` on every call, and each new
    connector reflects the tables it touches from the database again. This subclass
    only measures what that costs; it changes nothing else.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reused: dict[str, SqlConnector] = {}

    def connector(self, dataset: str) -> SqlConnector:
        if dataset not in self._reused:
            self._reused[dataset] = super().connector(dataset)
        return self._reused[dataset]


# ------------------------------------------------------------------ one row per statement


class OneRowPerStatement:
    """A connection that issues a batch of parameters as one statement per row."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.statements = 0

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        if isinstance(parameters, list):
            for one in parameters:
                self.conn.execute(statement, one)
                self.statements += 1
            return None
        return self.conn.execute(statement, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def erase_rowwise(runner: Runner, request: Request) -> dict[str, int]:
    """The engine's erasure of one person, one row per statement (see the module text).

    Free text is scrubbed by the connector's own scrubbing (the same candidate rows and
    the same new text), its batched update issued one row per statement.
    """
    prepared = runner.prepare_erasure(request)
    identities = prepared["identities"]
    external = {(tuple(n), f): v for n, f, v in prepared["external"]}
    terms: list[str] = prepared["terms"]
    own: list[str] = prepared["own"]
    plan = plan_erasure(runner.tutela.policy, runner.graph, runner.tutela.taxonomy)
    steps: dict[tuple[str, str], ErasureStep] = {s.read.node: s for s in plan.steps}
    connector = runner.connector("app")
    counts = {"statements": 0, "rows": 0}
    for node in runner.erasure_steps():
        if node[0] != "app":
            continue
        step = steps[(node[0], node[1])]
        table = connector.table(node[1])
        key = next(iter(table.primary_key.columns))
        where = connector.selector(node, identities, external)
        with connector.engine.begin() as raw:
            conn = OneRowPerStatement(raw)
            if step.scrub_fields and terms:
                fields = step.scrub_fields
                connector._scrub(conn, table, fields, [*terms, *own], where)
                connector._scrub(conn, table, fields, terms, None)
            names = [a.field for a in step.fields if a.strategy != "scrub_subject"]
            rows = raw.execute(
                select(key, *[table.c[f] for f in names]).where(where).order_by(key)
            ).all()
            counts["rows"] += len(rows)
            for row in rows:
                if step.action == "delete":
                    raw.execute(table.delete().where(key == row[0]))
                    conn.statements += 1
                    continue
                values: dict[str, Any] = {}
                for action in step.fields:
                    if action.strategy == "null":
                        values[action.field] = None
                    elif action.strategy == "replace":
                        values[action.field] = action.value
                    elif action.strategy == "pseudonymize":
                        old = row._mapping[action.field]
                        if old is not None and not is_pseudonym(old):
                            integer = isinstance(old, int)
                            values[action.field] = pseudonym(KEY, old, integer=integer)
                if values:
                    raw.execute(table.update().where(key == row[0]).values(values))
                    conn.statements += 1
            counts["statements"] += conn.statements
    return counts


def scrub_scan(runner: Runner, request: Request) -> tuple[float, int]:
    """Time the scrubbing of others' free text alone for one person: per collection with
    free text to scrub, the connector's scan of every row, in a transaction rolled back.
    Returns the seconds and the rows of those collections."""
    prepared = runner.prepare_erasure(request)
    plan = plan_erasure(runner.tutela.policy, runner.graph, runner.tutela.taxonomy)
    connector = runner.connector("app")
    seconds, rows = 0.0, 0
    for step in plan.steps:
        if step.read.node[0] != "app" or not step.scrub_fields:
            continue
        table = connector.table(step.read.node[1])
        with connector.engine.connect() as conn:
            transaction = conn.begin()
            rows += int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            start = time.perf_counter()
            connector._scrub(conn, table, step.scrub_fields, prepared["terms"], None)
            seconds += time.perf_counter() - start
            transaction.rollback()
    return seconds, rows


# ------------------------------------------------------------------ the export subprocess


def export_child(ledger_url: str, product_url: str, email: str, folder: str, prefix: str) -> None:
    """Run one access request and print its figures (in a process of its own)."""

    def vm(field: str) -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(field)

    policy = bench_policy(prefix)
    sessions = redis.Redis.from_url(REDIS_URL)
    with Tutela.open(policy=policy, database=ledger_url) as tutela:
        runner = Runner(
            tutela,
            connections={"app": open_engine(product_url), "sessions": sessions},
            packages=Path(folder),
            pseudonym_key=KEY,
        )
        request = Requests(tutela).create("access", ("email", email), source="admin")
        before = vm("VmRSS")
        start = time.perf_counter()
        done = runner.run(request.id)
        seconds = time.perf_counter() - start
        assert done.state in DONE, (done.state, done.reason)
        result = done.result or {}
        package = Path(result["package"])
        figures = {
            "seconds": seconds,
            "rows": sum(result["rows"].values()),
            "rss_before_mb": before,
            "peak_rss_mb": vm("VmHWM"),
            "package_mb": package.stat().st_size / 2**20,
        }
    sessions.close()
    print(json.dumps(figures))


def add_big_person(engine: Engine, user_id: int, rows: int) -> None:
    """``rows`` more usage events of one user, set-based."""
    with engine.begin() as conn:
        top = int(conn.exec_driver_sql("SELECT max(id) FROM usage_events").scalar_one())
        conn.exec_driver_sql(
            f"""
            INSERT INTO usage_events (id, user_id, event, board_id, card_id, search_term,
                                      properties, ip_address, referrer_url, created_at)
            SELECT {top} + g, {user_id},
                   (ARRAY['board.viewed', 'card.opened', 'search', 'card.moved'])[1 + mod(g, 4)],
                   NULL, NULL, CASE WHEN mod(g, 4) = 2 THEN 'roadmap ' || g END,
                   '{{"client": "web"}}'::json,
                   '192.0.2.' || mod(g, 250), NULL,
                   TIMESTAMP '2024-01-01' + g * INTERVAL '1 minute'
            FROM generate_series(1, {rows}) AS g
            """
        )
    analyze(engine)


# ------------------------------------------------------------------ the bench


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=27_000, help="Users to seed.")
    parser.add_argument("--erasures", type=int, default=1_000)
    parser.add_argument(
        "--budget", type=float, default=60.0, help="Seconds for the one-by-one erasures."
    )
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--no-indexes", action="store_true")
    parser.add_argument("--export-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return
    prefix = f"tutela-bench-{secrets.token_hex(6)}:"
    policy = bench_policy(prefix)
    spec = app_dataset(policy)
    with (
        tempfile.TemporaryDirectory() as folder,
        postgres_schema() as (schema, url),
        postgres_schema() as (_, copy_url),
    ):
        tmp = Path(folder)
        product = open_engine(url)
        log(f"seeding {args.users:,} users into {schema}")
        start = time.perf_counter()
        truth = seed(policy, product, args.users)
        emit("requests_seed_s", time.perf_counter() - start, "s")
        if not args.no_indexes:
            emit("requests_indexes", add_indexes(product, spec), "indexes")
        analyze(product)
        emit("requests_rows", count_rows(product), "rows")
        log("copying the database for the row-by-row baseline")
        copy_schema(schema, copy_url, spec)
        copy = open_engine(copy_url)
        if not args.no_indexes:
            add_indexes(copy, spec)
        analyze(copy)

        people = pick_people(truth, 2 * args.erasures + 40)
        typical: Person = people["typical"]
        others: Iterator[Person] = iter(people["others"])
        emit("erasure_one_person_rows", row_count(typical), "rows")
        sessions = redis.Redis.from_url(REDIS_URL)
        ledger_url = f"sqlite:///{tmp / 'ledger.sqlite3'}"
        with Tutela.open(policy=policy, database=ledger_url, upgrade=True) as tutela:
            for person in [typical, people["warmup"], people["big"], *people["others"]]:
                tutela.ledger.create_subject(identities_of(person))

            def runner(kind: type[Runner], engine: Engine) -> Runner:
                return kind(
                    tutela,
                    connections={"app": engine, "sessions": sessions},
                    packages=tmp / "packages",
                    pseudonym_key=KEY,
                )

            shipped = runner(Runner, product)
            reusing = runner(ReusingRunner, product)
            rowwise = runner(ReusingRunner, copy)

            # Access: warm up on another person, then the typical person, both runners.
            log("access: one person")
            run_request(shipped, new_request(tutela, "access", people["warmup"]))
            run_request(reusing, new_request(tutela, "access", people["warmup"]))
            request = new_request(tutela, "access", typical)
            emit("access_one_s", run_request(shipped, request), "s")
            result = Requests(tutela).get(request.id).result or {}
            emit("access_one_rows", sum(result["rows"].values()), "rows")
            request = new_request(tutela, "access", typical)
            emit("access_one_connector_reused_s", run_request(reusing, request), "s")

            # The warm-up erasure, on both copies so that they stay the same.
            log("erasure: one person, set-based and one row per statement")
            run_request(shipped, new_request(tutela, "erasure", people["warmup"]))
            run_request(rowwise, new_request(tutela, "erasure", people["warmup"]))
            # Row by row first (the ledger must not know the person as erased yet).
            request = new_request(tutela, "erasure", typical)
            start = time.perf_counter()
            counts = erase_rowwise(rowwise, request)
            one_rowwise = time.perf_counter() - start
            Requests(tutela).cancel(request.id, actor="bench")
            one = run_request(shipped, new_request(tutela, "erasure", typical))
            emit("erasure_one_s", one, "s")
            emit("erasure_one_rowwise_s", one_rowwise, "s")
            emit("erasure_one_rowwise_statements", counts["statements"], "statements")
            emit("erasure_speedup_vs_rowwise", one_rowwise / one, "x")
            same = table_digests(product) == table_digests(copy)
            emit("erasure_rowwise_same_result", float(same), "bool")
            copy.dispose()

            # The same with one connector kept, on other people (after a warm-up).
            run_request(reusing, new_request(tutela, "erasure", next(others)))
            reused = [
                run_request(reusing, new_request(tutela, "erasure", next(others))) for _ in range(5)
            ]
            emit("erasure_one_connector_reused_s", statistics.median(reused), "s")
            emit(
                "erasure_speedup_vs_rowwise_connector_reused",
                one_rowwise / statistics.median(reused),
                "x",
            )
            # The ledger's share: start and complete, around execute.
            ledger = []
            for _ in range(10):
                request = new_request(tutela, "erasure", next(others))
                t0 = time.perf_counter()
                reusing.start(request.id)
                t1 = time.perf_counter()
                result = reusing.execute(Requests(tutela).get(request.id))
                t2 = time.perf_counter()
                reusing.complete(request.id, result)
                ledger.append((t1 - t0) + (time.perf_counter() - t2))
            emit("erasure_one_ledger_s", statistics.median(ledger), "s")

            # Scrubbing others' free text: a scan of every row of those collections.
            request = new_request(tutela, "erasure", next(others))
            seconds, rows = scrub_scan(reusing, request)
            Requests(tutela).cancel(request.id, actor="bench")
            emit("erasure_scrub_scan_s", seconds, "s")
            emit("erasure_scrub_scan_rows", rows, "rows")

            # A thousand erasures: one after the other within a budget (extrapolated),
            # then a thousand other people as one batch.
            log(f"erasure: up to {args.erasures} people one by one ({args.budget:.0f} s)")
            done, total, times = erase_batch(tutela, shipped, others, args.erasures, args.budget)
            emit_batch("_one_by_one", args.erasures, done, total, times)
            log(f"erasure: {args.erasures} people in one batch")
            batch = [new_request(tutela, "erasure", next(others)).id for _ in range(args.erasures)]
            start = time.perf_counter()
            finished = run_batch(shipped, batch)
            seconds = time.perf_counter() - start
            assert all(r.state in DONE for r in finished), {r.state for r in finished}
            emit(f"erasure_{args.erasures}_s", seconds, "s")
            emit("erasure_batch_per_person_ms", seconds / len(batch) * 1_000, "ms")
            emit(
                "erasure_batch_rows_deleted",
                sum(
                    c["rows_deleted"]
                    for r in finished
                    for c in (r.result or {}).get("collections", [])
                ),
                "rows",
            )

        # The person with a million rows, exported in a process of its own.
        big: Person = people["big"]
        assert big.user_id is not None
        log(f"adding {args.big_rows:,} usage events to one person and exporting them")
        add_big_person(product, big.user_id, args.big_rows)
        product.dispose()
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--export-child",
                ledger_url,
                url,
                big.email,
                str(tmp / "packages"),
                prefix,
            ],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        emit("access_export_rows", figures["rows"], "rows")
        emit("access_export_s", figures["seconds"], "s")
        emit("access_export_peak_rss_mb", figures["peak_rss_mb"], "MB")
        emit("access_export_rss_before_mb", figures["rss_before_mb"], "MB")
        emit("access_export_package_mb", figures["package_mb"], "MB")
        sessions.close()


if __name__ == "__main__":
    main()
