"""The privacy center in a real browser: Debian's Chromium, headless, driven by Playwright.

Screenshots of each page go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import chromium, screenshot, serve
from tests.requests.conftest import Inbox
from tests.web.conftest import ANNA, BERIT, center_app, code_in
from tutela import Tutela


@pytest.fixture
def server(tutela: Tutela, env: Inbox) -> Iterator[str]:
    """The app on a free port, served by uvicorn in a thread."""
    with serve(center_app(tutela)) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless Chromium."""
    with chromium() as launched:
        yield launched


def _shot(page: object, name: str) -> None:
    screenshot(page, f"center-{name}")


def _sign_in(page: object, base: str, inbox: Inbox, email: str, shots: str | None = None) -> None:
    page.goto(f"{base}/privacy/")  # type: ignore[attr-defined]
    if shots:
        _shot(page, f"{shots}-sign-in")
    page.get_by_label("Email address").fill(email)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Send me a code").click()  # type: ignore[attr-defined]
    page.get_by_label("Code").wait_for()  # type: ignore[attr-defined]
    if shots:
        _shot(page, f"{shots}-code")
    page.get_by_label("Code").fill(code_in(inbox))  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.get_by_role("heading", name="What we hold and why").wait_for()  # type: ignore[attr-defined]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_sign_in_switch_consent_and_languages(
    server: str, browser: object, env: Inbox, tutela: Tutela, javascript: bool
) -> None:
    context = browser.new_context(java_script_enabled=javascript, locale="en-GB")  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tag = "js" if javascript else "nojs"
    _sign_in(page, server, env, ANNA, shots=tag)
    _shot(page, f"{tag}-overview")

    # Only session cookies: the policy allows persistent ones, but none is left unsigned.
    (cookie,) = context.cookies()
    assert cookie["name"] == "tutela_session"
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"

    page.get_by_role("link", name="My choices").click()
    page.locator('button[data-kind="consent"][data-name="newsletter"]').click()
    page.get_by_text("No changes yet.").wait_for(state="detached")
    _shot(page, f"{tag}-choices")
    state = tutela.state({"email": ANNA})
    assert state and state.consents["newsletter"].granted

    page.get_by_label("Language").select_option("sv")
    page.get_by_role("button", name="Change language").click()
    page.get_by_role("heading", name="Mina val").wait_for()
    _shot(page, f"{tag}-choices-sv")
    page.get_by_label("Språk").select_option("cs")
    page.get_by_role("button", name="Byt språk").click()
    page.get_by_role("heading", name="Moje volby").wait_for()
    assert page.locator("html").get_attribute("lang") == "cs"
    _shot(page, f"{tag}-choices-cs")
    # A strict CSP and htmx together raise no errors in the console.
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()


def test_download_my_data_and_another_person_cannot(
    server: str, browser: object, env: Inbox, tmp_path: Path
) -> None:
    anna = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = anna.new_page()
    _sign_in(page, server, env, ANNA)
    page.get_by_role("link", name="My requests").click()
    page.get_by_role("button", name="A copy of my data").click()
    link = page.get_by_role("link", name="Download")
    link.wait_for()
    _shot(page, "requests")
    with page.expect_download() as info:
        link.click()
    saved = tmp_path / "package.zip"
    info.value.save_as(saved)
    import zipfile

    with zipfile.ZipFile(saved) as archive:
        assert b"Anna Berg" in archive.read("data.json")
    href = link.get_attribute("href")
    assert href and re.fullmatch(r"/privacy/requests/req_[a-z0-9]+/download", href)

    berit = browser.new_context()  # type: ignore[attr-defined]
    other = berit.new_page()
    _sign_in(other, server, env, BERIT)
    answer = other.goto(f"{server}{href}")
    assert answer is not None and answer.status == 404
    _shot(other, "download-refused")
    anna.close()
    berit.close()
