"""Durable execution of requests with DBOS: each collection of an erasure is a step.

DBOS records every finished step in its system database (SQLite beside a
SQLite ledger, or a ``dbos`` schema in PostgreSQL). A worker killed in the
middle of an erasure resumes, when started again with the same worker id, at
the step it was in; steps are idempotent, so the one that was cut short runs
again without changing anything twice. Several workers share one queue on
PostgreSQL; each request runs exactly once (its workflow id is the request id).

With a retention schedule (``tutela worker --retention-schedule CRON``), DBOS also
runs the retention sweep (:mod:`tutela.retention`) at each tick of the cron
expression, once across all workers, and the erasures it starts as one batch.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dbos import (
    DBOS,
    DBOSClient,
    DBOSConfig,
    EnqueueOptions,
    SetWorkflowID,
    run_dbos_database_migrations,
)
from sqlalchemy.engine import make_url

from tutela import __version__
from tutela.engine import Tutela
from tutela.errors import TutelaError
from tutela.requests import batch
from tutela.requests.downloads import purge_packages
from tutela.requests.model import RequestType
from tutela.requests.runner import Runner
from tutela.retention import sweep

__all__ = [
    "QUEUE",
    "RETENTION_SCHEDULE",
    "enqueue",
    "enqueue_batch",
    "start_worker",
    "system_database_url",
    "system_schema",
]

QUEUE = "tutela-requests"
WORKFLOW = "tutela_request"
BATCH_WORKFLOW = "tutela_erasure_batch"
RETENTION_WORKFLOW = "tutela_retention_sweep"
RETENTION_SCHEDULE = "tutela-retention-sweep"
"""The name of the retention sweep's schedule in DBOS's system database."""

_runner: Runner | None = None
_pause = 0.0


def system_database_url(ledger_url: str) -> str:
    """Where DBOS keeps its records: a SQLite file beside a SQLite ledger, or the same
    PostgreSQL database (in a schema of its own, see :func:`system_schema`)."""
    url = make_url(ledger_url)
    if url.drivername.startswith("sqlite"):
        database = url.database or "tutela.sqlite3"
        path = Path(database)
        return f"sqlite:///{path.with_name(path.stem + '-jobs.sqlite3')}"
    if url.drivername.startswith("postgresql"):
        # DBOS connects with its own engine; the ledger's search_path option is dropped
        # so that DBOS finds its tables in its own schema.
        query = {k: v for k, v in url.query.items() if k != "options"}
        return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
    raise TutelaError(f"durable execution needs SQLite or PostgreSQL, not {url.drivername}")


def system_schema(ledger_url: str) -> str:
    """DBOS's schema on PostgreSQL: ``<ledger schema>_jobs`` when the ledger lives in a
    schema of its own (``options=-csearch_path=...``), else ``dbos``."""
    options = str(make_url(ledger_url).query.get("options", ""))
    match = re.search(r"search_path=([A-Za-z_][A-Za-z0-9_]*)", options)
    return f"{match.group(1)}_jobs" if match else "dbos"


def _config(ledger_url: str, worker: str) -> DBOSConfig:
    return {
        "name": "tutela",
        "system_database_url": system_database_url(ledger_url),
        # Workflows recover only under the same version and executor id: pin both so a
        # restarted worker picks up exactly what it was doing.
        "application_version": __version__,
        "executor_id": worker,
        "log_level": "WARNING",
        "dbos_system_schema": system_schema(ledger_url),
    }


def _current() -> Runner:
    if _runner is None:
        raise TutelaError("no worker is running in this process")
    return _runner


# ---------------------------------------------------------------- steps


@DBOS.step()
def _start(request_id: str) -> str:
    return _current().start(request_id).type.value


@DBOS.step()
def _prepare(request_id: str) -> dict[str, Any]:
    runner = _current()
    return {
        "prepared": runner.prepare_erasure(runner.requests.get(request_id)),
        "collections": [list(node) for node in runner.erasure_steps()],
    }


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=0.5, backoff_rate=2.0)
def _erase(request_id: str, node: Sequence[str], prepared: Mapping[str, Any]) -> dict[str, Any]:
    if _pause:
        time.sleep(_pause)
    return _current().erase_collection((node[0], node[1]), prepared)


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=0.5, backoff_rate=2.0)
def _execute(request_id: str) -> dict[str, Any]:
    runner = _current()
    return runner.execute(runner.requests.get(request_id))


@DBOS.step()
def _finish_erasure(request_id: str, reports: list[dict[str, Any]]) -> dict[str, Any]:
    runner = _current()
    return runner.finish_erasure(runner.requests.get(request_id), reports)


@DBOS.step()
def _complete(request_id: str, result: dict[str, Any]) -> str:
    return _current().complete(request_id, result).state.value


@DBOS.step()
def _fail(request_id: str, reason: str) -> str:
    return _current().fail(request_id, reason).state.value


@DBOS.workflow(name=WORKFLOW)
def request_workflow(request_id: str) -> str:
    """Run one request durably: start, its steps, and its end."""
    kind = RequestType(_start(request_id))
    where = "the request"
    try:
        if kind is RequestType.erasure:
            plan = _prepare(request_id)
            reports = []
            for node in plan["collections"]:
                where = f"step {node[0]}.{node[1]}"
                reports.append(_erase(request_id, node, plan["prepared"]))
            where = "the ledger update"
            result = _finish_erasure(request_id, reports)
        else:
            result = _execute(request_id)
    except Exception as exc:
        # After its retries a step's error arrives wrapped by DBOS; name the step
        # ourselves, and keep only the error's class (messages may quote rows).
        cause = exc.__cause__ or exc
        detail = str(cause) if isinstance(cause, TutelaError) else type(cause).__name__
        return _fail(request_id, f"{where} failed after retries: {detail}")
    return _complete(request_id, result)


# ---------------------------------------------------------------- batches of erasures


@DBOS.step()
def _start_batch(request_ids: list[str]) -> list[str]:
    runner = _current()
    for request_id in request_ids:
        runner.start(request_id)
    return request_ids


@DBOS.step()
def _prepare_batch(request_ids: list[str]) -> dict[str, Any]:
    runner = _current()
    requests = [runner.requests.get(request_id) for request_id in request_ids]
    return {
        "prepared": batch.prepare_batch(runner, requests),
        "collections": [list(node) for node in runner.erasure_steps()],
    }


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=0.5, backoff_rate=2.0)
def _erase_batch(node: Sequence[str], prepared: Mapping[str, Any]) -> dict[str, Any]:
    if _pause:
        time.sleep(_pause)
    return batch.erase_collection_batch(_current(), (node[0], node[1]), prepared)


@DBOS.step()
def _end_batch(
    request_ids: list[str], reports: list[dict[str, Any]], failure: str | None
) -> list[str]:
    ended = batch.end_batch(_current(), request_ids, reports, failure)
    return [request.state.value for request in ended]


@DBOS.workflow(name=BATCH_WORKFLOW)
def batch_workflow(request_ids: list[str]) -> list[str]:
    """Run approved erasures as one batch, durably: each collection is one step for all."""
    ids = _start_batch(request_ids)
    where = "preparing the batch"
    reports: list[dict[str, Any]] = []
    try:
        plan = _prepare_batch(ids)
        for node in plan["collections"]:
            where = f"step {node[0]}.{node[1]}"
            reports.append(_erase_batch(node, plan["prepared"]))
    except Exception as exc:
        cause = exc.__cause__ or exc
        detail = str(cause) if isinstance(cause, TutelaError) else type(cause).__name__
        return _end_batch(ids, reports, f"{where} failed after retries: {detail}")
    return _end_batch(ids, reports, None)


# ---------------------------------------------------------------- retention


@DBOS.step()
def _retention_sweep(at: str) -> list[str]:
    report = sweep(_current().tutela, now=dt.datetime.fromisoformat(at))
    return [request_id for accounts in report.accounts for request_id in accounts.started]


@DBOS.workflow(name=RETENTION_WORKFLOW)
def retention_workflow(scheduled_time: dt.datetime, context: Any) -> None:
    """The retention sweep as of a tick of its schedule, then the erasures it started."""
    moment = scheduled_time if scheduled_time.tzinfo else scheduled_time.replace(tzinfo=dt.UTC)
    started = _retention_sweep(moment.isoformat())
    if started:
        with SetWorkflowID(batch.batch_id(started)):
            DBOS.start_workflow(batch_workflow, started)


def _schedule_retention(schedule: str | None) -> None:
    # Schedules live in the system database and are shared by every worker: "off"
    # removes it, nothing leaves it as it is.
    if not schedule:
        return
    if schedule.strip().lower() == "off":
        DBOS.delete_schedule(RETENTION_SCHEDULE)
        return
    try:
        DBOS.apply_schedules(
            [
                {
                    "schedule_name": RETENTION_SCHEDULE,
                    "workflow_fn": retention_workflow,
                    "schedule": schedule,
                    "context": None,
                    "queue_name": QUEUE,
                }
            ]
        )
    except Exception as exc:  # DBOS refuses a cron expression it cannot read
        raise TutelaError(
            f"the retention schedule {schedule!r} is not a cron expression: {exc}"
        ) from None


# ---------------------------------------------------------------- running


def start_worker(
    tutela: Tutela,
    ledger_url: str,
    *,
    worker: str | None = None,
    runner: Runner | None = None,
    pause: float = 0.0,
    concurrency: int = 1,
    retention_schedule: str | None = None,
) -> None:
    """Start DBOS in this process and take requests from the queue (returns at once;
    the queue is served by background threads until the process ends).

    ``retention_schedule`` (a cron expression, or ``off``) sets when the retention
    sweep runs, for every worker sharing the system database."""
    global _runner, _pause
    _runner = runner or Runner(tutela)
    _pause = pause
    DBOS(config=_config(ledger_url, worker or f"{socket.gethostname()}-worker"))
    DBOS.launch()
    DBOS.register_queue(QUEUE, worker_concurrency=concurrency, polling_interval_sec=0.25)
    _schedule_retention(retention_schedule)
    threading.Thread(
        target=_purge_packages, args=(_runner.packages, package_days_from_env()), daemon=True
    ).start()


def package_days_from_env() -> float:
    """Days an access package is kept before it is deleted (``TUTELA_PACKAGE_DAYS``,
    default 30)."""
    try:
        return max(0.0, float(os.environ.get("TUTELA_PACKAGE_DAYS", "30")))
    except ValueError:
        return 30.0


def _purge_packages(folder: Path, days: float) -> None:
    # Once an hour, for the life of the worker: packages hold personal data and are
    # not kept longer than their download window needs.
    while True:
        purge_packages(folder, days=days)
        time.sleep(3600)


def enqueue(ledger_url: str, request_id: str) -> None:
    """Put an approved request on the queue for the workers (from any process)."""
    _enqueue(ledger_url, WORKFLOW, request_id, request_id)


def enqueue_batch(ledger_url: str, request_ids: Sequence[str]) -> str:
    """Put approved erasures on the queue as one batch; returns the batch's id."""
    batch.check_size(request_ids)
    batch_id = batch.batch_id(request_ids)
    _enqueue(ledger_url, BATCH_WORKFLOW, batch_id, list(request_ids))
    return batch_id


def _enqueue(ledger_url: str, workflow: str, workflow_id: str, argument: object) -> None:
    # The queue's tables may not exist yet if no worker has started: create them
    # (idempotent), so a request queued first is simply waiting when a worker comes.
    run_dbos_database_migrations(system_database_url(ledger_url), schema=system_schema(ledger_url))
    client = DBOSClient(
        system_database_url=system_database_url(ledger_url),
        dbos_system_schema=system_schema(ledger_url),
    )
    try:
        options: EnqueueOptions = {
            "queue_name": QUEUE,
            "workflow_name": workflow,
            "workflow_id": workflow_id,
            "app_version": __version__,
        }
        client.enqueue(options, argument)
    finally:
        client.destroy()


def run_in_process(request_id: str) -> str:
    """Start a request's workflow in this (worker) process and wait for it."""
    with SetWorkflowID(request_id):
        handle = DBOS.start_workflow(request_workflow, request_id)
    return str(handle.get_result())


def worker_pause_from_env() -> float:
    """Seconds to wait before each collection step (``TUTELA_STEP_PAUSE``), to spread the
    load an erasure puts on production databases."""
    try:
        return max(0.0, float(os.environ.get("TUTELA_STEP_PAUSE", "0")))
    except ValueError:
        return 0.0
