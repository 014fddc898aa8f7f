"""Lint rules: promises the policy file makes that its own declarations break.

Each rule has a stable id, a severity, a one-line title and a page under
``docs/rules/``. Rules are pure functions of a loaded :class:`Document`; they
yield :class:`Finding` values pointing at the offending declaration.

>>> from tutela.policy import read
>>> from tutela.policy.lint import lint
>>> findings = lint(read("examples/james-pro/policy.yaml"))  # doctest: +SKIP
"""

from __future__ import annotations

# Importing the rule modules registers their rules, in this order.
from tutela.policy.lint import (
    datasets as _datasets,
)
from tutela.policy.lint import (
    promises as _promises,
)
from tutela.policy.lint import (
    purposes as _purposes,
)
from tutela.policy.lint import (
    retention as _retention,
)
from tutela.policy.lint import (
    transfers as _transfers,
)
from tutela.policy.lint.base import RULES, Finding, Rule, Severity, lint, rule_by_id

__all__ = ["RULES", "Finding", "Rule", "Severity", "lint", "rule_by_id"]

del _datasets, _purposes, _promises, _retention, _transfers
