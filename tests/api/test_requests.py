"""Requests over HTTP: receive, run, download through a signed link that opens nothing else."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from tests.connectors.test_sql import KEY, seed, shop_policy
from tutela import Tutela
from tutela.api import ApiSettings, create_app
from tutela.ledger.keys import create_key

SECRET = "download-secret-" + "y" * 32


@pytest.fixture
def shop_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    product = f"sqlite:///{tmp_path / 'product.sqlite3'}"
    seed(create_engine(product), shop_policy())
    monkeypatch.setenv("APP_DATABASE_URL", product)
    monkeypatch.setenv("TUTELA_PSEUDONYM_KEY", KEY.decode())
    monkeypatch.setenv("TUTELA_PACKAGES", str(tmp_path / "packages"))
    with Tutela.open(
        policy=shop_policy(), database=f"sqlite:///{tmp_path / 'ledger.sqlite3'}", upgrade=True
    ) as tutela:
        tutela.ledger.create_subject([("email", "anna@example.se"), ("user_id", "1")])
        tutela.ledger.create_subject([("email", "bo@example.se"), ("user_id", "2")])
        _, token = create_key(tutela.engine, "ops", ["requests:read", "requests:write"])
        settings = ApiSettings(secret_key=SECRET, run_requests_inline=True)
        with TestClient(create_app(tutela, settings=settings)) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            yield client


def _access(client: TestClient, email: str) -> dict[str, object]:
    created = client.post("/v1/requests", json={"type": "access", "subject": {"email": email}})
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "approved"
    ran = client.post(f"/v1/requests/{created.json()['id']}:run")
    assert ran.status_code == 202 and ran.json()["state"] == "completed"
    shown = client.get(f"/v1/requests/{created.json()['id']}")
    body: dict[str, object] = shown.json()
    return body


def test_access_request_and_download(shop_client: TestClient) -> None:
    request = _access(shop_client, "anna@example.se")
    url = str(request["download_url"])
    assert "/v1/packages/" in url
    path = url.split("testserver", 1)[1]
    package = shop_client.get(path, headers={"Authorization": ""})  # the link is the proof
    assert package.status_code == 200
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["collections"]["app.users"]["rows"][0]["email"] == "ANNA@EXAMPLE.SE"
    result = request["result"]
    assert isinstance(result, dict) and "/" not in str(result["package"])  # no server paths


def test_one_persons_link_never_opens_anothers(shop_client: TestClient) -> None:
    anna = _access(shop_client, "anna@example.se")
    bo = _access(shop_client, "bo@example.se")
    token = str(anna["download_url"]).rsplit("/", 1)[1]
    forged = token.replace(str(anna["id"]), str(bo["id"]))
    assert shop_client.get(f"/v1/packages/{forged}").status_code == 403
    expired = token.split(".")
    assert shop_client.get(f"/v1/packages/{expired[0]}.1.{expired[2]}").status_code == 403
    assert shop_client.get("/v1/packages/nonsense").status_code == 403


def test_erasure_over_http_and_trail(shop_client: TestClient) -> None:
    created = shop_client.post(
        "/v1/requests", json={"type": "erasure", "subject": {"email": "anna@example.se"}}
    ).json()
    done = shop_client.post(f"/v1/requests/{created['id']}:run").json()
    assert done["state"] == "completed"
    kept = [c for c in done["result"]["collections"] if c["kept_because"]]
    assert kept and "Bokföringslagen" in kept[0]["kept_because"]
    trail = shop_client.get(f"/v1/requests/{created['id']}/trail").json()
    assert trail[0]["kind"] == "request.received"
    assert all(len(e["hash"]) == 64 for e in trail)
    again = shop_client.post(f"/v1/requests/{created['id']}:run")
    assert again.status_code == 409


def test_bad_requests_are_refused_before_anything_is_written(shop_client: TestClient) -> None:
    wrong_type = shop_client.post(
        "/v1/requests",
        json={
            "type": "rectification",
            "subject": {"email": "anna@example.se"},
            "details": {"corrections": {"users.name": 42}},
        },
    )
    assert wrong_type.status_code == 409 and "expected string" in wrong_type.text
    by_id = shop_client.post(
        "/v1/requests", json={"type": "access", "subject": {"id": "sub_0123456789"}}
    )
    assert by_id.status_code == 422
    assert shop_client.get("/v1/requests").json() == []


def test_scopes(shop_client: TestClient) -> None:
    shop_client.headers["Authorization"] = "Bearer tut_000000000000_nope"
    assert shop_client.get("/v1/requests").status_code == 401
