"""Rules on purposes: consent mechanics, direct marketing and sensitive categories."""

from __future__ import annotations

from collections.abc import Iterator
from typing import get_args

from tutela.policy.lint.base import Severity, rule
from tutela.policy.loader import Document
from tutela.policy.model import ConsentMethod
from tutela.policy.source import Loc

__all__: list[str] = []

# Browser settings stay in the browser: the company never learns of them, so they
# are not an objection it can honour.
_RECEIVED_OPT_OUTS = frozenset(get_args(ConsentMethod)) - {"browser_settings"}

# What makes each kind of sensitive data sensitive, and what allows its use.
_WHY = {
    "special_category": "a special category, GDPR Art. 9(1)",
    "criminal": "criminal-offence data, GDPR Art. 10",
    "national_id": "a national identification number, GDPR Art. 87 and national law",
    "payment_card": "payment card data, sensitive personal information under CCPA 1798.140(ae)",
    "precise_location": "precise geolocation, ePrivacy Art. 9 and CCPA 1798.140(ae)",
    "children": "children's data, GDPR Art. 8 and recital 38",
}
_CONDITION = {
    "special_category": "an Art. 9(2) condition applies",
    "criminal": "Union or member-state law authorises it (Art. 10)",
    "national_id": "the national law's conditions are met",
    "payment_card": "the use is necessary for the payment (CCPA 1798.121)",
    "precise_location": "the person consented or the service needs it",
    "children": "parental authorisation is in place (Art. 8(1))",
}

_CONSENT_BASES = ("consent", "explicit_consent")


@rule(
    "consent-without-mechanism",
    Severity.error,
    "A purpose based on consent has no recorded way to give and withdraw it",
    "GDPR Art. 7(1) and 7(3)",
)
def _consent_mechanism(document: Document) -> Iterator[tuple[Loc, str]]:
    for name, purpose in document.policy.purposes.items():
        if purpose.legal_basis in _CONSENT_BASES and purpose.consent is None:
            yield (
                ("purposes", name, "legal_basis"),
                (
                    f"purpose {name!r} rests on consent but says nowhere how consent is given "
                    "and withdrawn; add consent: {given_through: [...], withdrawn_through: [...]}"
                ),
            )


@rule(
    "marketing-without-opt-out",
    Severity.error,
    "Direct marketing on legitimate interest offers no way to object",
    "GDPR Art. 21(2)-(3); ePrivacy Directive Art. 13(2)",
)
def _marketing_opt_out(document: Document) -> Iterator[tuple[Loc, str]]:
    for name, purpose in document.policy.purposes.items():
        if (
            purpose.legal_basis == "legitimate_interest"
            and purpose.is_marketing(document.taxonomy)
            and not _RECEIVED_OPT_OUTS.intersection(purpose.opt_out)
        ):
            yield (
                ("purposes", name, "legal_basis"),
                (
                    f"purpose {name!r} is direct marketing on legitimate interest with no opt_out; "
                    "the person may object at any time and the objection always wins"
                ),
            )


@rule(
    "sensitive-marketing-without-explicit-consent",
    Severity.error,
    "A marketing or advertising purpose uses a sensitive category without explicit consent",
    "GDPR Art. 9(1)-(2)(a); EDPB Guidelines 8/2020 on targeting",
)
def _sensitive_marketing(document: Document) -> Iterator[tuple[Loc, str]]:
    taxonomy = document.taxonomy
    for name, purpose in document.policy.purposes.items():
        if not purpose.is_marketing(taxonomy) or purpose.legal_basis == "explicit_consent":
            continue
        for i, key in enumerate(purpose.categories):
            kind = taxonomy.sensitivity(key)
            if kind is not None:
                yield (
                    ("purposes", name, "categories", i),
                    (
                        f"marketing purpose {name!r} uses {key!r} ({_WHY[kind]}) on "
                        f"{purpose.legal_basis.replace('_', ' ')}; only explicit consent allows it"
                    ),
                )


@rule(
    "sensitive-category-not-allowed",
    Severity.warning,
    "A purpose uses a sensitive category without declaring that it may",
    "GDPR Art. 9 and 10",
)
def _sensitive_not_allowed(document: Document) -> Iterator[tuple[Loc, str]]:
    taxonomy = document.taxonomy
    for name, purpose in document.policy.purposes.items():
        if purpose.sensitive_allowed or purpose.is_marketing(taxonomy):
            continue  # marketing has its own, stricter rule
        for i, key in enumerate(purpose.categories):
            kind = taxonomy.sensitivity(key)
            if kind is not None:
                yield (
                    ("purposes", name, "categories", i),
                    (
                        f"purpose {name!r} uses {key!r} ({_WHY[kind]}); set "
                        f"sensitive_allowed: true once {_CONDITION[kind]}, or drop it"
                    ),
                )
