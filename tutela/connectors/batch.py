"""Erasing many people at once: one pass over each collection for the whole batch.

Erasing a thousand people one by one repeats, a thousand times, the part that
does not depend on how many rows a person has: above all the scan of every row
of free text others wrote, looking for the person's name, e-mail or phone. A
batch does each collection once: the union of everyone's identifiers selects
the rows (the selectors take lists), others' text is read once and searched for
all the people together (:class:`~tutela.scrub.people.ManyPeople`), and one
``DELETE`` or ``UPDATE`` erases everyone's rows.

Each person still gets their own report. Before anything changes, one query per
collection lists its rows together with the identifier that made each row
someone's (the seed value a row was found through, carried along the followed
references); the rows are counted per person from it. A row two people of the
batch share counts for both.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from tutela.connectors.sql import (
    SCRUB_BATCH,
    CollectionReport,
    Identities,
    SqlConnector,
    coerce_values,
    scrub_mentions,
)
from tutela.errors import ConnectorError
from tutela.plan.graph import Node
from tutela.plan.steps import ErasureStep
from tutela.scrub.people import KnownPeople, ManyPeople

__all__ = ["BatchPerson", "Owners", "erase_batch", "owners_query", "tag_key"]

External = Mapping[tuple[Node, str], Sequence[Any]]
"""Values of references from other datasets, over the whole batch (as the selectors take)."""

Owners = dict[tuple[str, str], list[str]]
"""Which people of a batch an identifier tag ``(kind, value)`` stands for."""

EXTERNAL = "ref:"
"""Tag kinds of values that came from another dataset: ``ref:<dataset>.<coll>.<field>``."""

SCAN_ROWS = 10_000
"""Rows of others' text read and searched at a time."""


@dataclass(frozen=True)
class BatchPerson:
    """One person of a batch: who they are and what names them in text."""

    label: str
    identities: Identities
    terms: Sequence[str]
    """What names them in anyone's text (full name, e-mail, phone)."""
    own_terms: Sequence[str] = ()
    """What names them only in their own rows (parts of the name, a user id)."""


@dataclass
class _Work:
    """What one collection's erasure found out before changing anything."""

    owned: dict[tuple[Any, ...], set[str]] = field(default_factory=dict)
    changes: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    scrubbed: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict)


def tag_key(kind: str, value: object) -> tuple[str, str]:
    """The key of an identifier tag: e-mail addresses compare in lower case and integer
    ids by their number, as the selectors compare them."""
    text = str(value)
    if kind == "email":
        return kind, text.lower()
    if text.lstrip("-").isdigit():
        return kind, str(int(text))
    return kind, text


def owners_of(people: Sequence[BatchPerson]) -> Owners:
    """The people each identifier of the batch stands for."""
    out: Owners = {}
    for person in people:
        for kind, values in person.identities.items():
            for value in values:
                labels = out.setdefault(tag_key(kind, value), [])
                if person.label not in labels:
                    labels.append(person.label)
    return out


def owners_query(
    connector: SqlConnector,
    node: Node,
    fields: Sequence[str],
    identities: Identities,
    external: External | None = None,
    _path: tuple[Node, ...] = (),
) -> Select[Any] | None:
    """``fields`` of every row the batch's identifiers select, each with the tag
    ``(kind, tag)`` of the identifier it was found through.

    It mirrors :meth:`SqlConnector.selector`: the same seeds and followed
    references, the same cycles cut; where the selector nests ``IN (SELECT ...)``
    this joins, carrying the seed's tag along. A reference from another dataset is
    tagged with the referenced value itself (kind ``ref:...``), which the caller
    resolves with the owners of that dataset's rows. ``None`` when nothing selects.
    """
    table = connector.table(node[1])
    columns = [table.c[f].label(f"v{i}") for i, f in enumerate(fields)]
    parts: list[Select[Any]] = []
    for fld, kind in connector.graph.seeds.get(node, ()):
        values = list(identities.get(kind, ()))
        if not values:
            continue
        column = table.c[fld]
        if kind == "email":
            wanted = connector.one_of(func.lower(column), [v.lower() for v in values])
        else:
            wanted = connector.one_of(column, coerce_values(column, values))
        parts.append(
            select(*columns, _kind(kind), cast(column, String).label("tag"))
            .select_from(table)
            .where(wanted)
        )
    for edge in connector.graph.incoming(node):
        if edge.parent in _path or edge.parent == node:
            continue
        child = table.c[edge.child_field]
        if edge.parent[0] == connector.dataset:
            inner = owners_query(
                connector, edge.parent, [edge.parent_field], identities, external, (*_path, node)
            )
            if inner is None:
                continue
            sub = inner.subquery()
            parts.append(
                select(*columns, sub.c.kind, sub.c.tag)
                .select_from(table)
                .join(sub, child == sub.c.v0)
            )
        else:
            values = list((external or {}).get((edge.parent, edge.parent_field), ()))
            if values:
                parts.append(
                    select(
                        *columns,
                        _kind(external_kind(edge.parent, edge.parent_field)),
                        cast(child, String).label("tag"),
                    )
                    .select_from(table)
                    .where(connector.one_of(child, coerce_values(child, values)))
                )
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return select(union_all(*parts).subquery())


def external_kind(node: Node, fld: str) -> str:
    """The tag kind of values of ``fld`` of ``node`` seen from another dataset."""
    return f"{EXTERNAL}{node[0]}.{node[1]}.{fld}"


def _kind(kind: str) -> Any:
    # Typed, so that every branch of a UNION has the same column type.
    return cast(literal(kind, String), String).label("kind")


def resolve(owners: Owners, kind: str, tag: object) -> list[str]:
    """The people of the batch a row tagged ``(kind, tag)`` belongs to."""
    return owners.get(tag_key(kind, tag), [])


def erase_batch(
    connector: SqlConnector,
    step: ErasureStep,
    people: Sequence[BatchPerson],
    identities: Identities,
    external: External,
    owners: Owners,
) -> dict[str, CollectionReport]:
    """Erase every person's rows of one collection in one transaction; a report each.

    ``identities`` is the union of the batch's identifiers and ``external`` the
    values of references from other datasets over the batch; ``owners`` tells
    whose each identifier is (:func:`owners_of`, plus the ``ref:`` tags of
    external values).
    """
    node = step.read.node
    table = connector.table(node[1])
    keys = [c.name for c in table.primary_key.columns]
    # The statements are built (and every table they name reflected) before the
    # transaction: on SQLite, reflecting takes a connection of its own, which would
    # wait for the write lock this transaction holds (a worker resuming after a
    # crash has reflected nothing yet).
    owned = owners_query(
        connector, node, keys or [c.name for c in table.columns], identities, external
    )
    where = connector.selector(node, identities, external)

    def work(conn: Any) -> dict[str, CollectionReport]:
        reports = {
            p.label: CollectionReport(connector.dataset, node[1], step.action) for p in people
        }
        _erase_in(conn, connector, step, table, keys, people, (owned, where), owners, reports)
        return reports

    return connector.in_transaction(f"{connector.dataset}.{node[1]}", work)


def _erase_in(
    conn: Any,
    connector: SqlConnector,
    step: ErasureStep,
    table: Table,
    keys: list[str],
    people: Sequence[BatchPerson],
    statements: tuple[Select[Any] | None, ColumnElement[bool]],
    owners: Owners,
    reports: dict[str, CollectionReport],
) -> None:
    node = step.read.node
    query, where = statements
    if step.scrub_fields and not keys:
        raise ConnectorError(f"{connector.dataset}.{table.name}: scrubbing needs a primary key")
    work = _Work()
    if query is not None:
        for row in conn.execute(query):
            key = tuple(row[: len(keys)])
            work.owned.setdefault(key, set()).update(resolve(owners, row.kind, row.tag))
    by_label = {p.label: p for p in people}
    if step.scrub_fields:
        if step.action != "delete":
            _scrub_own(conn, step, table, keys, by_label, where, work)
        _scrub_others(conn, step, table, keys, people, work)
        _write_changes(conn, table, keys, step.scrub_fields, work.changes)
        for label, rows in work.scrubbed.items():
            reports[label].rows_scrubbed = len(rows)
    outcome = CollectionReport(connector.dataset, node[1], step.action)
    connector.apply_action(conn, step, table, where, outcome)
    fixed = {a.field for a in step.fields if a.strategy in ("null", "replace")}
    counts: dict[str, int] = {}
    for labels in work.owned.values():
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
    for label, report in reports.items():
        count = counts.get(label, 0)
        report.rows_deleted = count if step.action == "delete" else 0
        report.rows_masked = count if step.action == "mask" else 0
        report.rows_kept = count if step.action == "keep" else 0
        # As erasing the person alone reports: fixed values (null, a replacement) are
        # set on their rows whatever they hold, pseudonyms only where there were values.
        report.fields_masked = tuple(f for f in outcome.fields_masked if count or f in fixed)
        report.kept_because = outcome.kept_because if count else None


def _scrub_own(
    conn: Any,
    step: ErasureStep,
    table: Table,
    keys: list[str],
    people: Mapping[str, BatchPerson],
    where: ColumnElement[bool],
    work: _Work,
) -> None:
    """In rows that stay (masked or kept), each owner's name parts and ids too."""
    fields = list(step.scrub_fields)
    query = select(*[table.c[k] for k in keys], *[table.c[f] for f in fields]).where(where)
    terms = {label: (*p.terms, *p.own_terms) for label, p in people.items()}
    rows = conn.execute(query).all()
    texts = [v if isinstance(v, str) else None for row in rows for v in row[len(keys) :]]
    for i, labels in _by_row(_prefilter(terms).candidates(texts), len(fields)).items():
        row = rows[i]
        key = tuple(row[: len(keys)])
        # Only the row's own people: another's first name means someone else here.
        found = work.owned.get(key, set()) & labels
        if found:
            values = dict(zip(fields, row[len(keys) :], strict=True))
            _scrub_row(key, values, found, terms, work)


def _scrub_others(
    conn: Any,
    step: ErasureStep,
    table: Table,
    keys: list[str],
    people: Sequence[BatchPerson],
    work: _Work,
) -> None:
    """Every row's free text, read once and searched for all the people together."""
    named = [p for p in people if any(len(t.strip()) >= 3 for t in p.terms)]
    if not named:
        return
    terms = {p.label: tuple(p.terms) for p in named}
    prefilter = _prefilter(terms)
    fields = list(step.scrub_fields)
    columns = [table.c[f] for f in fields]
    # Rows without any text cannot name anyone: they are not even read.
    query = select(*[table.c[k] for k in keys], *columns).where(
        or_(*[and_(c.is_not(None), c != "") for c in columns])
    )
    for rows in _chunks(conn, query):
        texts = [v if isinstance(v, str) else None for row in rows for v in row[len(keys) :]]
        for i, found in _by_row(prefilter.candidates(texts), len(fields)).items():
            row = rows[i]
            key = tuple(row[: len(keys)])
            values = work.changes.get(key) or dict(zip(fields, row[len(keys) :], strict=True))
            _scrub_row(key, values, found, terms, work)


def _by_row(hits: Mapping[int, set[str]], width: int) -> dict[int, set[str]]:
    """Hits per text, as hits per row of ``width`` texts."""
    rows: dict[int, set[str]] = {}
    for index, labels in hits.items():
        rows.setdefault(index // width, set()).update(labels)
    return rows


_PREFILTERS: dict[tuple[tuple[str, tuple[str, ...]], ...], ManyPeople] = {}


def _prefilter(terms: Mapping[str, tuple[str, ...]]) -> ManyPeople:
    """The prefilter of a batch's terms, built once for all its collections."""
    key = tuple(sorted(terms.items()))
    if key not in _PREFILTERS:
        _PREFILTERS.clear()  # one batch at a time
        _PREFILTERS[key] = ManyPeople(terms)
    return _PREFILTERS[key]


@functools.lru_cache(maxsize=4_096)
def _matcher(terms: tuple[str, ...]) -> KnownPeople:
    """One person's exact matcher, compiled once for all the collections of a batch."""
    return KnownPeople(terms)


def _scrub_row(
    key: tuple[Any, ...],
    values: Mapping[str, Any],
    labels: set[str],
    terms: Mapping[str, tuple[str, ...]],
    work: _Work,
) -> None:
    """Scrub each of ``labels``' terms from one row's text; record what changed."""
    new = dict(values)
    for label in sorted(labels):
        matcher = _matcher(terms[label])
        for f, old in new.items():
            if isinstance(old, str):
                cleaned = scrub_mentions(old, terms[label], matcher)
                if cleaned != old:
                    new[f] = cleaned
                    work.scrubbed.setdefault(label, set()).add(key)
    if new != values:
        work.changes[key] = new


def _chunks(conn: Any, query: Select[Any]) -> Iterator[Sequence[Any]]:
    # Options on the statement, not the connection: the updates that follow on the
    # same connection must not run as server-side cursors.
    result = conn.execute(query.execution_options(stream_results=True, yield_per=SCAN_ROWS))
    try:
        while rows := result.fetchmany(SCAN_ROWS):
            yield rows
    finally:
        result.close()


def _write_changes(
    conn: Any,
    table: Table,
    keys: list[str],
    fields: Sequence[str],
    changes: Mapping[tuple[Any, ...], Mapping[str, Any]],
) -> None:
    if not changes:
        return
    statement = (
        table.update()
        .where(and_(*[table.c[k] == bindparam(f"k_{k}") for k in keys]))
        .values({f: bindparam(f"v_{f}") for f in fields})
    )
    rows = [
        {
            **{f"k_{k}": v for k, v in zip(keys, key, strict=True)},
            **{f"v_{f}": new[f] for f in fields},
        }
        for key, new in changes.items()
    ]
    for start in range(0, len(rows), SCRUB_BATCH):
        conn.execute(statement, rows[start : start + SCRUB_BATCH])
