"""Subjects: register, read, change, find by identifier, list a page at a time."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tutela import Tutela

H = dict[str, str]


def test_create_and_read(client: TestClient, admin_headers: H, email: Callable[[], str]) -> None:
    address = email()
    body = {
        "identities": [
            {"kind": "email", "value": address.upper()},
            {"kind": "phone", "value": "06 12345678"},
        ],
        "region": "NL",
        "country": "nl",
        "birth_date": "1990-04-01",
    }
    created = client.post("/v1/subjects", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    subject = created.json()
    assert subject["id"].startswith("sub_")
    assert subject["country"] == "NL"
    assert subject["status"] == "active"
    # Identifiers are stored normalised.
    assert {"kind": "email", "value": address} in subject["identities"]
    assert {"kind": "phone", "value": "+31612345678"} in subject["identities"]

    read = client.get(f"/v1/subjects/{subject['id']}", headers=admin_headers)
    assert read.status_code == 200
    assert read.json() == subject


def test_an_identifier_belongs_to_one_subject(
    client: TestClient, admin_headers: H, new_subject: Callable[..., tuple[str, str]]
) -> None:
    _, address = new_subject()
    body = {"identities": [{"kind": "email", "value": address}]}
    response = client.post("/v1/subjects", json=body, headers=admin_headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_invalid_identifier_is_422(client: TestClient, admin_headers: H) -> None:
    body = {"identities": [{"kind": "email", "value": "not-an-email"}]}
    response = client.post("/v1/subjects", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_identity"


def test_invalid_body_is_422_without_echoing_input(client: TestClient, admin_headers: H) -> None:
    body = {"identities": [{"kind": "passport", "value": "SECRET-NUMBER-123"}]}
    response = client.post("/v1/subjects", json=body, headers=admin_headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "identities.0.kind" in error["message"]
    assert "SECRET-NUMBER-123" not in response.text


def test_unknown_subject_is_404(client: TestClient, admin_headers: H) -> None:
    response = client.get("/v1/subjects/sub_doesnotexist", headers=admin_headers)
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "no subject 'sub_doesnotexist'"}
    }
    patch = client.patch("/v1/subjects/sub_doesnotexist", json={}, headers=admin_headers)
    assert patch.status_code == 404


def test_patch_records_facts_and_status(
    client: TestClient,
    admin_headers: H,
    tutela: Tutela,
    new_subject: Callable[..., tuple[str, str]],
) -> None:
    subject_id, _ = new_subject()
    response = client.patch(
        f"/v1/subjects/{subject_id}",
        json={"country": "se", "status": "deactivated"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    assert response.json()["country"] == "SE"
    assert response.json()["status"] == "deactivated"
    assert tutela.ledger.history(subject_id)[-1].kind == "subject.updated"


def test_erased_subject_cannot_be_reactivated(
    client: TestClient, admin_headers: H, new_subject: Callable[..., tuple[str, str]]
) -> None:
    subject_id, _ = new_subject()
    url = f"/v1/subjects/{subject_id}"
    assert client.patch(url, json={"status": "erased"}, headers=admin_headers).status_code == 200
    response = client.patch(url, json={"status": "active"}, headers=admin_headers)
    assert response.status_code == 409


def test_lookup_by_identifier_in_the_body(
    client: TestClient, admin_headers: H, new_subject: Callable[..., tuple[str, str]]
) -> None:
    subject_id, address = new_subject()
    found = client.post(
        "/v1/subjects:lookup", json={"email": address.title()}, headers=admin_headers
    )
    assert found.status_code == 200
    assert found.json()["id"] == subject_id
    missing = client.post(
        "/v1/subjects:lookup", json={"email": "nobody@example.org"}, headers=admin_headers
    )
    assert missing.status_code == 404
    two = client.post(
        "/v1/subjects:lookup", json={"email": address, "user_id": "1"}, headers=admin_headers
    )
    assert two.status_code == 422


def test_add_identity(
    client: TestClient, admin_headers: H, new_subject: Callable[..., tuple[str, str]]
) -> None:
    subject_id, _ = new_subject()
    response = client.post(
        f"/v1/subjects/{subject_id}/identities",
        json={"kind": "user_id", "value": f"u-{subject_id}"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    assert {"kind": "user_id", "value": f"u-{subject_id}"} in response.json()["identities"]


def test_list_pages_with_a_cursor(
    client: TestClient, admin_headers: H, new_subject: Callable[..., tuple[str, str]]
) -> None:
    made = {new_subject()[0] for _ in range(5)}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/subjects", params=params, headers=admin_headers)
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert made <= set(seen)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)


def test_page_limits(client: TestClient, admin_headers: H) -> None:
    assert client.get("/v1/subjects?limit=501", headers=admin_headers).status_code == 422
    assert client.get("/v1/subjects?limit=0", headers=admin_headers).status_code == 422
    bad = client.get("/v1/subjects?cursor=%%%", headers=admin_headers)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_cursor"
