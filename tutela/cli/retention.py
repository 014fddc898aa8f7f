"""``tutela retention sweep``: delete or anonymise what the policy's timed retention
periods have ended for, in the product's databases."""

from __future__ import annotations

import datetime as dt
import json

import typer

from tutela.cli.options import (
    DEFAULT_POLICY,
    DEFAULT_URL,
    DatabaseOption,
    JsonOption,
    PolicyOption,
    fail,
    handled,
    open_tutela_or_exit,
)
from tutela.retention import AccountsResult, SweepResult, sweep

__all__ = ["app"]

app = typer.Typer(
    help="Carry out the policy's retention periods.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _line(result: SweepResult, dry_run: bool) -> str:
    step = result.step
    fields = ", ".join(name for name, _ in step.clear)
    if step.delete_rows:
        what = "rows to delete" if dry_run else "rows deleted"
    else:
        what = f"rows {'to clear' if dry_run else 'cleared'} ({fields})"
    return (
        f"{step.dataset}.{step.collection}: {result.rows} {what}, "
        f"{step.clock} before {step.cutoff.date().isoformat()} [{'; '.join(step.rules)}]"
    )


def _accounts_line(result: AccountsResult, dry_run: bool) -> str:
    end = result.end
    started = (
        f"{result.closed - result.under_way} erasures to start"
        if dry_run
        else f"{len(result.started)} erasures started"
    )
    return (
        f"{end.dataset}.{end.collection}: {result.closed} accounts closed before "
        f"{end.cutoff.date().isoformat()}: {started}, {result.under_way} under way "
        f"[{'; '.join(end.rules)}]"
    )


@app.command("sweep")
def sweep_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count the rows; change nothing."),
    at: str | None = typer.Option(
        None, "--at", help="Sweep as of this moment (ISO 8601, UTC if no zone); now by default."
    ),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
    as_json: JsonOption = False,
) -> None:
    """Delete or anonymise what timed retention periods have ended for.

    Rules counted from a moment the rows store (``since_collected``: the collection's
    ``created`` timestamp field; ``since_last_activity``: its ``last_activity``
    one) are carried out with one statement per collection, each in its own
    transaction, and recorded in the ledger's ``retention`` stream. Rules that end
    with an event (an account closed, a person deleting) are carried out by
    requests: for the accounts closed longer ago than an account-lifetime period
    (``while_account_active``, ``after_account_closure``) an erasure request is
    started each and queued as one batch for the workers; the rest are listed as
    kept. The product databases are opened
    from the datasets' environment variables.
    """
    moment = None
    if at is not None:
        try:
            moment = dt.datetime.fromisoformat(at)
        except ValueError:
            fail(f"--at {at!r} is not an ISO 8601 moment such as 2026-01-31T00:00:00")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    tutela = open_tutela_or_exit(policy, database)
    with handled(database), tutela:
        report = sweep(tutela, now=moment, dry_run=dry_run)
        started = [request for a in report.accounts for request in a.started]
        queued = None
        if started:
            from tutela.jobs import enqueue_batch

            # The workers erase them together, as ``tutela requests run-batch`` would.
            queued = enqueue_batch(database, started)
    if as_json:
        steps = [
            {
                "dataset": r.step.dataset,
                "collection": r.step.collection,
                "rows": r.rows,
                "deleted": r.step.delete_rows,
                "fields": [f for f, _ in r.step.clear],
                "clock": r.step.clock,
                "before": r.step.cutoff.isoformat(),
                "rules": list(r.step.rules),
            }
            for r in report.steps
        ]
        accounts = [
            {
                "dataset": a.end.dataset,
                "collection": a.end.collection,
                "closed": a.closed,
                "started": list(a.started),
                "under_way": a.under_way,
                "before": a.end.cutoff.isoformat(),
                "rules": list(a.end.rules),
            }
            for a in report.accounts
        ]
        reasons = [{"rule": k.rule, "why": k.why} for k in report.plan.kept]
        document = {
            "dry_run": dry_run,
            "steps": steps,
            "accounts": accounts,
            "queued": queued,
            "kept": reasons,
        }
        typer.echo(json.dumps(document, indent=2))
        return
    for result in report.steps:
        typer.echo(_line(result, dry_run))
    for accounts_result in report.accounts:
        typer.echo(_accounts_line(accounts_result, dry_run))
    if queued is not None:
        typer.echo(f"queued {queued} ({len(started)} erasures) for the workers (tutela worker)")
    if not report.steps and not report.accounts:
        typer.echo("no retention period can be swept: see the kept rules below")
    for kept in report.plan.kept:
        typer.echo(f"kept: {kept.rule}: {kept.why}")
