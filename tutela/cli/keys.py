"""``tutela keys create|list|revoke``: API keys for the HTTP API."""

from __future__ import annotations

import json

import typer

from tutela.cli.options import DEFAULT_URL, DatabaseOption, JsonOption, handled, open_engine_or_exit
from tutela.ledger.keys import SCOPES, create_key, list_keys, revoke_key

__all__ = ["app"]

app = typer.Typer(
    help="Create, list and revoke API keys.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="What the key is for, to recognise it later."),
    scopes: list[str] = typer.Option(
        ...,
        "--scope",
        help=f"What the key may do; repeat for several. One of: {', '.join(SCOPES)}.",
    ),
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Create an API key and print its token on stdout.

    The token is shown this once: the ledger keeps only its hash. Send it as
    ``Authorization: Bearer <token>``.
    """
    engine = open_engine_or_exit(database)
    with handled(database):
        key, token = create_key(engine, name, scopes)
    engine.dispose()
    # The token alone on stdout, so ``TOKEN=$(tutela keys create ...)`` works;
    # the explanation goes to stderr.
    typer.echo(token)
    typer.echo(
        f"created key {key.prefix} ({', '.join(key.scopes)}); "
        "store the token now, it cannot be shown again",
        err=True,
    )


@app.command("list")
def list_command(database: DatabaseOption = DEFAULT_URL, as_json: JsonOption = False) -> None:
    """List API keys, newest first: prefix, name, scopes, creation time, revoked or not."""
    engine = open_engine_or_exit(database)
    with handled(database):
        keys = list_keys(engine)
    engine.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "prefix": k.prefix,
                        "name": k.name,
                        "scopes": list(k.scopes),
                        "created_at": k.created_at.isoformat(),
                        "revoked": k.revoked,
                    }
                    for k in keys
                ],
                indent=2,
            )
        )
        return
    if not keys:
        typer.echo("no API keys")
        return
    for k in keys:
        state = "revoked" if k.revoked else "active"
        created = k.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{k.prefix}  {state:7}  {created}  {k.name}  [{', '.join(k.scopes)}]")


@app.command("revoke")
def revoke(
    prefix: str = typer.Argument(..., help="The key's prefix, as `keys list` shows it."),
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Revoke an API key; it stops working at once."""
    engine = open_engine_or_exit(database)
    with handled(database):
        revoke_key(engine, prefix)
    engine.dispose()
    typer.echo(f"revoked key {prefix}")
