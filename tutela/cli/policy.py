"""``tutela policy publish|versions|announce``: the policy versions the ledger has recorded,
and telling people about a new one."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tutela.announcements import announce_by_email
from tutela.cli.options import (
    DEFAULT_POLICY,
    DEFAULT_URL,
    DatabaseOption,
    JsonOption,
    PolicyOption,
    handled,
    open_tutela_or_exit,
)
from tutela.requests.mail import Mailer

__all__ = ["app"]

app = typer.Typer(
    help="Record the policy's versions in the ledger and announce them.",
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


class _NoMail:
    """A dry run's mailer: nothing is sent."""

    def send(self, to: str, subject: str, body: str, *, language: str | None = None) -> None:
        raise AssertionError("a dry run sends nothing")


@app.command("announce")
def announce(
    version: str = typer.Argument(..., help="The version to announce."),
    center_url: str = typer.Option(
        ...,
        "--center-url",
        envvar="TUTELA_CENTER_URL",
        help="The privacy center's address, for the link to what changed.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count who would be told; send nothing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Mail everyone the ledger knows by an e-mail address about a new policy version.

    Only for a version whose ``notified_through`` names ``email``. Each person gets
    one message in their language (from their country, among the policy's
    languages) with the version's summary and a link to what changed; people already
    told are skipped, so the command can be run again after an interruption. Mail
    goes through ``TUTELA_SMTP_URL`` from ``TUTELA_MAIL_FROM``. Exit 0 when every
    message went out, 1 when the mail server refused some, 2 when nothing could be
    sent.
    """
    tutela = open_tutela_or_exit(policy, database)
    err = Console(stderr=True, highlight=False)
    with handled(database), tutela:
        mailer = _NoMail() if dry_run else Mailer.from_env()
        with Progress(
            TextColumn(f"announcing {version}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("people"),
            console=err,
            disable=quiet or not err.is_terminal,
            transient=True,
        ) as bar:
            task = bar.add_task(version, total=tutela.ledger.count_subjects())
            report = announce_by_email(
                tutela,
                version,
                mailer,
                center_url=center_url,
                dry_run=dry_run,
                progress=lambda done: bar.update(task, completed=done),
            )
    verb = "would send" if dry_run else "sent"
    typer.echo(
        f"{version}: {verb} {report.sent}, already told {report.already}, "
        f"refused by the mail server {len(report.failed)}"
    )
    for subject in report.failed:
        typer.echo(f"not sent: {subject}", err=True)
    if report.failed:
        raise typer.Exit(1)
