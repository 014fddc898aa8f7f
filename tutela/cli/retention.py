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
from tutela.retention import SweepResult, sweep

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
    requests and listed as kept. The product databases are opened from the
    datasets' environment variables.
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
        plan, results = sweep(tutela, now=moment, dry_run=dry_run)
    if as_json:
        rows = [
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
            for r in results
        ]
        reasons = [{"rule": k.rule, "why": k.why} for k in plan.kept]
        typer.echo(json.dumps({"dry_run": dry_run, "steps": rows, "kept": reasons}, indent=2))
        return
    for result in results:
        typer.echo(_line(result, dry_run))
    if not results:
        typer.echo("no timed retention rule applies to a SQL collection with its clock")
    for kept in plan.kept:
        typer.echo(f"kept: {kept.rule}: {kept.why}")
