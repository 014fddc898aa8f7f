"""Health, metrics, body size limits and failing closed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tutela import Tutela
from tutela.api import create_app

H = dict[str, str]
Maker = Callable[..., tuple[str, str]]


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "policy_version": "2018-05-25"}


def test_health_reports_a_dead_database(
    client: TestClient, tutela: Tutela, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_engine: object) -> None:
        raise ConnectionError("connection refused")

    monkeypatch.setattr("tutela.api.health.ping", broken)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def test_metrics_count_routes_statuses_and_decisions(
    client: TestClient, admin_headers: H, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    for purpose in ("provide_service", "provide_service", "mind_reading"):
        client.post(
            "/v1/decisions",
            json={"subject": {"id": subject_id}, "purpose": purpose},
            headers=admin_headers,
        )
    client.get(f"/v1/subjects/{subject_id}", headers=admin_headers)
    client.get("/v1/subjects/sub_nobody", headers=admin_headers)
    client.get("/no/such/route")
    text = client.get("/metrics").text
    assert 'tutela_decisions_total{outcome="allowed"} 2' in text
    assert 'tutela_decisions_total{outcome="denied"} 1' in text
    assert 'tutela_http_requests_total{route="/v1/decisions",method="POST",status="200"} 3' in text
    route = "/v1/subjects/{subject_id}"
    assert f'tutela_http_requests_total{{route="{route}",method="GET",status="200"}} 1' in text
    assert f'tutela_http_requests_total{{route="{route}",method="GET",status="404"}} 1' in text
    assert 'route="unmatched",method="GET",status="404"' in text
    assert f'tutela_http_request_duration_seconds_count{{route="{route}"}} 2' in text
    assert 'tutela_http_request_duration_seconds_bucket{route="/v1/decisions",le="+Inf"} 3' in text
    # Route templates only: no subject id ever becomes a label.
    assert subject_id not in text
    assert "# TYPE tutela_http_request_duration_seconds histogram" in text


def test_body_over_limit_is_413_before_parsing(client: TestClient, admin_headers: H) -> None:
    big = b'{"purpose": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(
        "/v1/decisions",
        content=big,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_streamed_body_over_limit_is_413(client: TestClient, admin_headers: H) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"purpose": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    # A generator body is sent chunked, without a Content-Length to trust.
    response = client.post(
        "/v1/decisions",
        content=chunks(),
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_unexpected_errors_fail_closed_without_personal_data(
    tutela: Tutela,
    admin_headers: H,
    new_subject: Maker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    subject_id, address = new_subject()

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"database refused row for {address}")

    monkeypatch.setattr(tutela.ledger, "identities", explode)
    client = TestClient(create_app(tutela), raise_server_exceptions=False)
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"/v1/subjects/{subject_id}", headers=admin_headers)
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "internal_error",
            "message": "an unexpected error occurred; it was logged",
        }
    }
    assert address not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" in caplog.text
    assert address not in caplog.text


def test_openapi_documents_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/v1/subjects",
        "/v1/subjects/{subject_id}",
        "/v1/subjects:lookup",
        "/v1/subjects/{subject_id}/consents",
        "/v1/consents:import",
        "/v1/decisions",
        "/v1/decisions:bulk",
        "/v1/subjects/{subject_id}/channels",
        "/v1/subjects/{subject_id}/objections",
        "/v1/subjects/{subject_id}/restriction",
        "/v1/subjects/{subject_id}/preferences",
        "/v1/unsubscribe-links",
        "/v1/unsubscribe/{token}",
        "/health",
        "/metrics",
    } <= paths
    assert "ApiKey" in schema["components"]["securitySchemes"]
