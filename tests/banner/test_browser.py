"""The banner in a real browser (Debian's chromium through Playwright) against a server on
127.0.0.1: a page with the one tag and tagged scripts, with and without Global Privacy Control."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI

from tests.banner.conftest import shop
from tests.browser import screenshot
from tutela import Tutela
from tutela.banner import VISITOR_KIND
from tutela.decide import Signals

pytestmark = pytest.mark.slow

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example shop</title>
<script src="/banner.js" defer></script></head>
<body><h1>Example shop</h1><p>Products.</p>
<script type="text/plain" data-purpose="provide_service">window.essentialLoaded = true;</script>
<script type="text/plain" data-purpose="analytics">window.analyticsLoaded = true;</script>
<script type="text/plain" data-purpose="advertising">window.adsLoaded = true;</script>
</body></html>
"""


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app and the page above, served by Uvicorn in a thread."""
    with shop(app, PAGE) as base:
        yield base


def _visitor(context: Any) -> str:
    cookie = next(c for c in context.cookies() if c["name"] == "tutela_consent")
    visitor: str = json.loads(unquote(cookie["value"]))["v"]
    return visitor


def _shot(page: Any, name: str) -> None:
    screenshot(page, name)


def test_accepting_analytics_runs_its_script(server: str, browser: Any, tutela: Tutela) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{server}/shop")
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    dialog.wait_for()
    _shot(page, "banner-first-visit")
    # Accessible: focus is inside the dialog, strictly necessary is shown on and fixed.
    assert page.evaluate(
        "document.getElementById('tutela-banner').contains(document.activeElement)"
    )
    assert page.get_by_label("Run the site").is_checked()
    assert page.get_by_label("Run the site").is_disabled()
    assert page.evaluate("window.essentialLoaded") is True
    assert page.evaluate("window.analyticsLoaded") is None

    page.get_by_label("Analytics").check()
    page.get_by_role("button", name="Save choices").click()
    page.wait_for_function("window.analyticsLoaded === true")
    assert page.evaluate("window.adsLoaded") is None
    assert page.get_by_role("dialog").count() == 0
    _shot(page, "banner-after-analytics")

    subject = tutela.ledger.lookup(VISITOR_KIND, _visitor(context))
    assert subject is not None
    state = tutela.ledger.state(subject)
    assert state.consents["analytics"].granted
    assert not state.consents["advertising"].granted
    assert tutela.decide(subject, "analytics").allowed

    # The next page remembers: no question, analytics runs at once.
    page.goto(f"{server}/shop")
    page.wait_for_function("window.analyticsLoaded === true")
    assert page.get_by_role("dialog").count() == 0
    assert page.evaluate("window.adsLoaded") is None
    context.close()


def test_gpc_refuses_advertising_without_asking(server: str, browser: Any, tutela: Tutela) -> None:
    context = browser.new_context(locale="en-GB", extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',"
        " {get: () => true, configurable: true});"
    )
    page = context.new_page()
    page.goto(f"{server}/shop")
    page.get_by_role("dialog").wait_for()
    # Advertising is not a question: shown off and fixed, with the reason.
    ads = page.get_by_label("Personalised ads")
    assert ads.is_disabled() and not ads.is_checked()
    assert "Global Privacy Control" in page.get_by_role("dialog").inner_text()
    _shot(page, "banner-gpc")

    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.analyticsLoaded === true")
    page.wait_for_timeout(200)
    assert page.evaluate("window.adsLoaded") is None

    subject = tutela.ledger.lookup(VISITOR_KIND, _visitor(context))
    assert subject is not None
    state = tutela.ledger.state(subject)
    assert not state.consents["advertising"].granted
    assert state.consents["analytics"].granted
    gpc = Signals(gpc=True)
    assert not tutela.decide(subject, "advertising", signals=gpc).allowed
    context.close()


def test_gpc_turned_on_later_refuses_advertising_without_a_dialog(
    server: str, browser: Any, tutela: Tutela
) -> None:
    # A visitor who accepted everything, then switched GPC on: no question at all.
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{server}/shop")
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.adsLoaded === true")
    subject = tutela.ledger.lookup(VISITOR_KIND, _visitor(context))
    assert subject is not None
    assert tutela.ledger.state(subject).consents["advertising"].granted

    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',"
        " {get: () => true, configurable: true});"
    )
    page.goto(f"{server}/shop")
    page.wait_for_function("window.analyticsLoaded === true")
    deadline = time.monotonic() + 5
    while tutela.ledger.state(subject).consents["advertising"].granted:
        assert time.monotonic() < deadline, "the GPC refusal was not recorded"
        time.sleep(0.05)
    assert page.get_by_role("dialog").count() == 0
    assert page.evaluate("window.adsLoaded") is None
    context.close()
