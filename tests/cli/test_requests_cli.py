"""``tutela requests``: the plan printed with its statements, and a request run from the CLI."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_plan_prints_statements() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tutela.cli",
            "requests",
            "plan",
            "--policy",
            str(ROOT / "docs" / "examples" / "policy.yaml"),
            "--dialect",
            "sqlite",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "DELETE FROM users WHERE users.id IN (:person_user_ids)" in out
    assert "kept by Bokföringslagen" in out
    assert "UPDATE invoices SET customer_id=?" in out
    # children come before parents, so foreign keys hold throughout
    assert out.index("app.login_events") < out.index("app.users")
