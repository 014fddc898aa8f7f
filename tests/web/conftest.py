"""Privacy center tests: a ledger on SQLite, Anna in it and in a SQLite product database,
a real SMTP server in this process, and the app with the privacy center mounted."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import base_policy
from tests.requests.conftest import SECRET, Inbox, product, smtp
from tutela import Tutela
from tutela.api import create_app
from tutela.api.settings import ApiSettings
from tutela.policy import Policy, loads

__all__ = ["Inbox", "product", "smtp"]

ANNA = "anna@example.se"
BERIT = "berit@example.se"


def center_policy(**promises: Any) -> Policy:
    """The base policy with a purpose on legitimate interest and the promises given."""
    data = base_policy()
    data["purposes"]["product_research"] = {
        "legal_basis": "legitimate_interest",
        "data_use": "analytics.reporting.system",
        "categories": ["user.content"],
    }
    data["promises"].update(promises)
    return loads(yaml.safe_dump(data, sort_keys=False), "center.yaml")


@pytest.fixture
def make_tutela(tmp_path: Path) -> Iterator[Callable[..., Tutela]]:
    """Open a Tutela on a fresh SQLite ledger, with the center policy and given promises."""
    opened: list[Tutela] = []

    def make(**promises: Any) -> Tutela:
        url = f"sqlite:///{tmp_path / f'ledger{len(opened)}.sqlite3'}"
        tutela = Tutela.open(policy=center_policy(**promises), database=url, upgrade=True)
        tutela.ledger.create_subject([("email", ANNA), ("user_id", "1")])
        tutela.ledger.create_subject([("email", BERIT), ("user_id", "2")])
        opened.append(tutela)
        return tutela

    yield make
    for tutela in opened:
        tutela.close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, smtp: Inbox, product: str, tmp_path: Path) -> Inbox:
    """Mail through the test SMTP server, the product database, a packages folder."""
    monkeypatch.setenv("TUTELA_SECRET_KEY", SECRET)
    monkeypatch.setenv("TUTELA_SMTP_URL", smtp.url)
    monkeypatch.setenv("TUTELA_MAIL_FROM", "privacy@exempel.se")
    monkeypatch.setenv("APP_DATABASE_URL", product)
    monkeypatch.setenv("TUTELA_PACKAGES", str(tmp_path / "packages"))
    monkeypatch.setenv("TUTELA_PSEUDONYM_KEY", "pseudonym-key-0123456789")
    return smtp


def center_app(tutela: Tutela) -> FastAPI:
    """The whole app, with the privacy center, running requests inline."""
    return create_app(tutela, settings=ApiSettings(secret_key=SECRET, run_requests_inline=True))


@pytest.fixture
def tutela(make_tutela: Callable[..., Tutela]) -> Tutela:
    """A Tutela whose policy allows persistent cookies."""
    return make_tutela()


@pytest.fixture
def client(tutela: Tutela, env: Inbox) -> Iterator[TestClient]:
    """A browser-like client over HTTPS (the session cookie is Secure)."""
    with TestClient(center_app(tutela), base_url="https://testserver") as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def code_in(inbox: Inbox, index: int = -1) -> str:
    """The six-digit code in a message the SMTP server received."""
    body = inbox.messages[index].get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(rb"\b(\d{6})\b", body)
    assert found
    return found.group(1).decode()


def sign_in(client: TestClient, inbox: Inbox, email: str = ANNA) -> None:
    """Sign in by a mailed code, as a person would."""
    page = client.get("/privacy/login")
    sent = client.post("/privacy/login", data={"csrf": csrf_of(page.text), "email": email})
    assert sent.status_code == 200, sent.text
    response = client.post(
        "/privacy/login/code",
        data={"csrf": csrf_of(sent.text), "email": email, "code": code_in(inbox)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/privacy/"
