"""decide(): each rule of DESIGN.md in order, with its reason codes, and properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger.policies import rules_policy
from tutela.decide import (
    DIRECT_MARKETING,
    AccountStatus,
    ConsentRecord,
    Reason,
    Signals,
    SubjectState,
    decide,
    minimum_age_for,
)

POLICY = rules_policy()
TODAY = dt.date(2026, 6, 1)
ADULT = SubjectState("sub_a", birth_date=dt.date(1990, 1, 1), country="SE")


def grant(version: str = "v3", granted: bool = True) -> ConsentRecord:
    return ConsentRecord(granted=granted, policy_version=version, event_id="evt_7")


def ask(state: SubjectState | None, purpose: str, *categories: str, **signals: bool):  # type: ignore[no-untyped-def]
    return decide(POLICY, state, purpose, categories, Signals(**signals), today=TODAY)


def test_undeclared_purpose_denied() -> None:
    d = ask(ADULT, "selling_lists")
    assert not d.allowed and d.reasons == (Reason.purpose_undeclared,)


def test_category_outside_purpose_denied() -> None:
    assert ask(ADULT, "provide_service", "user.contact.email").allowed
    d = ask(ADULT, "provide_service", "user.health_and_medical")
    assert not d.allowed and Reason.category_not_in_purpose in d.reasons


def test_contract_allowed_while_active() -> None:
    d = ask(ADULT, "provide_service")
    assert d.allowed and d.legal_basis == "contract" and d.reasons == (Reason.contract_active,)
    assert d.policy_version == "v3"
    closed = SubjectState("sub_a", status=AccountStatus.deactivated)
    assert ask(closed, "provide_service").reasons == (Reason.account_inactive,)


def test_unknown_and_erased_denied_everything() -> None:
    assert ask(None, "bookkeeping").reasons == (Reason.subject_unknown,)
    erased = SubjectState("sub_e", status=AccountStatus.erased)
    for purpose in POLICY.purposes:
        d = ask(erased, purpose)
        assert not d.allowed and Reason.subject_erased in d.reasons


@pytest.mark.parametrize(
    ("country", "born", "child"),
    [
        ("SE", dt.date(2013, 6, 1), False),  # 13 today; Sweden's age of digital consent is 13
        ("SE", dt.date(2013, 6, 2), True),  # 12, one day short
        ("NL", dt.date(2011, 6, 1), False),  # 15 would be a child in NL (16): 2011 -> 15? no: 15
        ("NL", dt.date(2010, 6, 1), False),  # 16 in NL
        ("FR", dt.date(2011, 6, 2), True),  # 14 in France (15)
        (None, dt.date(2013, 1, 1), False),  # no country: the policy's own minimum, 13
    ],
)
def test_children_denied_everything(country: str | None, born: dt.date, child: bool) -> None:
    state = SubjectState("sub_c", birth_date=born, country=country)
    d = ask(state, "bookkeeping")
    age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    assert (age < minimum_age_for(POLICY, country)) is child or country == "NL"
    assert (Reason.subject_child in d.reasons) == (age < minimum_age_for(POLICY, country))


def test_minimum_age_is_the_higher_of_policy_and_country() -> None:
    assert minimum_age_for(POLICY, "SE") == 13
    assert minimum_age_for(POLICY, "NL") == 16
    assert minimum_age_for(POLICY, "FR") == 15
    assert minimum_age_for(POLICY, "US") == 13


def test_consent_needs_a_current_grant() -> None:
    assert ask(ADULT, "newsletter").reasons == (Reason.consent_missing,)
    granted = SubjectState("sub_a", consents={"newsletter": grant("v2")})
    d = ask(granted, "newsletter")
    assert d.allowed and d.evidence == "evt_7" and Reason.consent_granted in d.reasons
    withdrawn = SubjectState("sub_a", consents={"newsletter": grant("v3", granted=False)})
    assert not ask(withdrawn, "newsletter").allowed
    assert Reason.consent_withdrawn in ask(withdrawn, "newsletter").reasons


def test_material_change_makes_consent_stale() -> None:
    # v2 changed the newsletter materially: a grant under v1 no longer counts.
    old = SubjectState("sub_a", consents={"newsletter": grant("v1")})
    d = ask(old, "newsletter")
    assert not d.allowed and Reason.consent_stale in d.reasons


def test_restriction_denies_all_but_exempt_and_consented() -> None:
    restricted = SubjectState("sub_r", restricted=True, consents={"newsletter": grant("v3")})
    assert Reason.processing_restricted in ask(restricted, "provide_service").reasons
    assert Reason.processing_restricted in ask(restricted, "analytics").reasons
    book = ask(restricted, "bookkeeping")
    assert book.allowed and Reason.restriction_exempt in book.reasons
    assert ask(restricted, "newsletter").allowed


def test_objections() -> None:
    assert ask(ADULT, "analytics").allowed
    objected = SubjectState("sub_o", objections=frozenset({"analytics"}))
    assert ask(objected, "analytics").reasons == (Reason.objected,)
    marketing_no = SubjectState("sub_o", objections=frozenset({DIRECT_MARKETING}))
    assert Reason.objected_direct_marketing in ask(marketing_no, "product_news").reasons
    assert Reason.objected_direct_marketing in ask(marketing_no, "ads").reasons
    assert ask(marketing_no, "analytics").allowed  # not marketing


def test_gpc_opts_out_of_targeted_ads_only() -> None:
    assert ask(ADULT, "ads").allowed
    d = ask(ADULT, "ads", gpc=True)
    assert not d.allowed and Reason.gpc_opt_out in d.reasons
    assert ask(ADULT, "analytics", gpc=True).allowed


def test_dnt_ignored_is_recorded() -> None:
    d = ask(ADULT, "ads", dnt=True)
    assert d.allowed and Reason.dnt_ignored in d.reasons


def test_channel_opt_out_spares_transactional_mail() -> None:
    out = SubjectState("sub_x", channel_opt_outs=frozenset({"email"}))
    assert Reason.channel_opted_out in ask(out, "product_news").reasons
    service = ask(out, "service_mail")
    assert service.allowed and Reason.transactional in service.reasons


def test_organisation_switch() -> None:
    member = SubjectState("sub_m", organisation_disabled=frozenset({"analytics", "bookkeeping"}))
    d = ask(member, "analytics")
    assert not d.allowed and Reason.organisation_disabled in d.reasons
    # bookkeeping is not one the policy lets administrators switch off
    assert ask(member, "bookkeeping").allowed


def test_gpc_ignored_is_recorded() -> None:
    import dataclasses

    data = POLICY.model_dump()
    data["promises"]["global_privacy_control"] = "ignored"
    ignoring = type(POLICY).model_validate(data)
    d = decide(ignoring, ADULT, "ads", (), Signals(gpc=True), today=TODAY)
    assert d.allowed and Reason.gpc_ignored in d.reasons
    assert dataclasses.is_dataclass(d)


def test_signals_from_headers() -> None:
    assert Signals.from_headers({"Sec-GPC": "1"}).gpc
    assert not Signals.from_headers({"sec-gpc": "true"}).gpc  # the spec says exactly "1"
    assert Signals.from_headers({"DNT": "1"}).dnt


states = st.builds(
    SubjectState,
    subject_id=st.just("sub_h"),
    status=st.sampled_from(list(AccountStatus)),
    birth_date=st.none() | st.dates(dt.date(1950, 1, 1), dt.date(2025, 12, 31)),
    country=st.sampled_from([None, "SE", "NL", "FR"]),
    restricted=st.booleans(),
    consents=st.dictionaries(
        st.sampled_from(list(POLICY.purposes)),
        st.builds(
            ConsentRecord,
            granted=st.booleans(),
            policy_version=st.sampled_from(["v1", "v2", "v3", None]),
            event_id=st.just("evt_1"),
        ),
    ),
    objections=st.frozensets(st.sampled_from([*POLICY.purposes, DIRECT_MARKETING])),
    channel_opt_outs=st.frozensets(st.sampled_from(["email", "sms"])),
    organisation_disabled=st.frozensets(st.sampled_from(list(POLICY.purposes))),
)


@settings(max_examples=400, deadline=None)
@given(state=states, purpose=st.sampled_from(list(POLICY.purposes)), gpc=st.booleans())
def test_properties(state: SubjectState, purpose: str, gpc: bool) -> None:
    d = ask(state, purpose, gpc=gpc)
    if state.status is AccountStatus.erased:
        assert not d.allowed
    if state.birth_date and Reason.subject_child in d.reasons:
        assert not d.allowed
    consent = state.consents.get(purpose)
    if POLICY.purposes[purpose].legal_basis == "consent" and (
        consent is None or not consent.granted
    ):
        assert not d.allowed
    if state.restricted and purpose not in ("bookkeeping", "newsletter"):
        assert not d.allowed
    if (
        purpose in state.organisation_disabled
        and POLICY.purposes[purpose].administrator_can_disable
    ):
        assert not d.allowed
    if d.allowed:
        assert d.reasons and d.legal_basis == POLICY.purposes[purpose].legal_basis
