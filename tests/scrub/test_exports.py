"""The public surface of ``tutela.scrub``: what ``__all__`` promises exists and is documented."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

import tutela.scrub
import tutela.scrub.operators


@pytest.mark.parametrize("module", [tutela.scrub, tutela.scrub.operators])
def test_exported_members_exist_and_have_docstrings(module: ModuleType) -> None:
    names = module.__all__
    assert names, "nothing exported"
    for name in names:
        member = getattr(module, name)
        if inspect.isclass(member) or inspect.isfunction(member):
            assert inspect.getdoc(member), f"{name} has no docstring"


def test_engine_is_reported() -> None:
    assert tutela.scrub.ENGINE in {"hyperscan", "re2", "re"}
