"""Checks that need the whole file: names that must refer to something that exists.

A purpose naming an unknown category, a field referencing a missing
collection, two collections with one name: each is a problem with the
position of the offending value, and all of them are reported together.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from tutela.errors import Problem
from tutela.policy.model import Policy, TermExtension
from tutela.policy.source import Loc, Source
from tutela.policy.taxonomy import Kind, Taxonomy, TaxonomyError, Term

__all__ = ["check_references", "resolve_reference"]


def check_references(
    policy: Policy, source: Source, base: Taxonomy
) -> tuple[Taxonomy, list[Problem]]:
    """Return the policy's taxonomy (built-in plus its own keys) and every broken reference."""
    problems: list[Problem] = []
    taxonomy = _extend(policy, source, base, problems)

    def need(kind: Kind, key: str, loc: Loc, what: str) -> None:
        if taxonomy.has(kind, key):
            return
        message = f"unknown {what} {key!r}"
        hint = taxonomy.suggest(kind, key)
        if hint:
            message += f"; did you mean {hint!r}?"
        else:
            message += "; add it under taxonomy: in this file, below an existing parent"
        problems.append(source.problem(loc, message))

    def need_country(code: str, loc: Loc) -> None:
        if code not in taxonomy.countries:
            problems.append(source.problem(loc, f"{code!r} is not an ISO 3166-1 country code"))

    def need_purpose(name: str, loc: Loc) -> None:
        if name not in policy.purposes:
            message = f"unknown purpose {name!r}"
            hint = _close(name, policy.purposes)
            if hint:
                message += f"; did you mean {hint!r}?"
            problems.append(source.problem(loc, message))

    org = policy.organisation
    need_country(org.country, ("organisation", "country"))
    for i, code in enumerate(policy.user_countries):
        need_country(code, ("user_countries", i))
    for i, key in enumerate(policy.data_subjects):
        need("data_subject", key, ("data_subjects", i), "data subject")

    for name, purpose in policy.purposes.items():
        at: Loc = ("purposes", name)
        if purpose.data_use is not None:
            need("data_use", purpose.data_use, (*at, "data_use"), "data use")
        for i, key in enumerate(purpose.categories):
            need("data_category", key, (*at, "categories", i), "data category")
        for i, key in enumerate(purpose.data_subjects):
            need("data_subject", key, (*at, "data_subjects", i), "data subject")

    collections = _collections(policy, source, problems)

    for i, rule in enumerate(policy.retention):
        at = ("retention", i)
        for j, key in enumerate(rule.categories):
            need("data_category", key, (*at, "categories", j), "data category")
        if rule.dataset is not None:
            if rule.dataset not in {d.name for d in policy.datasets}:
                problems.append(
                    source.problem((*at, "dataset"), f"unknown dataset {rule.dataset!r}")
                )
            elif rule.collection is not None and (rule.dataset, rule.collection) not in collections:
                problems.append(
                    source.problem(
                        (*at, "collection"),
                        f"dataset {rule.dataset!r} has no collection {rule.collection!r}",
                    )
                )

    for i, recipient in enumerate(policy.recipients):
        at = ("recipients", i)
        for j, code in enumerate(recipient.countries):
            need_country(code, (*at, "countries", j))
        for j, key in enumerate(recipient.categories):
            need("data_category", key, (*at, "categories", j), "data category")
        for j, name in enumerate(recipient.purposes):
            need_purpose(name, (*at, "purposes", j))

    for i, key in enumerate(policy.rights.portability):
        need("data_category", key, ("rights", "portability", i), "data category")

    for d, dataset in enumerate(policy.datasets):
        for j, code in enumerate(dataset.countries):
            need_country(code, ("datasets", d, "countries", j))
        for c, collection in enumerate(dataset.collections):
            for f, fld in enumerate(collection.fields):
                at = ("datasets", d, "collections", c, "fields", f)
                for k, key in enumerate(fld.categories):
                    need("data_category", key, (*at, "categories", k), "data category")
                if fld.references is not None:
                    target = resolve_reference(dataset.name, fld.references)
                    if target is None:
                        problems.append(
                            source.problem(
                                (*at, "references"),
                                f"{fld.references!r} is not collection.field "
                                "or dataset.collection.field",
                            )
                        )
                    elif target not in collections:
                        problems.append(
                            source.problem(
                                (*at, "references"),
                                f"reference {fld.references!r}: " + _missing(target, collections),
                            )
                        )

    for v, version in enumerate(policy.versions):
        for j, name in enumerate(version.changed_purposes):
            need_purpose(name, ("versions", v, "changed_purposes", j))
    ids = [v.id for v in policy.versions]
    for v, vid in enumerate(ids):
        if ids.index(vid) != v:
            problems.append(source.problem(("versions", v, "id"), f"duplicate version id {vid!r}"))

    problems.sort(key=lambda p: (p.line, p.column))
    return taxonomy, problems


def resolve_reference(dataset: str, reference: str) -> tuple[str, str, str] | None:
    """``users.id`` in dataset ``app`` -> ``("app", "users", "id")``; ``None`` if malformed."""
    parts = reference.split(".")
    if len(parts) == 2 and all(parts):
        return (dataset, parts[0], parts[1])
    if len(parts) == 3 and all(parts):
        return (parts[0], parts[1], parts[2])
    return None


def _collections(
    policy: Policy, source: Source, problems: list[Problem]
) -> dict[tuple[str, str] | tuple[str, str, str], None]:
    """Every (dataset, collection) and (dataset, collection, field); duplicates are problems."""
    found: dict[tuple[str, str] | tuple[str, str, str], None] = {}
    datasets: set[str] = set()
    for d, dataset in enumerate(policy.datasets):
        if dataset.name in datasets:
            problems.append(
                source.problem(("datasets", d, "name"), f"duplicate dataset {dataset.name!r}")
            )
        datasets.add(dataset.name)
        for c, collection in enumerate(dataset.collections):
            if (dataset.name, collection.name) in found:
                problems.append(
                    source.problem(
                        ("datasets", d, "collections", c, "name"),
                        f"duplicate collection {collection.name!r} in dataset {dataset.name!r}",
                    )
                )
            found[(dataset.name, collection.name)] = None
            for f, fld in enumerate(collection.fields):
                key = (dataset.name, collection.name, fld.name)
                if key in found:
                    problems.append(
                        source.problem(
                            ("datasets", d, "collections", c, "fields", f, "name"),
                            f"duplicate field {fld.name!r} in collection {collection.name!r}",
                        )
                    )
                found[key] = None
    return found


def _missing(
    target: tuple[str, str, str],
    known: dict[tuple[str, str] | tuple[str, str, str], None],
) -> str:
    dataset, collection, field = target
    if (dataset, collection) not in known:
        names = [k[1] for k in known if len(k) == 2 and k[0] == dataset]
        hint = _close(collection, names)
        extra = f"; did you mean {hint!r}?" if hint else ""
        return f"dataset {dataset!r} has no collection {collection!r}{extra}"
    names = [k[2] for k in known if len(k) == 3 and k[:2] == (dataset, collection)]
    hint = _close(field, names)
    extra = f"; did you mean {hint!r}?" if hint else ""
    return f"collection {collection!r} has no field {field!r}{extra}"


def _close(word: str, options: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return found[0] if found else None


_EXTENSION_KINDS: tuple[tuple[str, Kind], ...] = (
    ("data_categories", "data_category"),
    ("data_uses", "data_use"),
    ("data_subjects", "data_subject"),
)


def _extend(policy: Policy, source: Source, base: Taxonomy, problems: list[Problem]) -> Taxonomy:
    taxonomy = base
    for section, kind in _EXTENSION_KINDS:
        items: tuple[TermExtension, ...] = getattr(policy.taxonomy, section)
        # Parents may be added in the same file, so add one at a time in file order.
        for i, item in enumerate(items):
            parent_key = item.key.rpartition(".")[0]
            parent = taxonomy.get(kind, parent_key) if parent_key else None
            term = Term(
                kind=kind,
                key=item.key,
                name=item.name,
                description=item.description,
                dpv=item.dpv or (parent.dpv if parent else ""),
                sensitive=item.sensitive or (parent.sensitive if parent else None),
                marketing=parent.marketing if parent else False,
                channel=parent.channel if parent else None,
                sale=parent.sale if parent else False,
                targeted_advertising=parent.targeted_advertising if parent else False,
                custom=True,
            )
            try:
                taxonomy = taxonomy.extended([term])
            except TaxonomyError as exc:
                problems.append(source.problem(("taxonomy", section, i, "key"), str(exc)))
    return taxonomy
