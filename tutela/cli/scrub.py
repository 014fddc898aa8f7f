"""``tutela scrub detect|redact`` and ``tutela scan``: thin adapters over ``tutela.scrub``."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import typer

from tutela.errors import TutelaError
from tutela.scrub import COMPILED, ENGINE, EntityType, Operator, make_operator
from tutela.scrub.discovery import declared_fields, proposed_snippet, scan_database, undeclared
from tutela.scrub.engine import available_engines
from tutela.scrub.operators import DEFAULT_KEY_ENV, KEYED, secret_from_env
from tutela.scrub.stream import DEFAULT_MAX_RECORD_BYTES, Format, Mode, Options, Stats, run

__all__ = ["app", "scan"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNREADABLE = 2

app = typer.Typer(
    help="Find and scrub personal data in free text, streaming stdin to stdout.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        others = ", ".join(available_engines())
        typer.echo(f"regex engine: {ENGINE} (available here: {others})")
        typer.echo(f"compiled: {'yes' if COMPILED else 'no (pure Python)'}")
        raise typer.Exit()


@app.callback()
def _group(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the regex engine the scan uses and exit.",
    ),
) -> None:
    """Find and scrub personal data in free text."""


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _operators(specs: list[str], default: str, key_env: str) -> dict[EntityType | str, Operator]:
    """``TYPE=NAME[:ARG]`` options (and the default for the rest) as operators."""
    pairs: list[tuple[str, str]] = [("*", default)]
    for spec in specs:
        type_name, sep, op = spec.partition("=")
        if not sep or not op:
            raise typer.BadParameter(f"{spec!r}: expected TYPE=OPERATOR, e.g. EMAIL=hash")
        pairs.append((type_name.strip().upper(), op.strip()))
    secret: bytes | None = None
    operators: dict[EntityType | str, Operator] = {}
    for type_name, op in pairs:
        name, _, arg = op.partition(":")
        if type_name != "*" and type_name not in EntityType.__members__:
            known = ", ".join(t.value for t in EntityType)
            raise typer.BadParameter(f"unknown entity type {type_name!r}; choose from {known}")
        if name in KEYED and secret is None:
            secret = secret_from_env(key_env)
        operators[type_name] = make_operator(name, secret=secret, arg=arg or None)
    return operators


@contextlib.contextmanager
def _input(path: Path | None, progress: bool) -> Iterator[BinaryIO]:
    if path is None or str(path) == "-":
        yield sys.stdin.buffer
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise TutelaError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        if not (progress and sys.stderr.isatty()):
            yield handle
            return
        from rich.console import Console
        from rich.progress import Progress

        size = path.stat().st_size
        with (
            Progress(console=Console(stderr=True), transient=True) as bar,
            bar.wrap_file(handle, total=size, description=path.name) as tracked,
        ):
            yield tracked


def _run(
    mode: Mode,
    path: Path | None,
    fmt: Format,
    field: str,
    lang: str | None,
    region: str | None,
    min_score: float,
    max_record_bytes: int,
    progress: bool,
    operators: dict[EntityType | str, Operator] | None = None,
) -> None:
    options = Options(
        mode=mode,
        fmt=fmt,
        field=field,
        lang=lang,
        region=region,
        min_score=min_score,
        operators=operators,
        max_record_bytes=max_record_bytes,
    )
    try:
        with _input(path, progress) as src:
            stats: Stats = run(src, sys.stdout.buffer, options, _err)
    except TutelaError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_UNREADABLE) from exc
    if stats.skipped:
        _err(f"{stats.skipped} record(s) could not be read and were skipped")
        raise typer.Exit(EXIT_UNREADABLE)


_PATH = typer.Argument(None, help="Input file; standard input when absent or '-'.")
_FORMAT = typer.Option(Format.jsonl, "--format", "-f", help="Record format of input and output.")
_FIELD = typer.Option("text", "--field", help="JSONL key or CSV column holding the text.")
_LANG = typer.Option(
    None, "--lang", help="Language of the text (en, sv, nl, fr, cs); a record's 'lang' wins."
)
_REGION = typer.Option(None, "--region", help="Country for phone numbers without a prefix.")
_MIN_SCORE = typer.Option(0.5, "--min-score", min=0.0, max=1.0, help="Drop weaker matches.")
_MAX_RECORD = typer.Option(
    DEFAULT_MAX_RECORD_BYTES, "--max-record-bytes", min=64, help="Longer records are skipped."
)
_PROGRESS = typer.Option(True, "--progress/--no-progress", help="Progress bar for input files.")


@app.command("detect")
def detect_command(
    path: Path | None = _PATH,
    fmt: Format = _FORMAT,
    field: str = _FIELD,
    lang: str | None = _LANG,
    region: str | None = _REGION,
    min_score: float = _MIN_SCORE,
    max_record_bytes: int = _MAX_RECORD,
    progress: bool = _PROGRESS,
) -> None:
    """List the personal data in each record.

    JSONL records get an "entities" list of {type, start, end, score}; CSV rows an
    "entities" column; text lines become "line, start, end, type, score" rows.
    Exit 2 when some records could not be read (they are named on stderr).
    """
    _run(Mode.detect, path, fmt, field, lang, region, min_score, max_record_bytes, progress)


@app.command("redact")
def redact_command(
    path: Path | None = _PATH,
    fmt: Format = _FORMAT,
    field: str = _FIELD,
    lang: str | None = _LANG,
    region: str | None = _REGION,
    min_score: float = _MIN_SCORE,
    max_record_bytes: int = _MAX_RECORD,
    progress: bool = _PROGRESS,
    operator: list[str] = typer.Option(
        [],
        "--operator",
        "-o",
        help="TYPE=OPERATOR[:ARG], repeatable: redact, replace[:TEXT], mask[:KEEP], hash, "
        "encrypt, generalize.",
    ),
    default: str = typer.Option("replace", "--default", help="Operator for the other types."),
    key_env: str = typer.Option(
        DEFAULT_KEY_ENV, "--key-env", help="Environment variable holding the hash/encrypt secret."
    ),
) -> None:
    """Write each record with its personal data scrubbed.

    By default every value is replaced by its type tag (<EMAIL>). Exit 2 when some
    records could not be read (they are named on stderr and left out).
    """
    try:
        operators = _operators(operator, default, key_env)
    except TutelaError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_UNREADABLE) from exc
    _run(
        Mode.redact,
        path,
        fmt,
        field,
        lang,
        region,
        min_score,
        max_record_bytes,
        progress,
        operators,
    )


class ScanFormat(StrEnum):
    """Output formats of ``tutela scan``."""

    text = "text"
    json = "json"


def _sqlalchemy_url(url: str) -> str:
    # Plain URLs get the drivers Tutela ships with rather than SQLAlchemy's defaults.
    for prefix, driver in (
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("mysql://", "mysql+pymysql://"),
        ("mariadb://", "mysql+pymysql://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url


def _default_dataset(url: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    try:
        database = make_url(url).database or "app"
    except Exception:
        database = "app"
    name = re.sub(r"[^a-z0-9]+", "_", Path(database).stem.lower()).strip("_") or "app"
    return name, f"{name.upper()}_DATABASE_URL"


def _declared(policy_path: Path, dataset: str | None, url: str) -> tuple[dict[str, set[str]], Any]:
    from tutela.policy import load

    policy = load(policy_path)
    datasets = list(policy.datasets)
    if dataset is not None:
        chosen = [d for d in datasets if d.name == dataset]
        if not chosen:
            names = ", ".join(d.name for d in datasets) or "none"
            raise TutelaError(f"the policy has no dataset {dataset!r} (it has: {names})")
    else:
        by_env = [
            d for d in datasets if os.environ.get(d.connection) in (url, _sqlalchemy_url(url))
        ]
        chosen = by_env or datasets
    return declared_fields(chosen), chosen[0] if len(chosen) == 1 else None


def scan(
    database_url: str = typer.Argument(
        ...,
        help="Database URL: postgresql://..., mysql://... (MariaDB too) or sqlite:///file.db.",
    ),
    policy: Path | None = typer.Option(
        None, "--policy", help="Policy file whose datasets declare the columns."
    ),
    sample: int = typer.Option(100, "--sample", min=1, help="Rows sampled per table."),
    schema: str | None = typer.Option(None, "--schema", help="Schema (PostgreSQL) to scan."),
    dataset: str | None = typer.Option(
        None, "--dataset", help="The policy dataset this database is (default: by URL, else all)."
    ),
    fmt: ScanFormat = typer.Option(ScanFormat.text, "--format", "-f", help="Output format."),
) -> None:
    """Find personal data in database columns the policy does not declare.

    Reads the schema, samples up to --sample rows per table, classifies each
    column by its name (English, Swedish, Dutch, French, Czech) and its values, and
    prints a datasets snippet to paste. Exit 1 when undeclared personal columns are
    found (to gate CI), 2 when the database or policy cannot be read.
    """
    url = _sqlalchemy_url(database_url)
    declared: dict[str, set[str]] = {}
    matched: Any = None
    try:
        if policy is not None:
            declared, matched = _declared(policy, dataset, database_url)
        tables, findings = scan_database(url, schema=schema, sample=sample)
    except TutelaError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_UNREADABLE) from exc
    findings = undeclared(findings, declared)
    missing = [f for f in findings if not f.declared]
    name, connection = (
        (matched.name, matched.connection) if matched is not None else _default_dataset(url)
    )
    snippet = proposed_snippet(missing, dataset or name, connection)
    if fmt is ScanFormat.json:
        out = {
            "tables": tables,
            "columns": [f.to_dict() for f in findings],
            "undeclared": len(missing),
            "snippet": snippet,
        }
        typer.echo(json.dumps(out, indent=2))
    else:
        typer.echo(f"Scanned {len(tables)} tables, up to {sample} rows each.")
        for f in findings:
            state = "declared  " if f.declared else "UNDECLARED"
            reasons = "; ".join(f.evidence)
            typer.echo(f"{state} {f.table}.{f.column}: {', '.join(f.categories)} ({reasons})")
        if missing:
            typer.echo(
                f"\n{len(missing)} column(s) hold personal data the policy does not declare."
                " Add to the policy:\n"
            )
            typer.echo(snippet, nl=False)
        else:
            typer.echo("Every personal column found is declared.")
    if missing:
        raise typer.Exit(EXIT_FINDINGS)
