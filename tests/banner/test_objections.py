"""Purposes on legitimate interest in the banner: they run unless the visitor objects, the
banner brings the right to object to the visitor's attention (Art. 21(4)), and GPC objects
for the visitor where it applies. Rules, HTTP, and a real browser."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.banner.conftest import shop
from tests.banner.test_http import post_choices
from tests.browser import screenshot
from tests.conftest import EXAMPLES
from tutela import Tutela
from tutela.banner import VISITOR_KIND, banner_config, check_objections
from tutela.errors import InputError
from tutela.policy import load
from tutela.policy.model import Policy

NAMES = ("leetcom", "intensive-code", "clever-leap", "james-pro", "kitameraki")


def _with_interests(policy: dict[str, Any]) -> None:
    tracked = ["user.device.cookie_id", "user.behavior.browsing_history"]
    policy["purposes"]["measurement"] = {
        "name": "Audience measurement",
        "description": "Counting visits, on our legitimate interest.",
        "legal_basis": "legitimate_interest",
        "data_use": "analytics.reporting",
        "categories": tracked,
    }
    policy["purposes"]["retargeting"] = {
        "name": "Retargeting",
        "description": "Our ads on other sites, on our legitimate interest.",
        "legal_basis": "legitimate_interest",
        "data_use": "marketing.advertising.third_party.targeted",
        "targeted_advertising": True,
        "categories": tracked,
    }


@pytest.fixture
def policy(write_banner_policy: Callable[..., Policy]) -> Policy:
    """The banner policy with two purposes on legitimate interest, one of them targeted
    advertising (which GPC turns off)."""
    return write_banner_policy(_with_interests)


def test_legitimate_interests_are_offered_for_objection(policy: Policy) -> None:
    config = banner_config(policy)
    assert [c.purpose for c in config.objectable] == ["measurement", "retargeting"]
    assert {c.purpose for c in config.categories} == {"analytics", "advertising"}
    retargeting = next(c for c in config.objectable if c.purpose == "retargeting")
    assert retargeting.gpc and "retargeting" in config.gpc_purposes
    assert [c["purpose"] for c in config.to_dict()["objectable"]] == ["measurement", "retargeting"]


def test_only_offered_objections_are_taken_and_gpc_objects(policy: Policy) -> None:
    assert check_objections(policy, {"measurement": True}) == {"measurement": True}
    with pytest.raises(InputError, match="offers no objection to 'analytics'"):
        check_objections(policy, {"analytics": True})
    with pytest.raises(InputError, match="offers no objection to 'provide_service'"):
        check_objections(policy, {"provide_service": True})
    # With the signal, targeted advertising is objected to whatever was sent.
    assert check_objections(policy, {"retargeting": False}, gpc=True) == {"retargeting": True}


@pytest.mark.parametrize("name", NAMES)
def test_every_example_banner_offers_its_objections(name: str) -> None:
    # The five companies ask no consent in a banner: their tracking rests on legitimate
    # interest, so the banner is where people learn they may object to it.
    policy = load(EXAMPLES / name / "policy.yaml")
    config = banner_config(policy)
    assert config.objectable
    assert all(
        policy.purposes[c.purpose].legal_basis == "legitimate_interest" for c in config.objectable
    )


def test_an_objection_is_recorded_and_decisions_follow(client: TestClient, tutela: Tutela) -> None:
    answer = post_choices(client, {"objections": {"measurement": True, "retargeting": False}})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["objections"] == {"measurement": True, "retargeting": False}
    assert body["choices"] == {}
    subject = tutela.ledger.lookup(VISITOR_KIND, body["visitor_id"])
    assert subject is not None
    assert tutela.ledger.state(subject).objections == frozenset({"measurement"})
    assert not tutela.decide(subject, "measurement").allowed
    assert tutela.decide(subject, "retargeting").allowed
    # The visitor changes their mind about measurement; consents ride along.
    visitor = body["visitor_id"]
    again = post_choices(
        client,
        {
            "visitor_id": visitor,
            "choices": {"analytics": True},
            "objections": {"measurement": False},
        },
    )
    assert again.status_code == 201, again.text
    assert tutela.decide(subject, "measurement").allowed
    assert tutela.decide(subject, "analytics").allowed


def test_a_bad_objection_writes_nothing(client: TestClient, tutela: Tutela) -> None:
    before = tutela.ledger.count_subjects()
    answer = post_choices(
        client, {"choices": {"analytics": True}, "objections": {"provide_service": True}}
    )
    assert answer.status_code == 400
    assert "no objection to 'provide_service'" in answer.text
    assert tutela.ledger.count_subjects() == before
    empty = post_choices(client, {"choices": {}, "objections": {}})
    assert empty.status_code == 400


def test_gpc_objects_to_retargeting_over_http(client: TestClient, tutela: Tutela) -> None:
    answer = post_choices(client, {"objections": {"retargeting": False}}, **{"Sec-GPC": "1"})
    assert answer.json()["objections"] == {"retargeting": True}


# ---------------------------------------------------------------- in a browser

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example shop</title>
<script src="/banner.js" defer></script></head>
<body><h1>Example shop</h1>
<script type="text/plain" data-purpose="measurement">window.measured = true;</script>
<script type="text/plain" data-purpose="retargeting">window.retargeted = true;</script>
</body></html>
"""


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app and the page above, served by Uvicorn in a thread."""
    with shop(app, PAGE) as base:
        yield base


@pytest.mark.slow
def test_objecting_in_the_banner_stops_the_script(
    server: str, browser: Any, tutela: Tutela
) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{server}/shop")
    # Legitimate interests run at once; the banner tells the visitor they may object.
    page.wait_for_function("window.measured === true && window.retargeted === true")
    page.get_by_role("dialog", name="Your privacy choices").wait_for()
    assert page.get_by_text("untick one to object to it").count() == 1
    assert page.get_by_label("Audience measurement").is_checked()
    screenshot(page, "banner-objections")
    page.get_by_label("Audience measurement").uncheck()
    page.get_by_role("button", name="Save choices").click()
    page.wait_for_function("document.cookie.indexOf('tutela_consent=') >= 0")

    cookie = next(c for c in context.cookies() if c["name"] == "tutela_consent")
    visitor = json.loads(unquote(cookie["value"]))["v"]
    subject = tutela.ledger.lookup(VISITOR_KIND, visitor)
    assert subject is not None
    assert tutela.ledger.state(subject).objections == frozenset({"measurement"})
    # The next page: no question, measurement no longer runs, retargeting does.
    page.goto(f"{server}/shop")
    page.wait_for_function("window.retargeted === true")
    assert page.evaluate("window.measured") is None
    assert page.get_by_role("dialog").count() == 0
    context.close()


@pytest.mark.slow
def test_gpc_objects_without_asking_about_it(server: str, browser: Any, tutela: Tutela) -> None:
    context = browser.new_context(locale="en-GB", extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(
        "Object.defineProperty(navigator, 'globalPrivacyControl', {value: true})"
    )
    page = context.new_page()
    page.goto(f"{server}/shop")
    page.wait_for_function("window.measured === true")
    page.get_by_role("dialog").wait_for()
    assert page.get_by_label("Retargeting").is_disabled()
    assert not page.get_by_label("Retargeting").is_checked()
    assert page.evaluate("window.retargeted") is None
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("document.cookie.indexOf('tutela_consent=') >= 0")
    cookie = next(c for c in context.cookies() if c["name"] == "tutela_consent")
    subject = tutela.ledger.lookup(VISITOR_KIND, json.loads(unquote(cookie["value"]))["v"])
    assert subject is not None
    assert tutela.ledger.state(subject).objections == frozenset({"retargeting"})
    context.close()
