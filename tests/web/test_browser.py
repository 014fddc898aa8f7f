"""The privacy center in a real browser: Debian's Chromium, headless, driven by Playwright.

Screenshots of each page go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.requests.conftest import Inbox, free_port
from tests.web.conftest import ANNA, BERIT, center_app, code_in
from tutela import Tutela

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed"
)


@pytest.fixture
def server(tutela: Tutela, env: Inbox) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, served by uvicorn in a thread."""
    port = free_port()
    config = uvicorn.Config(
        center_app(tutela), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        # ``localhost`` is a secure context to Chromium, so it keeps the Secure cookie.
        yield f"http://localhost:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless Chromium."""
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _shot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"center-{name}.png"), full_page=True)  # type: ignore[attr-defined]


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
