"""Rules on where data goes: international transfers and their safeguards (GDPR Chapter V)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from tutela.policy.lint.base import Severity, rule
from tutela.policy.loader import Document
from tutela.policy.model import Policy, RecipientRole, Transfers
from tutela.policy.source import Loc
from tutela.policy.taxonomy import Taxonomy

__all__ = ["destinations", "home_area", "regulates_transfers"]

_OWN_SIDE = {RecipientRole.other_users}


_TRANSFER_LAWS = frozenset({"eu-gdpr", "uk-gdpr", "ch-fadp"})
# The UK (UK GDPR Art. 45 regulations) and Switzerland (FADP Annex 1) treat the
# EEA as adequate, so for their companies the EEA is home ground too.
_EEA_ADEQUATE_HOMES = frozenset({"GB", "CH"})


def home_area(policy: Policy, taxonomy: Taxonomy) -> frozenset[str]:
    """Countries data may reach without a transfer: the EEA for an EEA company (and for a
    UK or Swiss one, whose laws deem the EEA adequate), else the home country."""
    home = policy.organisation.country
    country = taxonomy.countries.get(home)
    eea = frozenset(code for code, c in taxonomy.countries.items() if c.eea)
    if (country is not None and country.eea) or home in _EEA_ADEQUATE_HOMES:
        return eea | {home}
    return frozenset({home})


def regulates_transfers(policy: Policy) -> bool:
    """Whether a law with transfer rules (GDPR Chapter V, UK GDPR, Swiss FADP) applies."""
    return any(j in _TRANSFER_LAWS for j in policy.jurisdictions)


def destinations(document: Document) -> Iterator[tuple[Loc, str, tuple[str, ...]]]:
    """Every (position, destination country, mechanisms) the file declares data going to."""
    policy = document.policy
    for i, recipient in enumerate(policy.recipients):
        if recipient.role in _OWN_SIDE:
            continue
        for j, code in enumerate(recipient.countries):
            yield ("recipients", i, "countries", j), code, recipient.transfer_mechanisms
    for d, dataset in enumerate(policy.datasets):
        for j, code in enumerate(dataset.countries):
            yield ("datasets", d, "countries", j), code, dataset.transfer_mechanisms


def _adequate(taxonomy: Taxonomy, code: str) -> bool:
    country = taxonomy.countries.get(code)
    return bool(country and country.adequacy)


@rule(
    "transfers-promised-never",
    Severity.error,
    "International transfers are promised never to happen, yet data leaves the home area",
    "GDPR Art. 13(1)(f), Art. 44",
)
def _transfers_never(document: Document) -> Iterator[tuple[Loc, str]]:
    policy = document.policy
    if policy.promises.international_transfers is not Transfers.never:
        return
    area = home_area(policy, document.taxonomy)
    for loc, code, _ in destinations(document):
        if code not in area:
            yield (
                loc,
                (
                    f"the policy promises no international transfers, but data goes to {code}, "
                    "outside the home area"
                ),
            )


@rule(
    "transfer-without-safeguard",
    Severity.error,
    "Data leaves the home area with no valid transfer mechanism",
    "GDPR Art. 44-46, 49",
)
def _transfer_without_safeguard(document: Document) -> Iterator[tuple[Loc, str]]:
    policy, taxonomy = document.policy, document.taxonomy
    if not regulates_transfers(policy):
        return
    area = home_area(policy, taxonomy)
    today = dt.date.today()
    for loc, code, mechanisms in destinations(document):
        if code in area:
            continue
        valid = []
        invalid = False
        for key in mechanisms:
            mechanism = taxonomy.transfer_mechanisms.get(key)
            if mechanism is not None and not mechanism.valid_on(today):
                invalid = True  # reported by privacy-shield-invalid, once
            if mechanism is None or not mechanism.valid_on(today) or key == "none":
                continue
            if key == "adequacy" and not _adequate(taxonomy, code):
                continue
            if mechanism.requires_destination and mechanism.requires_destination != code:
                continue
            valid.append(key)
        if not valid and not invalid and not _adequate(taxonomy, code):
            named = ", ".join(mechanisms) if mechanisms else "none named"
            yield (
                loc,
                (
                    f"data goes to {code} outside the home area with no valid transfer "
                    f"mechanism ({named}); name standard contractual clauses (scc), binding "
                    "corporate rules (bcr), the EU-US Data Privacy Framework (eu_us_dpf, US only) "
                    "or an Art. 49 derogation"
                ),
            )


@rule(
    "privacy-shield-invalid",
    Severity.error,
    "A transfer relies on the EU-US Privacy Shield, invalid since 16 July 2020",
    "CJEU C-311/18 (Schrems II), 16 July 2020",
)
def _privacy_shield(document: Document) -> Iterator[tuple[Loc, str]]:
    taxonomy = document.taxonomy
    today = dt.date.today()
    holders: list[tuple[Loc, str, tuple[str, ...]]] = [
        (("recipients", i), f"recipient {r.name!r}", tuple(r.transfer_mechanisms))
        for i, r in enumerate(document.policy.recipients)
    ]
    holders += [
        (("datasets", i), f"dataset {d.name!r}", tuple(d.transfer_mechanisms))
        for i, d in enumerate(document.policy.datasets)
    ]
    for at, who, mechanisms in holders:
        for j, key in enumerate(mechanisms):
            mechanism = taxonomy.transfer_mechanisms.get(key)
            if mechanism is None or mechanism.valid_on(today):
                continue
            until = mechanism.valid_until.isoformat() if mechanism.valid_until else "now"
            why = f", {mechanism.invalidated_by}" if mechanism.invalidated_by else ""
            yield (
                (*at, "transfer_mechanisms", j),
                (
                    f"{who} relies on {mechanism.name}, invalid since "
                    f"{until}{why}; use the EU-US Data Privacy Framework or standard contractual "
                    "clauses"
                ),
            )


@rule(
    "external-services-promised-none",
    Severity.error,
    "No external data-service providers are promised, yet a processor is listed",
    "GDPR Art. 13(1)(e), Art. 28",
)
def _external_services(document: Document) -> Iterator[tuple[Loc, str]]:
    policy = document.policy
    if policy.promises.external_data_services:
        return
    external = {RecipientRole.processor, RecipientRole.sub_processor}
    for i, recipient in enumerate(policy.recipients):
        if recipient.role in external:
            yield (
                ("recipients", i, "role"),
                (
                    f"the policy promises no external data-service providers, but "
                    f"{recipient.name!r} is a {recipient.role.value.replace('_', '-')}"
                ),
            )
