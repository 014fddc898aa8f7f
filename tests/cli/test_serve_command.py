"""``tutela serve``: refuses an outdated ledger, and serves the API with its docs address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _serving(url: str, *options: str) -> Iterator[tuple[str, list[str]]]:
    """``tutela serve`` on a free port: its address, then (once stopped) its output."""
    port = _free_port()
    env = {**os.environ, "TUTELA_POLICY": str(EXAMPLE), "TUTELA_DATABASE_URL": url}
    env.pop("FORWARDED_ALLOW_IPS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tutela.cli", "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output: list[str] = []
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/docs", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, output
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
        output.append(out)


def test_serve_starts_and_prints_the_docs_address(cli: Invoke, empty_url: str) -> None:
    token = cli("keys", "create", "--name", "test", "--scope", "decisions").stdout.strip()
    with _serving(empty_url) as (base, output):
        assert httpx.get(f"{base}/docs").status_code == 200
        decision = httpx.post(
            f"{base}/v1/decisions",
            json={"subject": {"email": "nobody@example.se"}, "purpose": "provide_service"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert decision.status_code == 200
        assert decision.json()["reasons"] == ["subject_unknown"]
    assert f"API docs: {base}/docs" in output[0]


def _banner_posts(base: str, forwarded_for: str, count: int) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for}
    url = f"{base}/v1/banner/consents"
    return [httpx.post(url, content=b"{}", headers=headers).status_code for _ in range(count)]


def test_behind_a_trusted_proxy_limits_count_per_visitor(cli: Invoke, empty_url: str) -> None:
    # The banner takes 20 posts in a burst from one address. Through a proxy this
    # process trusts, the address is the visitor's: one visitor's burst leaves the
    # next visitor's posts alone.
    with _serving(empty_url, "--forwarded-allow-ips", "127.0.0.1") as (base, _):
        assert _banner_posts(base, "203.0.113.7", 21)[-1] == 429
        assert 429 not in _banner_posts(base, "203.0.113.8", 3)
    # Through a proxy it does not trust, every visitor is the proxy.
    with _serving(empty_url, "--forwarded-allow-ips", "192.0.2.1") as (base, _):
        assert _banner_posts(base, "203.0.113.7", 21)[-1] == 429
        assert _banner_posts(base, "203.0.113.8", 1) == [429]
