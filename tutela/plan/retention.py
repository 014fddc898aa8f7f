"""Retention sweeps: which rows and fields a policy's retention periods have ended for.

A retention rule whose clock is a moment stored in the rows themselves
(``since_collected``: the ``created`` timestamp field; ``since_last_activity``: the
``last_activity`` one) can be carried out without anyone asking: everything it
covers in rows whose clock is older than the period is deleted or anonymised. The
other triggers end with an event (an account closed, a user deleting, an
administrator deciding, a consent withdrawn) and are carried out by requests:
for ``while_account_active`` and ``after_account_closure`` rules with a period,
the sweep finds the accounts closed longer ago than it (the ``closed`` timestamp
field of the collection whose primary key is an identity: one row per person)
and starts their erasure.

Which rule governs a field: the rules naming its collection, else those whose
categories cover the field's categories most specifically (``user.financial.invoice``
before ``user.financial``). Where several govern it, the field is swept only if all
of them are swept by the same clock, after the longest of their periods; a legal
hold lengthens a rule's period to the hold's. A field no sweepable rule governs is
left alone, and each rule that could not be carried out says why.

A step deletes rows when it covers every personal field of a collection whose
rows erasure deletes, and the action is ``delete``; otherwise it clears the
fields it covers (to the field's ``erase: {replace: ...}`` value, else to null),
which is also what ``anonymize`` does. Pure: the policy and a moment in, the
plan out; :mod:`tutela.retention` carries it out.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from tutela.policy.model import (
    Action,
    Collection,
    DatasetField,
    Policy,
    RetentionRule,
    Trigger,
    duration_parts,
)
from tutela.policy.taxonomy import Taxonomy

__all__ = ["AccountEnd", "Kept", "SweepPlan", "SweepStep", "plan_sweep", "rule_label", "subtract"]

# The timestamp field each trigger's clock is read from.
_CLOCKS: Mapping[Trigger, str] = {
    Trigger.since_collected: "created",
    Trigger.since_last_activity: "last_activity",
}


def subtract(moment: dt.datetime, duration: str) -> dt.datetime:
    """``moment`` minus an ISO-8601 duration, years and months on the calendar (the 31st
    less a month is the last day of the month before)."""
    n = duration_parts(duration)
    months = moment.year * 12 + moment.month - 1 - n["y"] * 12 - n["mo"]
    year, month = divmod(months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    shifted = moment.replace(year=year, month=month + 1, day=day)
    return shifted - dt.timedelta(
        weeks=n["w"], days=n["d"], hours=n["h"], minutes=n["mi"], seconds=n["s"]
    )


def _length(moment: dt.datetime, duration: str) -> dt.timedelta:
    return moment - subtract(moment, duration)


@dataclass(frozen=True, slots=True)
class SweepStep:
    """One statement: in ``dataset.collection``, the rows whose ``clock`` is before
    ``cutoff`` are deleted, or have ``clear`` set (field, value; ``None`` is null)."""

    dataset: str
    collection: str
    clock: str
    cutoff: dt.datetime
    delete_rows: bool
    clear: tuple[tuple[str, object], ...]
    rules: tuple[str, ...]


# Triggers whose period runs from the end of the account; a request erases the person.
_ACCOUNT_TRIGGERS = frozenset({Trigger.while_account_active, Trigger.after_account_closure})


@dataclass(frozen=True, slots=True)
class AccountEnd:
    """Accounts in ``dataset.collection`` whose ``closed`` moment is before ``cutoff``:
    each one's erasure is started, the person named by the ``identity`` field."""

    dataset: str
    collection: str
    closed: str
    identity: str
    kind: str
    cutoff: dt.datetime
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Kept:
    """A retention rule, or part of one, that no sweep carries out, and why."""

    rule: str
    why: str


@dataclass(frozen=True, slots=True)
class SweepPlan:
    """Every step of a sweep at one moment, and what is kept."""

    now: dt.datetime
    steps: tuple[SweepStep, ...]
    kept: tuple[Kept, ...]
    account_ends: tuple[AccountEnd, ...] = ()


def rule_label(rule: RetentionRule) -> str:
    """How a rule is named in plans and reports: its name, else what it covers."""
    return rule.name or ", ".join(rule.categories) or f"{rule.dataset}.{rule.collection}"


def _governing(
    rules: tuple[RetentionRule, ...], dataset: str, collection: str, fld: DatasetField
) -> list[RetentionRule]:
    named = [r for r in rules if r.collection == collection and r.dataset == dataset]
    if named:
        return named
    best: list[RetentionRule] = []
    depth = -1
    for rule in rules:
        covering = [c for c in rule.categories for f in fld.categories if Taxonomy.covers(c, f)]
        if not covering:
            continue
        here = max(c.count(".") for c in covering)
        if here > depth:
            best, depth = [rule], here
        elif here == depth:
            best.append(rule)
    return best


def _value(fld: DatasetField) -> object:
    erase = fld.erase
    if isinstance(erase, Mapping):
        return erase["replace"]
    return None


def _period(rule: RetentionRule, now: dt.datetime) -> str:
    # A legal hold keeps the data at least as long as the law says.
    periods = [rule.duration or "P0D", *([rule.legal_hold.duration] if rule.legal_hold else [])]
    return max(periods, key=lambda d: _length(now, d))


@dataclass(frozen=True, slots=True)
class _Swept:
    """How one field is swept: by which clock field, before when, how, under which rules."""

    clock: str
    cutoff: dt.datetime
    action: Action
    rules: frozenset[str]


def _sweep_of(
    rules: tuple[RetentionRule, ...],
    where: tuple[str, Collection],
    fld: DatasetField,
    now: dt.datetime,
    kept: dict[tuple[str, str], None],
) -> _Swept | None:
    """How the rules governing ``fld`` sweep it; ``None`` (noting why in ``kept`` where a
    timed rule is stopped) when they do not."""
    dataset, collection = where
    governing = _governing(rules, dataset, collection.name, fld)
    timed = [r for r in governing if r.trigger in _CLOCKS and r.duration]
    if not governing or len(timed) < len(governing):
        return None  # no rule, or one that ends with an event: requests carry it out
    labels = frozenset(rule_label(r) for r in timed)
    clocks = {_CLOCKS[r.trigger] for r in timed}
    place = f"{dataset}.{collection.name}"
    if len(clocks) > 1:
        kept.update(
            dict.fromkeys((label, f"{place}.{fld.name}: two clocks govern it") for label in labels)
        )
        return None
    clock = clocks.pop()
    clock_field = next((f.name for f in collection.fields if f.timestamp == clock), None)
    if clock_field is None:
        kept.update(
            dict.fromkeys((label, f"{place} has no {clock} timestamp field") for label in labels)
        )
        return None
    longest = max((_period(r, now) for r in timed), key=lambda d: _length(now, d))
    every_delete = all(r.action is Action.delete for r in timed)
    return _Swept(
        clock_field,
        subtract(now, longest),
        Action.delete if every_delete else Action.anonymize,
        labels,
    )


def _step(where: tuple[str, Collection], swept: _Swept, fields: list[DatasetField]) -> SweepStep:
    dataset, collection = where
    personal = {f.name for f in collection.fields if f.personal and not f.primary_key}
    whole = (
        {f.name for f in fields} == personal
        and swept.action is Action.delete
        and collection.erase == "delete"
    )
    return SweepStep(
        dataset=dataset,
        collection=collection.name,
        clock=swept.clock,
        cutoff=swept.cutoff,
        delete_rows=whole,
        clear=() if whole else tuple((f.name, _value(f)) for f in fields),
        rules=tuple(sorted(swept.rules)),
    )


def _account_ends(policy: Policy, now: dt.datetime) -> tuple[AccountEnd, ...]:
    ending = [r for r in policy.retention if r.trigger in _ACCOUNT_TRIGGERS and r.duration]
    if not ending:
        return ()
    longest = max((_period(r, now) for r in ending), key=lambda d: _length(now, d))
    labels = tuple(sorted(rule_label(r) for r in ending))
    found = []
    for dataset in policy.datasets:
        if dataset.type != "sql":
            continue
        for collection in dataset.collections:
            # The accounts: one row per person (the primary key is an identity). Other
            # collections close too (tickets, sessions), but not the account.
            if not any(f.primary_key and f.identity is not None for f in collection.fields):
                continue
            closed = next((f.name for f in collection.fields if f.timestamp == "closed"), None)
            identities = [f for f in collection.fields if f.identity is not None]
            if closed is None:
                continue
            # An e-mail address names the person best across the ledger and the product.
            named = next((f for f in identities if f.identity == "email"), identities[0])
            found.append(
                AccountEnd(
                    dataset.name,
                    collection.name,
                    closed,
                    named.name,
                    str(named.identity),
                    subtract(now, longest),
                    labels,
                )
            )
    return tuple(found)


def plan_sweep(policy: Policy, now: dt.datetime) -> SweepPlan:
    """The sweep at ``now`` (aware or UTC): what each rule that can be swept covers."""
    rules = policy.retention
    kept: dict[tuple[str, str], None] = {}
    account_ends = _account_ends(policy, now)
    for rule in rules:
        label = rule_label(rule)
        if rule.trigger in _ACCOUNT_TRIGGERS and rule.duration:
            if not account_ends:
                kept[
                    label, "no accounts collection (primary key an identity) records when it closed"
                ] = None
        elif rule.trigger not in _CLOCKS:
            why = f"its clock ({rule.trigger.value}) starts with an event: requests carry it out"
            kept[label, why] = None
        elif rule.duration is None:
            kept[label, "it names no period"] = None
    steps: list[SweepStep] = []
    for dataset in policy.datasets:
        if dataset.type != "sql":
            for rule in rules:
                if rule.trigger in _CLOCKS and rule.dataset == dataset.name:
                    kept[rule_label(rule), f"{dataset.name} is {dataset.type}: not swept"] = None
            continue
        for collection in dataset.collections:
            where = (dataset.name, collection)
            groups: dict[tuple[str, dt.datetime, Action], tuple[_Swept, list[DatasetField]]] = {}
            for fld in collection.fields:
                if not fld.personal or fld.primary_key:
                    continue
                swept = _sweep_of(rules, where, fld, now, kept)
                if swept is None:
                    continue
                key = (swept.clock, swept.cutoff, swept.action)
                first, fields = groups.setdefault(key, (swept, []))
                groups[key] = (_Swept(*key, first.rules | swept.rules), [*fields, fld])
            steps.extend(_step(where, swept, fields) for swept, fields in groups.values())
    return SweepPlan(
        now=now,
        steps=tuple(steps),
        kept=tuple(Kept(rule, why) for rule, why in kept),
        account_ends=account_ends,
    )
