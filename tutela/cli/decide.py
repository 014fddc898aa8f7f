"""``tutela decide``: may this purpose use this person's data now?"""

from __future__ import annotations

import json

import typer

from tutela.cli import app
from tutela.cli.options import (
    DEFAULT_POLICY,
    DEFAULT_URL,
    EXIT_FOUND,
    EXIT_OK,
    DatabaseOption,
    JsonOption,
    PolicyOption,
    fail,
    handled,
    open_tutela_or_exit,
)
from tutela.decide import Signals

__all__ = ["decide_command"]


@app.command("decide")
def decide_command(
    purpose: str = typer.Option(..., "--purpose", help="The purpose, as the policy names it."),
    subject_email: str | None = typer.Option(None, "--subject-email", help="The person's email."),
    subject_id: str | None = typer.Option(None, "--subject-id", help="The subject id (sub_...)."),
    categories: list[str] = typer.Option(
        [], "--category", help="A data category the use needs; repeat for several."
    ),
    gpc: bool = typer.Option(False, "--gpc", help="The request carried Global Privacy Control."),
    dnt: bool = typer.Option(False, "--dnt", help="The request carried Do Not Track."),
    policy: PolicyOption = DEFAULT_POLICY,
    database: DatabaseOption = DEFAULT_URL,
    as_json: JsonOption = False,
) -> None:
    """Decide whether a purpose may use a person's data now.

    Prints allowed or denied, the legal basis, every reason and the evidence.
    Exit 0 when allowed, 1 when denied (an unknown person is denied).
    """
    if (subject_email is None) == (subject_id is None):
        fail("give exactly one of --subject-email, --subject-id")
    ref = {"email": subject_email} if subject_email is not None else {"id": subject_id or ""}
    tutela = open_tutela_or_exit(policy, database)
    with handled(database), tutela:
        decision = tutela.decide(ref, purpose, categories, Signals(gpc=gpc, dnt=dnt))
    if as_json:
        typer.echo(json.dumps(decision.to_dict(), indent=2))
    else:
        typer.echo(f"{'allowed' if decision.allowed else 'denied'}: {purpose}")
        typer.echo(f"legal basis:    {decision.legal_basis or '-'}")
        typer.echo(f"reasons:        {', '.join(r.value for r in decision.reasons)}")
        typer.echo(f"policy version: {decision.policy_version or '-'}")
        if decision.evidence:
            typer.echo(f"evidence:       {decision.evidence}")
    raise typer.Exit(EXIT_OK if decision.allowed else EXIT_FOUND)
