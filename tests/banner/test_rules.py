"""The banner's configuration, derived from policies: pure, no I/O beyond loading them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import EXAMPLES
from tutela.banner import (
    COOKIE_MAX_AGE,
    TEXTS,
    banner_config,
    check_choices,
    choose_language,
    cookie_max_age,
    gpc_document,
    gpc_purposes,
    is_banner_purpose,
    is_visitor_id,
    needs_new_question,
    new_visitor_id,
)
from tutela.errors import InputError
from tutela.policy import load
from tutela.policy.model import Policy

Make = Callable[..., Policy]


def test_categories_strictly_necessary_and_gpc(policy: Policy) -> None:
    config = banner_config(policy)
    assert [c.purpose for c in config.categories] == ["analytics", "advertising"]
    assert [c.purpose for c in config.always_on] == ["provide_service"]
    assert all(c.always_on for c in config.always_on)
    assert config.gpc_honoured and config.gpc_purposes == ("advertising",)
    ads = next(c for c in config.categories if c.purpose == "advertising")
    assert ads.gpc and ads.label == "Personalised ads"
    assert not config.gpc_signal and not config.ask_again
    assert config.version == "2025-01"


def test_gpc_signal_is_carried(policy: Policy) -> None:
    data = banner_config(policy, gpc=True).to_dict()
    assert data["gpc"] == {"honoured": True, "signal": True, "purposes": ["advertising"]}


def test_gpc_ignored_turns_nothing_off(write_banner_policy: Make) -> None:
    def ignore(p: dict[str, Any]) -> None:
        p["promises"]["global_privacy_control"] = "ignored"

    policy = write_banner_policy(ignore)
    assert gpc_purposes(policy) == ()
    config = banner_config(policy, gpc=True)
    assert not config.gpc_honoured and not any(c.gpc for c in config.categories)
    assert gpc_document(policy) == {"gpc": False, "lastUpdate": "2025-01-01"}


def test_consent_on_an_analytics_use_without_mechanics_is_asked(write_banner_policy: Make) -> None:
    def change(p: dict[str, Any]) -> None:
        del p["purposes"]["analytics"]["consent"]
        # A newsletter by email and testimonials given in writing are not cookie questions.
        p["purposes"]["newsletter"]["consent"]["given_through"] = ["privacy_center"]

    policy = write_banner_policy(change)
    assert is_banner_purpose(policy.purposes["analytics"])
    assert not is_banner_purpose(policy.purposes["newsletter"])
    assert not is_banner_purpose(policy.purposes["provide_service"])


def test_material_change_asks_again(policy: Policy) -> None:
    assert needs_new_question(policy, "2024-01")
    assert not needs_new_question(policy, "2025-01")
    assert needs_new_question(policy, "1999-01"), "an unknown version asks again"
    assert banner_config(policy, since="2024-01").ask_again
    assert not banner_config(policy, since="2025-01").ask_again


def test_material_change_to_another_purpose_does_not_ask_again(write_banner_policy: Make) -> None:
    def change(p: dict[str, Any]) -> None:
        p["versions"][1]["changed_purposes"] = ["newsletter"]

    assert not needs_new_question(write_banner_policy(change), "2024-01")


def test_material_version_naming_no_purpose_asks_again(write_banner_policy: Make) -> None:
    def change(p: dict[str, Any]) -> None:
        p["versions"][1]["changed_purposes"] = []

    assert needs_new_question(write_banner_policy(change), "2024-01")


@pytest.mark.parametrize(
    ("promise", "age"), [("persistent", COOKIE_MAX_AGE), ("session_only", None), ("none", 0)]
)
def test_cookie_lifetime(write_banner_policy: Make, promise: str, age: int | None) -> None:
    def change(p: dict[str, Any]) -> None:
        p["promises"]["cookies"] = promise

    assert cookie_max_age(write_banner_policy(change)) == age


def test_persistent_cookie_lives_under_thirteen_months() -> None:
    assert COOKIE_MAX_AGE < 393 * 24 * 3600  # the shortest 13 months: 365 + 28 days


def test_language_follows_the_visitor_within_the_policys_languages(policy: Policy) -> None:
    # The policy speaks sv and en.
    assert choose_language(policy, "en-GB,en;q=0.9") == "en"
    assert choose_language(policy, "de-DE, sv;q=0.5") == "sv"
    assert choose_language(policy, "fr") == "sv"
    assert choose_language(policy, None) == "sv"
    assert banner_config(policy, accept_language="en").texts == TEXTS["en"]


def test_choices_are_checked(policy: Policy) -> None:
    assert check_choices(policy, {"analytics": True}) == {"analytics": True}
    for bad in ({"newsletter": True}, {"provide_service": False}, {"nope": True}, {}):
        with pytest.raises(InputError):
            check_choices(policy, bad)


def test_gpc_records_a_grant_of_advertising_as_refused(policy: Policy) -> None:
    choices = {"analytics": True, "advertising": True}
    assert check_choices(policy, choices, gpc=True) == {"analytics": True, "advertising": False}
    assert check_choices(policy, choices, gpc=False) == choices


def test_gpc_document(policy: Policy) -> None:
    assert gpc_document(policy) == {"gpc": True, "lastUpdate": "2025-01-01"}


def test_visitor_ids_are_random_and_opaque() -> None:
    ids = {new_visitor_id() for _ in range(100)}
    assert len(ids) == 100 and all(is_visitor_id(i) for i in ids)
    assert not is_visitor_id("v_../../etc") and not is_visitor_id(None)


# ---------------------------------------------------------------- the example policies

EXPECTED = {
    # name: (always-on purposes, GPC honoured, purposes GPC turns off, cookie lifetime)
    "james-pro": ({"provide_service", "security"}, True, {"advertising"}, COOKIE_MAX_AGE),
    "clever-leap": (None, True, {"third_party_fulfilment"}, None),
    "intensive-code": (None, False, set(), COOKIE_MAX_AGE),
    "kitameraki": (None, True, None, COOKIE_MAX_AGE),
    "leetcom": (None, False, set(), COOKIE_MAX_AGE),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_examples(name: str) -> None:
    policy = load(EXAMPLES / name / "policy.yaml")
    always, honoured, off, age = EXPECTED[name]
    config = banner_config(policy)
    # None of the examples asks for consent through a cookie banner: their consents are
    # given in writing, in the app, in account settings or through support.
    assert config.categories == ()
    assert {c.purpose for c in config.always_on} == (
        always if always is not None else {n for n, p in policy.purposes.items() if p.essential}
    )
    assert config.gpc_honoured is honoured
    if off is not None:
        assert set(config.gpc_purposes) == off
    assert config.cookie_max_age == age
    assert config.language in policy.organisation.languages or config.language == "en"
    assert gpc_document(policy)["gpc"] is honoured
