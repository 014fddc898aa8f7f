"""Lint results as text, JSON or SARIF 2.1.0 (for code-scanning dashboards)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tutela import __version__
from tutela.errors import Problem
from tutela.policy.lint.base import RULES, Finding, Severity

__all__ = ["DOCS_URL", "INVALID_RULE", "FileResult", "render_json", "render_sarif", "render_text"]

DOCS_URL = "docs/rules/{id}.md"
"""Where each rule's page lives, relative to the repository root."""
INVALID_RULE = "policy-invalid"
"""Rule id under which a file that cannot be loaded is reported in JSON and SARIF."""


@dataclass
class FileResult:
    """What checking one file gave: load problems (the file is invalid) or findings."""

    file: str
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unreadable: str | None = None

    @property
    def errors(self) -> int:
        """Error-level findings (load problems count as errors)."""
        bad = sum(f.severity is Severity.error for f in self.findings)
        return bad + len(self.problems) + (1 if self.unreadable else 0)


def _counts(results: Sequence[FileResult]) -> dict[str, int]:
    return {
        "files": len(results),
        "errors": sum(r.errors for r in results),
        "warnings": sum(f.severity is Severity.warning for r in results for f in r.findings),
        "infos": sum(f.severity is Severity.info for r in results for f in r.findings),
    }


def render_text(results: Sequence[FileResult]) -> str:
    """One line per finding, ``file:line:column: severity [rule] message``, then a summary."""
    lines: list[str] = []
    for result in results:
        if result.unreadable:
            lines.append(f"{result.unreadable}")
        for problem in result.problems:
            lines.append(
                f"{problem.file}:{problem.line}:{problem.column}: error "
                f"[{INVALID_RULE}] {problem.path + ': ' if problem.path else ''}"
                f"{problem.message}"
            )
        lines.extend(str(f) for f in result.findings)
    c = _counts(results)
    lines.append(
        f"{c['files']} file{'s' if c['files'] != 1 else ''} checked: "
        f"{c['errors']} error{'s' if c['errors'] != 1 else ''}, "
        f"{c['warnings']} warning{'s' if c['warnings'] != 1 else ''}"
    )
    return "\n".join(lines) + "\n"


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": f.severity.value,
        "message": f.message,
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "path": f.path,
    }


def _problem_json(p: Problem) -> dict[str, Any]:
    return {
        "rule": INVALID_RULE,
        "severity": "error",
        "message": p.message,
        "file": p.file,
        "line": p.line,
        "column": p.column,
        "path": p.path,
    }


def render_json(results: Sequence[FileResult]) -> str:
    """A JSON document: every file with its findings, and the totals."""
    files = []
    for r in results:
        items = [_problem_json(p) for p in r.problems] + [_finding_json(f) for f in r.findings]
        if r.unreadable:
            items.insert(
                0,
                {
                    "rule": INVALID_RULE,
                    "severity": "error",
                    "message": r.unreadable,
                    "file": r.file,
                    "line": 0,
                    "column": 0,
                    "path": "",
                },
            )
        files.append({"file": r.file, "valid": not (r.problems or r.unreadable), "findings": items})
    return json.dumps({"files": files, "summary": _counts(results)}, indent=2) + "\n"


_LEVEL = {Severity.error: "error", Severity.warning: "warning", Severity.info: "note"}


def _sarif_result(
    rule: str, level: str, message: str, file: str, line: int, column: int
) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": file}}
    if line:
        location["region"] = {"startLine": line, "startColumn": max(column, 1)}
    return {
        "ruleId": rule,
        "level": level,
        "message": {"text": message},
        "locations": [{"physicalLocation": location}],
    }


def render_sarif(results: Sequence[FileResult]) -> str:
    """A SARIF 2.1.0 log with one run, the rule catalogue and every result."""
    rules = [
        {
            "id": INVALID_RULE,
            "name": "PolicyInvalid",
            "shortDescription": {"text": "The policy file cannot be loaded"},
            "helpUri": DOCS_URL.format(id=INVALID_RULE),
            "defaultConfiguration": {"level": "error"},
        }
    ] + [
        {
            "id": r.id,
            "name": "".join(w.capitalize() for w in r.id.split("-")),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": f"{r.title}. Rests on: {r.rests_on}."},
            "helpUri": DOCS_URL.format(id=r.id),
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
        }
        for r in RULES
    ]
    out: list[dict[str, Any]] = []
    for r in results:
        if r.unreadable:
            out.append(_sarif_result(INVALID_RULE, "error", r.unreadable, r.file, 0, 0))
        for p in r.problems:
            text = f"{p.path}: {p.message}" if p.path else p.message
            out.append(_sarif_result(INVALID_RULE, "error", text, p.file, p.line, p.column))
        for f in r.findings:
            out.append(
                _sarif_result(f.rule, _LEVEL[f.severity], f.message, f.file, f.line, f.column)
            )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tutela",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": out,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"
