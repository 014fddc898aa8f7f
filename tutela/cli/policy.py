"""``tutela policy publish|versions``: the policy versions the ledger has recorded."""

from __future__ import annotations

import json

import typer

from tutela.cli.options import (
    DEFAULT_POLICY,
    DEFAULT_URL,
    DatabaseOption,
    JsonOption,
    PolicyOption,
    handled,
    open_tutela_or_exit,
)

__all__ = ["app"]

app = typer.Typer(
    help="Record the policy's versions in the ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command("publish")
def publish(
    version: str | None = typer.Option(
        None, "--version", help="The version id to publish; the policy's newest by default."
    ),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Record a version of the policy as published, so consents can name it.

    Publishing the same version again with the same content changes nothing;
    a published version whose content changed is refused: give it a new id.
    """
    tutela = open_tutela_or_exit(policy, database)
    with handled(database), tutela:
        published = tutela.publish(version)
    typer.echo(
        f"published {published.version} (effective {published.effective.isoformat()}, "
        f"{'material' if published.material else 'not material'}, "
        f"sha256 {published.policy_hash[:12]})"
    )


@app.command("versions")
def versions(
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
    as_json: JsonOption = False,
) -> None:
    """List the published policy versions, oldest first."""
    tutela = open_tutela_or_exit(policy, database)
    with handled(database), tutela:
        found = tutela.published()
    if as_json:
        rows = [
            {
                "version": v.version,
                "effective": v.effective.isoformat(),
                "material": v.material,
                "changed_purposes": list(v.changed_purposes),
                "policy_hash": v.policy_hash,
                "published_at": v.published_at.isoformat(),
            }
            for v in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    if not found:
        typer.echo("no version published yet: run tutela policy publish")
    for v in found:
        changed = f" changed: {', '.join(v.changed_purposes)}" if v.changed_purposes else ""
        typer.echo(
            f"{v.version}  effective {v.effective.isoformat()}  "
            f"published {v.published_at.strftime('%Y-%m-%d %H:%M')}"
            f"{'  material' if v.material else ''}{changed}"
        )
