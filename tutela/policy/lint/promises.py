"""Rules on the promises section: selling, cookies, age and browser signals."""

from __future__ import annotations

from collections.abc import Iterator

from tutela.policy.lint.base import Severity, rule
from tutela.policy.loader import Document
from tutela.policy.model import CookiePromise, RecipientRole, RecipientService, SignalStance
from tutela.policy.source import Loc

__all__: list[str] = []


@rule(
    "sale-contradicts-promise",
    Severity.error,
    "The policy promises not to sell personal data, yet a buyer or a sale purpose is declared",
    "CCPA Cal. Civ. Code 1798.120, 1798.140(ad); GDPR Art. 5(1)(a) fairness",
)
def _sale(document: Document) -> Iterator[tuple[Loc, str]]:
    policy, taxonomy = document.policy, document.taxonomy
    if policy.promises.sells_personal_data:
        return
    for i, recipient in enumerate(policy.recipients):
        if recipient.role is RecipientRole.buyer:
            yield (
                ("recipients", i, "role"),
                (
                    "the policy promises not to sell personal data, "
                    f"but {recipient.name!r} is a buyer"
                ),
            )
    for name, purpose in policy.purposes.items():
        term = taxonomy.get("data_use", purpose.data_use) if purpose.data_use else None
        if purpose.sale:
            yield (
                ("purposes", name, "sale"),
                (f"the policy promises not to sell personal data, but purpose {name!r} is a sale"),
            )
        elif term is not None and term.sale:
            yield (
                ("purposes", name, "data_use"),
                (
                    f"the policy promises not to sell personal data, but purpose {name!r} "
                    f"has data use {term.key!r}, a sale"
                ),
            )


@rule(
    "session-cookies-contradicted",
    Severity.error,
    "Only session cookies are promised, yet a recipient sets persistent identifiers",
    "ePrivacy Directive Art. 5(3); GDPR Art. 5(1)(a)",
)
def _session_cookies(document: Document) -> Iterator[tuple[Loc, str]]:
    policy = document.policy
    if policy.promises.cookies is CookiePromise.persistent:
        return
    tracking = {RecipientService.analytics, RecipientService.advertising}
    for i, recipient in enumerate(policy.recipients):
        if recipient.sets_persistent_identifiers and (
            recipient.service in tracking or recipient.role is RecipientRole.advertiser
        ):
            promised = {
                CookiePromise.none: "no cookies",
                CookiePromise.session_only: "session cookies only",
            }[policy.promises.cookies]
            yield (
                ("recipients", i, "sets_persistent_identifiers"),
                (
                    f"the policy promises {promised}, but {recipient.name!r} "
                    f"({recipient.service.value if recipient.service else 'advertiser'}) sets "
                    "persistent identifiers"
                ),
            )


@rule(
    "minimum-age-below-digital-consent",
    Severity.warning,
    "The minimum age is below the age of digital consent of a country the company serves",
    "GDPR Art. 8(1) and national laws setting 13 to 16",
)
def _minimum_age(document: Document) -> Iterator[tuple[Loc, str]]:
    policy, taxonomy = document.policy, document.taxonomy
    age = policy.promises.minimum_age
    if not any(p.legal_basis in ("consent", "explicit_consent") for p in policy.purposes.values()):
        # Art. 8 only bites where consent is the basis.
        return
    countries = dict.fromkeys([policy.organisation.country, *policy.user_countries])
    for code in countries:
        country = taxonomy.countries.get(code)
        if country is None or country.age_of_digital_consent is None:
            continue  # no Art. 8 age there (outside the GDPR and UK GDPR)
        needed = country.age_of_digital_consent
        if age < needed:
            yield (
                ("promises", "minimum_age"),
                (
                    f"minimum age {age} is below {code}'s age of digital consent ({needed}): "
                    "consent from younger users there needs a parent's authorisation"
                ),
            )


@rule(
    "gpc-ignored-where-binding",
    Severity.error,
    "Global Privacy Control is ignored in a jurisdiction where it is binding",
    "CCPA Regulations 11 CCR 7025; Colorado CPA Rule 5",
)
def _gpc(document: Document) -> Iterator[tuple[Loc, str]]:
    policy, taxonomy = document.policy, document.taxonomy
    if policy.promises.global_privacy_control is SignalStance.honoured:
        return
    # The CCPA's opt-out preference signal binds businesses that sell or share.
    sells_or_shares = (
        policy.promises.sells_personal_data
        or policy.promises.shares_for_advertising
        or any(p.is_sale_or_sharing(taxonomy) for p in policy.purposes.values())
    )
    if not sells_or_shares:
        return
    for key in policy.jurisdictions:
        jurisdiction = taxonomy.jurisdictions.get(key)
        if jurisdiction is not None and jurisdiction.gpc_binding:
            yield (
                ("promises", "global_privacy_control"),
                (f"Global Privacy Control is ignored, but it is binding under {jurisdiction.name}"),
            )


@rule(
    "advertising-sharing-contradicts-promise",
    Severity.error,
    "Sharing for advertising is promised not to happen, yet an advertiser is a recipient",
    "CCPA Cal. Civ. Code 1798.120, 1798.140(ah); GDPR Art. 5(1)(a) fairness",
)
def _advertising_sharing(document: Document) -> Iterator[tuple[Loc, str]]:
    policy, taxonomy = document.policy, document.taxonomy
    if policy.promises.shares_for_advertising is not False:
        return  # only an explicit promise not to share can be broken
    for i, recipient in enumerate(policy.recipients):
        advertising_purposes = [
            name
            for name in recipient.purposes
            if name in policy.purposes and policy.purposes[name].is_advertising(taxonomy)
        ]
        if recipient.role is RecipientRole.advertiser or (
            recipient.service is RecipientService.advertising and advertising_purposes
        ):
            yield (
                ("recipients", i, "role"),
                (
                    "the policy promises not to share personal data for advertising, but "
                    f"{recipient.name!r} receives it for advertising"
                ),
            )
