"""``tutela subjects signin-link``: a signed privacy-center link for a known person."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tutela import Tutela
from tutela.center import verify_login_link

SECRET = "signin-link-secret-" + "s" * 16


def test_signin_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    policy = ROOT / "examples" / "james-pro" / "policy.yaml"
    with Tutela.open(policy=policy, database=url, upgrade=True) as tutela:
        subject = tutela.ledger.create_subject([("email", "anna@example.nl")])
    env = {**os.environ, "TUTELA_SECRET_KEY": SECRET}
    command = [
        sys.executable,
        "-m",
        "tutela.cli",
        "subjects",
        "signin-link",
        "anna@example.nl",
        "--database",
        url,
        "--base-url",
        "http://localhost:9000",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("http://localhost:9000/privacy/login/link?token=")
    assert verify_login_link(SECRET, link.split("token=", 1)[1]) == subject
    nobody = subprocess.run(
        [*command[:5], "nobody@example.nl", *command[6:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert nobody.returncode == 1
    no_key = subprocess.run(
        command,
        env={**os.environ, "TUTELA_SECRET_KEY": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert no_key.returncode == 2 and "TUTELA_SECRET_KEY" in no_key.stderr
