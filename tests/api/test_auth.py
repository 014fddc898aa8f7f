"""API keys: 401 without a valid key, 403 outside its scope, revocation at once."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from tutela import Tutela
from tutela.api import ApiSettings, create_app
from tutela.ledger.keys import revoke_key

DECISION = {"subject": {"email": "nobody@example.nl"}, "purpose": "provide_service"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_key_is_401_with_a_challenge(client: TestClient) -> None:
    response = client.post("/v1/decisions", json=DECISION)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"


def test_unknown_and_malformed_keys_are_401(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    token = make_token("decisions")
    # tut_<key id>_<secret>; the secret is URL-safe base64 and may hold "_" itself.
    scheme, key_id, secret = token.split("_", 2)
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for wrong in (f"{scheme}_{key_id}_{changed}", "tut_000000000000_x", "nonsense", token + "x"):
        assert client.post("/v1/decisions", json=DECISION, headers=bearer(wrong)).status_code == 401
    # Not a bearer scheme at all
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert client.post("/v1/decisions", json=DECISION, headers=basic).status_code == 401


def test_scope_is_enforced(client: TestClient, make_token: Callable[..., str]) -> None:
    reader = make_token("subjects:read")
    response = client.post("/v1/decisions", json=DECISION, headers=bearer(reader))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "this API key lacks the 'decisions' scope",
    }
    body = {"identities": []}
    assert client.post("/v1/subjects", json=body, headers=bearer(reader)).status_code == 403
    assert client.get("/v1/subjects", headers=bearer(reader)).status_code == 200


def test_key_and_scope_are_checked_before_the_body(
    client: TestClient, make_token: Callable[..., str]
) -> None:
    # A caller without the right key learns nothing about what a valid body looks like.
    assert client.post("/v1/decisions", json={"bad": 1}).status_code == 401
    reader = make_token("subjects:read")
    response = client.post("/v1/decisions", json={"bad": 1}, headers=bearer(reader))
    assert response.status_code == 403


def test_decisions_key_decides(client: TestClient, make_token: Callable[..., str]) -> None:
    token = make_token("decisions")
    response = client.post("/v1/decisions", json=DECISION, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["reasons"] == ["subject_unknown"]


def test_revoked_key_stops_once_the_cache_expires(
    tutela: Tutela, make_token: Callable[..., str]
) -> None:
    token = make_token("decisions")
    app = create_app(tutela, settings=ApiSettings(key_cache_seconds=0.3))
    with TestClient(app) as client:
        assert client.post("/v1/decisions", json=DECISION, headers=bearer(token)).status_code == 200
        revoke_key(tutela.engine, token.split("_")[1])
        # Still trusted from memory for at most key_cache_seconds...
        assert client.post("/v1/decisions", json=DECISION, headers=bearer(token)).status_code == 200
        time.sleep(0.35)
        # ...then asked of the database again, which says no.
        assert client.post("/v1/decisions", json=DECISION, headers=bearer(token)).status_code == 401


def test_revoked_key_stops_at_once_without_a_cache(
    tutela: Tutela, make_token: Callable[..., str]
) -> None:
    token = make_token("decisions")
    app = create_app(tutela, settings=ApiSettings(key_cache_seconds=0))
    with TestClient(app) as client:
        assert client.post("/v1/decisions", json=DECISION, headers=bearer(token)).status_code == 200
        revoke_key(tutela.engine, token.split("_")[1])
        assert client.post("/v1/decisions", json=DECISION, headers=bearer(token)).status_code == 401
