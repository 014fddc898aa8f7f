"""Consents over HTTP: record, page through the history, import in bulk."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tutela import Tutela
from tutela.api import ApiSettings, create_app

H = dict[str, str]
Maker = Callable[..., tuple[str, str]]


def test_record_then_decide(client: TestClient, admin_headers: H, new_subject: Maker) -> None:
    subject_id, address = new_subject()
    decision = {"subject": {"email": address}, "purpose": "support_expert_sharing"}
    before = client.post("/v1/decisions", json=decision, headers=admin_headers).json()
    assert before["allowed"] is False
    assert "consent_missing" in before["reasons"]

    recorded = client.post(
        f"/v1/subjects/{subject_id}/consents",
        json={"purpose": "support_expert_sharing", "granted": True, "source": "web"},
        headers=admin_headers,
    )
    assert recorded.status_code == 201, recorded.text
    event_id = recorded.json()["event_id"]

    after = client.post("/v1/decisions", json=decision, headers=admin_headers).json()
    assert after["allowed"] is True
    assert after["legal_basis"] == "consent"
    assert after["evidence"] == event_id
    assert after["policy_version"] == "2018-05-25"


def test_history_is_paged_oldest_first(
    client: TestClient, admin_headers: H, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    url = f"/v1/subjects/{subject_id}/consents"
    for granted in (True, False, True, False, True):
        body = {"purpose": "testimonials", "granted": granted, "policy_version": "2018-05-25"}
        assert client.post(url, json=body, headers=admin_headers).status_code == 201
    # Other events (a channel change) are not consent history.
    client.post(
        f"/v1/subjects/{subject_id}/channels",
        json={"channel": "email", "opted_out": True},
        headers=admin_headers,
    )
    items: list[dict[str, object]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=params, headers=admin_headers).json()
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [i["granted"] for i in items] == [True, False, True, False, True]
    assert all(i["purpose"] == "testimonials" and i["source"] == "api" for i in items)


def test_history_of_unknown_subject_is_404(client: TestClient, admin_headers: H) -> None:
    response = client.get("/v1/subjects/sub_nobody/consents", headers=admin_headers)
    assert response.status_code == 404


def test_consent_for_an_erased_subject_is_refused(
    client: TestClient, admin_headers: H, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    client.patch(f"/v1/subjects/{subject_id}", json={"status": "erased"}, headers=admin_headers)
    response = client.post(
        f"/v1/subjects/{subject_id}/consents",
        json={"purpose": "testimonials", "granted": True},
        headers=admin_headers,
    )
    assert response.status_code == 409


def test_naive_time_is_refused(client: TestClient, admin_headers: H, new_subject: Maker) -> None:
    subject_id, _ = new_subject()
    body = {"purpose": "testimonials", "granted": True, "at": "2023-01-01T10:00:00"}
    response = client.post(f"/v1/subjects/{subject_id}/consents", json=body, headers=admin_headers)
    assert response.status_code == 422


def test_import_creates_records_and_reports_rejections(
    client: TestClient,
    admin_headers: H,
    tutela: Tutela,
    new_subject: Maker,
    email: Callable[[], str],
) -> None:
    known_id, known_email = new_subject()
    stranger = email()
    body = {
        "items": [
            {
                "subject": {"email": known_email},
                "purpose": "testimonials",
                "granted": True,
                "at": "2023-05-01T10:00:00Z",
            },
            {
                "subject": {"email": stranger},
                "purpose": "support_expert_sharing",
                "granted": True,
                "at": "2023-05-02T10:00:00+02:00",
            },
            {
                "subject": {"id": "sub_unknown"},
                "purpose": "testimonials",
                "granted": True,
                "at": "2023-05-03T10:00:00Z",
            },
            {
                "subject": {"email": "not an email"},
                "purpose": "testimonials",
                "granted": True,
                "at": "2023-05-03T10:00:00Z",
            },
        ],
        "create_subjects": True,
    }
    response = client.post("/v1/consents:import", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["imported"] == 2
    assert result["created_subjects"] == 1
    assert [(r["index"], r["code"]) for r in result["rejected"]] == [
        (2, "not_found"),
        (3, "invalid_identity"),
    ]
    event = tutela.ledger.history(known_id)[-1]
    assert event.kind == "consent"
    assert event.payload["source"] == "import"
    assert event.at.replace(tzinfo=None).isoformat() == "2023-05-01T10:00:00"
    assert tutela.resolve({"email": stranger}) is not None


def test_import_without_creating_rejects_strangers(
    client: TestClient, admin_headers: H, email: Callable[[], str]
) -> None:
    item = {
        "subject": {"email": email()},
        "purpose": "testimonials",
        "granted": True,
        "at": "2023-05-01T10:00:00Z",
    }
    result = client.post("/v1/consents:import", json={"items": [item]}, headers=admin_headers)
    assert result.json() == {
        "imported": 0,
        "created_subjects": 0,
        "rejected": [{"index": 0, "code": "not_found", "message": "no subject"}],
    }


def test_import_caps_items(tutela: Tutela, admin_headers: H) -> None:
    client = TestClient(create_app(tutela, settings=ApiSettings(max_bulk_items=2)))
    item = {
        "subject": {"id": "sub_x"},
        "purpose": "testimonials",
        "granted": True,
        "at": "2023-05-01T10:00:00Z",
    }
    response = client.post("/v1/consents:import", json={"items": [item] * 3}, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_items"
    # The schema's own cap (10,000) holds whatever the settings say.
    big = {"items": [item] * 10_001}
    assert client.post("/v1/consents:import", json=big, headers=admin_headers).status_code == 422


def test_times_carry_their_zone(client: TestClient, admin_headers: H, new_subject: Maker) -> None:
    subject_id, _ = new_subject()
    url = f"/v1/subjects/{subject_id}/consents"
    client.post(url, json={"purpose": "testimonials", "granted": True}, headers=admin_headers)
    event = client.get(url, headers=admin_headers).json()["items"][0]
    state = client.get(f"/v1/subjects/{subject_id}", headers=admin_headers).json()
    for moment in (event["at"], state["consents"]["testimonials"]["at"]):
        assert moment.endswith(("Z", "+00:00")), moment
