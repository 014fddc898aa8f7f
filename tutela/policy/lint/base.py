"""The rule registry, findings, and running every rule over a document."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from tutela.policy.loader import Document
from tutela.policy.source import Loc, format_path

__all__ = ["RULES", "Finding", "Rule", "Severity", "lint", "rule", "rule_by_id"]


class Severity(StrEnum):
    """How bad a finding is. ``error`` makes ``tutela check`` exit 1."""

    error = "error"
    warning = "warning"
    info = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken promise, and where in the file it is declared."""

    rule: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    path: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}:{self.column}: {self.severity.value} "
            f"[{self.rule}] {self.message}"
        )


Check = Callable[[Document], Iterator[tuple[Loc, str]]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A lint rule: id, severity, a title, what it rests on, and its check."""

    id: str
    severity: Severity
    title: str
    rests_on: str
    check: Check

    def run(self, document: Document) -> Iterator[Finding]:
        """Findings of this rule on ``document``."""
        for loc, message in self.check(document):
            line, column = document.source.position(loc, key=True)
            yield Finding(
                rule=self.id,
                severity=self.severity,
                message=message,
                file=document.file,
                line=line,
                column=column,
                path=format_path(loc),
            )


RULES: list[Rule] = []


def rule(id: str, severity: Severity, title: str, rests_on: str) -> Callable[[Check], Check]:
    """Register a check function as a rule."""

    def register(check: Check) -> Check:
        if any(r.id == id for r in RULES):
            raise ValueError(f"rule id {id!r} registered twice")
        RULES.append(Rule(id=id, severity=severity, title=title, rests_on=rests_on, check=check))
        return check

    return register


def rule_by_id(rule_id: str) -> Rule:
    """The rule with this id; ``KeyError`` if there is none."""
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def lint(document: Document, *, select: frozenset[str] | None = None) -> list[Finding]:
    """Run every rule (or those in ``select``) and return findings in file order."""
    findings = [
        finding for r in RULES if select is None or r.id in select for finding in r.run(document)
    ]
    findings.sort(key=lambda f: (f.file, f.line, f.column, f.rule))
    return findings
