"""``POST /v1/scrub``: detect and redact over HTTP, batch limits, operators, scope."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

H = dict[str, str]

PHONE_TEXT = "Ring mig på 070-123 45 67 eller mejla anna@example.se"


def test_detect_answers_each_item_in_order(client: TestClient, admin_headers: H) -> None:
    body = {
        "operation": "detect",
        "items": [
            {"id": "a", "text": PHONE_TEXT, "lang": "sv"},
            {"id": 7, "text": "nothing personal here"},
        ],
    }
    response = client.post("/v1/scrub", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["operation"] == "detect"
    assert answer["engine"] in ("hyperscan", "re2", "re")
    first, second = answer["items"]
    assert first["id"] == "a" and first["text"] is None
    found = {(e["type"], PHONE_TEXT[e["start"] : e["end"]]) for e in first["entities"]}
    assert found == {("PHONE", "070-123 45 67"), ("EMAIL", "anna@example.se")}
    assert all(0 < e["score"] <= 1 for e in first["entities"])
    assert second == {"id": 7, "entities": [], "text": None}
    assert answer["entity_count"] == 2


def test_redact_with_default_and_per_type_operators(client: TestClient, admin_headers: H) -> None:
    item = {"id": "a", "text": PHONE_TEXT, "lang": "sv"}
    default = client.post(
        "/v1/scrub", json={"operation": "redact", "items": [item]}, headers=admin_headers
    ).json()
    assert default["items"][0]["text"] == "Ring mig på <PHONE> eller mejla <EMAIL>"
    masked = client.post(
        "/v1/scrub",
        json={
            "operation": "redact",
            "items": [item],
            "operators": {"email": "replace:[e-post]", "*": "redact"},
        },
        headers=admin_headers,
    ).json()
    assert masked["items"][0]["text"] == "Ring mig på  eller mejla [e-post]"
    # Offsets always refer to the text that was sent.
    assert {e["type"] for e in masked["items"][0]["entities"]} == {"PHONE", "EMAIL"}


def test_types_and_min_score_filter(client: TestClient, admin_headers: H) -> None:
    body = {"items": [{"text": PHONE_TEXT, "lang": "sv"}], "types": ["EMAIL"]}
    answer = client.post("/v1/scrub", json=body, headers=admin_headers).json()
    assert [e["type"] for e in answer["items"][0]["entities"]] == ["EMAIL"]


def test_keyed_operator_needs_the_server_secret(
    client: TestClient, admin_headers: H, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {
        "operation": "redact",
        "items": [{"text": "anna@example.se"}],
        "operators": {"EMAIL": "hash"},
    }
    monkeypatch.delenv("TUTELA_SCRUB_KEY", raising=False)
    refused = client.post("/v1/scrub", json=body, headers=admin_headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_input"
    assert "anna" not in refused.text
    monkeypatch.setenv("TUTELA_SCRUB_KEY", "k" * 32)
    first = client.post("/v1/scrub", json=body, headers=admin_headers).json()
    again = client.post("/v1/scrub", json=body, headers=admin_headers).json()
    assert first["items"][0]["text"] == again["items"][0]["text"]
    assert "anna" not in first["items"][0]["text"]


@pytest.mark.parametrize(
    "operators",
    [{"NOT_A_TYPE": "redact"}, {"EMAIL": "shred"}, {"EMAIL": "mask:x"}],
)
def test_unusable_operators_are_400(
    client: TestClient, admin_headers: H, operators: dict[str, str]
) -> None:
    body = {"operation": "redact", "items": [{"text": "a@b.se"}], "operators": operators}
    response = client.post("/v1/scrub", json=body, headers=admin_headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_batch_limits(client: TestClient, admin_headers: H) -> None:
    many = {"items": [{"text": "x"}] * 1001}
    too_many = client.post("/v1/scrub", json=many, headers=admin_headers)
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "too_many_items"
    empty = client.post("/v1/scrub", json={"items": []}, headers=admin_headers)
    assert empty.status_code == 422
    huge = {"items": [{"text": "a" * (1024 * 1024)}]}
    assert client.post("/v1/scrub", json=huge, headers=admin_headers).status_code == 413


def test_invalid_items_are_422_without_echoing_text(client: TestClient, admin_headers: H) -> None:
    for item in ({"text": "x", "lang": "not a language"}, {"text": 5}, {"text": "x", "y": 1}):
        response = client.post("/v1/scrub", json={"items": [item]}, headers=admin_headers)
        assert response.status_code == 422, item
    surrogate = '{"items": [{"text": "secret \\ud800 anna@example.se"}]}'
    response = client.post(
        "/v1/scrub",
        content=surrogate,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "anna" not in response.text


def test_scope(client: TestClient, make_token: Callable[..., str]) -> None:
    body = {"items": [{"text": "anna@example.se"}]}
    assert client.post("/v1/scrub", json=body).status_code == 401
    other = {"Authorization": f"Bearer {make_token('decisions')}"}
    assert client.post("/v1/scrub", json=body, headers=other).status_code == 403
    allowed = {"Authorization": f"Bearer {make_token('scrub')}"}
    assert client.post("/v1/scrub", json=body, headers=allowed).status_code == 200
