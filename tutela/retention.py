"""Carrying out retention sweeps on the product's databases (``tutela retention sweep``).

:func:`tutela.plan.retention.plan_sweep` says what the policy's timed retention
rules have ended for; :func:`sweep` runs each step as one set-based statement in
its own transaction (a step is done whole or not at all) and records what it did
in the ledger's ``retention`` stream: where, how many rows, which fields and
rules, never a value. A dry run counts the rows instead. Running a sweep again
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
from tutela.errors import ConnectorError
from tutela.ledger.database import open_engine
from tutela.plan.retention import SweepPlan, SweepStep, plan_sweep

if TYPE_CHECKING:
    from tutela.engine import Tutela

__all__ = ["SweepResult", "sweep"]


@dataclass(frozen=True, slots=True)
class SweepResult:
    """One step and the rows it deleted or cleared (or, in a dry run, would)."""

    step: SweepStep
    rows: int


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
) -> tuple[SweepPlan, list[SweepResult]]:
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
    try:
        for step in plan.steps:
            if step.dataset not in engines:
                engines[step.dataset] = _engine(tutela, step.dataset, connections, opened)
            result = _run(tutela, engines[step.dataset], step, dry_run)
            results.append(result)
            if progress is not None:
                progress(result)
    finally:
        for engine in opened:
            engine.dispose()
    return plan, results


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


def _run(tutela: Tutela, engine: Engine, step: SweepStep, dry_run: bool) -> SweepResult:
    spec = next(d for d in tutela.policy.datasets if d.name == step.dataset)
    table = dataset_metadata(spec).tables[step.collection]
    statement = _statement(table, step, dry_run)
    try:
        with engine.begin() as conn:
            done = conn.execute(statement)
            rows = int(done.scalar_one()) if dry_run else int(done.rowcount)
    except SQLAlchemyError as exc:
        # The driver's first line says what went wrong; the rest may hold values.
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConnectorError(
            f"retention step {step.dataset}.{step.collection} failed: {detail}"
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
