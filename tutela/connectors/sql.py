"""The SQL connector (SQLAlchemy Core): PostgreSQL, MySQL/MariaDB and SQLite.

A person's rows are selected by one expression per collection: identity
fields matched against the person's identifiers, or followed references
nested as ``IN (SELECT ...)`` subqueries over the parent's own selection.
Every read is one streamed query per collection; every erasure is a handful
of set-based statements per collection in one transaction. No statement is
ever issued per row (free-text scrubbing updates its candidate rows in
batched ``executemany`` calls).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import phonenumbers
from sqlalchemy import (
    ARRAY,
    Engine,
    MetaData,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    case,
    delete,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.sqltypes import NullType

from tutela.errors import ConnectorError
from tutela.plan.graph import Graph, Node
from tutela.plan.steps import ErasureStep, FieldAction, ReadStep
from tutela.scrub import KnownPeople, detect

__all__ = [
    "CollectionReport",
    "Identities",
    "SqlConnector",
    "is_pseudonym",
    "pseudonym",
    "scrub_mentions",
    "scrub_text",
]

T = TypeVar("T")

Identities = Mapping[str, Sequence[str]]
"""The person's identifiers by kind: ``{"email": [...], "user_id": [...], "phone": [...]}``."""

REDACTED = "[erased]"
RETRIES = 3
"""Attempts per collection when the connection drops."""
RETRY_DELAY = 0.2
SCRUB_BATCH = 1_000
CONTEXT_CHARS = 60
"""Characters of text shown on each side of a mention in an access package."""


@dataclass
class CollectionReport:
    """What erasure did to one collection."""

    dataset: str
    collection: str
    action: str
    rows_deleted: int = 0
    rows_masked: int = 0
    rows_kept: int = 0
    fields_masked: tuple[str, ...] = ()
    rows_scrubbed: int = 0
    kept_because: str | None = None
    statements: list[str] = field(default_factory=list)


def pseudonym(key: bytes, value: object, *, integer: bool = False) -> str | int:
    """Keyed HMAC-SHA256 pseudonym: the same value gives the same token in every table and
    run with the same key, so joins survive. Integers map to negative integers, outside
    the range of real ids."""
    digest = hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    if integer:
        return -1 - int(digest[:15], 16)
    return f"pse_{digest[:24]}"


def is_pseudonym(value: object) -> bool:
    """Whether ``value`` looks like the output of :func:`pseudonym`."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value < 0
    return isinstance(value, str) and len(value) == 28 and value.startswith("pse_")


def _fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )


def scrub_text(text: str, terms: Sequence[str]) -> str:
    """Replace each term in ``text`` (case- and accent-insensitively) with a marker."""
    if not text or not terms:
        return text
    folded = _fold(text)
    # Folding may change lengths (ß -> ss); map back only when it did not.
    if len(folded) != len(text):
        out = text
        for term in terms:
            out = re.sub(re.escape(term), REDACTED, out, flags=re.IGNORECASE)
        return out
    spans: list[tuple[int, int]] = []
    # str.find rather than a regular expression per term: erasing many people at once
    # calls this with hundreds of different terms, each compiled pattern evicting another.
    for term in sorted({_fold(t) for t in terms if t.strip()}, key=len, reverse=True):
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = folded.find(term, end)
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + REDACTED + text[end:]
    return text


def scrub_mentions(text: str, terms: Sequence[str], matcher: KnownPeople | None = None) -> str:
    """Replace the person's mentions in ``text`` with a marker.

    The detector's matcher for known people finds the terms whatever their case,
    accents, spacing, or (for a phone number) the way the digits are written
    ("070-123 45 67" for "+46701234567"); :func:`scrub_text` then catches, between
    those, any term written inside a longer word, as erasure always did.
    """
    if not text or not terms:
        return text
    matcher = matcher or KnownPeople(terms)
    parts: list[str] = []
    pos = 0
    for mention in matcher.find(text):
        parts.append(scrub_text(text[pos : mention.start], terms))
        parts.append(REDACTED)
        pos = mention.end
    parts.append(scrub_text(text[pos:], terms))
    return "".join(parts)


def _digits_needle(term: str) -> str | None:
    """For a number (phone, id), the digits any way of writing it contains; else None.

    A phone in E.164 is written nationally with a trunk prefix ("070..." for
    "+4670..."), so the needle is its national number; the candidate query compares
    it with the column stripped of separators.
    """
    digits = re.sub(r"[^0-9]", "", term)
    if len(digits) < 6 or len(digits) < len(term.replace(" ", "")) - 2:
        return None
    if term.strip().startswith("+"):
        try:
            number = phonenumbers.parse(term.strip(), None)
        except phonenumbers.NumberParseException:
            return digits
        return str(number.national_number) if number.national_number else digits
    return digits


# What people put between the digits of a number; the matcher allows the same.
_NUMBER_SEPARATORS = (" ", "\t", "\n", "\r", "-", ".", "/", "(", ")")


def _without_separators(expression: Any) -> Any:
    for separator in _NUMBER_SEPARATORS:
        expression = func.replace(expression, separator, "")
    return expression


def candidates(table: Table, fields: Sequence[str], terms: Sequence[str]) -> ColumnElement[bool]:
    """A condition true for every row whose ``fields`` may mention one of ``terms``.

    A set-based prefilter (``LIKE`` on the lower-cased text; for numbers, on the text
    without separators) that the matcher then confirms row by row in memory. It never
    misses a row the matcher would find, up to case folding the database cannot do.
    """
    columns = [table.c[f] for f in fields]
    conditions: list[ColumnElement[bool]] = []
    for term in sorted({t.strip() for t in terms if len(t.strip()) >= 3}):
        needle = _digits_needle(term)
        for column in columns:
            if needle is not None:
                conditions.append(_without_separators(column).like(f"%{needle}%"))
                continue
            # Each word, in either spelling: the words of a name may be split by any
            # whitespace (a line break, two spaces) that a plain LIKE would not match.
            lowered = func.lower(column)
            conditions.append(
                and_(
                    *[
                        or_(*[lowered.like(f"%{_escape(v)}%", escape="\\") for v in spellings])
                        for word in term.split()
                        if (spellings := sorted({word.lower(), _fold(word)}))
                    ]
                )
            )
    return or_(*conditions) if conditions else false()


def _context(text: str, start: int, end: int) -> str:
    """The text around a mention, other personal data in it replaced by its type tag."""
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    window = text[left:right]
    inner = (start - left, end - left)
    # The person may see what was written about them, not others' data beside it.
    others = [e for e in detect(window) if e.end <= inner[0] or e.start >= inner[1]]
    parts: list[str] = []
    pos = 0
    for entity in others:
        parts.append(window[pos : entity.start])
        parts.append(f"<{entity.type.value}>")
        pos = entity.end
    parts.append(window[pos:])
    return ("…" if left else "") + "".join(parts) + ("…" if right < len(text) else "")


class SqlConnector:
    """One SQL dataset of the product, reached through its engine."""

    def __init__(
        self,
        dataset: str,
        engine: Engine | None,
        graph: Graph,
        *,
        pseudonym_key: bytes,
        metadata: MetaData | None = None,
    ) -> None:
        self.dataset = dataset
        self._engine = engine
        self.graph = graph
        self.key = pseudonym_key
        # Tables as declared (for printing plans without a database), else reflected.
        self._tables: dict[str, Table] = dict(metadata.tables) if metadata is not None else {}

    @property
    def engine(self) -> Engine:
        """The product database's engine."""
        if self._engine is None:
            raise ConnectorError(f"dataset {self.dataset!r} has no database connection here")
        return self._engine

    # ------------------------------------------------------------ schema

    def table(self, collection: str) -> Table:
        """The reflected table of a collection (reflected once)."""
        if collection not in self._tables:
            metadata = MetaData()
            try:
                self._tables[collection] = Table(collection, metadata, autoload_with=self.engine)
            except SQLAlchemyError as exc:
                raise ConnectorError(
                    f"{self.dataset}.{collection}: the table cannot be read ({type(exc).__name__})"
                ) from None
        return self._tables[collection]

    # ------------------------------------------------------------ selection

    def selector(
        self,
        node: Node,
        identities: Identities,
        external: Mapping[tuple[Node, str], Sequence[Any]] | None = None,
        _path: tuple[Node, ...] = (),
    ) -> ColumnElement[bool]:
        """The condition selecting the person's rows of ``node``."""
        table = self.table(node[1])
        terms: list[ColumnElement[bool]] = []
        for fld, kind in self.graph.seeds.get(node, ()):
            values = list(identities.get(kind, ()))
            if not values:
                continue
            column = table.c[fld]
            if _PREVIEW in values:  # printing a plan: name the parameter, bind nothing
                wanted = func.lower(column) if kind == "email" else column
                terms.append(wanted.in_(bindparam(f"person_{kind}s", expanding=True)))
            elif kind == "email":
                terms.append(self.one_of(func.lower(column), [v.lower() for v in values]))
            else:
                terms.append(self.one_of(column, coerce_values(column, values)))
        for edge in self.graph.incoming(node):
            if edge.parent in _path or edge.parent == node:
                continue  # a cycle: the parent's rows are already being selected
            child = table.c[edge.child_field]
            if edge.parent[0] == self.dataset:
                parent = self.table(edge.parent[1])
                inner = self.selector(edge.parent, identities, external, (*_path, node))
                terms.append(child.in_(select(parent.c[edge.parent_field]).where(inner)))
            else:
                values = list((external or {}).get((edge.parent, edge.parent_field), ()))
                if _PREVIEW in values:
                    name = f"{edge.parent[0]}_{edge.parent[1]}_{edge.parent_field}s"
                    terms.append(child.in_(bindparam(name, expanding=True)))
                elif values:
                    terms.append(self.one_of(child, coerce_values(child, values)))
        return or_(*terms) if terms else false()

    def one_of(self, expression: Any, values: Sequence[Any]) -> ColumnElement[bool]:
        """``expression IN (values)``; on PostgreSQL, for many values, ``= ANY(array)``:
        one parameter instead of thousands (a batch erasure has thousands of ids),
        which the driver and the planner handle much faster."""
        engine = self._engine
        if engine is not None and engine.dialect.name == "postgresql" and len(values) > 32:
            item = expression.type
            if isinstance(item, NullType):  # lower(column): text
                item = Text()
            array = bindparam(None, list(values), type_=ARRAY(item))
            return cast(ColumnElement[bool], expression == any_(array))
        return cast(ColumnElement[bool], expression.in_(values))

    def values(
        self,
        node: Node,
        fld: str,
        identities: Identities,
        external: Mapping[tuple[Node, str], Sequence[Any]] | None = None,
    ) -> list[Any]:
        """Distinct values of one field over the person's rows (for references that cross
        into another dataset)."""
        table = self.table(node[1])
        query = select(table.c[fld]).where(self.selector(node, identities, external)).distinct()
        with self.engine.connect() as conn:
            return [v for v in conn.execute(query).scalars() if v is not None]

    def statements(self, step: ErasureStep, dialect: Any) -> list[str]:
        """The statements erasure runs for one collection, as SQL of ``dialect``, with the
        person's identifiers as named parameters (``:email_1``...)."""
        node = step.read.node
        table = self.table(node[1])
        kinds = {k for seeds in self.graph.seeds.values() for _, k in seeds}
        external = {(e.parent, e.parent_field): [_PREVIEW] for e in self.graph.edges}
        preview = cast(Identities, {k: [_PREVIEW] for k in sorted(kinds)})
        where = self.selector(node, preview, external)
        out = []
        if step.scrub_fields:
            columns = ", ".join(step.scrub_fields)
            out.append(
                f"-- every row whose {columns} mentions the person: "
                f"UPDATE {node[1]} SET {columns} = <scrubbed> WHERE <primary key> = ... (batched)"
            )
        if step.action == "delete":
            out.append(_shown(delete(table).where(where), dialect))
            return out
        values: dict[str, Any] = {}
        for action in step.fields:
            if action.strategy == "null":
                values[action.field] = None
            elif action.strategy == "replace":
                values[action.field] = action.value
            elif action.strategy == "pseudonymize":
                values[action.field] = bindparam(f"pseudonym_of_{action.field}")
        if values:
            out.append(_shown(update(table).where(where).values(values), dialect))
        if step.hold is not None:
            out.append(f"-- rows kept: {step.hold.law} ({step.hold.duration})")
        return out

    # ------------------------------------------------------------ access

    def read(
        self,
        step: ReadStep,
        identities: Identities,
        external: Mapping[tuple[Node, str], Sequence[Any]] | None = None,
        *,
        batch: int = 5_000,
    ) -> Iterator[dict[str, Any]]:
        """Stream the person's rows of one collection as dicts (bounded memory)."""
        table = self.table(step.node[1])
        query = select(table).where(self.selector(step.node, identities, external))
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
                for row in result.mappings():
                    yield dict(row)
        except SQLAlchemyError as exc:
            raise ConnectorError(
                f"{self.dataset}.{step.node[1]}: reading failed ({type(exc).__name__})"
            ) from exc

    def mentions(
        self,
        node: Node,
        fields: Sequence[str],
        terms: Sequence[str],
        identities: Identities,
        external: Mapping[tuple[Node, str], Sequence[Any]] | None = None,
        *,
        batch: int = 1_000,
    ) -> Iterator[dict[str, Any]]:
        """Stream the person's mentions in the free text ``fields`` of others' rows.

        ``terms`` are what names the person in anyone's text (e-mail, phone, full
        names). One streamed query selects the candidate rows (a ``LIKE`` prefilter,
        excluding the person's own rows, which the package holds already); the
        detector's matcher confirms each mention in memory. Each mention is a dict:
        ``collection``, ``field``, ``row`` (its primary key), ``start``, ``end``,
        ``text`` (as written) and ``context`` (the text around it, others' personal
        data replaced by type tags).
        """
        if not fields or not any(len(t) >= 3 for t in terms):
            return
        table = self.table(node[1])
        keys = list(table.primary_key.columns)
        own = self.selector(node, identities, external)
        # Not "NOT own": where a reference is NULL the selector is NULL, not false, and
        # NOT NULL would drop exactly the rows nobody owns.
        where = and_(candidates(table, fields, terms), case((own, 1), else_=0) == 0)
        query = select(*keys, *[table.c[f] for f in fields]).where(where)
        matcher = KnownPeople(terms)
        name = f"{self.dataset}.{node[1]}"
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
                for row in result.mappings():
                    key = {k.name: row[k.name] for k in keys}
                    for f in fields:
                        value = row[f]
                        if not isinstance(value, str):
                            continue
                        for found in matcher.find(value):
                            yield {
                                "collection": name,
                                "field": f,
                                "row": key,
                                "start": found.start,
                                "end": found.end,
                                "text": value[found.start : found.end],
                                "context": _context(value, found.start, found.end),
                            }
        except SQLAlchemyError as exc:
            raise ConnectorError(f"{name}: reading mentions failed ({type(exc).__name__})") from exc

    # ------------------------------------------------------------ erasure

    def erase(
        self,
        step: ErasureStep,
        identities: Identities,
        scrub_terms: Sequence[str] = (),
        external: Mapping[tuple[Node, str], Sequence[Any]] | None = None,
        *,
        own_terms: Sequence[str] = (),
    ) -> CollectionReport:
        """Erase the person's rows of one collection in one transaction.

        ``scrub_terms`` (full name, email, phone) are scrubbed from every row's free
        text; ``own_terms`` (parts of the name) only from the person's own rows, where
        a first name alone still means them.
        """
        node = step.read.node
        table = self.table(node[1])
        where = self.selector(node, identities, external)

        def work(conn: Any) -> CollectionReport:
            report = CollectionReport(self.dataset, node[1], step.action)
            self._erase_in(conn, step, table, where, report, scrub_terms, own_terms)
            return report

        return self.in_transaction(f"{self.dataset}.{node[1]}", work)

    def in_transaction(self, name: str, work: Callable[[Any], T]) -> T:
        """Run ``work`` in one transaction; a dropped connection rolls it back whole and
        it is tried again on a fresh one, a few times, before the step gives up."""
        delay = RETRY_DELAY
        for attempt in range(1, RETRIES + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except (OperationalError, InterfaceError) as exc:
                if attempt == RETRIES:
                    raise ConnectorError(
                        f"{name}: erasure failed {RETRIES} times and was "
                        f"rolled back each time ({type(exc).__name__})"
                    ) from exc
                time.sleep(delay)
                delay *= 2
            except SQLAlchemyError as exc:
                raise ConnectorError(
                    f"{name}: erasure failed and was rolled back ({type(exc).__name__})"
                ) from exc
        raise AssertionError("unreachable")

    def _erase_in(
        self,
        conn: Any,
        step: ErasureStep,
        table: Table,
        where: ColumnElement[bool],
        report: CollectionReport,
        scrub_terms: Sequence[str],
        own_terms: Sequence[str],
    ) -> None:
        if step.scrub_fields and scrub_terms:
            own = [*scrub_terms, *own_terms]
            report.rows_scrubbed = self._scrub(conn, table, step.scrub_fields, own, where)
            report.rows_scrubbed += self._scrub(conn, table, step.scrub_fields, scrub_terms, None)
        self.apply_action(conn, step, table, where, report)

    def apply_action(
        self,
        conn: Any,
        step: ErasureStep,
        table: Table,
        where: ColumnElement[bool],
        report: CollectionReport,
    ) -> None:
        """Delete, mask or keep the rows ``where`` selects, on ``conn``, into ``report``."""
        if step.action == "delete":
            removal = delete(table).where(where)
            report.rows_deleted = conn.execute(removal).rowcount
            report.statements.append(_sql(removal, conn))
            return
        values = self._mask_values(conn, table, where, step.fields)
        if values:
            statement = update(table).where(where).values(values)
            count = conn.execute(statement).rowcount
            report.statements.append(_sql(statement, conn))
            report.fields_masked = tuple(values)
        else:
            count = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
        if step.action == "mask":
            report.rows_masked = count
        else:
            report.rows_kept = count
            if step.hold is not None and count:
                report.kept_because = f"{step.hold.law} ({step.hold.duration})"

    def _mask_values(
        self, conn: Any, table: Table, where: ColumnElement[bool], actions: Sequence[FieldAction]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for action in actions:
            column = table.c[action.field]
            if action.strategy == "null":
                values[action.field] = None
            elif action.strategy == "replace":
                values[action.field] = action.value
            elif action.strategy == "pseudonymize":
                # Few distinct values per person (their own id, email): one CASE maps them all.
                # Values already pseudonymised stay as they are, so running a step
                # again (after a crash) never pseudonymises a pseudonym.
                found = [
                    v
                    for v in conn.execute(select(column).where(where).distinct()).scalars()
                    if v is not None and not is_pseudonym(v)
                ]
                if found:
                    integer = column.type.python_type is int if _has_python_type(column) else False
                    values[action.field] = case(
                        {v: pseudonym(self.key, v, integer=integer) for v in found},
                        value=column,
                        else_=column,
                    )
            # scrub_subject is done over every row by _scrub; keep leaves the value.
        return values

    def _scrub(
        self,
        conn: Any,
        table: Table,
        fields: Sequence[str],
        terms: Sequence[str],
        within: ColumnElement[bool] | None,
    ) -> int:
        keys = list(table.primary_key.columns)
        if not keys:
            raise ConnectorError(f"{self.dataset}.{table.name}: scrubbing needs a primary key")
        if not any(len(t) >= 3 for t in terms):
            return 0
        columns = [table.c[f] for f in fields]
        like = candidates(table, fields, terms)
        if within is not None:
            like = and_(within, like)
        rows = conn.execute(select(*keys, *columns).where(like)).all()
        matcher = KnownPeople(terms)
        changes: list[dict[str, Any]] = []
        for row in rows:
            new = {}
            for f in fields:
                old = row._mapping[f]
                if isinstance(old, str):
                    cleaned = scrub_mentions(old, terms, matcher)
                    if cleaned != old:
                        new[f"v_{f}"] = cleaned
            if new:
                for f in fields:
                    new.setdefault(f"v_{f}", row._mapping[f])
                new.update({f"k_{k.name}": row._mapping[k.name] for k in keys})
                changes.append(new)
        if changes:
            statement = (
                update(table)
                .where(and_(*[k == bindparam(f"k_{k.name}") for k in keys]))
                .values({f: bindparam(f"v_{f}") for f in fields})
            )
            for start in range(0, len(changes), SCRUB_BATCH):
                conn.execute(statement, changes[start : start + SCRUB_BATCH])
        return len(changes)


_PREVIEW = object()
"""Stands for "the person's values" when a plan is printed rather than run."""


def _shown(statement: Any, dialect: Any) -> str:
    text = str(statement.compile(dialect=dialect))
    # Expanding parameters print as __[POSTCOMPILE_name]; show them as :name.
    return re.sub(r"\(?__\[POSTCOMPILE_(\w+)\]\)?", r"(:\1)", text)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _has_python_type(column: Any) -> bool:
    try:
        column.type.python_type  # noqa: B018 - probing support
    except NotImplementedError:
        return False
    return True


def coerce_values(column: Any, values: Sequence[Any]) -> list[Any]:
    """Identifiers arrive as text; an integer column needs integers."""
    if _has_python_type(column) and column.type.python_type is int:
        out = []
        for v in values:
            try:
                out.append(int(v))
            except (TypeError, ValueError):
                continue
        return out
    return [str(v) for v in values]


def _sql(statement: Any, conn: Any) -> str:
    return str(statement.compile(dialect=conn.dialect))
