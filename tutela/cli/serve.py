"""``tutela serve``: the HTTP API on a policy and its ledger."""

from __future__ import annotations

import dataclasses

import typer

from tutela.cli import app
from tutela.cli.options import (
    DEFAULT_POLICY,
    DEFAULT_URL,
    DatabaseOption,
    PolicyOption,
    fail,
    handled,
    open_tutela_or_exit,
)

__all__ = ["serve"]


@app.command("serve")
def serve(
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    upgrade: bool = typer.Option(
        False, "--upgrade", help="Upgrade the ledger's schema first instead of refusing to start."
    ),
    worker: bool = typer.Option(
        None,
        "--worker/--no-worker",
        help="Run queued requests in this process too (default: yes on SQLite, where one "
        "process is the whole installation; on PostgreSQL run `tutela worker` instead).",
    ),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1,::1",
        "--forwarded-allow-ips",
        envvar="FORWARDED_ALLOW_IPS",
        help="The reverse proxies (comma-separated addresses or networks, '*' for any) "
        "whose X-Forwarded-For is believed, so that rate limits and records see the "
        "visitor's address, not the proxy's.",
    ),
) -> None:
    """Serve the HTTP API and print the address of its documentation.

    An outdated ledger schema is refused (exit 2) with the command to run,
    unless ``--upgrade`` is given.
    """
    tutela = open_tutela_or_exit(policy, database, upgrade=upgrade)
    # Imported here so the other commands start without loading the web stack.
    try:
        import uvicorn

        from tutela.api import create_app
        from tutela.api.settings import ApiSettings
    except ImportError as exc:
        tutela.close()
        fail(f"the HTTP API is not available in this installation: {exc}")
    embedded = worker if worker is not None else tutela.engine.dialect.name == "sqlite"
    if embedded:
        from tutela.jobs import start_worker

        with handled():
            start_worker(tutela, database, worker="embedded")
        typer.echo("Request worker: embedded")
    settings = dataclasses.replace(ApiSettings.from_env(), policy_file=str(policy))
    web = create_app(tutela, settings=settings)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"Tutela API on http://{shown}:{port}")
    typer.echo(f"API docs: http://{shown}:{port}/docs")
    try:
        # No access log: request lines can carry identifiers (an email in a query).
        uvicorn.run(
            web,
            host=host,
            port=port,
            log_level="info",
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
        )
    finally:
        tutela.close()
