"""``tutela audit verify``: does every event still match its hash chain?"""

from __future__ import annotations

import typer

from tutela.cli.options import (
    DEFAULT_URL,
    EXIT_FOUND,
    DatabaseOption,
    handled,
    open_engine_or_exit,
)
from tutela.ledger.store import Ledger

__all__ = ["app"]

app = typer.Typer(
    help="Check the ledger's tamper-evident audit log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command("verify")
def verify(
    database: DatabaseOption = DEFAULT_URL,
    all_streams: bool = typer.Option(
        False, "--all", help="Name the first broken event of every stream, not only the first."
    ),
) -> None:
    """Walk every event stream's hash chain.

    Exit 0 when every event matches; 1 naming the first event that does not
    (its stream, sequence number, event id and the problem).
    """
    ledger = Ledger(open_engine_or_exit(database))
    broken = 0
    with handled(database):
        for problem in ledger.verify():
            broken += 1
            typer.echo(
                f"tampered: stream {problem.stream}, seq {problem.seq}, "
                f"event evt_{problem.event_id}: {problem.problem}"
            )
            if not all_streams:
                break
    ledger.engine.dispose()
    if broken:
        raise typer.Exit(EXIT_FOUND)
    typer.echo("the audit log is intact: every event matches its hash chain")
