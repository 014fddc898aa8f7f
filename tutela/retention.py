"""Carrying out retention sweeps on the product's databases (``tutela retention sweep``).

:func:`tutela.plan.retention.plan_sweep` says what the policy's timed retention
rules have ended for; :func:`sweep` runs each step as one set-based statement in
its own transaction (a step is done whole or not at all) and records what it did
in the ledger's ``retention`` stream: where, how many rows, which fields and
rules, never a value. For the accounts closed longer ago than an account-lifetime
rule allows it starts an erasure request each (the request then runs like any
other, legal holds included). A dry run counts instead. Running a sweep again
finds nothing more until more time has passed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from tutela.connectors.schema import dataset_metadata
from tutela.connectors.sql import is_pseudonym
from tutela.errors import ConnectorError
from tutela.ledger.database import driver_message, open_engine
from tutela.ledger.identities import normalise
from tutela.plan.retention import AccountEnd, SweepPlan, SweepStep, plan_sweep
from tutela.requests.model import RequestType
from tutela.requests.service import Requests

if TYPE_CHECKING:
    from tutela.engine import Tutela

__all__ = ["AccountsResult", "SweepReport", "SweepResult", "sweep"]


@dataclass(frozen=True, slots=True)
class SweepResult:
    """One step and the rows it deleted or cleared (or, in a dry run, would)."""

    step: SweepStep
    rows: int


@dataclass(frozen=True, slots=True)
class AccountsResult:
    """Accounts past an account-lifetime period: how many, and the erasures started."""

    end: AccountEnd
    closed: int
    started: tuple[str, ...]
    """Ids of the erasure requests started (none in a dry run)."""
    under_way: int
    """Accounts whose erasure was already under way."""


@dataclass(frozen=True, slots=True)
class SweepReport:
    """Everything one sweep did (or, in a dry run, would do)."""

    plan: SweepPlan
    steps: tuple[SweepResult, ...]
    accounts: tuple[AccountsResult, ...]
    dry_run: bool


def _condition(table: Table, step: SweepStep) -> ColumnElement[bool]:
    # Stored moments are read as UTC without a zone, as the product writes them.
    cutoff = step.cutoff.astimezone(dt.UTC).replace(tzinfo=None)
    expired = table.c[step.clock] < cutoff
    if step.delete_rows:
        return expired
    # Only rows that still hold something to clear count, so a second sweep finds none.
    holding = [
        table.c[name].is_not(None)
        if value is None
        else or_(table.c[name].is_(None), table.c[name] != value)
        for name, value in step.clear
    ]
    return and_(expired, or_(*holding))


def _statement(table: Table, step: SweepStep, dry_run: bool) -> Any:
    where = _condition(table, step)
    if dry_run:
        return select(func.count()).select_from(table).where(where)
    if step.delete_rows:
        return delete(table).where(where)
    return update(table).where(where).values(dict(step.clear))


def sweep(
    tutela: Tutela,
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    connections: Mapping[str, Engine | str] | None = None,
    progress: Callable[[SweepResult], None] | None = None,
) -> SweepReport:
    """Plan the sweep at ``now`` and carry it out on the SQL datasets (opened from
    ``connections`` or their environment variables); with ``dry_run`` only count.

    A step that fails raises :class:`ConnectorError` naming it; the steps before it
    stay done, and running the sweep again carries on.
    """
    moment = now or dt.datetime.now(dt.UTC)
    plan = plan_sweep(tutela.policy, moment)
    engines: dict[str, Engine] = {}
    opened: list[Engine] = []
    results: list[SweepResult] = []
    accounts: list[AccountsResult] = []
    tables: dict[str, Mapping[str, Table]] = {}

    def place(dataset: str, collection: str) -> tuple[Engine, Table]:
        # Each dataset's engine and declared tables, made once for the whole sweep.
        if dataset not in engines:
            engines[dataset] = _engine(tutela, dataset, connections, opened)
            spec = next(d for d in tutela.policy.datasets if d.name == dataset)
            tables[dataset] = dataset_metadata(spec).tables
        return engines[dataset], tables[dataset][collection]

    try:
        for step in plan.steps:
            result = _run(tutela, *place(step.dataset, step.collection), step, dry_run)
            results.append(result)
            if progress is not None:
                progress(result)
        for end in plan.account_ends:
            engine, table = place(end.dataset, end.collection)
            accounts.append(_end_accounts(tutela, engine, table, end, dry_run))
    finally:
        for engine in opened:
            engine.dispose()
    return SweepReport(plan, tuple(results), tuple(accounts), dry_run)


def _end_accounts(
    tutela: Tutela, engine: Engine, table: Table, end: AccountEnd, dry_run: bool
) -> AccountsResult:
    cutoff = end.cutoff.astimezone(dt.UTC).replace(tzinfo=None)
    query = select(table.c[end.identity]).where(
        table.c[end.closed] < cutoff, table.c[end.identity].is_not(None)
    )
    try:
        with engine.connect() as conn:
            values = [row[0] for row in conn.execute(query)]
    except SQLAlchemyError as exc:
        raise ConnectorError(
            f"retention: reading closed accounts in {end.dataset}.{end.collection} "
            f"failed: {driver_message(exc)}"
        ) from None
    # A masked account keeps a pseudonym where its identifier was: nobody to erase.
    closed = list(dict.fromkeys(normalise(end.kind, str(v)) for v in values if not is_pseudonym(v)))
    requests = Requests(tutela)
    # Everyone whose erasure is done or under way, found in two queries, not one per row.
    erased = tutela.ledger.erased_among(closed)
    under_way = requests.open_for(RequestType.erasure, closed)
    started: list[str] = []
    for identity in closed:
        if identity not in erased and identity not in under_way and not dry_run:
            started.append(requests.create(RequestType.erasure, identity, source="admin").id)
    if not dry_run and started:
        tutela.ledger.record_sweep(
            {
                "dataset": end.dataset,
                "collection": end.collection,
                "accounts_closed": len(closed),
                "erasures_started": len(started),
                "before": end.cutoff.isoformat(),
                "rules": list(end.rules),
            }
        )
    return AccountsResult(end, len(closed), tuple(started), len(under_way - erased))


def _engine(
    tutela: Tutela,
    dataset: str,
    connections: Mapping[str, Engine | str] | None,
    opened: list[Engine],
) -> Engine:
    spec = next(d for d in tutela.policy.datasets if d.name == dataset)
    given = (connections or {}).get(dataset)
    if isinstance(given, Engine):
        return given
    url = given or os.environ.get(spec.connection)
    if not url:
        raise ConnectorError(
            f"dataset {dataset!r}: the environment variable {spec.connection} is not set"
        )
    engine = open_engine(url)
    opened.append(engine)
    return engine


def _run(
    tutela: Tutela, engine: Engine, table: Table, step: SweepStep, dry_run: bool
) -> SweepResult:
    statement = _statement(table, step, dry_run)
    try:
        with engine.begin() as conn:
            done = conn.execute(statement)
            rows = int(done.scalar_one()) if dry_run else int(done.rowcount)
    except SQLAlchemyError as exc:
        raise ConnectorError(
            f"retention step {step.dataset}.{step.collection} failed: {driver_message(exc)}"
        ) from None
    if not dry_run:
        tutela.ledger.record_sweep(
            {
                "dataset": step.dataset,
                "collection": step.collection,
                "rows": rows,
                "deleted": step.delete_rows,
                "fields": [name for name, _ in step.clear],
                "before": step.cutoff.isoformat(),
                "rules": list(step.rules),
            }
        )
    return SweepResult(step, rows)
