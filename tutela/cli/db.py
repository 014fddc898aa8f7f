"""``tutela db upgrade|current``: the ledger's schema."""

from __future__ import annotations

import typer

from tutela.cli.options import (
    DEFAULT_URL,
    EXIT_FOUND,
    DatabaseOption,
    handled,
    open_engine_or_exit,
    safe_url,
)
from tutela.ledger.schema import current_revision, head_revision, upgrade

__all__ = ["app"]

app = typer.Typer(
    help="Create or upgrade the ledger's schema.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command("upgrade")
def upgrade_command(database: DatabaseOption = DEFAULT_URL) -> None:
    """Create the ledger's tables, or bring an older schema up to this version of Tutela.

    Safe to run on every deploy: an up-to-date schema is left as it is.
    """
    engine = open_engine_or_exit(database, current=False)
    with handled(database):
        before, after = upgrade(engine)
    engine.dispose()
    where = safe_url(database)
    if before == after:
        typer.echo(f"{where}: schema already current ({after})")
    else:
        typer.echo(f"{where}: schema upgraded from {before or 'empty'} to {after}")


@app.command("current")
def current_command(database: DatabaseOption = DEFAULT_URL) -> None:
    """Print the schema revision of the ledger and the one this Tutela needs.

    Exit 0 when they match, 1 when the ledger needs ``tutela db upgrade``.
    """
    engine = open_engine_or_exit(database, current=False)
    with handled(database):
        current = current_revision(engine)
    engine.dispose()
    head = head_revision()
    typer.echo(f"current: {current or 'empty'}")
    typer.echo(f"needed:  {head}")
    if current != head:
        typer.echo(f"run: tutela db upgrade --database '{safe_url(database)}'", err=True)
        raise typer.Exit(EXIT_FOUND)
