"""Importing consents from a CSV file: every good row kept, every bad row named, resumable.

A file is known by the SHA-256 of its content, so re-running the same import
(under any name) resumes where it stopped, and re-running a finished one does
nothing. Rows are recorded in batches, one transaction each; the line reached
is saved in the same transaction as the batch's consents, so an interruption
loses at most the batch in flight and no row is ever recorded twice.

Columns (header names in any case, in any order):

==================  ========  ===================================================
column              required  meaning
==================  ========  ===================================================
``email``           one of    the person; unknown people are created from email,
``phone``           these     phone and user_id (subject_id must already exist)
``user_id``
``subject_id``
``purpose``         yes       a purpose the policy declares
``granted``         yes       true/false, 1/0, yes/no
``policy_version``  yes       the version the consent was given under
``timestamp``       no        ISO 8601; without a zone it is UTC; default: now
``source``          no        web, api, import (default), admin, email_link, system
``channel``         no        through which channel the choice was made
==================  ========  ===================================================

Parsing and validating a row is pure (:func:`parse_row`); :func:`import_consents`
does the file and database work.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from tutela.errors import InputError, LedgerError
from tutela.ledger import tables as t
from tutela.ledger.database import retrying
from tutela.ledger.identities import normalise
from tutela.ledger.store import SOURCES, ConsentEntry, Ledger
from tutela.policy.model import Policy

__all__ = [
    "COLUMNS",
    "IDENTITY_COLUMNS",
    "ImportProgress",
    "ImportReport",
    "RowError",
    "RowProblem",
    "check_header",
    "import_consents",
    "parse_granted",
    "parse_row",
    "parse_timestamp",
]

IDENTITY_COLUMNS = ("subject_id", "email", "phone", "user_id")
REQUIRED_COLUMNS = ("purpose", "granted", "policy_version")
OPTIONAL_COLUMNS = ("timestamp", "source", "channel")
COLUMNS = (*IDENTITY_COLUMNS, *REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
"""Every column an import file may have."""

BATCH_SIZE = 500
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})
# Clocks differ a little between the exporting system and this one.
_FUTURE_SLACK = dt.timedelta(minutes=5)


class RowError(ValueError):
    """One row cannot be imported; the message says why (never the person's identifiers)."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A skipped row: its line number in the file (1 is the header) and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Where an import stands after a committed batch."""

    lines_done: int
    total_lines: int
    imported: int
    rejected: int


@dataclass(slots=True)
class ImportReport:
    """What an import did, in this run and in total over every run of the same file."""

    name: str
    source_hash: str
    total_lines: int
    resumed_from_line: int
    lines_done: int = 0
    imported: int = 0
    rejected: int = 0
    imported_now: int = 0
    rejected_now: int = 0
    already_finished: bool = False
    problems: list[RowProblem] = field(default_factory=list)


# ------------------------------------------------------------------ pure parsing


def check_header(header: Sequence[str]) -> list[str]:
    """The header's column names, normalised; :class:`InputError` if it cannot be used."""
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise InputError(f"unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(f"column {name!r} appears twice")
        seen.add(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise InputError(f"the header has no {missing[0]!r} column")
    if not seen.intersection(IDENTITY_COLUMNS):
        raise InputError(
            "the header needs a column naming the person: " + ", ".join(IDENTITY_COLUMNS)
        )
    return names


def parse_granted(text: str) -> bool:
    """``true``/``false``, ``1``/``0``, ``yes``/``no`` in any case."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise RowError(f"granted must be true/false, 1/0 or yes/no, not {text.strip()[:20]!r}")


def parse_timestamp(text: str, now: dt.datetime) -> dt.datetime | None:
    """An ISO 8601 moment (UTC when it has no zone); ``None`` when empty."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RowError(f"timestamp {text[:40]!r} is not ISO 8601 (2024-05-01T12:00:00Z)") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    if moment > now + _FUTURE_SLACK:
        raise RowError(f"timestamp {text[:40]!r} is in the future")
    return moment.astimezone(dt.UTC)


def parse_row(
    names: Sequence[str],
    values: Sequence[str],
    *,
    purposes: Collection[str],
    versions: Collection[str],
    now: dt.datetime,
    region: str | None = None,
) -> ConsentEntry:
    """One data row as a :class:`ConsentEntry`, or :class:`RowError` saying what is wrong.

    ``versions`` are the policy's version ids; when empty any version is accepted.
    """
    if len(values) > len(names):
        raise RowError(f"{len(values)} fields, but the header has {len(names)}")
    row = {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(names)}

    purpose = row.get("purpose", "")
    if not purpose:
        raise RowError("purpose is empty")
    if purpose not in purposes:
        raise RowError(f"purpose {purpose[:100]!r} is not declared in the policy")
    granted = parse_granted(row.get("granted", ""))
    version = row.get("policy_version", "")
    if not version:
        raise RowError("policy_version is empty")
    if versions and version not in versions:
        raise RowError(f"policy version {version[:64]!r} is not declared in the policy")
    source = row.get("source") or "import"
    if source not in SOURCES:
        raise RowError(f"source {source[:40]!r} is not one of {', '.join(SOURCES)}")
    channel = row.get("channel") or None
    if channel is not None and len(channel) > 64:
        raise RowError("channel is longer than 64 characters")
    at = parse_timestamp(row.get("timestamp", ""), now)

    subject = row.get("subject_id") or None
    identities: list[tuple[str, str]] = []
    if subject is None:
        for kind in ("email", "phone", "user_id"):
            if row.get(kind):
                try:
                    identities.append(normalise(kind, row[kind], region=region))
                except ValueError as exc:  # the message names the kind, not the value
                    raise RowError(str(exc)) from None
        if not identities:
            raise RowError("no subject_id, email, phone or user_id")
    return ConsentEntry(
        purpose=purpose,
        granted=granted,
        policy_version=version,
        subject=subject,
        identities=tuple(identities),
        channel=channel,
        source=source,
        at=at,
    )


# ------------------------------------------------------------------ the file and the ledger


def _fingerprint(path: Path) -> tuple[str, int]:
    """SHA-256 of the content and its number of lines, in one pass with bounded memory."""
    digest = hashlib.sha256()
    lines = 0
    last = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk
    if last and not last.endswith(b"\n"):
        lines += 1
    return digest.hexdigest(), lines


def _records(path: Path) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) of every CSV record; quoted fields may span lines."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            end = 0
            try:
                for fields in reader:
                    start, end = end + 1, reader.line_num
                    yield start, end, fields
            except csv.Error as exc:
                raise InputError(f"{path.name}:{end + 1}: not valid CSV: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None


def _start(ledger: Ledger, name: str, source_hash: str) -> tuple[int, int, int, int, bool]:
    """The import's row (id, lines_done, imported, rejected, finished), created if new."""

    def work(conn: Connection) -> tuple[int, int, int, int, bool]:
        row = conn.execute(select(t.imports).where(t.imports.c.source_hash == source_hash)).first()
        if row is None:
            new_id = conn.execute(
                insert(t.imports)
                .values(
                    source_hash=source_hash,
                    name=name[:300],
                    lines_done=0,
                    imported=0,
                    rejected=0,
                    finished=False,
                    updated_at=dt.datetime.now(dt.UTC),
                )
                .returning(t.imports.c.id)
            ).scalar_one()
            return int(new_id), 0, 0, 0, False
        return row.id, row.lines_done, row.imported, row.rejected, bool(row.finished)

    return retrying(ledger.engine, work)


def import_consents(
    ledger: Ledger,
    policy: Policy,
    path: str | Path,
    *,
    batch_size: int = BATCH_SIZE,
    region: str | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
    on_problem: Callable[[RowProblem], None] | None = None,
) -> ImportReport:
    """Import a consents CSV file into the ledger, resuming an earlier interrupted run.

    Bad rows are skipped and reported (to ``on_problem`` as each batch commits,
    and in the report); good rows are all recorded. ``on_progress`` is called
    after every committed batch. A file that cannot be read at all (missing, not
    UTF-8, a header without the needed columns) raises :class:`InputError`.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    source_hash, total = _fingerprint(path)
    import_id, lines_done, imported, rejected, finished = _start(ledger, path.name, source_hash)
    report = ImportReport(
        name=path.name,
        source_hash=source_hash,
        total_lines=total,
        resumed_from_line=lines_done,
        lines_done=lines_done,
        imported=imported,
        rejected=rejected,
        already_finished=finished,
    )
    if finished:
        return report

    purposes = frozenset(policy.purposes)
    versions = frozenset(v.id for v in policy.versions)
    now = dt.datetime.now(dt.UTC)
    records = _records(path)
    header = next(records, None)
    if header is None:
        raise InputError(f"{path.name}: the file is empty")
    try:
        names = check_header(header[2])
    except InputError as exc:
        raise InputError(f"{path.name}:1: {exc}") from None

    pending: list[tuple[int, ConsentEntry]] = []
    problems: list[RowProblem] = []
    counted = 0  # data records in the batch, good or bad
    last_line = header[1]

    def commit(final: bool) -> None:
        nonlocal pending, problems, counted
        expected, reached = report.lines_done, max(last_line, report.lines_done)
        refused: list[RowProblem] = []

        def advance(conn: Connection, results: list[int | str]) -> None:
            # ``record_consents`` may retry its transaction; only the last try counts.
            refused[:] = [
                RowProblem(line, result)
                for (line, _), result in zip(pending, results, strict=True)
                if isinstance(result, str)
            ]
            done = conn.execute(
                update(t.imports)
                .where(t.imports.c.id == import_id, t.imports.c.lines_done == expected)
                .values(
                    lines_done=reached,
                    imported=t.imports.c.imported + len(results) - len(refused),
                    rejected=t.imports.c.rejected + len(problems) + len(refused),
                    finished=final,
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )
            # Another run of the same file moved the cursor: stop rather than record twice.
            if done.rowcount != 1:
                raise LedgerError(f"{path.name} is being imported by another run at the same time")

        ledger.record_consents([e for _, e in pending], region=region, also=advance)
        skipped = sorted([*problems, *refused], key=lambda p: p.line)
        good = len(pending) - len(refused)
        report.lines_done = reached
        report.imported += good
        report.imported_now += good
        report.rejected += len(skipped)
        report.rejected_now += len(skipped)
        report.problems.extend(skipped)
        if on_problem is not None:
            for problem in skipped:
                on_problem(problem)
        pending, problems, counted = [], [], 0
        if on_progress is not None:
            on_progress(ImportProgress(reached, total, report.imported, report.rejected))

    for start, end, fields in records:
        last_line = end
        if end <= lines_done:
            continue  # recorded by an earlier run
        if not any(f.strip() for f in fields):
            continue  # blank line
        try:
            pending.append(
                (
                    start,
                    parse_row(
                        names,
                        fields,
                        purposes=purposes,
                        versions=versions,
                        now=now,
                        region=region,
                    ),
                )
            )
        except RowError as exc:
            problems.append(RowProblem(start, str(exc)))
        counted += 1
        if counted >= batch_size:
            commit(final=False)
    commit(final=True)
    report.already_finished = False
    return report
