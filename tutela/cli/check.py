"""``tutela check``: lint policy files."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from tutela.cli import app
from tutela.errors import InputError, PolicyError
from tutela.policy import read
from tutela.policy.lint import lint
from tutela.policy.lint.report import FileResult, render_json, render_sarif, render_text

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_UNREADABLE = 2


class Format(StrEnum):
    """Output formats of ``tutela check``."""

    text = "text"
    json = "json"
    sarif = "sarif"


def check_file(path: Path) -> FileResult:
    """Load and lint one file; never raises for bad input."""
    result = FileResult(file=str(path))
    try:
        document = read(path)
    except InputError as exc:
        result.unreadable = str(exc)
        return result
    except PolicyError as exc:
        result.problems = list(exc.problems)
        return result
    result.findings = lint(document)
    return result


@app.command("check")
def check(
    paths: list[Path] = typer.Argument(..., help="Policy files (or folders holding policy.yaml)."),
    fmt: Format = typer.Option(Format.text, "--format", "-f", help="Output format."),
) -> None:
    """Lint policy files: exit 0 when clean, 1 on an error-level finding, 2 when unreadable.

    Warnings are printed but do not fail the check.
    """
    files = [p / "policy.yaml" if p.is_dir() else p for p in paths]
    results = [check_file(p) for p in files]
    render = {Format.text: render_text, Format.json: render_json, Format.sarif: render_sarif}[fmt]
    sys.stdout.write(render(results))
    if any(r.unreadable or r.problems for r in results):
        raise typer.Exit(EXIT_UNREADABLE)
    if any(r.errors for r in results):
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_CLEAN)
