"""Access and erasure plans: per collection, how rows are found and what happens to them.

Plans are values. Connectors turn them into statements (one set-based
statement per collection and action, never one per row); ``tutela requests
plan`` prints them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tutela.errors import RequestError
from tutela.plan.graph import Edge, Graph, Node, build_graph
from tutela.policy.model import Collection, DatasetField, LegalHold, Policy, duration_days
from tutela.policy.references import resolve_reference
from tutela.policy.taxonomy import Taxonomy, builtin

__all__ = [
    "AccessPlan",
    "Dangling",
    "ErasurePlan",
    "ErasureStep",
    "FieldAction",
    "Hold",
    "ReadStep",
    "dangling_references",
    "erasure_steps",
    "plan_access",
    "plan_erasure",
]

Strategy = Literal["null", "replace", "pseudonymize", "scrub_subject", "keep"]


@dataclass(frozen=True, slots=True)
class ReadStep:
    """Read the person's rows of one collection: those matching an identity field, or
    pointing (through a followed reference) at rows already found."""

    node: Node
    identity_fields: tuple[tuple[str, str], ...]
    edges: tuple[Edge, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FieldAction:
    """What erasure does to one field of a kept (masked) row."""

    field: str
    strategy: Strategy
    value: Any = None


@dataclass(frozen=True, slots=True)
class Hold:
    """A law that keeps rows: which one, for how long, and which fields it needs."""

    law: str
    duration: str
    keeps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ErasureStep:
    """Erase the person's rows of one collection: delete them, mask fields, or keep them."""

    read: ReadStep
    action: Literal["delete", "mask", "keep"]
    fields: tuple[FieldAction, ...] = ()
    hold: Hold | None = None
    scrub_fields: tuple[str, ...] = ()
    """Free-text fields in which the person is scrubbed from every row (others' rows too)."""


@dataclass(frozen=True, slots=True)
class AccessPlan:
    """Collections to read, each after those its rows are found through."""

    steps: tuple[ReadStep, ...]


@dataclass(frozen=True, slots=True)
class ErasurePlan:
    """Collections to erase, children before parents so foreign keys hold throughout."""

    steps: tuple[ErasureStep, ...]


def _check(graph: Graph) -> None:
    missing = graph.unreachable_personal()
    if missing:
        names = ", ".join(f"{d}.{c}" for d, c in missing)
        raise RequestError(
            f"no identity reaches {names}: a request could not find the person's rows there; "
            "declare an identity field or a followed reference (tutela check names them)"
        )


def _read_step(graph: Graph, node: Node) -> ReadStep:
    collection = graph.collections[node]
    return ReadStep(
        node=node,
        identity_fields=graph.seeds.get(node, ()),
        edges=graph.incoming(node),
        fields=tuple(f.name for f in collection.fields),
    )


def plan_access(policy: Policy, graph: Graph | None = None) -> AccessPlan:
    """Every reachable collection, parents first. Unreachable personal data is an error."""
    graph = graph or build_graph(policy)
    _check(graph)
    return AccessPlan(tuple(_read_step(graph, node) for node in graph.order))


def _field_action(fld: DatasetField) -> FieldAction | None:
    if fld.primary_key:
        return None  # a key identifies the row, not the person; masking it breaks links
    erase = fld.erase
    if erase is None:
        if not fld.personal or fld.primary_key:
            return None
        return FieldAction(fld.name, "null")  # personal with no strategy: the safe default
    if isinstance(erase, str):
        if erase == "delete_row":
            return None
        return FieldAction(fld.name, erase)  # type: ignore[arg-type]
    return FieldAction(fld.name, "replace", erase["replace"])


def _held_action(fld: DatasetField) -> FieldAction | None:
    """What a kept (held) row does with a field the law does not need: its own strategy,
    and a reference with none is cut (the row stays; its link to the person goes)."""
    action = _field_action(fld)
    if action is None and fld.references is not None and not fld.primary_key:
        return FieldAction(fld.name, "null")
    return action


def _hold_for(
    policy: Policy, taxonomy: Taxonomy, node: Node, collection: Collection
) -> tuple[LegalHold, tuple[str, ...]] | None:
    """The legal holds covering this collection (joined into one), and the fields they
    need kept: the union of what each law needs."""
    laws: list[LegalHold] = []
    needed: dict[str, None] = {}
    for rule in policy.retention:
        if rule.legal_hold is None:
            continue
        if rule.collection is not None:
            if (rule.dataset, rule.collection) != node:
                continue
            # The law keeps the record, not its link to the person's account.
            fields = [f.name for f in collection.fields if f.references is None]
        else:
            fields = [
                f.name
                for f in collection.fields
                if any(
                    taxonomy.covers(general, c) for general in rule.categories for c in f.categories
                )
            ]
        if fields:
            laws.append(rule.legal_hold)
            needed.update(dict.fromkeys(fields))
    if not laws:
        return None
    names = "; ".join(dict.fromkeys(law.law for law in laws))
    longest = max(laws, key=lambda law: duration_days(law.duration))
    return LegalHold(law=names, duration=longest.duration), tuple(
        f.name for f in collection.fields if f.name in needed
    )


def plan_erasure(
    policy: Policy, graph: Graph | None = None, taxonomy: Taxonomy | None = None
) -> ErasurePlan:
    """Every reachable collection, children first, with its action and field strategies.

    Rows a legal hold needs are kept: the fields the law needs stay, every other
    personal field is masked, and the report names the law. A kept reference into
    rows the plan deletes is refused (:class:`RequestError`).
    """
    graph = graph or build_graph(policy)
    _check(graph)
    steps = list(_steps(policy, graph, taxonomy or builtin()))
    problems = dangling_references(graph, steps)
    if problems:
        raise RequestError(str(problems[0]))
    return ErasurePlan(tuple(steps))


def _steps(policy: Policy, graph: Graph, tax: Taxonomy) -> Iterator[ErasureStep]:
    for node in reversed(graph.order):
        collection = graph.collections[node]
        read = _read_step(graph, node)
        scrub = tuple(
            f.name for f in collection.fields if f.erase == "scrub_subject" or f.free_text
        )
        held = _hold_for(policy, tax, node, collection)
        if held is not None:
            law, keeps = held
            actions = tuple(
                a
                for f in collection.fields
                if f.name not in keeps and (a := _held_action(f)) is not None
            )
            yield ErasureStep(
                read, "keep", actions, Hold(law.law, law.duration, keeps), scrub_fields=scrub
            )
        elif collection.erase == "delete":
            yield ErasureStep(read, "delete", scrub_fields=scrub)
        elif collection.erase == "keep":
            yield ErasureStep(read, "keep", scrub_fields=scrub)
        else:
            actions = tuple(a for f in collection.fields if (a := _field_action(f)) is not None)
            yield ErasureStep(read, "mask", actions, scrub_fields=scrub)


@dataclass(frozen=True, slots=True)
class Dangling:
    """A kept field that would still point into rows erasure deletes."""

    node: Node
    field: str
    strategy: str
    target: str

    def __str__(self) -> str:
        return (
            f"{self.node[0]}.{self.node[1]}.{self.field} is kept ({self.strategy}) but "
            f"references {self.target} rows that erasure deletes; give it erase: null"
        )


def dangling_references(graph: Graph, steps: Sequence[ErasureStep]) -> list[Dangling]:
    """Kept rows' references into rows the plan deletes: a foreign key would stop the
    erasure, and the link would still point at the person."""
    deleted = {s.read.node for s in steps if s.action == "delete"}
    found = []
    for step in steps:
        if step.action == "delete":
            continue
        erased = {a.field: a.strategy for a in step.fields}
        node = step.read.node
        for fld in graph.collections[node].fields:
            if fld.references is None:
                continue
            target = resolve_reference(node[0], fld.references)
            strategy = erased.get(fld.name, "keep")
            if (
                target is not None
                and target[:2] in deleted
                and strategy in ("keep", "pseudonymize")
            ):
                found.append(Dangling(node, fld.name, strategy, target[1]))
    return found


def erasure_steps(
    policy: Policy, graph: Graph | None = None, taxonomy: Taxonomy | None = None
) -> list[ErasureStep]:
    """The erasure steps before the plan is checked (for tools that report every problem)."""
    return list(_steps(policy, graph or build_graph(policy), taxonomy or builtin()))
