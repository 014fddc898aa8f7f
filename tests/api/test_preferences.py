"""Channels, objections and restriction over HTTP, each an event in the ledger."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tutela import Tutela

H = dict[str, str]
Maker = Callable[..., tuple[str, str]]


def test_channel_objection_restriction(
    client: TestClient, admin_headers: H, tutela: Tutela, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    base = f"/v1/subjects/{subject_id}"
    channel = client.post(
        f"{base}/channels", json={"channel": "sms", "opted_out": True}, headers=admin_headers
    )
    assert channel.status_code == 200
    assert channel.json()["event_id"].startswith("evt_")
    objection = client.post(
        f"{base}/objections", json={"purpose": "analytics"}, headers=admin_headers
    )
    assert objection.status_code == 200
    restriction = client.post(
        f"{base}/restriction", json={"active": True, "reason": "unlawful"}, headers=admin_headers
    )
    assert restriction.status_code == 200

    prefs = client.get(f"{base}/preferences", headers=admin_headers).json()
    assert prefs == {"channel_opt_outs": ["sms"], "objections": ["analytics"], "restricted": True}
    kinds = [e.kind for e in tutela.ledger.history(subject_id)]
    assert kinds[-3:] == ["channel", "objection", "restriction"]

    decision = client.post(
        "/v1/decisions",
        json={"subject": {"id": subject_id}, "purpose": "analytics"},
        headers=admin_headers,
    ).json()
    assert decision["allowed"] is False
    assert {"objected", "processing_restricted"} <= set(decision["reasons"])

    client.post(
        f"{base}/objections", json={"purpose": "analytics", "active": False}, headers=admin_headers
    )
    client.post(
        f"{base}/restriction", json={"active": False, "reason": "resolved"}, headers=admin_headers
    )
    client.post(
        f"{base}/channels", json={"channel": "sms", "opted_out": False}, headers=admin_headers
    )
    prefs = client.get(f"{base}/preferences", headers=admin_headers).json()
    assert prefs == {"channel_opt_outs": [], "objections": [], "restricted": False}


def test_unknown_channel_and_subject(
    client: TestClient, admin_headers: H, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    bad = client.post(
        f"/v1/subjects/{subject_id}/channels",
        json={"channel": "pigeon", "opted_out": True},
        headers=admin_headers,
    )
    assert bad.status_code == 422
    missing = client.post(
        "/v1/subjects/sub_nobody/channels",
        json={"channel": "email", "opted_out": True},
        headers=admin_headers,
    )
    assert missing.status_code == 404


def test_restriction_needs_subjects_write(
    client: TestClient, make_token: Callable[..., str], new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    headers = {"Authorization": f"Bearer {make_token('consents:write')}"}
    response = client.post(
        f"/v1/subjects/{subject_id}/restriction",
        json={"active": True, "reason": "x"},
        headers=headers,
    )
    assert response.status_code == 403


def test_api_writes_keep_the_audit_chain_whole(
    client: TestClient, admin_headers: H, tutela: Tutela, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    base = f"/v1/subjects/{subject_id}"
    client.post(
        f"{base}/consents", json={"purpose": "testimonials", "granted": True}, headers=admin_headers
    )
    client.post(
        f"{base}/channels", json={"channel": "email", "opted_out": True}, headers=admin_headers
    )
    client.patch(base, json={"country": "NL"}, headers=admin_headers)
    assert list(tutela.ledger.verify()) == []
