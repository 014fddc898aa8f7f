"""Decisions over HTTP: one person with forwarded signals, and many at once."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tutela.api import ApiSettings, create_app
from tutela.engine import Tutela

H = dict[str, str]
Maker = Callable[..., tuple[str, str]]


def test_decision_shape(client: TestClient, admin_headers: H, new_subject: Maker) -> None:
    subject_id, _ = new_subject()
    body = {
        "subject": {"id": subject_id},
        "purpose": "provide_service",
        "categories": ["user.contact.email"],
    }
    response = client.post("/v1/decisions", json=body, headers=admin_headers)
    assert response.status_code == 200
    assert response.json() == {
        "allowed": True,
        "purpose": "provide_service",
        "legal_basis": "contract",
        "reasons": ["contract_active"],
        "policy_version": "2018-05-25",
        "evidence": None,
    }


def test_undeclared_purpose_and_category(
    client: TestClient, admin_headers: H, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    ref = {"id": subject_id}
    undeclared = client.post(
        "/v1/decisions", json={"subject": ref, "purpose": "mind_reading"}, headers=admin_headers
    ).json()
    assert undeclared["allowed"] is False
    assert undeclared["legal_basis"] is None
    assert undeclared["reasons"] == ["purpose_undeclared"]
    wrong = client.post(
        "/v1/decisions",
        json={"subject": ref, "purpose": "provide_service", "categories": ["user.financial"]},
        headers=admin_headers,
    ).json()
    assert wrong["allowed"] is False
    assert "category_not_in_purpose" in wrong["reasons"]


def test_forwarded_gpc_header_is_honoured(
    client: TestClient, admin_headers: H, new_subject: Maker
) -> None:
    _, address = new_subject()
    body = {"subject": {"email": address}, "purpose": "advertising"}
    plain = client.post("/v1/decisions", json=body, headers=admin_headers).json()
    assert plain["allowed"] is True
    gpc = client.post("/v1/decisions", json=body, headers={**admin_headers, "Sec-GPC": "1"}).json()
    assert gpc["allowed"] is False
    assert "gpc_opt_out" in gpc["reasons"]
    in_body = client.post(
        "/v1/decisions", json={**body, "signals": {"gpc": True}}, headers=admin_headers
    ).json()
    assert in_body["allowed"] is False
    # Only exactly "1" is the signal.
    other = client.post(
        "/v1/decisions", json=body, headers={**admin_headers, "Sec-GPC": "yes"}
    ).json()
    assert other["allowed"] is True


def test_malformed_subject_refs(client: TestClient, admin_headers: H) -> None:
    for subject in ({}, {"email": "a@b.nl", "id": "sub_x"}, {"passport": "X"}):
        body = {"subject": subject, "purpose": "provide_service"}
        assert client.post("/v1/decisions", json=body, headers=admin_headers).status_code == 422
    bad_email = {"subject": {"email": "nope"}, "purpose": "provide_service"}
    response = client.post("/v1/decisions", json=bad_email, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_identity"


def test_bulk_answers_in_request_order(
    client: TestClient, admin_headers: H, new_subject: Maker
) -> None:
    allowed_id, allowed_email = new_subject()
    objector_id, _ = new_subject()
    client.post(
        f"/v1/subjects/{objector_id}/objections",
        json={"purpose": "direct_marketing"},
        headers=admin_headers,
    )
    body = {
        "purpose": "marketing_email",
        "subjects": [
            {"id": objector_id},
            {"email": allowed_email.upper()},
            {"email": "stranger@example.org"},
            {"email": "not an email"},
            {"id": "sub_nobody"},
        ],
    }
    response = client.post("/v1/decisions:bulk", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["allowed_count"] == 1
    assert [(r["id"], r["allowed"]) for r in result["results"]] == [
        (objector_id, False),
        (allowed_id, True),
        (None, False),
        (None, False),
        ("sub_nobody", False),
    ]
    assert result["results"][1]["subject"] == {"email": allowed_email.upper()}


def test_bulk_agrees_with_single_decisions(
    client: TestClient, admin_headers: H, new_subject: Maker
) -> None:
    ids = [new_subject()[0] for _ in range(4)]
    client.post(
        f"/v1/subjects/{ids[0]}/channels",
        json={"channel": "email", "opted_out": True},
        headers=admin_headers,
    )
    client.post(
        f"/v1/subjects/{ids[1]}/restriction",
        json={"active": True, "reason": "accuracy contested"},
        headers=admin_headers,
    )
    client.patch(f"/v1/subjects/{ids[2]}", json={"birth_date": "2020-01-01"}, headers=admin_headers)
    for purpose in ("marketing_email", "provide_service", "analytics"):
        bulk = client.post(
            "/v1/decisions:bulk",
            json={"purpose": purpose, "subjects": [{"id": i} for i in ids]},
            headers=admin_headers,
        ).json()
        for subject_id, result in zip(ids, bulk["results"], strict=True):
            one = client.post(
                "/v1/decisions",
                json={"subject": {"id": subject_id}, "purpose": purpose},
                headers=admin_headers,
            ).json()
            assert one["allowed"] == result["allowed"], (purpose, one)


def test_bulk_cap(tutela: Tutela, admin_headers: H) -> None:
    client = TestClient(create_app(tutela, settings=ApiSettings(max_bulk_items=2)))
    body = {"purpose": "provide_service", "subjects": [{"id": "sub_x"}] * 3}
    response = client.post("/v1/decisions:bulk", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_items"
