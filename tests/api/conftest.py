"""The API over a real ledger: every test runs on SQLite (a temp file) and on the local
PostgreSQL (a schema made for the session and dropped after it)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.databases import empty_database
from tutela import Tutela
from tutela.api import ApiSettings, create_app
from tutela.ledger.keys import create_key
from tutela.policy import load

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "james-pro" / "policy.yaml"
SECRET = "test-secret-" + "x" * 32


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a new PostgreSQL schema."""
    with empty_database(request.param, tmp_path_factory.mktemp("api"), "tutela_api") as url:
        yield url


@pytest.fixture(scope="session")
def tutela(database_url: str) -> Iterator[Tutela]:
    """A Tutela on the James PRO example policy and a freshly migrated ledger, shared by
    the session's tests on one database (they make their own people)."""
    with Tutela.open(policy=load(EXAMPLE), database=database_url, upgrade=True) as opened:
        yield opened


@pytest.fixture
def settings() -> ApiSettings:
    """Default limits and a secret for signed links."""
    return ApiSettings(secret_key=SECRET)


@pytest.fixture
def app(tutela: Tutela, settings: ApiSettings) -> FastAPI:
    """A fresh app (fresh metrics) over the session's ledger."""
    return create_app(tutela, settings=settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client for the app, over httpx."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_token(tutela: Tutela) -> Callable[..., str]:
    """Create an API key with these scopes; returns its token."""

    def make(*scopes: str) -> str:
        _, token = create_key(tutela.engine, "test", list(scopes))
        return token

    return make


@pytest.fixture(scope="session")
def admin_headers(tutela: Tutela) -> dict[str, str]:
    """Authorization headers of a key with every scope."""
    _, token = create_key(tutela.engine, "admin", ["admin"])
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def email() -> Callable[[], str]:
    """A new email address each call, so tests sharing a ledger never collide."""
    return lambda: f"p{secrets.token_hex(5)}@example.nl"


@pytest.fixture
def new_subject(
    client: TestClient, admin_headers: dict[str, str], email: Callable[[], str]
) -> Callable[..., tuple[str, str]]:
    """Register a person with a fresh email; returns (subject id, email)."""

    def make(**fields: object) -> tuple[str, str]:
        address = email()
        body = {"identities": [{"kind": "email", "value": address}], **fields}
        response = client.post("/v1/subjects", json=body, headers=admin_headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"]), address

    return make
