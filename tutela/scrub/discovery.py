"""Discovery: personal data in database columns nobody declared.

:func:`scan_database` reads a database's schema (PostgreSQL, MySQL/MariaDB,
SQLite through SQLAlchemy Core), samples a bounded number of rows per table,
and classifies each column by its name (words in English, Swedish, Dutch,
French and Czech, kept as data in ``data/column_words.json``) and by its values
(the detectors of :mod:`tutela.scrub`). :func:`undeclared` compares the findings
with what a policy declares and :func:`proposed_snippet` writes the ``datasets``
YAML to paste. Classification is pure; only :func:`scan_database` does I/O.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from tutela.errors import ConnectorError
from tutela.scrub.detector import detect
from tutela.scrub.entities import EntityType
from tutela.scrub.people import fold

__all__ = [
    "CATEGORY_OF_TYPE",
    "ColumnFinding",
    "classify_column",
    "classify_name",
    "classify_values",
    "declared_fields",
    "proposed_snippet",
    "scan_database",
    "undeclared",
]

CATEGORY_OF_TYPE: dict[EntityType, str] = {
    EntityType.EMAIL: "user.contact.email",
    EntityType.PHONE: "user.contact.phone_number",
    EntityType.IBAN: "user.financial.bank_account",
    EntityType.PAYMENT_CARD: "user.payment.card_number",
    EntityType.IP_ADDRESS: "user.device.ip_address",
    EntityType.NATIONAL_ID: "user.government_id.national_identification_number",
    EntityType.DATE_OF_BIRTH: "user.demographic.date_of_birth",
    EntityType.SECRET: "user.authorization.credentials",
    EntityType.PERSON: "user.name",
}
"""The data category a detected entity type stands for (URLs and company numbers: none)."""

CONTENT = "user.content"
_MAX_VALUE_CHARS = 10_000
# A column of values counts as one type when at least this share of its non-empty
# sampled values is wholly that type; a random number column passes a checksum
# now and then, never this often.
_VALUE_SHARE = 0.5
# Free text counts as carrying personal data when this share of values mentions some.
_CONTENT_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class ColumnFinding:
    """A column that holds personal data, the categories it holds and why we think so."""

    table: str
    column: str
    categories: tuple[str, ...]
    evidence: tuple[str, ...]
    declared: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data (no sampled values)."""
        return {
            "table": self.table,
            "column": self.column,
            "categories": list(self.categories),
            "evidence": list(self.evidence),
            "declared": self.declared,
        }


@dataclass(frozen=True, slots=True)
class _Words:
    strong: dict[str, str]  # word -> category
    weak: dict[str, str]
    person_tables: frozenset[str]


@cache
def _words() -> _Words:
    raw = json.loads(
        resources.files("tutela.scrub").joinpath("data/column_words.json").read_text("utf-8")
    )
    strong = {
        word: category
        for category, per_lang in raw["categories"].items()
        for words in per_lang.values()
        for word in words
    }
    weak = {word: category for category, words in raw["weak"].items() for word in words}
    return _Words(strong, weak, frozenset(raw["person_tables"]))


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def _tokens(name: str) -> list[str]:
    return [t for t in _SPLIT.split(fold(_CAMEL.sub("_", name))) if t]


def classify_name(column: str, table: str = "") -> list[tuple[str, str]]:
    """``(category, evidence)`` pairs the column's name suggests."""
    words = _words()
    tokens = _tokens(column)
    found: dict[str, str] = {}
    # Longest runs first, so "email_address" is read as one word, not "address".
    for size in range(len(tokens), 0, -1):
        for i in range(len(tokens) - size + 1):
            joined = "".join(tokens[i : i + size])
            category = words.strong.get(joined)
            if category and category not in found:
                found[category] = f"name: {joined}"
        if found:
            break
    if not found and len(tokens) == 1 and tokens[0] in words.weak:
        table_words = set(_tokens(table))
        if table_words & words.person_tables:
            found[words.weak[tokens[0]]] = f"name: {tokens[0]} in a table of people"
    return list(found.items())


def classify_values(values: Iterable[object]) -> list[tuple[str, str]]:
    """``(category, evidence)`` pairs the sampled values show."""
    texts = [_text(v) for v in values]
    texts = [t for t in texts if t]
    if not texts:
        return []
    whole: Counter[EntityType] = Counter()
    mentions: Counter[EntityType] = Counter()
    texts_with_mentions = 0
    for text in texts:
        # Bare values have no context words, so weaker matches are kept and the
        # share of values across the column decides instead.
        entities = [e for e in detect(text, min_score=0.4) if e.type in CATEGORY_OF_TYPE]
        if len(entities) == 1 and _covers(entities[0].start, entities[0].end, text):
            whole[entities[0].type] += 1
        elif entities:
            texts_with_mentions += 1
            mentions.update({e.type for e in entities})
    out: list[tuple[str, str]] = []
    n = len(texts)
    for entity_type, count in whole.most_common():
        if count / n >= _VALUE_SHARE:
            share = round(100 * count / n)
            out.append((CATEGORY_OF_TYPE[entity_type], f"values: {entity_type.value} {share}%"))
    if texts_with_mentions / n >= _CONTENT_SHARE:
        kinds = ", ".join(sorted(t.value for t in mentions))
        share = round(100 * texts_with_mentions / n)
        out.append((CONTENT, f"values: free text mentioning {kinds} in {share}%"))
    return out


def _text(value: object) -> str:
    if value is None or isinstance(value, bytes | bytearray | memoryview):
        return ""
    return str(value)[:_MAX_VALUE_CHARS].strip()


def _covers(start: int, end: int, text: str) -> bool:
    # The entity is the value, give or take quotes, brackets or a label.
    return (end - start) >= 0.8 * len(text)


def classify_column(table: str, column: str, values: Sequence[object]) -> ColumnFinding | None:
    """The finding for one column, or ``None`` when nothing personal shows."""
    by_name = classify_name(column, table)
    by_values = classify_values(values)
    categories: dict[str, list[str]] = {}
    for category, reason in by_name + by_values:
        categories.setdefault(category, []).append(reason)
    name_only_content = [c for c, _ in by_name if c == CONTENT]
    if name_only_content and not any(c == CONTENT for c, _ in by_values):
        # A column named "note" or "body" is free text; it is personal data only
        # when the sample shows people's details in it.
        categories.pop(CONTENT, None)
    if not categories:
        return None
    evidence = tuple(e for c in sorted(categories) for e in categories[c])
    return ColumnFinding(table, column, tuple(sorted(categories)), evidence)


def undeclared(
    findings: Iterable[ColumnFinding], declared: Mapping[str, set[str]]
) -> list[ColumnFinding]:
    """Every finding, marked declared when ``declared[table]`` names its column."""
    out = []
    for f in findings:
        is_declared = f.column in declared.get(f.table, set())
        out.append(ColumnFinding(f.table, f.column, f.categories, f.evidence, declared=is_declared))
    return out


def declared_fields(datasets: Iterable[Any]) -> dict[str, set[str]]:
    """Collection name to declared field names, from policy datasets (duck-typed)."""
    declared: dict[str, set[str]] = {}
    for dataset in datasets:
        for collection in dataset.collections:
            declared.setdefault(collection.name, set()).update(f.name for f in collection.fields)
    return declared


def proposed_snippet(findings: Iterable[ColumnFinding], dataset: str, connection: str) -> str:
    """The ``datasets`` YAML declaring the undeclared findings, to paste into the policy."""
    by_table: dict[str, list[ColumnFinding]] = {}
    for f in findings:
        if not f.declared:
            by_table.setdefault(f.table, []).append(f)
    if not by_table:
        return ""
    lines = [
        "datasets:",
        f"  - name: {dataset}",
        f"    connection: {connection}",
        "    collections:",
    ]
    for table in sorted(by_table):
        lines.append(f"      - name: {_yaml_key(table)}")
        lines.append("        fields:")
        for f in by_table[table]:
            categories = ", ".join(f.categories)
            lines.append(f"          - {{name: {_yaml_key(f.column)}, categories: [{categories}]}}")
    return "\n".join(lines) + "\n"


def _yaml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else json.dumps(name)


def scan_database(
    url: str, *, schema: str | None = None, sample: int = 100
) -> tuple[list[str], list[ColumnFinding]]:
    """Tables scanned and the columns found holding personal data.

    Reads at most ``sample`` rows of each table; no value leaves this function.
    Raises ``ConnectorError`` when the database cannot be reached or read.
    """
    import sqlalchemy as sa
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = sa.create_engine(url)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        raise ConnectorError(f"cannot open the database URL: {type(exc).__name__}") from exc
    findings: list[ColumnFinding] = []
    tables: list[str] = []
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            for table_name in sorted(inspector.get_table_names(schema=schema)):
                columns = [c["name"] for c in inspector.get_columns(table_name, schema=schema)]
                if not columns:
                    continue
                tables.append(table_name)
                table = sa.table(table_name, *(sa.column(c) for c in columns), schema=schema)
                rows = connection.execute(sa.select(table).limit(sample)).all()
                for i, column in enumerate(columns):
                    finding = classify_column(table_name, column, [row[i] for row in rows])
                    if finding is not None:
                        findings.append(finding)
    except SQLAlchemyError as exc:
        # The driver's message may quote values; name the failure, not the data.
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0][:200]
        raise ConnectorError(f"cannot read the database: {reason}") from exc
    finally:
        engine.dispose()
    return tables, findings
