"""``tutela serve``: refuses an outdated ledger, and serves the API with its docs address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.conftest import EXAMPLE, Invoke


def test_serve_refuses_an_empty_ledger_with_the_command_to_run(bare_cli: Invoke) -> None:
    result = bare_cli("serve", "--port", "1")
    assert result.exit_code == 2
    assert "tutela db upgrade" in result.stderr
    assert "Traceback" not in result.output


def test_serve_refuses_a_broken_policy(cli: Invoke, tmp_path: Path) -> None:
    broken = tmp_path / "policy.yaml"
    broken.write_text("tutela: 1\npurposes: [\n", encoding="utf-8")
    result = cli("serve", "--policy", str(broken))
    assert result.exit_code == 2
    assert "policy.yaml" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_starts_and_prints_the_docs_address(cli: Invoke, empty_url: str) -> None:
    token = cli("keys", "create", "--name", "test", "--scope", "decisions").stdout.strip()
    port = _free_port()
    env = {**os.environ, "TUTELA_POLICY": str(EXAMPLE), "TUTELA_DATABASE_URL": empty_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response is not None and response.status_code == 200
        decision = httpx.post(
            f"http://127.0.0.1:{port}/v1/decisions",
            json={"subject": {"email": "nobody@example.se"}, "purpose": "provide_service"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert decision.status_code == 200
        assert decision.json()["reasons"] == ["subject_unknown"]
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert f"API docs: http://127.0.0.1:{port}/docs" in out
