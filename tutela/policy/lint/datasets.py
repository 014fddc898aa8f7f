"""Rules on datasets: undeclared personal fields, unreachable data, missing erase strategies."""

from __future__ import annotations

from collections.abc import Iterator

from tutela.plan.graph import build_graph
from tutela.policy.columns import classify_column
from tutela.policy.lint.base import Severity, rule
from tutela.policy.loader import Document
from tutela.policy.references import resolve_reference
from tutela.policy.source import Loc

__all__: list[str] = []


@rule(
    "undeclared-personal-field",
    Severity.warning,
    "A dataset field looks personal by its name but declares no category",
    "GDPR Art. 30(1)(c); Art. 5(2) accountability",
)
def _undeclared(document: Document) -> Iterator[tuple[Loc, str]]:
    for d, dataset in enumerate(document.policy.datasets):
        for c, collection in enumerate(dataset.collections):
            for f, fld in enumerate(collection.fields):
                if fld.categories or fld.identity or fld.references or fld.primary_key:
                    continue
                guess = classify_column(fld.name)
                if guess is not None:
                    yield (
                        ("datasets", d, "collections", c, "fields", f, "name"),
                        (
                            f"field {collection.name}.{fld.name} looks like {guess!r} but declares "
                            "no categories; declare what it holds (a system.* category if it "
                            "holds nothing personal)"
                        ),
                    )


@rule(
    "unreachable-personal-data",
    Severity.error,
    "A collection holds personal data that no identity can reach",
    "GDPR Art. 15, 17 and 12(2): requests must be answerable",
)
def _unreachable(document: Document) -> Iterator[tuple[Loc, str]]:
    policy = document.policy
    reachable = build_graph(policy).reachable
    for d, dataset in enumerate(policy.datasets):
        for c, collection in enumerate(dataset.collections):
            if collection.personal and (dataset.name, collection.name) not in reachable:
                yield (
                    ("datasets", d, "collections", c, "name"),
                    (
                        f"collection {dataset.name}.{collection.name} holds personal data but has "
                        "no identity field and no followed reference from a collection that "
                        "has one; a request could never find this person's rows"
                    ),
                )


@rule(
    "field-without-erase-strategy",
    Severity.warning,
    "A masked collection has a personal field with no erase strategy",
    "GDPR Art. 17(1)",
)
def _erase_strategy(document: Document) -> Iterator[tuple[Loc, str]]:
    policy = document.policy
    # Collections that identify a person: a reference into one ties a row to someone.
    identifying = {
        (dataset.name, collection.name)
        for dataset in policy.datasets
        for collection in dataset.collections
        if any(f.identity is not None for f in collection.fields)
    }
    for d, dataset in enumerate(policy.datasets):
        for c, collection in enumerate(dataset.collections):
            if collection.erase != "mask":
                continue
            for f, fld in enumerate(collection.fields):
                target = resolve_reference(dataset.name, fld.references) if fld.references else None
                if fld.erase is None and target is not None and target[:2] in identifying:
                    yield (
                        ("datasets", d, "collections", c, "fields", f, "name"),
                        (
                            f"{collection.name}.{fld.name} links masked rows to the person through "
                            f"{fld.references}; erasure would leave the link (give it null or "
                            "pseudonymize)"
                        ),
                    )
                elif fld.personal and fld.erase is None and not fld.primary_key:
                    yield (
                        ("datasets", d, "collections", c, "fields", f, "name"),
                        (
                            f"{collection.name}.{fld.name} is personal and its rows are masked on "
                            "erasure, but it has no erase strategy (null, pseudonymize, "
                            "scrub_subject, {replace: ...} or keep)"
                        ),
                    )


@rule(
    "erasure-leaves-dangling-reference",
    Severity.error,
    "A row erasure keeps would still point at the person's deleted rows",
    "GDPR Art. 17(1); referential integrity of the product database",
)
def _dangling(document: Document) -> Iterator[tuple[Loc, str]]:
    # Imported here: the planner imports the policy package, which imports the rules.
    from tutela.plan.graph import build_graph as graph_of
    from tutela.plan.steps import dangling_references, erasure_steps

    policy = document.policy
    graph = graph_of(policy)
    if graph.unreachable_personal():
        return  # unreachable-personal-data says what to fix first
    positions = {
        (dataset.name, collection.name, fld.name): ("datasets", d, "collections", c, "fields", f)
        for d, dataset in enumerate(policy.datasets)
        for c, collection in enumerate(dataset.collections)
        for f, fld in enumerate(collection.fields)
    }
    for problem in dangling_references(graph, erasure_steps(policy, graph, document.taxonomy)):
        loc = positions[(problem.node[0], problem.node[1], problem.field)]
        yield (
            (*loc, "name"),
            (
                f"{problem.node[1]}.{problem.field} stays ({problem.strategy}) after erasure but "
                f"references {problem.target} rows erasure deletes: the database would refuse, "
                "or the link would still point at the person; give it erase: null"
            ),
        )
