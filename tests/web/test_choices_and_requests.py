"""Choices and requests in the privacy center: each change lands in the ledger; a person
sees and downloads only their own requests."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from tests.requests.conftest import Inbox
from tests.web.conftest import ANNA, BERIT, center_app, center_policy, csrf_of, sign_in
from tutela import Tutela
from tutela.center import what_we_hold
from tutela.policy import loads


def _switch(client: TestClient, kind: str, name: str, on: bool) -> str:
    token = csrf_of(client.get("/privacy/choices").text)
    data = {"csrf": token, "kind": kind, "name": name, "on": "1" if on else "0"}
    answer = client.post("/privacy/choices", data=data)
    assert answer.status_code == 200
    return answer.text


def test_consent_switch_lands_in_the_ledger(client: TestClient, env: Inbox, tutela: Tutela) -> None:
    sign_in(client, env)
    page = _switch(client, "consent", "newsletter", True)
    state = tutela.state({"email": ANNA})
    assert state and state.consents["newsletter"].granted
    event = [e for e in tutela.ledger.history(state.subject_id) if e.kind == "consent"][-1]
    assert event.payload["source"] == "web"
    assert event.payload["policy_version"] == "2024-01"
    assert "Switch off" in page
    _switch(client, "consent", "newsletter", False)
    state = tutela.state({"email": ANNA})
    assert state and not state.consents["newsletter"].granted
    # Both changes are in the history, newest first.
    history = client.get("/privacy/choices").text.split('id="h-history"')[1]
    assert history.count("<tr><td>") == 2


def test_channels_and_objections(client: TestClient, env: Inbox, tutela: Tutela) -> None:
    sign_in(client, env)
    _switch(client, "channel", "email", False)
    _switch(client, "objection", "product_research", True)
    state = tutela.state({"email": ANNA})
    assert state and "email" in state.channel_opt_outs
    assert "product_research" in state.objections
    assert not tutela.decide({"email": ANNA}, "product_research").allowed


def test_undeclared_choices_change_nothing(client: TestClient, env: Inbox, tutela: Tutela) -> None:
    sign_in(client, env)
    _switch(client, "consent", "provide_service", False)  # a contract, not a consent
    _switch(client, "consent", "nonsense", True)
    state = tutela.state({"email": ANNA})
    assert state and not state.consents


def test_what_we_hold_is_the_policy(tutela: Tutela) -> None:
    holdings = what_we_hold(tutela.policy, tutela.taxonomy, tutela.state({"email": ANNA}))
    assert [p.key for p in holdings.purposes] == [
        "provide_service",
        "newsletter",
        "product_research",
    ]
    assert holdings.purposes[0].legal_basis == "contract"
    assert holdings.purposes[1].consented is False
    assert holdings.recipients[0].countries[0].name == "Sweden"
    assert not holdings.recipients[0].sets_identifiers
    assert holdings.known


def test_the_overview_names_recipients_that_set_identifiers(tmp_path: Path, env: Inbox) -> None:
    data = center_policy().model_dump(mode="json", exclude_none=True)
    data["recipients"].append(
        {
            "name": "Pixel Partner",
            "role": "advertiser",
            "countries": ["SE"],
            "purposes": ["product_research"],
            "sets_persistent_identifiers": True,
        }
    )
    policy = loads(yaml.safe_dump(data, sort_keys=False), "policy.yaml")
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Tutela.open(policy=policy, database=url, upgrade=True) as tutela:
        tutela.ledger.create_subject([("email", ANNA)])
        with TestClient(center_app(tutela), base_url="https://testserver") as client:
            sign_in(client, env)
            page = client.get("/privacy/").text
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>", page)
    marked = [row for row in rows if "identifiers on your device" in row]
    assert len(marked) == 1 and marked[0].startswith("Pixel Partner")
    assert any(row.startswith("Hosting AB") for row in rows)


def test_download_my_data(client: TestClient, env: Inbox) -> None:
    sign_in(client, env)
    token = csrf_of(client.get("/privacy/requests").text)
    page = client.post("/privacy/requests", data={"csrf": token, "type": "access"}).text
    assert "completed" in page
    link = re.search(r'href="(/privacy/requests/req_[^"]+/download)"', page)
    assert link, page
    package = client.get(link.group(1))
    assert package.status_code == 200
    assert package.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        assert "data.json" in archive.namelist()
        assert b"Anna Berg" in archive.read("data.json")


def test_another_persons_download_is_not_found(
    client: TestClient, env: Inbox, tutela: Tutela
) -> None:
    sign_in(client, env)
    token = csrf_of(client.get("/privacy/requests").text)
    page = client.post("/privacy/requests", data={"csrf": token, "type": "access"}).text
    link = re.search(r'href="(/privacy/requests/req_[^"]+/download)"', page)
    assert link
    with TestClient(client.app, base_url="https://testserver") as berit:
        sign_in(berit, env, BERIT)
        stolen = berit.get(link.group(1))
        missing = berit.get("/privacy/requests/req_doesnotexist/download")
        assert stolen.status_code == missing.status_code == 404
        # The same page, bar the address of the page itself.
        assert stolen.text.replace(link.group(1), "X") == missing.text.replace(
            "/privacy/requests/req_doesnotexist/download", "X"
        )
        assert "req_" not in berit.get("/privacy/requests").text.split('id="h-list"')[1]
    # Without a session nobody downloads anything.
    with TestClient(client.app, base_url="https://testserver") as stranger:
        answer = stranger.get(link.group(1), follow_redirects=False)
        assert answer.status_code == 303


def test_erasure_request_is_listed_with_state_and_due_date(client: TestClient, env: Inbox) -> None:
    sign_in(client, env)
    token = csrf_of(client.get("/privacy/requests").text)
    page = client.post("/privacy/requests", data={"csrf": token, "type": "erasure"}).text
    listed = page.split('id="h-list"')[1]
    assert "Erase my data" in listed
    assert re.search(r"<time datetime=\"\d{4}-\d{2}-\d{2}\">", listed)


def test_correct_my_data(client: TestClient, env: Inbox, product: str) -> None:
    from sqlalchemy import create_engine, text

    sign_in(client, env)
    page = client.get("/privacy/requests").text
    assert 'name="field"' in page and "app.users.display_name" in page
    token = csrf_of(page)
    bad = client.post(
        "/privacy/requests",
        data={"csrf": token, "type": "rectification", "field": "app.users.id", "value": "7"},
    )
    assert bad.status_code == 400  # a key is not a correction; nothing is written
    listed = client.post(
        "/privacy/requests",
        data={
            "csrf": token,
            "type": "rectification",
            "field": "app.users.display_name",
            "value": "Anna Lind",
        },
    ).text.split('id="h-list"')[1]
    assert "Correct my data" in listed and listed.count("<tr>") == 2  # header and one request
    engine = create_engine(product)
    with engine.connect() as conn:
        name = conn.execute(text("SELECT display_name FROM users WHERE id = 1")).scalar()
    engine.dispose()
    assert name == "Anna Lind"
