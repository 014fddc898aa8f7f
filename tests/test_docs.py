"""Docs that cannot rot: generated pages match, every command and rule is documented,
and the Python examples run."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tutela.cli.reference import commands, render
from tutela.policy import load
from tutela.policy.lint import RULES

DOCS = ROOT / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run python -m tutela.cli.reference > docs/cli.md"
    )


@pytest.mark.parametrize(("name", "command"), list(commands()), ids=lambda v: str(v))
def test_every_command_has_help(name: str, command: object) -> None:
    assert (getattr(command, "help", None) or "").strip(), f"{name} has no help text"


@pytest.mark.parametrize("rule_id", sorted(r.id for r in RULES))
def test_every_rule_has_a_page(rule_id: str) -> None:
    page = DOCS / "rules" / f"{rule_id}.md"
    assert page.is_file(), f"docs/rules/{rule_id}.md is missing"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {rule_id}")
    for heading in ("## Why it matters", "## How to fix"):
        assert heading in text, f"{page.name} lacks {heading}"
    index = (DOCS / "rules" / "README.md").read_text(encoding="utf-8")
    assert f"({rule_id}.md)" in index


def test_policy_file_reference_example_loads() -> None:
    policy = load(DOCS / "examples" / "policy.yaml")
    assert policy.purposes


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("page", ["python-api.md"])
def test_python_examples_run(page: str) -> None:
    blocks = _python_blocks(DOCS / page)
    assert blocks
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        for block in blocks:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(block, f"docs/{page}", "exec"), {})
    finally:
        os.chdir(here)


def test_every_decision_reason_is_documented() -> None:
    from tutela.decide import DENY, Reason

    page = (DOCS / "decision-reasons.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| (yes|no) \|", page, re.M))
    assert set(rows) == {r.value for r in Reason}
    for reason in Reason:
        assert (rows[reason.value] == "yes") == (reason in DENY), reason
