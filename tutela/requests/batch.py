"""Many approved erasures carried out together, collection by collection.

A batch is prepared once (everyone's identifiers, names and the terms that name
them in text), then each collection is erased for everyone in one transaction
(:func:`tutela.connectors.batch.erase_batch`), then each request is finished and
completed on its own, with its own report. The steps are the ones of a single
erasure, so durable execution (:mod:`tutela.jobs`) records them the same way,
and a request of a batch that failed can be run again on its own.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from tutela.connectors.batch import (
    BatchPerson,
    External,
    Owners,
    erase_batch,
    external_kind,
    owners_of,
    owners_query,
    resolve,
)
from tutela.errors import ConnectorError, RequestError, TutelaError
from tutela.plan import Node, plan_erasure
from tutela.requests.model import RequestState, RequestType
from tutela.requests.runner import Runner, shared_terms
from tutela.requests.service import Request

MAX_BATCH = 2_000
"""Requests in one batch at most: SQLite takes about 32,000 parameters a statement,
and a selector names every identifier of the batch, some more than once."""

__all__ = [
    "MAX_BATCH",
    "batch_id",
    "check_size",
    "erase_collection_batch",
    "prepare_batch",
    "run_batch",
]


def check_size(requests: Sequence[object]) -> None:
    """Refuse a batch larger than :data:`MAX_BATCH`, before anything starts."""
    if len(requests) > MAX_BATCH:
        raise RequestError(
            f"a batch holds at most {MAX_BATCH} requests ({len(requests)} given); split it"
        )


def prepare_batch(runner: Runner, requests: Sequence[Request]) -> dict[str, Any]:
    """Everything the collection steps of a batch need, before anything changes.

    The result is plain data (it is recorded by durable execution): the people,
    the union of their identifiers, the values of references across datasets, and
    whose each identifier is.
    """
    check_size(requests)
    for request in requests:
        if request.type is not RequestType.erasure:
            raise RequestError(f"request {request.id} is {request.type.value}, not an erasure")
    identities = {r.id: runner.identities(r) for r in requests}
    kinds: dict[str, dict[str, None]] = {}
    for found in identities.values():
        for kind, values in found.items():
            kinds.setdefault(kind, {}).update(dict.fromkeys(values))
    union = {kind: list(values) for kind, values in kinds.items()}
    owners = owners_of([BatchPerson(label, found, ()) for label, found in identities.items()])
    external = runner.external_values(union)
    _tag_external(runner, union, external, owners)
    names = _names(runner, union, external, owners)
    people = []
    for request in requests:
        found = identities[request.id]
        own = sorted(
            {part for name in names.get(request.id, ()) for part in name.split() if len(part) >= 3}
            | {v for vs in found.values() for v in vs if len(v) >= 3}
        )
        people.append(
            {
                "label": request.id,
                "identities": found,
                "terms": shared_terms(found, sorted(names.get(request.id, ()))),
                "own": own,
            }
        )
    return {
        "people": people,
        "identities": union,
        "external": [[list(k[0]), k[1], v] for k, v in external.items()],
        "owners": [[kind, value, labels] for (kind, value), labels in owners.items()],
    }


def _tag_external(
    runner: Runner, union: Mapping[str, Sequence[str]], external: External, owners: Owners
) -> None:
    """Whose each value of a reference into another dataset is (``ref:`` tags)."""
    for parent, fld in external:
        query = owners_query(runner.connector(parent[0]), parent, [fld], union)
        if query is None:
            continue
        with runner.connector(parent[0]).engine.connect() as conn:
            for row in conn.execute(query):
                if row.v0 is None:
                    continue
                for label in resolve(owners, row.kind, row.tag):
                    key = (external_kind(parent, fld), str(row.v0))
                    labels = owners.setdefault(key, [])
                    if label not in labels:
                        labels.append(label)


def _names(
    runner: Runner, union: Mapping[str, Sequence[str]], external: External, owners: Owners
) -> dict[str, set[str]]:
    """Each person's names as their own rows hold them (fields of category user.name)."""
    names: dict[str, set[str]] = {}
    graph = runner.graph
    for node in runner.sql_nodes(sorted(graph.seeds)):
        fields = [
            f.name
            for f in graph.collections[node].fields
            if any(c == "user.name" or c.startswith("user.name.") for c in f.categories)
        ]
        if not fields:
            continue
        connector = runner.connector(node[0])
        query = owners_query(connector, node, fields, union, external)
        if query is None:
            continue
        with connector.engine.connect() as conn:
            for row in conn.execute(query):
                labels = resolve(owners, row.kind, row.tag)
                for value in row[: len(fields)]:
                    if isinstance(value, str) and value.strip():
                        name = unicodedata.normalize("NFC", value.strip())
                        for label in labels:
                            names.setdefault(label, set()).add(name)
    return names


def erase_collection_batch(
    runner: Runner, node: Node, prepared: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Erase one collection for the whole batch in one transaction; a report per request."""
    plan = plan_erasure(runner.tutela.policy, runner.graph, runner.tutela.taxonomy)
    step = next(s for s in plan.steps if s.read.node == tuple(node))
    people = [
        BatchPerson(p["label"], p["identities"], p["terms"], p["own"]) for p in prepared["people"]
    ]
    external = {(tuple(n), f): v for n, f, v in prepared["external"]}
    try:
        if runner.is_redis(node[0]):
            # Keys are found per person (by pattern), so a batch gains nothing here.
            redis = runner.redis_connector(node[0])
            reports = {
                p.label: redis.erase(step, p.identities, p.terms, external, own_terms=p.own_terms)
                for p in people
            }
        else:
            owners: Owners = {(kind, value): labels for kind, value, labels in prepared["owners"]}
            reports = erase_batch(
                runner.connector(node[0]), step, people, prepared["identities"], external, owners
            )
    except ConnectorError as exc:
        raise ConnectorError(f"step {node[0]}.{node[1]}: {exc}") from exc
    return {
        label: {
            "dataset": report.dataset,
            "collection": report.collection,
            "action": report.action,
            "rows_deleted": report.rows_deleted,
            "rows_masked": report.rows_masked,
            "rows_kept": report.rows_kept,
            "fields_masked": report.fields_masked,
            "rows_scrubbed": report.rows_scrubbed,
            "kept_because": report.kept_because,
        }
        for label, report in reports.items()
    }


def end_batch(
    runner: Runner,
    request_ids: Sequence[str],
    reports: Sequence[Mapping[str, Mapping[str, Any]]],
    failure: str | None,
) -> list[Request]:
    """Finish and complete each request of a batch with its own reports (``reports`` has
    one mapping per collection, from request id to report), or fail them all with
    ``failure``. Requests already ended are left as they are, so running it again
    after a crash changes nothing twice."""
    ended: list[Request] = []
    for request_id in request_ids:
        request = runner.requests.get(request_id)
        if request.state is not RequestState.running:
            ended.append(request)
        elif failure is not None:
            ended.append(runner.fail(request_id, failure))
        else:
            result = runner.finish_erasure(request, [r[request_id] for r in reports])
            done = {**result, "batch": len(request_ids)}
            ended.append(runner.complete(request_id, done, request=request))
    return ended


def run_batch(runner: Runner, request_ids: Sequence[str]) -> list[Request]:
    """Run approved (or failed) erasures together, in this process, to their end.

    A step that fails fails every request of the batch, naming the step; the
    collections already done stay done, and each request can be run again.
    """
    check_size(request_ids)
    requests = [runner.start(request_id) for request_id in request_ids]
    if not requests:
        return []
    where = "preparing the batch"
    reports: list[dict[str, dict[str, Any]]] = []
    try:
        prepared = prepare_batch(runner, requests)
        for node in runner.erasure_steps():
            where = f"step {node[0]}.{node[1]}"
            reports.append(erase_collection_batch(runner, node, prepared))
    except TutelaError as exc:
        end_batch(runner, request_ids, reports, f"{where} failed: {exc}")
        raise
    return end_batch(runner, request_ids, reports, None)


def batch_id(request_ids: Sequence[str]) -> str:
    """A batch's id, the same for the same requests (so it is queued once)."""
    digest = hashlib.sha256("\n".join(sorted(request_ids)).encode()).hexdigest()
    return f"batch_{digest[:24]}"
