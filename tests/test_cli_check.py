"""``tutela check`` through the real console script: exit codes, formats, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import base_policy

WritePolicy = Callable[..., Path]


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tutela.cli", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_clean_file_exits_0(write_policy: WritePolicy) -> None:
    result = run_check(str(write_policy(base_policy())))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors, 0 warnings" in result.stdout


def test_error_finding_exits_1(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["recipients"][0]["role"] = "buyer"
    path = write_policy(data)
    result = run_check(str(path))
    assert result.returncode == 1
    assert "[sale-contradicts-promise]" in result.stdout
    assert f"{path}:" in result.stdout


def test_warning_only_exits_0(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["datasets"][0]["collections"][0]["fields"].append({"name": "phone"})
    result = run_check(str(write_policy(data)))
    assert result.returncode == 0
    assert "warning [undeclared-personal-field]" in result.stdout


@pytest.mark.parametrize(
    "content",
    [
        "tutela: 1\npurposes: [\n",  # malformed YAML
        b"tutela: 1\nname: \xff\xfe\n",  # not UTF-8
        "tutela: 1\ntutela: 1\n",  # duplicate key
        {"tutela": 1, "organisation": "just a string"},  # wrong type
        b"\x00\x01binary",  # binary
    ],
)
def test_unreadable_exits_2_without_traceback(write_policy: WritePolicy, content: Any) -> None:
    result = run_check(str(write_policy(content)))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "policy.yaml:" in result.stdout


def test_huge_file_exits_2(write_policy: WritePolicy) -> None:
    path = write_policy("# x\n" * 2_700_000)  # about 10 MB
    result = run_check(str(path))
    assert result.returncode == 2
    assert "MiB" in result.stdout


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_check(str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "no such file" in result.stdout


def test_folder_argument_reads_policy_yaml(write_policy: WritePolicy) -> None:
    path = write_policy(base_policy())
    assert run_check(str(path.parent)).returncode == 0


def test_json_format(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["recipients"][0]["role"] = "buyer"
    result = run_check("--format", "json", str(write_policy(data)))
    document = json.loads(result.stdout)
    assert document["summary"]["errors"] == 1
    (finding,) = document["files"][0]["findings"]
    assert finding["rule"] == "sale-contradicts-promise"
    assert finding["path"] == "recipients[0].role"
    assert finding["line"] > 0


def test_sarif_format(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["recipients"][0]["role"] = "buyer"
    good = write_policy(data)
    bad = write_policy("tutela: [\n", name="broken.yaml")
    result = run_check("--format", "sarif", str(good), str(bad))
    assert result.returncode == 2
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {"sale-contradicts-promise", "policy-invalid"} <= rule_ids
    results = {(r["ruleId"], r["level"]) for r in run["results"]}
    assert ("sale-contradicts-promise", "error") in results
    assert ("policy-invalid", "error") in results
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] > 0
