"""Fixtures of the scrubbing tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scrub_eval() -> ModuleType:
    """``bench/scrub_eval.py``: the labelled corpus generator and the hand-written set."""
    pytest.importorskip("faker")
    spec = importlib.util.spec_from_file_location("scrub_eval", ROOT / "bench" / "scrub_eval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while being defined.
    sys.modules["scrub_eval"] = module
    spec.loader.exec_module(module)
    return module
