"""``tutela subjects create|show|lookup``: the people the ledger knows."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import typer

from tutela.cli.options import (
    DEFAULT_URL,
    EXIT_FOUND,
    DatabaseOption,
    JsonOption,
    fail,
    handled,
    open_engine_or_exit,
)
from tutela.decide import SubjectState
from tutela.ledger.store import Ledger

__all__ = ["app"]

app = typer.Typer(
    help="Register, show and look up subjects (the people whose data it is).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_DATE = typer.Option(
    None, "--birth-date", formats=["%Y-%m-%d"], help="Birth date (YYYY-MM-DD), for age checks."
)


def _identities(email: str | None, phone: str | None, user_id: str | None) -> list[tuple[str, str]]:
    pairs = [("email", email), ("phone", phone), ("user_id", user_id)]
    return [(kind, value) for kind, value in pairs if value is not None]


@app.command("create")
def create(
    email: str | None = typer.Option(None, "--email", help="Email address."),
    phone: str | None = typer.Option(
        None, "--phone", help="Phone number, with its country code or a --country."
    ),
    user_id: str | None = typer.Option(None, "--user-id", help="The product's own user id."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166 country code."),
    birth_date: dt.datetime | None = _DATE,
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Register a person and print their subject id."""
    identities = _identities(email, phone, user_id)
    if not identities:
        fail("give at least one of --email, --phone, --user-id")
    ledger = Ledger(open_engine_or_exit(database))
    with handled(database):
        public_id = ledger.create_subject(
            identities,
            country=country,
            birth_date=birth_date.date() if birth_date else None,
        )
    ledger.engine.dispose()
    typer.echo(public_id)


def _resolve(ledger: Ledger, ref: str) -> str | None:
    if ref.startswith("sub_"):
        return ref if ledger.state_or_none(ref) else None
    if "@" in ref:
        return ledger.lookup("email", ref)
    if ref.startswith("+"):
        return ledger.lookup("phone", ref)
    return ledger.lookup("user_id", ref)


def _state_dict(state: SubjectState, identities: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": state.subject_id,
        "status": state.status.value,
        "identities": [{"kind": k, "value": v} for k, v in identities],
        "country": state.country,
        "birth_date": state.birth_date.isoformat() if state.birth_date else None,
        "restricted": state.restricted,
        "consents": {
            purpose: {
                "granted": c.granted,
                "policy_version": c.policy_version,
                "evidence": c.event_id,
                "at": c.at.isoformat() if c.at else None,
            }
            for purpose, c in sorted(state.consents.items())
        },
        "objections": sorted(state.objections),
        "channel_opt_outs": sorted(state.channel_opt_outs),
        "organisation_disabled": sorted(state.organisation_disabled),
    }


@app.command("show")
def show(
    ref: str = typer.Argument(
        ...,
        metavar="ID_OR_EMAIL",
        help="A subject id (sub_...), an email, a phone number (+...) or a product user id.",
    ),
    history: bool = typer.Option(False, "--history", help="Also list the subject's events."),
    database: DatabaseOption = DEFAULT_URL,
    as_json: JsonOption = False,
) -> None:
    """Show what the ledger holds about one person: identities, status, consents, choices.

    Exit 1 when nobody matches.
    """
    ledger = Ledger(open_engine_or_exit(database))
    with handled(database):
        public_id = _resolve(ledger, ref)
        if public_id is None:
            typer.echo("no subject matches", err=True)
            raise typer.Exit(EXIT_FOUND)
        data = _state_dict(ledger.state(public_id), ledger.identities(public_id))
        events = ledger.history(public_id) if history else []
    ledger.engine.dispose()
    if history:
        data["history"] = [
            {"seq": e.seq, "event": f"evt_{e.id}", "kind": e.kind, "at": e.at.isoformat()}
            for e in events
        ]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"subject:    {data['id']} ({data['status']})")
    for identity in data["identities"]:
        typer.echo(f"{identity['kind'] + ':':11} {identity['value']}")
    typer.echo(f"country:    {data['country'] or '-'}")
    typer.echo(f"birth date: {data['birth_date'] or '-'}")
    typer.echo(f"restricted: {'yes' if data['restricted'] else 'no'}")
    typer.echo("consents:" + ("" if data["consents"] else "   none"))
    for purpose, c in data["consents"].items():
        word = "granted" if c["granted"] else "withdrawn"
        typer.echo(
            f"  {purpose}: {word} under {c['policy_version'] or '-'} ({c['evidence']}, {c['at']})"
        )
    for label, key in (
        ("objections", "objections"),
        ("opted out", "channel_opt_outs"),
        ("org. off", "organisation_disabled"),
    ):
        if data[key]:
            typer.echo(f"{label + ':':11} {', '.join(data[key])}")
    for event in data.get("history", []):
        typer.echo(f"  #{event['seq']} {event['at']} {event['kind']} ({event['event']})")


@app.command("lookup")
def lookup(
    email: str | None = typer.Option(None, "--email", help="Email address."),
    phone: str | None = typer.Option(None, "--phone", help="Phone number."),
    user_id: str | None = typer.Option(None, "--user-id", help="The product's own user id."),
    region: str | None = typer.Option(
        None, "--region", help="Country to read a phone number written without its code."
    ),
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Print the subject id of the person with this identifier; exit 1 when nobody matches."""
    identities = _identities(email, phone, user_id)
    if len(identities) != 1:
        fail("give exactly one of --email, --phone, --user-id")
    ((kind, value),) = identities
    ledger = Ledger(open_engine_or_exit(database))
    with handled(database):
        found = ledger.lookup(kind, value, region=region)
    ledger.engine.dispose()
    if found is None:
        typer.echo("no subject matches", err=True)
        raise typer.Exit(EXIT_FOUND)
    typer.echo(found)


@app.command("signin-link")
def signin_link(
    ref: str = typer.Argument(
        ..., metavar="ID_OR_EMAIL", help="A subject id, an email, a phone number or a user id."
    ),
    minutes: int = typer.Option(30, "--minutes", min=1, max=1440, help="How long it works."),
    base_url: str = typer.Option(
        "http://localhost:8000", "--base-url", help="Where the privacy center is served."
    ),
    database: DatabaseOption = DEFAULT_URL,
) -> None:
    """Print a signed link that signs this person in to the privacy center (what a product
    hands out to someone it has signed in itself). Needs TUTELA_SECRET_KEY.

    Exit 1 when nobody matches.
    """
    from tutela.center import sign_login_link

    secret = os.environ.get("TUTELA_SECRET_KEY", "")
    if len(secret) < 16:
        fail("set TUTELA_SECRET_KEY (at least 16 characters) to sign links")
    ledger = Ledger(open_engine_or_exit(database))
    with handled(database):
        public_id = _resolve(ledger, ref)
    ledger.engine.dispose()
    if public_id is None:
        typer.echo("no subject matches", err=True)
        raise typer.Exit(EXIT_FOUND)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    token = sign_login_link(secret, public_id, expires)
    typer.echo(f"{base_url.rstrip('/')}/privacy/login/link?token={token}")
