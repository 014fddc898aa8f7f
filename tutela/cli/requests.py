"""``tutela requests`` and ``tutela worker``: data subject requests from the command line."""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from typing import Any

import typer

from tutela.cli.options import (
    DEFAULT_POLICY,
    DEFAULT_URL,
    EXIT_FOUND,
    DatabaseOption,
    JsonOption,
    PolicyOption,
    handled,
    open_tutela_or_exit,
)
from tutela.plan import plan_access, plan_erasure
from tutela.requests import Request, Requests, RequestState, RequestType, Runner
from tutela.requests.batch import MAX_BATCH

__all__ = ["app", "worker"]

app = typer.Typer(help="Receive, decide and run data subject requests.", no_args_is_help=True)


def _show(request: Request, as_json: bool) -> None:
    data: dict[str, Any] = {
        "id": request.id,
        "type": request.type.value,
        "state": request.state.value,
        "subject": request.subject,
        "jurisdiction": request.jurisdiction,
        "received_at": request.received_at.isoformat(),
        "due_on": request.due_on.isoformat(),
        "overdue": request.overdue,
        "extended": request.extended,
        "extension_reason": request.extension_reason,
        "reason": request.reason,
        "result": request.result,
    }
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    for key, value in data.items():
        if value not in (None, False, {}):
            typer.echo(f"{key}: {value}")


@app.command("create")
def create(
    kind: RequestType = typer.Argument(..., help="The request type."),
    email: str = typer.Option(None, "--email", help="The person's email."),
    phone: str = typer.Option(None, "--phone", help="The person's phone number."),
    user_id: str = typer.Option(None, "--user-id", help="The product's id of the person."),
    source: str = typer.Option(
        "admin", "--source", help="product or admin (verified), or privacy_center, email, api."
    ),
    details: str = typer.Option(
        None, "--details", help='JSON: {"purposes": [...]}, {"corrections": {...}}, ...'
    ),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
    as_json: JsonOption = False,
) -> None:
    """Receive a request for the person named by one identity."""
    given = [(k, v) for k, v in (("email", email), ("phone", phone), ("user_id", user_id)) if v]
    if len(given) != 1:
        raise typer.BadParameter("name the person by exactly one of --email, --phone, --user-id")
    try:
        parsed = json.loads(details) if details else None
    except ValueError:
        raise typer.BadParameter("--details is not valid JSON") from None
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        request = Requests(tutela).create(kind, given[0], source=source, details=parsed)
        _show(request, as_json)


@app.command("show")
def show(
    request_id: str = typer.Argument(..., help="The request id (req_...)."),
    trail: bool = typer.Option(False, "--trail", help="Also print the audit trail."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
    as_json: JsonOption = False,
) -> None:
    """Show a request, and with --trail every transition it went through."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        requests = Requests(tutela)
        _show(requests.get(request_id), as_json)
        if trail:
            for event in requests.trail(request_id):
                fields = {k: v for k, v in event.items() if k not in ("at", "hash", "kind")}
                typer.echo(f"{event['at'].isoformat()} {event['kind']} {json.dumps(fields)}")


@app.command("list")
def list_requests(
    state: RequestState = typer.Option(None, "--state", help="Only requests in this state."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """The request queue, by due date; overdue ones are marked."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        for r in Requests(tutela).list(state=state, limit=1000):
            mark = " OVERDUE" if r.overdue else ""
            typer.echo(f"{r.due_on} {r.id} {r.type.value} {r.state.value}{mark}")


@app.command("approve")
def approve(
    request_id: str = typer.Argument(..., help="The request id."),
    actor: str = typer.Option(..., "--actor", help="Who approves (recorded in the trail)."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Approve a request waiting for a decision."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        _show(Requests(tutela).approve(request_id, actor=actor), False)


@app.command("deny")
def deny(
    request_id: str = typer.Argument(..., help="The request id."),
    reason: str = typer.Option(..., "--reason", help="Why; the person is told."),
    actor: str = typer.Option(..., "--actor", help="Who denies (recorded in the trail)."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Deny a request, with the reason the person is told."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        _show(Requests(tutela).deny(request_id, reason, actor=actor), False)


@app.command("extend")
def extend(
    request_id: str = typer.Argument(..., help="The request id."),
    reason: str = typer.Option(..., "--reason", help="Why; the person is told."),
    actor: str = typer.Option(..., "--actor", help="Who extends (recorded in the trail)."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Extend the deadline once, within the first period, with a reason."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        _show(Requests(tutela).extend(request_id, reason, actor=actor), False)


@app.command("cancel")
def cancel(
    request_id: str = typer.Argument(..., help="The request id."),
    actor: str = typer.Option(..., "--actor", help="Who cancels (recorded in the trail)."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Cancel a request that has not run."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        _show(Requests(tutela).cancel(request_id, actor=actor), False)


@app.command("run")
def run(
    request_id: str = typer.Argument(..., help="The request id."),
    now: bool = typer.Option(
        False, "--now", help="Run it in this process instead of queueing it for the workers."
    ),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Queue an approved request for the workers (or run it here with --now)."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        request = Requests(tutela).get(request_id)
        if request.state is not RequestState.approved and request.state is not RequestState.failed:
            typer.echo(f"request {request_id} is {request.state.value}, not approved", err=True)
            raise typer.Exit(EXIT_FOUND)
        if now:
            _show(Runner(tutela).run(request_id), False)
            return
        from tutela.jobs import enqueue

        enqueue(database, request_id)
        typer.echo(f"queued {request_id}")


@app.command("run-batch")
def run_batch_command(
    limit: int = typer.Option(
        1_000,
        "--limit",
        min=1,
        max=MAX_BATCH,
        help="At most this many erasures in the batch (oldest due first).",
    ),
    now: bool = typer.Option(
        False, "--now", help="Run the batch in this process instead of queueing it."
    ),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Erase every approved erasure request together: each collection once for all of
    them. Each request still gets its own report; exit 1 when there is none to run."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        waiting = Requests(tutela).list(state=RequestState.approved, limit=10 * limit)
        ids = [r.id for r in waiting if r.type is RequestType.erasure][:limit]
        if not ids:
            typer.echo("no approved erasure to run", err=True)
            raise typer.Exit(EXIT_FOUND)
        if now:
            from tutela.requests.batch import run_batch

            done = run_batch(Runner(tutela), ids)
            for request in done:
                typer.echo(f"{request.id}\t{request.state.value}")
            return
        from tutela.jobs import enqueue_batch

        typer.echo(f"queued {enqueue_batch(database, ids)} ({len(ids)} erasures)")


@app.command("plan")
def plan(
    kind: str = typer.Argument("erasure", help="access or erasure"),
    dialect: str = typer.Option(
        "postgresql", "--dialect", help="SQL dialect of the statements: postgresql, mysql, sqlite."
    ),
    policy: PolicyOption = DEFAULT_POLICY,
) -> None:
    """Print the plan a request follows, collection by collection: how the person's rows
    are found, what happens to them, and the statements that will run."""
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    from tutela.connectors.schema import dataset_metadata
    from tutela.connectors.sql import SqlConnector
    from tutela.plan import build_graph
    from tutela.policy import load

    dialects = {"postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}
    if dialect not in dialects:
        raise typer.BadParameter("--dialect is postgresql, mysql or sqlite")
    with handled():
        loaded = load(policy)
        graph = build_graph(loaded)
        if kind == "access":
            for read in plan_access(loaded, graph).steps:
                _print_read(read)
            return
        connectors = {
            d.name: SqlConnector(
                d.name, None, graph, pseudonym_key=b"plan", metadata=dataset_metadata(d)
            )
            for d in loaded.datasets
            if d.type == "sql"
        }
        sql_dialect = dialects[dialect].dialect()
        for step in plan_erasure(loaded, graph).steps:
            node = step.read.node
            fields = ", ".join(f"{a.field}={a.strategy}" for a in step.fields)
            hold = f" kept by {step.hold.law} ({step.hold.duration})" if step.hold else ""
            scrub = f" scrub: {', '.join(step.scrub_fields)}" if step.scrub_fields else ""
            typer.echo(f"{node[0]}.{node[1]}: {step.action}{hold} {fields}{scrub}".rstrip())
            _print_read(step.read, indent="    ")
            if node[0] in connectors:
                for statement in connectors[node[0]].statements(step, sql_dialect):
                    typer.echo("    " + " ".join(statement.split()))
            else:
                pattern = loaded.datasets[[d.name for d in loaded.datasets].index(node[0])]
                keys = graph.collections[node].key_pattern
                typer.echo(f"    SCAN {keys or '?'} then UNLINK ({pattern.type})")


def _print_read(read: Any, indent: str = "") -> None:
    node = read.node
    ways = [f"{f} = the person's {k}" for f, k in read.identity_fields]
    ways += [
        f"{e.child_field} IN (SELECT {e.parent_field} FROM {e.parent[1]} WHERE <theirs>)"
        for e in read.edges
    ]
    label = f"{node[0]}.{node[1]}" if not indent else "found by"
    typer.echo(f"{indent}{label}: {' OR '.join(ways)}")


def worker(
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
    worker_id: str = typer.Option(
        None, "--id", help="A stable name: a restarted worker resumes what it was doing."
    ),
    pause: float = typer.Option(
        0.0, "--step-pause", min=0.0, help="Seconds to wait before each collection step."
    ),
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Requests at a time."),
    retention_schedule: str = typer.Option(
        None,
        "--retention-schedule",
        envvar="TUTELA_RETENTION_SCHEDULE",
        help="Run the retention sweep on this cron schedule (such as '0 3 * * *'), once "
        "across all workers; 'off' stops it.",
    ),
) -> None:
    """Run queued requests durably until stopped (SIGTERM or Ctrl-C)."""
    from tutela.jobs import start_worker

    tutela = open_tutela_or_exit(policy, database)
    with handled():
        start_worker(
            tutela,
            database,
            worker=worker_id,
            pause=pause,
            concurrency=concurrency,
            retention_schedule=retention_schedule,
        )
    typer.echo(f"worker {worker_id or 'default'} started at {dt.datetime.now(dt.UTC).isoformat()}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        tutela.close()


@app.command("tasks")
def tasks(
    request_id: str = typer.Option(None, "--request", help="Only this request's tasks."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Processor steps: webhook deliveries and manual tasks, with their status."""
    from tutela.connectors.processors import Processors

    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        for task in Processors(tutela).tasks(request_id):
            typer.echo(
                f"{task.id} {task.request_id} {task.recipient!r} {task.channel} {task.status.value}"
            )


@app.command("confirm")
def confirm(
    task_id: str = typer.Argument(..., help="The task id."),
    actor: str = typer.Option(..., "--actor", help="Who did it (recorded)."),
    note: str = typer.Option("", "--note", help="What was done."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Confirm a manual task for a recipient without an API."""
    from tutela.connectors.processors import Processors

    tutela = open_tutela_or_exit(policy, database)
    with handled(), tutela:
        task = Processors(tutela).confirm_task(task_id, actor, note)
        typer.echo(f"{task.id} {task.status.value}")
