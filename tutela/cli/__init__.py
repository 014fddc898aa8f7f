"""The ``tutela`` command: thin Typer adapters over the engine.

Each command group lives in its own module and is joined here. Commands parse
input, call the engine and format output; no rule lives in a command.
"""

from __future__ import annotations

import typer

from tutela import __version__

app = typer.Typer(
    name="tutela",
    help="Tutela makes a privacy policy run.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tutela {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Tutela makes a privacy policy run."""


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``; kept in a
    # function so the import order is explicit and cycles cannot form.
    import tutela.cli.check  # noqa: F401
    from tutela.cli import scrub

    app.add_typer(scrub.app, name="scrub")
    app.command("scan")(scrub.scan)

    from tutela.cli import audit, consents, db, decide, keys, policy, serve, subjects  # noqa: F401

    app.add_typer(db.app, name="db")
    app.add_typer(keys.app, name="keys")
    app.add_typer(subjects.app, name="subjects")
    app.add_typer(consents.app, name="consents")
    app.add_typer(audit.app, name="audit")
    app.add_typer(policy.app, name="policy")

    from tutela.cli import requests

    app.add_typer(requests.app, name="requests")
    app.command("worker")(requests.worker)

    from tutela.cli import demo, retention

    app.add_typer(demo.app, name="demo")
    app.add_typer(retention.app, name="retention")


_register()


def main() -> None:
    """Console-script entry point."""
    app()
