"""The banner script itself: small, dependency-free, valid JavaScript."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "tutela" / "web" / "banner.js"


def test_script_is_under_15_kb() -> None:
    assert len(SCRIPT.read_bytes()) < 15 * 1024


def test_script_has_no_dependencies() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    for needle in ("import ", "require(", "http://", "https://cdn"):
        assert needle not in text


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to parse the script")
def test_script_parses() -> None:
    subprocess.run(["node", "--check", str(SCRIPT)], check=True)
