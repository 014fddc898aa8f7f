"""A policy with a cookie banner (analytics and targeted advertising on consent, a strictly
necessary purpose, a material change to advertising) and an API over a fresh SQLite ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from tests.browser import chromium, serve
from tests.conftest import base_policy
from tutela import Tutela
from tutela.api import ApiSettings, create_app
from tutela.ledger.keys import create_key
from tutela.policy import load
from tutela.policy.model import Policy


def banner_policy() -> dict[str, Any]:
    """The base policy with banner purposes added."""
    policy = base_policy()
    policy["purposes"]["provide_service"].update(
        {"name": "Run the site", "essential": True, "description": "Sign-in and security."}
    )
    policy["purposes"]["analytics"] = {
        "name": "Analytics",
        "description": "Counting visits to improve the site.",
        "legal_basis": "consent",
        "data_use": "analytics.reporting",
        "categories": ["user.device.cookie_id", "user.behavior.browsing_history"],
        "consent": {"given_through": ["cookie_banner"], "withdrawn_through": ["cookie_banner"]},
    }
    policy["purposes"]["advertising"] = {
        "name": "Personalised ads",
        "description": "Ads chosen from what you look at, shown on other sites.",
        "legal_basis": "consent",
        "data_use": "marketing.advertising.third_party.targeted",
        "targeted_advertising": True,
        "categories": ["user.device.cookie_id", "user.behavior.browsing_history"],
        "consent": {"given_through": ["cookie_banner"], "withdrawn_through": ["cookie_banner"]},
    }
    policy["retention"].append(
        {
            "categories": ["user.device.cookie_id", "user.behavior.browsing_history"],
            "trigger": "since_collected",
            "duration": "P13M",
        }
    )
    policy["versions"] = [
        {"id": "2024-01", "effective": "2024-01-01"},
        {
            "id": "2025-01",
            "effective": "2025-01-01",
            "material": True,
            "changed_purposes": ["advertising"],
        },
    ]
    return policy


@pytest.fixture
def write_banner_policy(write_policy: Callable[[Any], Path]) -> Callable[..., Policy]:
    """Load the banner policy, changed by ``change(policy_dict)`` first if given."""

    def make(change: Callable[[dict[str, Any]], None] | None = None) -> Policy:
        data = banner_policy()
        if change is not None:
            change(data)
        return load(write_policy(data))

    return make


@pytest.fixture
def policy(write_banner_policy: Callable[..., Policy]) -> Policy:
    return write_banner_policy()


@pytest.fixture
def tutela(policy: Policy, tmp_path: Path) -> Iterator[Tutela]:
    """The banner policy over a fresh SQLite ledger."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Tutela.open(policy=policy, database=url, upgrade=True) as opened:
        yield opened


@pytest.fixture
def app(tutela: Tutela) -> FastAPI:
    return create_app(tutela, settings=ApiSettings(secret_key="banner-test-" + "x" * 32))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_token(tutela: Tutela) -> Callable[..., str]:
    """Create an API key with these scopes; returns its token."""

    def make(*scopes: str) -> str:
        _, token = create_key(tutela.engine, "test", list(scopes))
        return token

    return make


@contextmanager
def shop(app: FastAPI, page: str) -> Iterator[str]:
    """The app with a test page at ``/shop``, served by Uvicorn in a thread; its base URL."""

    @app.get("/shop", include_in_schema=False)
    def show() -> HTMLResponse:
        return HTMLResponse(page)

    with serve(app, public_host="127.0.0.1", lifespan="off") as base:
        yield base


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium."""
    with chromium() as launched:
        yield launched
