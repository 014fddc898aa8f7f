"""Streaming records through the detector: JSON Lines, CSV or plain text.

Input is read as bytes in fixed-size blocks, so memory stays bounded whatever
the input: a 2 GB file or a 100 MB line without a newline. Records that cannot
be read (not UTF-8, not JSON, longer than the record limit) are reported through
the ``report`` callback with their line number and skipped; everything else
still comes out. Plain text has no records to skip: bytes that are not UTF-8 are
carried through unchanged, and very long lines are processed in pieces cut at
white space.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO

from tutela.scrub.detector import detect
from tutela.scrub.entities import Entity
from tutela.scrub.redaction import Operators, apply_operators

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "Format",
    "Mode",
    "Options",
    "Piece",
    "Stats",
    "iter_pieces",
    "run",
]

DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024
_BLOCK = 1024 * 1024
_MAX_WARNINGS = 20


class Format(StrEnum):
    """Record formats the stream reader understands."""

    jsonl = "jsonl"
    csv = "csv"
    text = "text"


class Mode(StrEnum):
    """What to do with each record: list the entities, or write it scrubbed."""

    detect = "detect"
    redact = "redact"


@dataclass(frozen=True, slots=True)
class Piece:
    """Part or all of one input line: ``final`` when the line (and its newline) ends here."""

    line: int
    data: bytes
    final: bool
    newline: bytes = b""


def _cut(data: bytes, limit: int) -> int:
    """Where to cut ``data`` (longer than ``limit``): after white space, else on a character."""
    space = max(data.rfind(b" ", 0, limit), data.rfind(b"\t", 0, limit))
    if space > limit // 2:
        return space + 1
    cut = limit
    # Never in the middle of a UTF-8 sequence: back off continuation bytes.
    while cut > limit - 4 and 0x80 <= data[cut] <= 0xBF:
        cut -= 1
    return cut if cut > limit - 4 else limit


def iter_pieces(stream: BinaryIO, max_piece: int) -> Iterator[Piece]:
    """Lines of ``stream``, each in one or more pieces of at most ``max_piece`` bytes."""
    buffer = b""
    pos = 0  # start of the unread part of ``buffer``; slicing per line would copy it
    line = 1
    eof = False
    while True:
        newline_at = buffer.find(b"\n", pos, pos + max_piece + 1)
        if newline_at < 0 and not eof and len(buffer) - pos <= max_piece:
            block = stream.read(_BLOCK)
            if block:
                buffer = buffer[pos:] + block
                pos = 0
            else:
                eof = True
            continue
        if newline_at >= 0:
            end = newline_at
            newline = b"\n"
            if end > pos and buffer[end - 1] == 0x0D:
                end -= 1
                newline = b"\r\n"
            yield Piece(line, buffer[pos:end], True, newline)
            pos = newline_at + 1
            line += 1
        elif len(buffer) - pos > max_piece:
            cut = _cut(buffer[pos : pos + max_piece + 1], max_piece)
            yield Piece(line, buffer[pos : pos + cut], False)
            pos += cut
        else:  # end of input
            if pos < len(buffer):
                yield Piece(line, buffer[pos:], True)
            return


@dataclass(slots=True)
class Options:
    """How to treat each record."""

    mode: Mode
    fmt: Format = Format.jsonl
    field: str = "text"
    lang: str | None = None
    region: str | None = None
    min_score: float = 0.5
    operators: Operators = None
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES


@dataclass(slots=True)
class Stats:
    """What a run did: records read, entities found, records skipped."""

    records: int = 0
    entities: int = 0
    skipped: int = 0
    warnings: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    def count(self, entities: list[Entity]) -> None:
        """Add ``entities`` to the totals."""
        self.entities += len(entities)
        for e in entities:
            self.by_type[e.type.value] = self.by_type.get(e.type.value, 0) + 1


Report = Callable[[str], None]


def _find(text: str, options: Options, lang: str | None) -> list[Entity]:
    return detect(text, lang or options.lang, region=options.region, min_score=options.min_score)


def _run_text(src: BinaryIO, out: BinaryIO, options: Options, stats: Stats, report: Report) -> None:
    offset = 0  # characters of the current line already processed in earlier pieces
    for piece in iter_pieces(src, min(options.max_record_bytes, _BLOCK)):
        text = _lenient(piece.line, piece.data, stats, report)
        entities = _find(text, options, None)
        stats.count(entities)
        if options.mode is Mode.redact:
            scrubbed = apply_operators(text, entities, options.operators)
            out.write(scrubbed.encode("utf-8", "surrogateescape") + piece.newline)
        else:
            for e in entities:
                row = f"{piece.line}\t{offset + e.start}\t{offset + e.end}\t{e.type.value}"
                out.write(f"{row}\t{round(e.score, 3)}\n".encode())
        offset = 0 if piece.final else offset + len(text)
        if piece.final:
            stats.records += 1


def _lenient(line: int, data: bytes, stats: Stats, report: Report) -> str:
    """``data`` as text; bytes that are not UTF-8 become lone surrogates and are kept."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        stats.warnings += 1
        if stats.warnings <= _MAX_WARNINGS:
            report(f"line {line}: bytes that are not UTF-8 were passed through unchanged")
        return data.decode("utf-8", "surrogateescape")


def _records(
    src: BinaryIO, options: Options, stats: Stats, report: Report
) -> Iterator[tuple[int, bytes]]:
    """Whole lines of at most the record limit; longer ones are reported and skipped."""
    too_long = False
    for piece in iter_pieces(src, options.max_record_bytes):
        if not piece.final:
            if not too_long:
                stats.skipped += 1
                limit = options.max_record_bytes
                report(f"line {piece.line}: record longer than {limit} bytes; skipped")
            too_long = True
            continue
        if too_long:
            too_long = False
            continue
        yield piece.line, piece.data


def _decode(line: int, data: bytes, stats: Stats, report: Report) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        stats.skipped += 1
        report(f"line {line}: not valid UTF-8 (byte {exc.start + 1}); skipped")
        return None


def _run_jsonl(
    src: BinaryIO, out: BinaryIO, options: Options, stats: Stats, report: Report
) -> None:
    for line, data in _records(src, options, stats, report):
        if not data.strip():
            continue
        text = _decode(line, data, stats, report)
        if text is None:
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            stats.skipped += 1
            report(f"line {line}: not JSON ({exc.msg} at column {exc.colno}); skipped")
            continue
        if not isinstance(record, dict) or not isinstance(record.get(options.field), str):
            stats.skipped += 1
            report(f"line {line}: no string field {options.field!r}; skipped")
            continue
        value: str = record[options.field]
        lang = record.get("lang") if isinstance(record.get("lang"), str) else None
        entities = _find(value, options, lang)
        stats.count(entities)
        stats.records += 1
        if options.mode is Mode.redact:
            record[options.field] = apply_operators(value, entities, options.operators)
        else:
            record["entities"] = [e.to_dict() for e in entities]
        out.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")


def _csv_lines(src: BinaryIO, options: Options, stats: Stats, report: Report) -> Iterator[str]:
    for line, data in _records(src, options, stats, report):
        yield _lenient(line, data, stats, report) + "\n"


def _run_csv(src: BinaryIO, out: BinaryIO, options: Options, stats: Stats, report: Report) -> None:
    csv.field_size_limit(options.max_record_bytes)
    reader = csv.reader(_csv_lines(src, options, stats, report))
    sink = io.TextIOWrapper(out, encoding="utf-8", errors="surrogateescape", newline="")
    writer = csv.writer(sink, lineterminator="\n")
    try:
        header = next(reader, None)
        if header is None:
            return
        if options.field not in header:
            stats.skipped += 1
            report(f"line 1: the CSV header has no column {options.field!r}")
            return
        column = header.index(options.field)
        lang_column = header.index("lang") if "lang" in header else None
        writer.writerow(header if options.mode is Mode.redact else [*header, "entities"])
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                stats.skipped += 1
                report(f"line {reader.line_num}: unreadable CSV ({exc}); skipped")
                continue
            if column >= len(row):
                stats.skipped += 1
                report(f"line {reader.line_num}: no value in column {options.field!r}; skipped")
                continue
            lang = row[lang_column] if lang_column is not None and lang_column < len(row) else None
            entities = _find(row[column], options, lang or None)
            stats.count(entities)
            stats.records += 1
            if options.mode is Mode.redact:
                row[column] = apply_operators(row[column], entities, options.operators)
                writer.writerow(row)
            else:
                writer.writerow([*row, json.dumps([e.to_dict() for e in entities])])
    finally:
        sink.flush()
        sink.detach()


def run(src: BinaryIO, out: BinaryIO, options: Options, report: Report) -> Stats:
    """Read records from ``src``, detect or redact each, and write them to ``out``."""
    stats = Stats()
    runner = {Format.jsonl: _run_jsonl, Format.csv: _run_csv, Format.text: _run_text}
    runner[options.fmt](src, out, options, stats, report)
    out.flush()
    return stats
