"""The admin console in a real browser (Debian's Chromium, headless): under a policy that,
like Kitameraki's, routes erasure through the organisation's administrator, a member
asks for erasure in the privacy center, the administrator approves it in the console,
and it runs to completion. Screenshots of each console page go to
``artifacts/screenshots/admin-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.browser import chromium, screenshot, serve
from tests.requests.conftest import Inbox
from tests.web.conftest import ANNA, center_app, center_policy, code_in
from tutela import Tutela
from tutela.policy import Policy
from tutela.requests.model import RequestState
from tutela.requests.service import Requests

CECILIA = "cecilia@acme.example"
DPO = "dpo@exempel.se"


def _via_administrator() -> Policy:
    data = center_policy().model_dump(mode="json", exclude_none=True)
    data["rights"]["erasure"] = "via_administrator"  # as examples/kitameraki/policy.yaml
    return Policy.model_validate(data)


@pytest.fixture
def kitameraki(tmp_path: Path, env: Inbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tutela]:
    """Anna a member of Acme, Cecilia its administrator, a DPO on the staff list."""
    monkeypatch.setenv("TUTELA_STAFF", f"{DPO}:admin")
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Tutela.open(policy=_via_administrator(), database=url, upgrade=True) as tutela:
        acme = tutela.ledger.create_organisation("Acme")
        tutela.ledger.create_subject([("email", ANNA), ("user_id", "1")], organisation=acme)
        cecilia = tutela.ledger.create_subject([("email", CECILIA)])
        tutela.ledger.add_administrator(acme, cecilia)
        yield tutela


@pytest.fixture
def server(kitameraki: Tutela) -> Iterator[str]:
    """The whole app on a free port, requests run inline."""
    with serve(center_app(kitameraki)) as base:
        yield base


@pytest.fixture
def browser() -> Iterator[object]:
    """A headless Chromium."""
    with chromium() as launched:
        yield launched


def _shot(page: object, name: str) -> None:
    screenshot(page, f"admin-{name}")


def _sign_in(page: object, base: str, inbox: Inbox, email: str, where: str, shots: bool) -> None:
    page.goto(f"{base}/{where}/")  # type: ignore[attr-defined]
    if shots:
        _shot(page, "sign-in")
    page.get_by_label("Email address").fill(email)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Send me a code").click()  # type: ignore[attr-defined]
    page.get_by_label("Code").wait_for()  # type: ignore[attr-defined]
    if shots:
        _shot(page, "code")
    page.get_by_label("Code").fill(code_in(inbox))  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]


def test_erasure_waits_for_the_administrator_who_approves_it(
    server: str, browser: object, env: Inbox, kitameraki: Tutela, product: str
) -> None:
    errors: list[str] = []
    # Anna asks for erasure in the privacy center; it waits for her administrator.
    anna = browser.new_context(locale="en-GB")  # type: ignore[attr-defined]
    page = anna.new_page()
    _sign_in(page, server, env, ANNA, "privacy", shots=False)
    page.get_by_role("heading", name="What we hold and why").wait_for()
    page.get_by_role("link", name="My requests").click()
    page.get_by_role("button", name="Erase my data").click()
    page.get_by_text("awaiting your organisation's administrator").wait_for()
    (waiting,) = Requests(kitameraki).list()
    assert waiting.state is RequestState.awaiting_administrator
    anna.close()

    # Cecilia signs in to the console, finds it in her queue and approves it.
    cecilia = browser.new_context(locale="en-GB")  # type: ignore[attr-defined]
    console = cecilia.new_page()
    console.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(console, server, env, CECILIA, "admin", shots=True)
    console.get_by_role("heading", name="Requests").wait_for()
    _shot(console, "queue")
    console.get_by_role("link", name=waiting.id).click()
    console.get_by_role("heading", name="Audit trail").wait_for()
    _shot(console, "request-waiting")
    console.get_by_role("button", name="Approve").click()
    console.get_by_text("completed").first.wait_for()
    _shot(console, "request-completed")
    done = Requests(kitameraki).get(waiting.id)
    assert done.state is RequestState.completed
    assert any(e.get("actor") == CECILIA for e in Requests(kitameraki).trail(waiting.id))
    engine = create_engine(product)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE id = 1")).scalar() == 0
    engine.dispose()
    # Her console has no company-wide reports.
    assert console.get_by_role("link", name="Records of processing").count() == 0
    cecilia.close()

    # The DPO's pages: records, data map, metrics, people, audit chain, tasks.
    dpo = browser.new_context(locale="en-GB")  # type: ignore[attr-defined]
    staff = dpo.new_page()
    staff.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(staff, server, env, DPO, "admin", shots=False)
    for link, name in [
        ("Records of processing", "records"),
        ("Data map", "map"),
        ("Metrics", "metrics"),
        ("Retention", "retention"),
        ("Manual tasks", "tasks"),
        ("Audit chain", "audit"),
        ("People", "people"),
    ]:
        staff.get_by_role("link", name=link).click()
        staff.get_by_role("heading", name=link).wait_for()
        _shot(staff, name)
    staff.get_by_label("Email, phone, user id or subject id").fill(CECILIA)
    staff.get_by_role("button", name="Look up").click()
    staff.get_by_role("heading", name="History").wait_for()
    _shot(staff, "person")
    staff.goto(f"{server}/admin/audit")
    staff.get_by_text("The chain is intact.").wait_for()
    dpo.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors
