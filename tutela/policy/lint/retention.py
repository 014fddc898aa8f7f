"""Rules on retention: every category has a time limit, and every rule limits something."""

from __future__ import annotations

from collections.abc import Iterator

from tutela.policy.lint.base import Severity, rule
from tutela.policy.loader import Document
from tutela.policy.model import Policy
from tutela.policy.source import Loc

__all__ = ["category_uses"]


def category_uses(policy: Policy) -> dict[str, list[tuple[Loc, tuple[str, str] | None]]]:
    """Each category in use -> where it is named (and the collection, for dataset fields)."""
    uses: dict[str, list[tuple[Loc, tuple[str, str] | None]]] = {}
    for name, purpose in policy.purposes.items():
        for i, key in enumerate(purpose.categories):
            uses.setdefault(key, []).append((("purposes", name, "categories", i), None))
    for d, dataset in enumerate(policy.datasets):
        for c, collection in enumerate(dataset.collections):
            for f, fld in enumerate(collection.fields):
                for k, key in enumerate(fld.categories):
                    loc: Loc = ("datasets", d, "collections", c, "fields", f, "categories", k)
                    uses.setdefault(key, []).append((loc, (dataset.name, collection.name)))
    return uses


@rule(
    "category-without-retention",
    Severity.warning,
    "A category in use has no retention rule",
    "GDPR Art. 5(1)(e) storage limitation; Art. 13(2)(a)",
)
def _no_retention(document: Document) -> Iterator[tuple[Loc, str]]:
    policy, taxonomy = document.policy, document.taxonomy
    rule_categories = [key for r in policy.retention for key in r.categories]
    ruled_collections = {
        (r.dataset, r.collection) for r in policy.retention if r.collection is not None
    }
    for key, places in category_uses(policy).items():
        if not (key == "user" or key.startswith("user.")):
            continue  # system and operational data is not personal
        if any(taxonomy.covers(general, key) for general in rule_categories):
            continue
        uncovered = [
            loc for loc, where in places if where is None or where not in ruled_collections
        ]
        if uncovered:
            yield (
                uncovered[0],
                (
                    f"category {key!r} has no retention rule: say how long it is kept and what "
                    "ends it"
                ),
            )


@rule(
    "retention-covers-nothing",
    Severity.warning,
    "A retention rule names only categories nothing uses",
    "GDPR Art. 5(1)(e); Art. 30(1)(f)",
)
def _covers_nothing(document: Document) -> Iterator[tuple[Loc, str]]:
    policy, taxonomy = document.policy, document.taxonomy
    in_use = list(category_uses(policy))
    for i, r in enumerate(policy.retention):
        if r.collection is not None or not r.categories:
            continue
        related = any(
            taxonomy.covers(general, used) or taxonomy.covers(used, general)
            for general in r.categories
            for used in in_use
        )
        if not related:
            names = ", ".join(r.categories)
            yield (
                ("retention", i),
                (f"retention rule for {names} covers no category any purpose or field uses"),
            )
