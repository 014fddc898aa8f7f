"""Benchmark: decisions (in process and over HTTP), the bulk audience filter and consent ingest.

Prints one JSON record per line: {"name", "value", "unit", "cores"}. Goals:
``decide_inprocess_p50_us`` under 20, ``decide_http_p50_ms`` under 2 on loopback,
``bulk_filter_1m_sqlite_s`` and ``bulk_filter_1m_postgres_s`` under 1.

- In process: the James PRO policy loaded once, a materialised SubjectState,
  the pure ``tutela.decide.decide``; every call timed on its own.
- HTTP: ``tutela serve`` (uvicorn) in a subprocess on 127.0.0.1, an httpx
  client with keep-alive, ``POST /v1/decisions`` with an API key.
- Bulk filter: 1,000,000 subjects and their consents written by set-based SQL
  straight into the ledger's current-state tables. This bypasses the event
  log and its hash chain, only to make the setup take seconds instead of
  hours; the filter reads the current-state tables alone, so what it does is
  the same as on a ledger filled through the API. ``filter_allowed`` is timed
  consuming its whole stream.
- Consent ingest: through the Ledger API, the real write path (event, hash
  chain, materialised state): ``record_consent`` one transaction per consent,
  and ``record_consents`` in batches of 500 (the import's path).

A throwaway SQLite file and a uniquely named PostgreSQL schema (dropped
afterwards) hold the data. Every part has a time budget, so a full run takes
about five minutes at most. ``--subjects`` shrinks the bulk part for a quick run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tutela import Tutela
from tutela.decide import ConsentRecord, Signals, SubjectState, decide
from tutela.ledger.keys import create_key
from tutela.ledger.store import ConsentEntry
from tutela.policy import load
from tutela.policy.taxonomy import builtin

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "james-pro" / "policy.yaml"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VERSION = "2018-05-25"
CONSENT_PURPOSE = "testimonials"  # legal basis: consent
INTEREST_PURPOSE = "marketing_email"  # legitimate interest, email channel, objections
CORES = os.cpu_count() or 1


def emit(name: str, value: float, unit: str) -> None:
    """One result line."""
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, "cores": CORES}))
    sys.stdout.flush()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ------------------------------------------------------------------ in process


def bench_inprocess(budget_s: float = 10.0) -> None:
    policy = load(POLICY)
    taxonomy = builtin()
    state = SubjectState(
        subject_id="sub_bench",
        birth_date=dt.date(1990, 4, 1),
        country="NL",
        consents={
            CONSENT_PURPOSE: ConsentRecord(True, VERSION, "evt_1", dt.datetime.now(dt.UTC)),
        },
        channel_opt_outs=frozenset({"sms"}),
    )
    cases = [
        (CONSENT_PURPOSE, ("user.name",)),
        (INTEREST_PURPOSE, ("user.contact.email",)),
        ("provide_service", ()),
    ]
    signals = Signals()
    for purpose, categories in cases:  # warm caches
        for _ in range(1_000):
            decide(policy, state, purpose, categories, signals, taxonomy=taxonomy)
    clock = time.perf_counter_ns
    timings: list[float] = []
    deadline = time.monotonic() + budget_s
    while len(timings) < 300_000 and time.monotonic() < deadline:
        for purpose, categories in cases:
            for _ in range(1_000):
                start = clock()
                decide(policy, state, purpose, categories, signals, taxonomy=taxonomy)
                timings.append((clock() - start) / 1_000)
    emit("decide_inprocess_p50_us", statistics.median(timings), "us")
    emit("decide_inprocess_p99_us", percentile(timings, 0.99), "us")
    emit("decide_inprocess_calls", len(timings), "calls")


# ------------------------------------------------------------------ over HTTP


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bench_http(tmp: Path, budget_s: float = 20.0) -> None:
    url = f"sqlite:///{tmp / 'http.sqlite3'}"
    with Tutela.open(policy=POLICY, database=url, upgrade=True) as tutela:
        subject = tutela.ledger.create_subject([("email", "anna@example.nl")], country="NL")
        tutela.ledger.record_consent(subject, CONSENT_PURPOSE, True, policy_version=VERSION)
        _, token = create_key(tutela.engine, "bench", ["decisions"])
    port = _free_port()
    env = {**os.environ, "TUTELA_POLICY": str(POLICY), "TUTELA_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/health", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            body = {
                "subject": {"email": "anna@example.nl"},
                "purpose": CONSENT_PURPOSE,
                "categories": ["user.name"],
            }
            for _ in range(300):  # warm up: connections, caches, the JIT-free interpreter
                assert client.post("/v1/decisions", json=body).status_code == 200
            timings: list[float] = []
            deadline = time.monotonic() + budget_s
            while len(timings) < 5_000 and time.monotonic() < deadline:
                start = time.perf_counter()
                response = client.post("/v1/decisions", json=body)
                timings.append((time.perf_counter() - start) * 1_000)
                assert response.status_code == 200 and response.json()["allowed"]
            # The same round trip without the decision: what the stack itself costs.
            baseline: list[float] = []
            for _ in range(min(len(timings), 2_000)):
                start = time.perf_counter()
                client.get("/health")
                baseline.append((time.perf_counter() - start) * 1_000)
    finally:
        server.terminate()
        server.wait(timeout=10)
    emit("decide_http_p50_ms", statistics.median(timings), "ms")
    emit("health_http_p50_ms", statistics.median(baseline), "ms")
    emit("decide_http_p99_ms", percentile(timings, 0.99), "ms")
    emit("decide_http_requests", len(timings), "requests")


# ------------------------------------------------------------------ bulk filter


def _fill_sqlite(tutela: Tutela, n: int) -> None:
    # Set-based inserts straight into the current-state tables (no events; see above).
    with tutela.engine.begin() as conn:
        conn.exec_driver_sql(
            f"""
            WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})
            INSERT INTO subjects (id, public_id, status, birth_date, country, restricted,
                                  managed, created_at, updated_at)
            SELECT i, 'sub_' || printf('%020d', i),
                   CASE WHEN i % 97 = 0 THEN 'erased' ELSE 'active' END,
                   CASE WHEN i % 53 = 0 THEN '2015-06-01' ELSE '1990-04-01' END,
                   'NL', i % 89 = 0, 0, '2024-01-01 00:00:00', '2024-01-01 00:00:00'
            FROM seq
            """
        )
        conn.exec_driver_sql(
            f"""
            INSERT INTO consents (subject_id, purpose, granted, policy_version, event_id,
                                  updated_at)
            SELECT id, '{CONSENT_PURPOSE}', id % 10 <> 0, '{VERSION}', id,
                   '2024-01-01 00:00:00'
            FROM subjects WHERE id % 10 < 7
            """
        )
        conn.exec_driver_sql(
            """
            INSERT INTO channel_prefs (subject_id, channel, opted_out, event_id, updated_at)
            SELECT id, 'email', 1, id, '2024-01-01 00:00:00' FROM subjects WHERE id % 20 = 0
            """
        )
        conn.exec_driver_sql("ANALYZE")


def _fill_postgres(tutela: Tutela, n: int) -> None:
    with tutela.engine.begin() as conn:
        conn.exec_driver_sql(
            f"""
            INSERT INTO subjects (id, public_id, status, birth_date, country, restricted,
                                  managed, created_at, updated_at)
            SELECT i, 'sub_' || lpad(i::text, 20, '0'),
                   CASE WHEN mod(i, 97) = 0 THEN 'erased' ELSE 'active' END,
                   CASE WHEN mod(i, 53) = 0 THEN DATE '2015-06-01' ELSE DATE '1990-04-01' END,
                   'NL', mod(i, 89) = 0, false, now(), now()
            FROM generate_series(1, {n}) AS i
            """
        )
        conn.exec_driver_sql(
            f"""
            INSERT INTO consents (subject_id, purpose, granted, policy_version, event_id,
                                  updated_at)
            SELECT id, '{CONSENT_PURPOSE}', mod(id, 10) <> 0, '{VERSION}', id, now()
            FROM subjects WHERE mod(id, 10) < 7
            """
        )
        conn.exec_driver_sql(
            """
            INSERT INTO channel_prefs (subject_id, channel, opted_out, event_id, updated_at)
            SELECT id, 'email', true, id, now() FROM subjects WHERE mod(id, 20) = 0
            """
        )
    with tutela.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def _time_filter(tutela: Tutela, purpose: str, runs: int, budget_s: float) -> tuple[float, int]:
    best = float("inf")
    count = 0
    deadline = time.monotonic() + budget_s
    for _ in range(runs):
        start = time.perf_counter()
        count = sum(1 for _ in tutela.filter_allowed(purpose))
        best = min(best, time.perf_counter() - start)
        if time.monotonic() > deadline:
            break
    return best, count


def bench_bulk(url: str, label: str, n: int, fill: Callable[[Tutela, int], None]) -> None:
    with Tutela.open(policy=POLICY, database=url, upgrade=True) as tutela:
        start = time.perf_counter()
        fill(tutela, n)
        emit(f"bulk_setup_{label}_s", time.perf_counter() - start, "s")
        size = "1m" if n == 1_000_000 else f"{n}"
        seconds, allowed = _time_filter(tutela, CONSENT_PURPOSE, 3, 20)
        emit(f"bulk_filter_{size}_{label}_s", seconds, "s")
        emit(f"bulk_filter_{size}_{label}_allowed", allowed, "subjects")
        seconds, allowed = _time_filter(tutela, INTEREST_PURPOSE, 3, 20)
        emit(f"bulk_filter_{size}_{label}_legitimate_interest_s", seconds, "s")
        emit(f"bulk_filter_{size}_{label}_legitimate_interest_allowed", allowed, "subjects")


# ------------------------------------------------------------------ consent ingest


def bench_ingest(url: str, label: str, budget_s: float = 8.0) -> None:
    with Tutela.open(policy=POLICY, database=url, upgrade=True) as tutela:
        ledger = tutela.ledger
        people = [ledger.create_subject([("email", f"p{i}@example.nl")]) for i in range(200)]
        done = 0
        start = time.perf_counter()
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            for subject in people:
                ledger.record_consent(
                    subject, CONSENT_PURPOSE, bool(done % 2), policy_version=VERSION
                )
                done += 1
        emit(f"consent_ingest_per_s_{label}", done / (time.perf_counter() - start), "consents/s")

        done = 0
        batch = [
            ConsentEntry(CONSENT_PURPOSE, bool(i % 2), VERSION, subject=people[i % len(people)])
            for i in range(500)
        ]
        start = time.perf_counter()
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            ledger.record_consents(batch)
            done += len(batch)
        emit(
            f"consent_ingest_batched_per_s_{label}",
            done / (time.perf_counter() - start),
            "consents/s",
        )
        assert not list(ledger.verify())


# ------------------------------------------------------------------ databases


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL on a new PostgreSQL schema, dropped afterwards."""
    schema = f"tutela_bench_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_ADMIN}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only.")
    parser.add_argument(
        "--only", choices=["inprocess", "http", "bulk", "ingest"], help="Run one part."
    )
    args = parser.parse_args()
    parts = {args.only} if args.only else {"inprocess", "http", "bulk", "ingest"}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if "inprocess" in parts:
            bench_inprocess()
        if "http" in parts:
            bench_http(tmp)
        if "bulk" in parts:
            bench_bulk(f"sqlite:///{tmp / 'bulk.sqlite3'}", "sqlite", args.subjects, _fill_sqlite)
            if not args.no_postgres:
                with postgres_schema() as url:
                    bench_bulk(url, "postgres", args.subjects, _fill_postgres)
        if "ingest" in parts:
            bench_ingest(f"sqlite:///{tmp / 'ingest.sqlite3'}", "sqlite")
            if not args.no_postgres:
                with postgres_schema() as url:
                    bench_ingest(url, "postgres")


if __name__ == "__main__":
    main()
