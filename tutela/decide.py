"""May we use this person's data for this purpose? The answer, as a pure function.

``decide(policy, state, purpose, categories, signals)`` applies the rules of
DESIGN.md in order and returns a :class:`Decision` with every reason as a
stable code (documented in ``docs/decision-reasons.md``). It reads only its
arguments: the ledger materialises a :class:`SubjectState` and the caller
passes it in, so a decision costs microseconds and is trivially testable.

Rules, in order (a deny at any step is final, but later steps still add their
reasons where they are informative):

1. the purpose must be declared and cover the categories asked for;
2. an erased subject is denied everything;
3. a child (below the policy's minimum age or the country's age of digital
   consent) is denied everything;
4. restricted processing (Art. 18) denies all but exempt purposes and those
   the person consented to;
5. the legal basis: consent needs a current grant given under a version whose
   purpose has not changed materially since; contract needs an active account;
   legitimate interest yields to an objection (always, for direct marketing);
6. Global Privacy Control and Do Not Track, as the policy says;
7. an opted-out marketing channel denies that channel;
8. an organisation administrator may switch purposes off for members.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tutela.policy.model import Policy, Purpose, SignalStance
from tutela.policy.taxonomy import Taxonomy, builtin

__all__ = [
    "AccountStatus",
    "ConsentRecord",
    "Decision",
    "Reason",
    "Signals",
    "SubjectState",
    "decide",
    "is_restriction_exempt",
    "minimum_age_for",
    "stale_before",
]


class AccountStatus(StrEnum):
    """Where the person's account stands."""

    active = "active"
    deactivated = "deactivated"
    erased = "erased"


class Reason(StrEnum):
    """Stable reason codes. Never renamed; new ones may be added."""

    purpose_undeclared = "purpose_undeclared"
    category_not_in_purpose = "category_not_in_purpose"
    subject_unknown = "subject_unknown"
    subject_erased = "subject_erased"
    subject_child = "subject_child"
    processing_restricted = "processing_restricted"
    restriction_exempt = "restriction_exempt"
    consent_granted = "consent_granted"
    consent_missing = "consent_missing"
    consent_withdrawn = "consent_withdrawn"
    consent_stale = "consent_stale"
    contract_active = "contract_active"
    account_inactive = "account_inactive"
    legitimate_interest = "legitimate_interest"
    objected = "objected"
    objected_direct_marketing = "objected_direct_marketing"
    legal_obligation = "legal_obligation"
    vital_interest = "vital_interest"
    public_task = "public_task"
    gpc_opt_out = "gpc_opt_out"
    gpc_ignored = "gpc_ignored"
    dnt_opt_out = "dnt_opt_out"
    dnt_ignored = "dnt_ignored"
    channel_opted_out = "channel_opted_out"
    transactional = "transactional"
    organisation_disabled = "organisation_disabled"


DENY = frozenset(
    {
        Reason.purpose_undeclared,
        Reason.category_not_in_purpose,
        Reason.subject_unknown,
        Reason.subject_erased,
        Reason.subject_child,
        Reason.processing_restricted,
        Reason.consent_missing,
        Reason.consent_withdrawn,
        Reason.consent_stale,
        Reason.account_inactive,
        Reason.objected,
        Reason.objected_direct_marketing,
        Reason.gpc_opt_out,
        Reason.dnt_opt_out,
        Reason.channel_opted_out,
        Reason.organisation_disabled,
    }
)
"""Reasons that deny on their own."""

DIRECT_MARKETING = "direct_marketing"
"""Objection key meaning "all direct marketing" (Art. 21(2)), beside purpose names."""


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """The current consent state of one purpose, as the ledger materialised it."""

    granted: bool
    policy_version: str | None
    event_id: str
    at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class SubjectState:
    """Everything a decision needs to know about one person."""

    subject_id: str
    status: AccountStatus = AccountStatus.active
    birth_date: dt.date | None = None
    country: str | None = None
    restricted: bool = False
    consents: Mapping[str, ConsentRecord] = field(default_factory=dict)
    objections: frozenset[str] = frozenset()
    channel_opt_outs: frozenset[str] = frozenset()
    organisation_disabled: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Signals:
    """Browser privacy signals forwarded with the question."""

    gpc: bool = False
    dnt: bool = False

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Signals:
        """``Sec-GPC: 1`` (exactly "1") and ``DNT: 1``; header names in any case."""
        lower = {k.lower(): v for k, v in headers.items()}
        return cls(gpc=lower.get("sec-gpc", "").strip() == "1", dnt=lower.get("dnt", "") == "1")


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: allowed or not, on which basis, why, under which policy version."""

    allowed: bool
    purpose: str
    legal_basis: str | None
    reasons: tuple[Reason, ...]
    policy_version: str | None
    evidence: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The decision as JSON-ready data."""
        return {
            "allowed": self.allowed,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "reasons": [r.value for r in self.reasons],
            "policy_version": self.policy_version,
            "evidence": self.evidence,
        }


def minimum_age_for(policy: Policy, country: str | None, taxonomy: Taxonomy | None = None) -> int:
    """The age below which a person is treated as a child: the higher of the policy's
    minimum age and the country's age of digital consent (Art. 8)."""
    age = policy.promises.minimum_age
    if country:
        facts = (taxonomy or builtin()).countries.get(country.upper())
        if facts is not None and facts.age_of_digital_consent is not None:
            age = max(age, facts.age_of_digital_consent)
    return age


def _age_on(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def is_restriction_exempt(purpose: Purpose) -> bool:
    """Purposes Art. 18(2) still allows under restriction: storage, legal claims, legal
    obligations, and vital interests (protecting another person; consent is checked
    separately)."""
    if purpose.legal_basis in ("legal_obligation", "vital_interest"):
        return True
    use = purpose.data_use or ""
    return use.startswith(("functional.storage", "essential.legal_obligation", "essential.legal"))


def stale_before(policy: Policy, purpose: str) -> str | None:
    """The newest version that changed ``purpose`` materially; consents given under an
    earlier version are stale. ``None`` when it never changed materially."""
    newest: tuple[dt.date, str] | None = None
    for version in policy.versions:
        if version.material and purpose in version.changed_purposes:
            key = (version.effective, version.id)
            if newest is None or key > newest:
                newest = key
    return newest[1] if newest else None


def _version_order(policy: Policy) -> dict[str, tuple[dt.date, str]]:
    return {v.id: (v.effective, v.id) for v in policy.versions}


def _consent_current(policy: Policy, purpose: str, record: ConsentRecord) -> bool:
    cutoff = stale_before(policy, purpose)
    if cutoff is None:
        return True
    order = _version_order(policy)
    given = order.get(record.policy_version or "")
    return given is not None and given >= order[cutoff]


def decide(
    policy: Policy,
    state: SubjectState | None,
    purpose: str,
    categories: Iterable[str] = (),
    signals: Signals = Signals(),
    *,
    today: dt.date | None = None,
    taxonomy: Taxonomy | None = None,
) -> Decision:
    """Decide whether ``purpose`` may use ``categories`` of the person in ``state``."""
    tax = taxonomy or builtin()
    version = policy.version
    reasons: list[Reason] = []
    spec = policy.purposes.get(purpose)

    # 1. declared purpose, covered categories
    if spec is None:
        return Decision(False, purpose, None, (Reason.purpose_undeclared,), version)
    basis = spec.legal_basis
    for category in categories:
        if not any(tax.covers(allowed, category) for allowed in spec.categories):
            reasons.append(Reason.category_not_in_purpose)
            break
    if state is None:
        reasons.append(Reason.subject_unknown)
        return Decision(False, purpose, basis, tuple(reasons), version)

    # 2. erased
    if state.status is AccountStatus.erased:
        reasons.append(Reason.subject_erased)
        return Decision(False, purpose, basis, tuple(reasons), version)

    # 3. children
    if state.birth_date is not None:
        age = _age_on(state.birth_date, today or dt.date.today())
        if age < minimum_age_for(policy, state.country, tax):
            reasons.append(Reason.subject_child)
            return Decision(False, purpose, basis, tuple(reasons), version)

    evidence: str | None = None
    consent = state.consents.get(purpose)
    consent_ok = (
        consent is not None and consent.granted and _consent_current(policy, purpose, consent)
    )

    # 4. restriction
    if state.restricted:
        if is_restriction_exempt(spec):
            reasons.append(Reason.restriction_exempt)
        elif not (basis in ("consent", "explicit_consent") and consent_ok):
            reasons.append(Reason.processing_restricted)

    # 5. legal basis
    marketing = spec.is_marketing(tax)
    if basis in ("consent", "explicit_consent"):
        if consent is None:
            reasons.append(Reason.consent_missing)
        elif not consent.granted:
            reasons.append(Reason.consent_withdrawn)
            evidence = consent.event_id
        elif not consent_ok:
            reasons.append(Reason.consent_stale)
            evidence = consent.event_id
        else:
            reasons.append(Reason.consent_granted)
            evidence = consent.event_id
    elif basis == "contract":
        active = state.status is AccountStatus.active
        reasons.append(Reason.contract_active if active else Reason.account_inactive)
    elif basis == "legitimate_interest":
        if marketing and DIRECT_MARKETING in state.objections:
            reasons.append(Reason.objected_direct_marketing)
        elif purpose in state.objections:
            reasons.append(Reason.objected)
        else:
            reasons.append(Reason.legitimate_interest)
    elif basis == "legal_obligation":
        reasons.append(Reason.legal_obligation)
    elif basis == "vital_interest":
        reasons.append(Reason.vital_interest)
    else:
        reasons.append(Reason.public_task)

    # 6. signals
    if signals.gpc and spec.is_sale_or_sharing(tax):
        if policy.promises.global_privacy_control is SignalStance.honoured:
            reasons.append(Reason.gpc_opt_out)
        else:
            reasons.append(Reason.gpc_ignored)
    if signals.dnt and (marketing or spec.is_sale_or_sharing(tax)):
        if policy.promises.do_not_track is SignalStance.honoured:
            reasons.append(Reason.dnt_opt_out)
        else:
            reasons.append(Reason.dnt_ignored)

    # 7. channels
    if spec.channel is not None:
        if spec.channel in state.channel_opt_outs and marketing:
            reasons.append(Reason.channel_opted_out)
        elif not marketing:
            reasons.append(Reason.transactional)

    # 8. organisation settings, for the purposes the policy lets administrators switch off
    if spec.administrator_can_disable and purpose in state.organisation_disabled:
        reasons.append(Reason.organisation_disabled)

    allowed = not any(r in DENY for r in reasons)
    return Decision(allowed, purpose, basis, tuple(reasons), version, evidence)
