"""``tutela consents import``: bring consents recorded elsewhere into the ledger."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tutela.cli.options import (
    DEFAULT_POLICY,
    DEFAULT_URL,
    EXIT_FOUND,
    DatabaseOption,
    PolicyOption,
    handled,
    open_tutela_or_exit,
)
from tutela.ledger.imports import BATCH_SIZE, ImportProgress, RowProblem, import_consents

__all__ = ["app"]

app = typer.Typer(
    help="Import consents into the ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command("import")
def import_command(
    file: Path = typer.Argument(
        ...,
        metavar="FILE.csv",
        help="CSV with a header: email (or subject_id, phone, user_id), "
        "purpose, granted, policy_version, and optionally timestamp, source, channel.",
    ),
    batch_size: int = typer.Option(BATCH_SIZE, "--batch-size", min=1, help="Rows per transaction."),
    region: str | None = typer.Option(
        None, "--region", help="Country to read phone numbers written without their code."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Import consents from a CSV file, with a progress bar.

    Bad rows are reported with their line numbers and skipped; every good row is
    kept. The import is resumable: run the same command again after an
    interruption and it carries on after the last recorded batch (a finished
    file is not imported twice). People not yet in the ledger are created.
    Exit 0 when every row was imported, 1 when some were skipped, 2 when the
    file cannot be used.
    """
    tutela = open_tutela_or_exit(policy, database)
    err = Console(stderr=True, highlight=False)
    where = file.name

    def problem(p: RowProblem) -> None:
        err.print(f"{where}:{p.line}: skipped: {p.message}", markup=False)

    with (
        handled(database),
        tutela,
        Progress(
            TextColumn("importing {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("lines"),
            TimeRemainingColumn(),
            console=err,
            # Off when stderr is a file or a pipe: a log wants the lines, not a bar.
            disable=quiet or not err.is_terminal,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task(where, total=None)
        reached = [0]

        def progress(p: ImportProgress) -> None:
            reached[0] = p.lines_done
            bar.update(task, completed=p.lines_done, total=p.total_lines)

        try:
            report = import_consents(
                tutela.ledger,
                tutela.policy,
                file,
                batch_size=batch_size,
                region=region,
                on_progress=progress,
                on_problem=problem,
            )
        except KeyboardInterrupt:
            # Every committed batch is kept; the batch in flight was rolled back.
            bar.stop()
            done = f"recorded up to line {reached[0]}" if reached[0] else "no new batch recorded"
            typer.echo(
                f"interrupted: {where}: {done}; run the same command again to resume", err=True
            )
            raise typer.Exit(130) from None
    if report.already_finished:
        typer.echo(
            f"{where} was already imported: {report.imported} rows imported, "
            f"{report.rejected} skipped; nothing to do"
        )
    else:
        resumed = (
            f" (resumed after line {report.resumed_from_line})" if report.resumed_from_line else ""
        )
        typer.echo(
            f"{where}: {report.imported_now} rows imported, {report.rejected_now} skipped{resumed}"
        )
        if report.resumed_from_line:
            typer.echo(f"in all: {report.imported} rows imported, {report.rejected} skipped")
    if report.rejected:
        raise typer.Exit(EXIT_FOUND)
