"""Over HTTP: verification codes by mail, manual processor tasks, and signed callbacks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from tests.connectors.test_sql import KEY, seed, shop_policy
from tests.requests.conftest import Inbox, smtp  # noqa: F401 - the SMTP fixture
from tutela import Tutela
from tutela.api import ApiSettings, create_app
from tutela.ledger.keys import create_key
from tutela.policy import Policy

SECRET = "steps-secret-" + "z" * 32


def manual_policy() -> Policy:
    data = shop_policy().model_dump(mode="json", exclude_none=True)
    data["recipients"].append(
        {"name": "Print shop", "role": "processor", "countries": ["SE"], "requests": "manual"}
    )
    return Policy.model_validate(data)


@pytest.fixture
def client(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp: Inbox,  # noqa: F811
) -> Iterator[TestClient]:
    product = f"sqlite:///{tmp_path / 'product.sqlite3'}"
    seed(create_engine(product), shop_policy())
    for name, value in {
        "APP_DATABASE_URL": product,
        "TUTELA_PSEUDONYM_KEY": KEY.decode(),
        "TUTELA_PACKAGES": str(tmp_path / "packages"),
        "TUTELA_SECRET_KEY": SECRET,
        "TUTELA_SMTP_URL": smtp.url,
        "TUTELA_MAIL_FROM": "privacy@exempel.se",
    }.items():
        monkeypatch.setenv(name, value)
    with Tutela.open(
        policy=manual_policy(), database=f"sqlite:///{tmp_path / 'l.sqlite3'}", upgrade=True
    ) as tutela:
        tutela.ledger.create_subject([("email", "anna@example.se"), ("user_id", "1")])
        _, token = create_key(tutela.engine, "ops", ["requests:read", "requests:write"])
        settings = ApiSettings(secret_key=SECRET, run_requests_inline=True)
        with TestClient(create_app(tutela, settings=settings)) as test_client:
            test_client.headers["Authorization"] = f"Bearer {token}"
            yield test_client


def test_verification_by_mailed_code(client: TestClient, smtp: Inbox) -> None:  # noqa: F811
    answers = []
    for email in ("anna@example.se", "stranger@example.se"):
        created = client.post(
            "/v1/requests",
            json={"type": "access", "subject": {"email": email}, "source": "privacy_center"},
        ).json()
        assert created["state"] == "verifying"
        sent = client.post(f"/v1/requests/{created['id']}/verification:send")
        assert sent.status_code == 200
        answers.append((created["id"], sent.json()["message"]))
    # Known and unknown people get the same answer, and both get a mail.
    assert answers[0][1] == answers[1][1]
    assert len(smtp.messages) == 2
    request_id = answers[0][0]
    mail = smtp.messages[0].get_payload(decode=True)
    found = re.search(rb"\b(\d{6})\b", mail if isinstance(mail, bytes) else b"")
    assert found is not None
    code = found.group(1).decode()
    wrong_code = "111111" if code != "111111" else "222222"
    wrong = client.post(
        f"/v1/requests/{request_id}/verification:check", json={"code": wrong_code}
    ).json()
    assert wrong["outcome"] == "wrong" and wrong["attempts_left"] == 4
    good = client.post(f"/v1/requests/{request_id}/verification:check", json={"code": code}).json()
    assert good["outcome"] == "verified" and good["state"] == "approved"


def test_manual_task_completes_the_request(client: TestClient) -> None:
    created = client.post(
        "/v1/requests", json={"type": "erasure", "subject": {"email": "anna@example.se"}}
    ).json()
    ran = client.post(f"/v1/requests/{created['id']}:run").json()
    assert ran["state"] == "partially_completed"
    tasks = client.get("/v1/tasks", params={"request_id": created["id"]}).json()
    assert [(t["recipient"], t["channel"], t["done"]) for t in tasks] == [
        ("Print shop", "manual", False)
    ]
    confirmed = client.post(
        f"/v1/tasks/{tasks[0]['id']}:confirm", json={"actor": "ops@exempel.se", "note": "done"}
    )
    assert confirmed.status_code == 200 and confirmed.json()["done"]
    assert client.get(f"/v1/requests/{created['id']}").json()["state"] == "completed"


def test_forged_callback_changes_nothing(client: TestClient) -> None:
    created = client.post(
        "/v1/requests", json={"type": "erasure", "subject": {"email": "anna@example.se"}}
    ).json()
    forged = client.post(
        f"/v1/callbacks/{created['id']}/PRINT_SHOP",
        content=b'{"request_id": "x", "status": "completed"}',
        headers={"X-Tutela-Signature": "sha256=" + "0" * 64, "Authorization": ""},
    )
    assert forged.status_code == 401
    assert client.get(f"/v1/requests/{created['id']}").json()["state"] == "approved"
