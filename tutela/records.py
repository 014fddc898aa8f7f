"""Reports for the people who answer for the processing: GDPR Art. 30 records, the
data map, request metrics and the differences between versions of the notice.

Pure functions of the policy (and of a list of requests); the admin console and
the privacy center only format what they return.

>>> records = records_of_processing(policy, taxonomy)        # doctest: +SKIP
>>> records_csv(records).splitlines()[0]                     # doctest: +SKIP
'purpose,description,legal_basis,...'
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from tutela.errors import TutelaError
from tutela.plan.steps import plan_access, plan_erasure
from tutela.policy.model import Contact, Policy, Purpose, RetentionRule
from tutela.policy.taxonomy import Taxonomy
from tutela.requests.model import TERMINAL, RequestState, RequestType
from tutela.requests.service import Request

__all__ = [
    "RECORD_COLUMNS",
    "DataMap",
    "Metrics",
    "RecordRow",
    "Records",
    "data_map",
    "data_map_svg",
    "plan_outline",
    "records_csv",
    "records_of_processing",
    "request_metrics",
    "version_diff",
]

# ---------------------------------------------------------------- Art. 30 records


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One purpose's line in the record of processing activities (Art. 30(1)(b)-(g))."""

    purpose: str
    description: str
    legal_basis: str
    data_subjects: tuple[str, ...]
    categories: tuple[str, ...]
    recipients: tuple[str, ...]
    third_countries: tuple[str, ...]
    safeguards: tuple[str, ...]
    erasure_time_limits: tuple[str, ...]
    security_measures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Records:
    """The controller's details (Art. 30(1)(a)) and one row per purpose."""

    controller: tuple[tuple[str, str], ...]
    rows: tuple[RecordRow, ...]


RECORD_COLUMNS = (
    "purpose",
    "description",
    "legal_basis",
    "data_subjects",
    "categories",
    "recipients",
    "third_countries",
    "safeguards",
    "erasure_time_limits",
    "security_measures",
)
"""The CSV's columns, in order; each is a field of :class:`RecordRow`."""


def _contact(contact: Contact | None) -> str:
    if contact is None:
        return ""
    parts = [contact.name, contact.email, contact.phone, contact.url]
    if contact.address is not None:
        parts.append(contact.address.one_line())
    return "; ".join(p for p in parts if p)


def _controller(policy: Policy) -> tuple[tuple[str, str], ...]:
    org = policy.organisation
    rows = [
        ("controller", org.legal_name or org.name),
        ("country", org.country),
        ("contact", _contact(org.contact)),
        ("data_protection_officer", _contact(org.dpo)),
        ("representative", _contact(org.representative)),
    ]
    return tuple((key, value) for key, value in rows if value)


def _overlaps(wanted: Iterable[str], held: Iterable[str]) -> bool:
    held = tuple(held)
    return any(Taxonomy.covers(a, b) or Taxonomy.covers(b, a) for a in wanted for b in held)


def _retention(rule: RetentionRule) -> str:
    what = ", ".join(rule.categories) or f"{rule.dataset}.{rule.collection}"
    period = f"{rule.duration} " if rule.duration else ""
    text = f"{what}: {period}{rule.trigger.value}, then {rule.action.value}"
    if rule.legal_hold is not None:
        text += f" (kept {rule.legal_hold.duration} under {rule.legal_hold.law})"
    return text


def _covered(rule: RetentionRule, policy: Policy) -> tuple[str, ...]:
    """The categories a retention rule covers: its own, or its collection's fields'."""
    if rule.categories:
        return rule.categories
    return tuple(
        category
        for dataset in policy.datasets
        if dataset.name == rule.dataset
        for collection in dataset.collections
        if collection.name == rule.collection
        for field in collection.fields
        for category in field.categories
    )


def _row(
    name: str, purpose: Purpose, policy: Policy, taxonomy: Taxonomy, home_eea: bool
) -> RecordRow:
    recipients = [r for r in policy.recipients if name in r.purposes]
    third: set[str] = set()
    safeguards: set[str] = set()
    for recipient in recipients:
        for country in recipient.countries:
            facts = taxonomy.countries.get(country)
            outside = country != policy.organisation.country and not (
                home_eea and facts is not None and facts.eea
            )
            if outside:
                third.add(country)
                safeguards.update(f"{recipient.name}: {m}" for m in recipient.transfer_mechanisms)
    subjects = purpose.data_subjects or policy.data_subjects
    return RecordRow(
        purpose=name,
        description=purpose.description or purpose.name or "",
        legal_basis=str(purpose.legal_basis),
        data_subjects=tuple(subjects),
        categories=tuple(purpose.categories),
        recipients=tuple(f"{r.name} ({r.role.value})" for r in recipients),
        third_countries=tuple(sorted(third)),
        safeguards=tuple(sorted(safeguards)),
        erasure_time_limits=tuple(
            _retention(rule)
            for rule in policy.retention
            if _overlaps(purpose.categories, _covered(rule, policy))
        ),
        security_measures=tuple(policy.security_measures),
    )


def records_of_processing(policy: Policy, taxonomy: Taxonomy) -> Records:
    """The Art. 30(1) record of a controller: who it is, then one row per purpose."""
    home = taxonomy.countries.get(policy.organisation.country)
    home_eea = bool(home and home.eea)
    rows = tuple(
        _row(name, purpose, policy, taxonomy, home_eea) for name, purpose in policy.purposes.items()
    )
    return Records(controller=_controller(policy), rows=rows)


def records_csv(records: Records) -> str:
    """The rows as CSV (lists joined by ``"; "``), preceded by the controller's lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RECORD_COLUMNS)
    for row in records.rows:
        cells: list[str] = []
        for column in RECORD_COLUMNS:
            value = getattr(row, column)
            cells.append("; ".join(value) if isinstance(value, tuple) else str(value))
        writer.writerow(cells)
    writer.writerow([])
    for key, value in records.controller:
        writer.writerow([key, value])
    return out.getvalue()


# ---------------------------------------------------------------- the data map


@dataclass(frozen=True, slots=True)
class DataMap:
    """Four columns of names and the edges between neighbouring columns."""

    datasets: tuple[str, ...]
    purposes: tuple[str, ...]
    recipients: tuple[str, ...]
    countries: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    """(from, to) pairs of node keys ``"kind:name"``."""


def data_map(policy: Policy) -> DataMap:
    """Which datasets serve which purposes (shared categories), which recipients get
    which purposes, and where datasets and recipients are."""
    edges: list[tuple[str, str]] = []
    for dataset in policy.datasets:
        held = {c for col in dataset.collections for f in col.fields for c in f.categories}
        for name, purpose in policy.purposes.items():
            if _overlaps(purpose.categories, held):
                edges.append((f"dataset:{dataset.name}", f"purpose:{name}"))
    countries: list[str] = []
    for recipient in policy.recipients:
        for name in recipient.purposes:
            edges.append((f"purpose:{name}", f"recipient:{recipient.name}"))
        for country in recipient.countries:
            edges.append((f"recipient:{recipient.name}", f"country:{country}"))
            countries.append(country)
    for dataset in policy.datasets:
        countries.extend(dataset.countries)
    return DataMap(
        datasets=tuple(d.name for d in policy.datasets),
        purposes=tuple(policy.purposes),
        recipients=tuple(dict.fromkeys(r.name for r in policy.recipients)),
        countries=tuple(sorted(set(countries))),
        edges=tuple(dict.fromkeys(edges)),
    )


_COLUMN_WIDTH = 230
_ROW_HEIGHT = 34
_BOX_WIDTH = 180


def data_map_svg(policy: Policy, *, title: str = "Data map") -> str:
    """The data map as a standalone SVG: boxes in four columns, lines between them.
    Only presentation attributes, no script and no style element, so it passes a
    strict Content-Security-Policy inline or as an image."""
    graph = data_map(policy)
    columns = (
        ("dataset", "Datasets", graph.datasets),
        ("purpose", "Purposes", graph.purposes),
        ("recipient", "Recipients", graph.recipients),
        ("country", "Countries", graph.countries),
    )
    where: dict[str, tuple[int, int]] = {}
    boxes: list[str] = []
    for index, (kind, heading, names) in enumerate(columns):
        x = 10 + index * _COLUMN_WIDTH
        boxes.append(
            f'<text x="{x}" y="24" font-weight="bold" font-size="14">{escape(heading)}</text>'
        )
        for row, name in enumerate(names):
            y = 40 + row * _ROW_HEIGHT
            where[f"{kind}:{name}"] = (x, y)
            boxes.append(
                f'<g class="{kind}"><rect x="{x}" y="{y}" width="{_BOX_WIDTH}" height="24" '
                f'rx="4" fill="#eef3f8" stroke="#4a6785"/>'
                f'<text x="{x + 8}" y="{y + 16}" font-size="12">{escape(name)}</text></g>'
            )
    lines = []
    for start, end in graph.edges:
        if start in where and end in where:
            (x1, y1), (x2, y2) = where[start], where[end]
            lines.append(
                f'<line x1="{x1 + _BOX_WIDTH}" y1="{y1 + 12}" x2="{x2}" y2="{y2 + 12}" '
                'stroke="#8aa0b5" stroke-width="1"/>'
            )
    tallest = max((len(names) for _, _, names in columns), default=0)
    width = 20 + len(columns) * _COLUMN_WIDTH
    height = 60 + tallest * _ROW_HEIGHT
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">'
        f"<title>{escape(title)}</title>" + "".join(lines) + "".join(boxes) + "</svg>"
    )


# ---------------------------------------------------------------- request plans


def plan_outline(policy: Policy, taxonomy: Taxonomy, kind: RequestType) -> list[tuple[str, str]]:
    """What a request of ``kind`` does, collection by collection, in order:
    ``("dataset.collection", "read" | "delete" | "mask ..." | "keep ...")``.
    Empty for requests that do not touch the datasets, or whose plan is refused."""
    try:
        if kind is RequestType.erasure:
            steps = plan_erasure(policy, taxonomy=taxonomy).steps
            outline: list[tuple[str, str]] = []
            for step in steps:
                action: str = step.action
                if step.fields:
                    action += ": " + ", ".join(f"{f.field} ({f.strategy})" for f in step.fields)
                if step.hold is not None:
                    action += f" [{step.hold.law}, {step.hold.duration}]"
                outline.append((".".join(step.read.node), action))
            return outline
        if kind in (RequestType.access, RequestType.portability):
            return [(".".join(s.node), "read") for s in plan_access(policy).steps]
    except TutelaError:
        return []
    return []


# ---------------------------------------------------------------- request metrics


@dataclass(frozen=True, slots=True)
class Metrics:
    """Counts of requests by type and by state, the median days to complete, overdue."""

    total: int
    by_type: Mapping[str, int]
    by_state: Mapping[str, int]
    median_days_to_complete: float | None
    overdue: int


def request_metrics(
    requests: Sequence[Request],
    finished_at: Mapping[str, dt.datetime],
    *,
    today: dt.date | None = None,
) -> Metrics:
    """Metrics of ``requests``; ``finished_at`` holds when completed ones completed
    (by request id), since a request does not carry that itself."""
    day = today or dt.date.today()
    durations = [
        (finished_at[r.id] - r.received_at).total_seconds() / 86400
        for r in requests
        if r.state is RequestState.completed and r.id in finished_at
    ]
    return Metrics(
        total=len(requests),
        by_type=dict(sorted(Counter(r.type.value for r in requests).items())),
        by_state=dict(sorted(Counter(r.state.value for r in requests).items())),
        median_days_to_complete=round(statistics.median(durations), 1) if durations else None,
        overdue=sum(1 for r in requests if r.state not in TERMINAL and day > r.due_on),
    )


# ---------------------------------------------------------------- notice versions


def version_diff(policy: Policy, folder: Path, old: str, new: str, language: str) -> list[str]:
    """A unified diff of the notices of two versions in one language, read from the
    notice files relative to ``folder`` (the policy file's folder). A version with
    no notice in that language counts as empty."""
    versions = {v.id: v for v in policy.versions}
    if old not in versions or new not in versions:
        raise KeyError(f"the policy has no version {old if old not in versions else new!r}")

    def text(version: str) -> list[str]:
        name = versions[version].notices.get(language)
        if name is None:
            return []
        path = (folder / name).resolve()
        # Notices live beside the policy; a path must not leave its folder.
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            return []
        return path.read_text(encoding="utf-8").splitlines()

    return list(difflib.unified_diff(text(old), text(new), old, new, lineterm=""))
