"""The app behind a real Uvicorn server on a free loopback port, called with httpx."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tutela import Tutela
from tutela.api import create_app
from tutela.api.settings import ApiSettings

from .conftest import SECRET


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def base_url(tutela: Tutela) -> Iterator[str]:
    app = create_app(tutela, settings=ApiSettings(secret_key=SECRET))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_round_trip_over_a_real_socket(base_url: str, admin_headers: dict[str, str]) -> None:
    with httpx.Client(base_url=base_url, headers=admin_headers, timeout=10) as http:
        assert http.get("/health").json()["status"] == "ok"
        created = http.post(
            "/v1/subjects", json={"identities": [{"kind": "user_id", "value": base_url}]}
        )
        assert created.status_code == 201
        subject_id = created.json()["id"]
        decision = http.post(
            "/v1/decisions",
            json={"subject": {"user_id": base_url}, "purpose": "marketing_email"},
        )
        assert decision.json()["allowed"] is True

        link = http.post("/v1/unsubscribe-links", json={"subject": subject_id}).json()
        assert link["url"].startswith(base_url)
        # The mail provider's POST carries no API key.
        one_click = httpx.post(link["url"], data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert one_click.status_code == 200
        after = http.post(
            "/v1/decisions",
            json={"subject": {"id": subject_id}, "purpose": "marketing_email"},
        ).json()
        assert after["allowed"] is False
        assert "channel_opted_out" in after["reasons"]

        too_big = http.post(
            "/v1/decisions",
            content=b"x" * (1024 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
        assert too_big.status_code == 413
        assert http.get("/v1/subjects", headers={"Authorization": ""}).status_code == 401
