"""What the privacy center shows and lets a person do, as values.

The web pages in :mod:`tutela.web` only render these values and call these
functions; every rule of the privacy center lives here:

- :func:`what_we_hold`: "what we hold and why", from the policy, the taxonomy
  and the person's state (a pure function);
- :func:`announcement`: the material change of the policy every page announces;
- :func:`consent_choices`, :func:`objection_choices`, :func:`marketing_channels`
  and :func:`choice_history`: the switches a person has and what they did;
- :class:`SignInCodes`: one-time sign-in codes, kept only as keyed hashes, with
  tries and rate limits;
- :func:`sign_login_link` / :func:`verify_login_link`: the signed sign-in link
  a product hands out to a person it already knows.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tutela.decide import DIRECT_MARKETING, SubjectState
from tutela.errors import LinkError
from tutela.ledger.store import EventRecord
from tutela.policy.model import Contact, Policy, Purpose
from tutela.policy.taxonomy import Taxonomy

__all__ = [
    "ANNOUNCED_FOR",
    "CONSENT_BASES",
    "Announcement",
    "ChoiceEvent",
    "ConsentChoice",
    "HeldPurpose",
    "HeldRecipient",
    "HeldRetention",
    "Holdings",
    "ObjectionChoice",
    "announcement",
    "choice_history",
    "consent_choices",
    "correctable_fields",
    "marketing_channels",
    "objection_choices",
    "sign_login_link",
    "verify_login_link",
    "what_we_hold",
]

CONSENT_BASES = frozenset({"consent", "explicit_consent"})
"""Legal bases a person can switch on and off in the privacy center."""


# ---------------------------------------------------------------- what we hold and why


@dataclass(frozen=True, slots=True)
class Term:
    """A taxonomy key and its readable name."""

    key: str
    name: str


@dataclass(frozen=True, slots=True)
class HeldPurpose:
    """One purpose as the person is told about it."""

    key: str
    name: str
    description: str
    legal_basis: str
    categories: tuple[Term, ...]
    sources: tuple[str, ...]
    essential: bool
    consented: bool | None
    """For a consent purpose, whether the person's consent is current; else ``None``."""
    objected: bool


@dataclass(frozen=True, slots=True)
class HeldRecipient:
    """Who receives data, where, under which transfer mechanisms."""

    name: str
    role: str
    countries: tuple[Term, ...]
    transfer_mechanisms: tuple[Term, ...]
    purposes: tuple[str, ...]
    sets_identifiers: bool = False
    """It sets cookies or device identifiers that outlive the session."""


@dataclass(frozen=True, slots=True)
class HeldRetention:
    """How long some categories are kept."""

    categories: tuple[Term, ...]
    trigger: str
    duration: str | None
    action: str
    criteria: str | None = None
    """How the period is decided, where the policy says."""
    collection: str | None = None
    """``dataset.collection`` for a rule on a collection rather than on categories."""


@dataclass(frozen=True, slots=True)
class Holdings:
    """Everything "what we hold and why" shows."""

    organisation: str
    contact: Contact
    dpo: Contact | None
    categories: tuple[Term, ...]
    purposes: tuple[HeldPurpose, ...]
    recipients: tuple[HeldRecipient, ...]
    retention: tuple[HeldRetention, ...]
    rights: tuple[str, ...]
    """The request types the person may make here."""
    portability: tuple[Term, ...]
    complaint_authority: Contact | None
    known: bool
    """The ledger knows this person (their own choices are shown)."""


def _term(taxonomy: Taxonomy, kind: str, key: str) -> Term:
    found = taxonomy.get(kind, key)  # type: ignore[arg-type]
    return Term(key, found.name if found else key)


def _country(taxonomy: Taxonomy, code: str) -> Term:
    found = taxonomy.countries.get(code)
    return Term(code, found.name if found else code)


def _mechanism(taxonomy: Taxonomy, key: str) -> Term:
    found = taxonomy.transfer_mechanisms.get(key)
    return Term(key, found.name if found else key)


def _consented(purpose: Purpose, key: str, state: SubjectState | None) -> bool | None:
    if purpose.legal_basis not in CONSENT_BASES:
        return None
    record = state.consents.get(key) if state else None
    return bool(record and record.granted)


def what_we_hold(policy: Policy, taxonomy: Taxonomy, state: SubjectState | None) -> Holdings:
    """What the company holds and why, from the policy, with the person's own choices
    when the ledger knows them (``state`` is ``None`` for someone it does not)."""
    category_keys = sorted({c for p in policy.purposes.values() for c in p.categories})
    purposes = tuple(
        HeldPurpose(
            key=key,
            name=spec.name or key.replace("_", " "),
            description=spec.description,
            legal_basis=spec.legal_basis,
            categories=tuple(_term(taxonomy, "data_category", c) for c in spec.categories),
            sources=spec.sources,
            essential=spec.essential,
            consented=_consented(spec, key, state),
            objected=bool(state and key in state.objections),
        )
        for key, spec in policy.purposes.items()
    )
    recipients = tuple(
        HeldRecipient(
            name=r.name,
            role=r.role.value,
            countries=tuple(_country(taxonomy, c) for c in r.countries),
            transfer_mechanisms=tuple(_mechanism(taxonomy, m) for m in r.transfer_mechanisms),
            purposes=r.purposes,
            sets_identifiers=r.sets_persistent_identifiers,
        )
        for r in policy.recipients
    )
    retention = tuple(
        HeldRetention(
            categories=tuple(_term(taxonomy, "data_category", c) for c in rule.categories),
            trigger=rule.trigger.value,
            duration=rule.duration,
            action=rule.action.value,
            criteria=rule.criteria,
            collection=f"{rule.dataset}.{rule.collection}" if rule.collection else None,
        )
        for rule in policy.retention
    )
    rights = ["access", "portability", "rectification", "erasure", "restriction", "objection"]
    return Holdings(
        organisation=policy.organisation.name,
        contact=policy.organisation.contact,
        dpo=policy.organisation.dpo,
        categories=tuple(_term(taxonomy, "data_category", c) for c in category_keys),
        purposes=purposes,
        recipients=recipients,
        retention=retention,
        rights=tuple(rights),
        portability=tuple(_term(taxonomy, "data_category", c) for c in policy.rights.portability),
        complaint_authority=policy.rights.complaint_authority,
        known=state is not None,
    )


# ---------------------------------------------------------------- material changes

ANNOUNCED_FOR = dt.timedelta(days=90)
"""How long after a material version takes effect the privacy center announces it."""


@dataclass(frozen=True, slots=True)
class Announcement:
    """A material change of the policy, announced at the top of every page."""

    version: str
    effective: dt.date
    summary: str
    previous: str | None
    """The version before it, for the archive to compare with; ``None`` if it is the first."""
    upcoming: bool
    """It takes effect after today: people are told before."""


def announcement(policy: Policy, today: dt.date) -> Announcement | None:
    """The material version to announce on ``today``: the next one yet to take effect,
    else the newest one that took effect less than :data:`ANNOUNCED_FOR` ago."""
    ordered = sorted(policy.versions, key=lambda v: (v.effective, v.id))
    upcoming = [v for v in ordered if v.material and v.effective > today]
    recent = [v for v in ordered if v.material and today - ANNOUNCED_FOR < v.effective <= today]
    chosen = upcoming[0] if upcoming else (recent[-1] if recent else None)
    if chosen is None:
        return None
    index = ordered.index(chosen)
    return Announcement(
        version=chosen.id,
        effective=chosen.effective,
        summary=chosen.summary,
        previous=ordered[index - 1].id if index else None,
        upcoming=chosen.effective > today,
    )


# ---------------------------------------------------------------- choices


@dataclass(frozen=True, slots=True)
class ConsentChoice:
    """A purpose resting on consent, and whether the person's consent is current."""

    purpose: str
    name: str
    description: str
    granted: bool


@dataclass(frozen=True, slots=True)
class ObjectionChoice:
    """A purpose the person may object to (Art. 21), and whether they have."""

    purpose: str
    name: str
    objected: bool


def consent_choices(policy: Policy, state: SubjectState | None) -> list[ConsentChoice]:
    """One switch per purpose resting on consent; essential purposes have none."""
    return [
        ConsentChoice(
            key,
            spec.name or key.replace("_", " "),
            spec.description,
            bool(_consented(spec, key, state)),
        )
        for key, spec in policy.purposes.items()
        if spec.legal_basis in CONSENT_BASES and not spec.essential
    ]


def objection_choices(policy: Policy, state: SubjectState | None) -> list[ObjectionChoice]:
    """Purposes resting on legitimate interest, and direct marketing as a whole when the
    policy has any marketing purpose (an objection to it always wins)."""
    objected = state.objections if state else frozenset()
    found = [
        ObjectionChoice(key, spec.name or key.replace("_", " "), key in objected)
        for key, spec in policy.purposes.items()
        if spec.legal_basis == "legitimate_interest" and not spec.essential
    ]
    if marketing_channels(policy):
        found.append(
            ObjectionChoice(DIRECT_MARKETING, "direct marketing", DIRECT_MARKETING in objected)
        )
    return found


def marketing_channels(policy: Policy) -> list[str]:
    """The marketing channels the policy's purposes use, in a stable order."""
    seen = {p.channel for p in policy.purposes.values() if p.channel}
    return sorted(c for c in seen if c is not None)


@dataclass(frozen=True, slots=True)
class ChoiceEvent:
    """One change a person made (or the product made for them), for the history."""

    at: dt.datetime
    kind: str
    """``consent``, ``channel`` or ``objection``."""
    what: str
    """The purpose or channel."""
    on: bool
    """Granted, opted in, or objecting."""
    source: str | None


def choice_history(events: Iterable[EventRecord]) -> list[ChoiceEvent]:
    """The consent, channel and objection events of a person, newest first."""
    found: list[ChoiceEvent] = []
    for event in events:
        p: Mapping[str, object] = event.payload
        if event.kind == "consent":
            found.append(
                ChoiceEvent(event.at, "consent", str(p["purpose"]), bool(p["granted"]), _s(p))
            )
        elif event.kind == "channel":
            on = not bool(p["opted_out"])
            found.append(ChoiceEvent(event.at, "channel", str(p["channel"]), on, _s(p)))
        elif event.kind == "objection":
            on = bool(p.get("active", True))
            found.append(ChoiceEvent(event.at, "objection", str(p["purpose"]), on, _s(p)))
    found.sort(key=lambda e: e.at, reverse=True)
    return found


def _s(payload: Mapping[str, object]) -> str | None:
    source = payload.get("source")
    return str(source) if source is not None else None


# ---------------------------------------------------------------- sign-in codes

CODE_LIFETIME = dt.timedelta(minutes=15)
CODE_TRIES = 5
RATE_WINDOW = dt.timedelta(hours=1)


# ---------------------------------------------------------------- signed sign-in links


_LINK_CONTEXT = b"tutela/center-login-link/v1"


def _link_mac(secret: str, body: str) -> str:
    if not secret:
        raise LinkError("no secret key is configured for sign-in links")
    key = hmac.new(secret.encode(), _LINK_CONTEXT, hashlib.sha256).digest()
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_login_link(secret: str, subject_id: str, expires: dt.datetime) -> str:
    """A token signing ``subject_id`` in to the privacy center until ``expires``.

    The product hands it to a person it has already signed in itself, as
    ``/privacy/login/link?token=...``; keep ``expires`` minutes away.
    """
    body = f"{subject_id}.{int(expires.timestamp())}"
    return f"{body}.{_link_mac(secret, body)}"


def verify_login_link(secret: str, token: str, *, now: dt.datetime | None = None) -> str:
    """The subject id a valid, unexpired token names; :class:`LinkError` otherwise."""
    parts = token.split(".")
    if len(token) > 200 or len(parts) != 3 or not parts[1].isdigit():
        raise LinkError("not a sign-in link")
    body = f"{parts[0]}.{parts[1]}"
    try:
        good = hmac.compare_digest(_link_mac(secret, body), parts[2])
    except (binascii.Error, ValueError):
        good = False
    if not good:
        raise LinkError("this sign-in link is not valid")
    if (now or dt.datetime.now(dt.UTC)).timestamp() > int(parts[1]):
        raise LinkError("this sign-in link has expired")
    return parts[0]


def correctable_fields(policy: Policy, taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """The fields a person may ask to correct from the privacy center (Art. 16), as
    (``dataset.collection.field``, the category's name): declared personal text
    fields, never keys or references (they say which row, not who the person is)."""
    fields = []
    for dataset in policy.datasets:
        if dataset.type != "sql":
            continue
        for collection in dataset.collections:
            for fld in collection.fields:
                if fld.primary_key or fld.references is not None or not fld.personal:
                    continue
                if (fld.type or "string") not in ("string", "text") or not fld.categories:
                    continue
                term = taxonomy.get("data_category", fld.categories[0])
                label = term.name if term else fld.categories[0]
                fields.append((f"{dataset.name}.{collection.name}.{fld.name}", label))
    return fields
