"""Carrying out approved requests across the product's databases and the ledger.

Each collection (or ledger change) is one step in its own transaction; a step
that fails leaves its collection untouched and the request ``failed`` naming
the step, so running it again picks up cleanly.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
from sqlalchemy import Engine, update

from tutela.connectors.redis import RedisConnector
from tutela.connectors.sql import Identities, SqlConnector
from tutela.decide import AccountStatus
from tutela.engine import Tutela
from tutela.errors import ConnectorError, RequestError, TutelaError
from tutela.ledger.database import open_engine
from tutela.plan import Graph, Node, build_graph, plan_access, plan_erasure
from tutela.requests.model import RequestState, RequestType
from tutela.requests.package import write_package
from tutela.requests.rectify import find_field
from tutela.requests.service import Request, Requests

if TYPE_CHECKING:
    # Only a type here: the processors module imports the request service.
    from tutela.connectors.processors import Processors

__all__ = ["Runner", "shared_terms"]

PSEUDONYM_KEY_ENV = "TUTELA_PSEUDONYM_KEY"


class Runner:
    """Runs approved requests of one :class:`~tutela.Tutela`."""

    def __init__(
        self,
        tutela: Tutela,
        *,
        connections: Mapping[str, Engine | redis.Redis | str] | None = None,
        packages: Path | None = None,
        pseudonym_key: bytes | None = None,
        processors: Processors | None = None,
    ) -> None:
        self.tutela = tutela
        self.requests = Requests(tutela)
        self.graph: Graph = build_graph(tutela.policy)
        # Recipients that take requests (by webhook or as a manual task) get them when
        # the company's own part is done: see complete().
        if processors is None:
            from tutela.connectors.processors import Processors as Handover

            processors = Handover(tutela)
        self.processors: Processors | None = processors
        self.packages = packages or Path(os.environ.get("TUTELA_PACKAGES", "packages"))
        key = pseudonym_key or os.environ.get(PSEUDONYM_KEY_ENV, "").encode()
        self._key = key or None
        self._engines: dict[str, Engine] = {}
        self._connectors: dict[str, SqlConnector] = {}
        self._redis: dict[str, redis.Redis] = {}
        for name, value in (connections or {}).items():
            if isinstance(value, redis.Redis):
                self._redis[name] = value
            elif isinstance(value, str) and self.is_redis(name):
                self._redis[name] = redis.Redis.from_url(value)
            else:
                self._engines[name] = open_engine(value) if isinstance(value, str) else value

    # ------------------------------------------------------------ connections

    def connector(self, dataset: str) -> SqlConnector:
        """The connector of a SQL dataset, opened from its environment variable."""
        spec = self.graph.datasets[dataset]
        if spec.type != "sql":
            raise ConnectorError(f"dataset {dataset!r} is {spec.type}; no connector runs it yet")
        if dataset not in self._engines:
            url = os.environ.get(spec.connection)
            if not url:
                raise ConnectorError(
                    f"dataset {dataset!r}: the environment variable {spec.connection} is not set"
                )
            self._engines[dataset] = open_engine(url)
        if self._key is None:
            # Pseudonyms with a default key could be reversed by anyone who has the code.
            raise ConnectorError(f"set {PSEUDONYM_KEY_ENV} to the key for pseudonyms")
        # One connector per dataset for the runner's life: it reflects each table once,
        # instead of asking the database's catalogue again for every step.
        if dataset not in self._connectors:
            self._connectors[dataset] = SqlConnector(
                dataset, self._engines[dataset], self.graph, pseudonym_key=self._key
            )
        return self._connectors[dataset]

    def sql_nodes(self, nodes: Sequence[Node]) -> list[Node]:
        """Those of ``nodes`` that are collections of SQL datasets."""
        return [n for n in nodes if self.graph.datasets[n[0]].type == "sql"]

    # ------------------------------------------------------------ redis datasets

    def is_redis(self, dataset: str) -> bool:
        """Whether ``dataset`` is a Redis dataset of the policy."""
        spec = self.graph.datasets.get(dataset)
        return spec is not None and spec.type == "redis"

    def redis_connector(self, dataset: str) -> RedisConnector:
        """The connector of a Redis dataset, opened from its environment variable."""
        if not self.is_redis(dataset):
            raise ConnectorError(f"dataset {dataset!r} is not a Redis dataset")
        if dataset not in self._redis:
            spec = self.graph.datasets[dataset]
            url = os.environ.get(spec.connection)
            if not url:
                raise ConnectorError(
                    f"dataset {dataset!r}: the environment variable {spec.connection} is not set"
                )
            self._redis[dataset] = redis.Redis.from_url(url)
        return RedisConnector(dataset, self._redis[dataset], self.graph)

    # ------------------------------------------------------------ identities

    def identities(self, request: Request) -> dict[str, list[str]]:
        """Every identifier the person is known by: the ledger's and the request's own."""
        found: dict[str, list[str]] = {}
        if request.subject is not None:
            for kind, value in self.tutela.ledger.identities(request.subject):
                found.setdefault(kind, []).append(value)
        given = request.details.get("identity")
        if given:
            values = found.setdefault(given[0], [])
            if given[1] not in values:
                values.append(given[1])
        return found

    def external_values(self, identities: Identities) -> dict[tuple[Node, str], list[Any]]:
        """Values of references that cross from one dataset into another."""
        out: dict[tuple[Node, str], list[Any]] = {}
        for edge in self.graph.edges:
            if edge.parent[0] != edge.child[0] and edge.parent in self.graph.reachable:
                if self.graph.datasets[edge.parent[0]].type != "sql":
                    continue
                out[(edge.parent, edge.parent_field)] = self.connector(edge.parent[0]).values(
                    edge.parent, edge.parent_field, identities
                )
        return out

    # ------------------------------------------------------------ running

    def start(self, request_id: str) -> Request:
        """Move an approved (or failed) request to running; a running one stays as it is
        (a worker resuming after a crash)."""
        request = self.requests.get(request_id)
        if request.state is RequestState.running:
            return request
        if request.state not in (RequestState.approved, RequestState.failed):
            raise RequestError(f"request {request_id} is {request.state.value}, not approved")
        return self.requests.transition(request_id, RequestState.running, actor="runner")

    def fail(self, request_id: str, reason: str) -> Request:
        """Record that the request failed, and why (which step)."""
        return self.requests.transition(
            request_id, RequestState.failed, reason=reason, actor="runner"
        )

    def complete(
        self, request_id: str, result: Mapping[str, Any], *, request: Request | None = None
    ) -> Request:
        """Record the request's result and end it: ``completed``, or ``partially_completed``
        while processor steps (webhooks, manual tasks) are pending. ``request`` saves
        reading it again when the caller has it."""
        target = RequestState.completed
        request = request or self.requests.get(request_id)
        # Nothing found for an identity nobody knows: the answer is "no data found",
        # and nobody else is told about the person.
        nobody = result.get("found") is False and request.subject is None
        if self.processors is not None and not nobody:
            try:
                # Only a webhook carries the person's identifiers to the recipient.
                webhooks = any(
                    channel == "webhook" for _, channel in self.processors.recipients(request.type)
                )
                identities = self.identities(request) if webhooks else {}
                tasks = self.processors.dispatch(request, identities)
            except TutelaError as exc:
                self.fail(request_id, f"handing over to processors: {exc}")
                raise
            if tasks:
                from tutela.connectors.processors import summary

                result = {**result, "processors": summary(tasks)}
            if any(not task.done for task in tasks):
                target = RequestState.partially_completed
        return self.requests.transition(request_id, target, actor="runner", result=result)

    def execute(self, request: Request) -> dict[str, Any]:
        """Carry out a running request's work in one go (durable execution splits it)."""
        return self._dispatch(request)

    def run(self, request_id: str) -> Request:
        """Run an approved (or failed) request to its end, in this process."""
        request = self.start(request_id)
        try:
            result = self.execute(request)
        except TutelaError as exc:
            self.fail(request_id, str(exc))
            raise
        return self.complete(request_id, result)

    def _dispatch(self, request: Request) -> dict[str, Any]:
        kind = request.type
        if request.subject is None and kind not in (
            RequestType.access,
            RequestType.portability,
            RequestType.erasure,
        ):
            return {"found": False, "message": "no data found"}
        if kind in (RequestType.access, RequestType.portability):
            return self._access(request, portable=kind is RequestType.portability)
        if kind is RequestType.erasure:
            return self._erase(request)
        if kind is RequestType.rectification:
            return self._rectify(request)
        assert request.subject is not None
        ledger = self.tutela.ledger
        if kind is RequestType.restriction:
            active = request.details.get("action", "start") == "start"
            reason = request.details.get("reason") or f"request {request.id}"
            ledger.set_restriction(request.subject, active, reason)
            return {"restricted": active}
        if kind is RequestType.objection:
            for purpose in request.details["purposes"]:
                ledger.set_objection(request.subject, purpose, True, source="api")
            return {"objected": list(request.details["purposes"])}
        for purpose in request.details["purposes"]:
            ledger.record_consent(
                request.subject,
                purpose,
                False,
                policy_version=self.tutela.policy.version,
                source="api",
            )
        return {"withdrawn": list(request.details["purposes"])}

    def _access(self, request: Request, *, portable: bool) -> dict[str, Any]:
        identities = self.identities(request)
        plan = plan_access(self.tutela.policy, self.graph)
        external = self.external_values(identities)

        def collections() -> Iterator[tuple[str, str, Any]]:
            for step in plan.steps:
                if self.is_redis(step.node[0]):
                    redis_connector = self.redis_connector(step.node[0])
                    yield (
                        step.node[0],
                        step.node[1],
                        lambda r=redis_connector, s=step: r.read(s, identities, external),
                    )
                    continue
                if step.node not in self.sql_nodes([step.node]):
                    continue
                connector = self.connector(step.node[0])
                yield (
                    step.node[0],
                    step.node[1],
                    lambda c=connector, s=step: c.read(s, identities, external),
                )

        def mentions() -> Iterator[dict[str, Any]]:
            terms = shared_terms(identities, self._names(identities, external))
            for node in self.sql_nodes(sorted(self.graph.collections)):
                fields = [
                    f.name
                    for f in self.graph.collections[node].fields
                    if f.free_text or f.erase == "scrub_subject"
                ]
                if fields:
                    connector = self.connector(node[0])
                    yield from connector.mentions(node, fields, terms, identities, external)

        path = self.packages / f"{request.id}.zip"
        summary = write_package(
            path,
            policy=self.tutela.policy,
            taxonomy=self.tutela.taxonomy,
            subject={"request": request.id, "identities": sorted(identities)},
            collections=collections(),
            language=request.language,
            portable_only=portable,
            # Others' text is no data the person provided: nothing to port. Someone
            # the ledger does not know is told of nobody, so of nobody's text either.
            mentions=None if portable or request.subject is None else mentions,
        )
        return {
            "found": summary.total > 0 or summary.mentions > 0,
            "package": str(path),
            "rows": summary.rows,
            "mentions": summary.mentions,
        }

    # ------------------------------------------------------------ erasure, step by step
    #
    # Erasure is split so durable execution (tutela.jobs) can record each collection
    # as its own step: prepare once, erase collection by collection, then finish.
    # Every step is idempotent: running one again after a crash changes nothing more.

    def erasure_steps(self) -> list[Node]:
        """The collections erasure visits, children before parents."""
        plan = plan_erasure(self.tutela.policy, self.graph, self.tutela.taxonomy)
        return [
            s.read.node
            for s in plan.steps
            if s.read.node in self.sql_nodes([s.read.node]) or self.is_redis(s.read.node[0])
        ]

    def prepare_erasure(self, request: Request) -> dict[str, Any]:
        """Everything the collection steps need, computed before anything changes: the
        person's identifiers, cross-dataset keys, and the terms to scrub."""
        identities = self.identities(request)
        external = self.external_values(identities)
        names = self._names(identities, external)
        terms = shared_terms(identities, names)
        own = sorted(
            {part for name in names for part in name.split() if len(part) >= 3}
            | {v for vs in identities.values() for v in vs if len(v) >= 3}
        )
        return {
            "identities": identities,
            "external": [[list(k[0]), k[1], v] for k, v in external.items()],
            "terms": terms,
            "own": own,
        }

    def erase_collection(self, node: Node, prepared: Mapping[str, Any]) -> dict[str, Any]:
        """Erase one collection in one transaction; returns its report."""
        plan = plan_erasure(self.tutela.policy, self.graph, self.tutela.taxonomy)
        step = next(s for s in plan.steps if s.read.node == tuple(node))
        external = {(tuple(n), f): v for n, f, v in prepared["external"]}
        connector: SqlConnector | RedisConnector
        if self.is_redis(step.read.node[0]):
            connector = self.redis_connector(step.read.node[0])
        else:
            connector = self.connector(step.read.node[0])
        try:
            report = connector.erase(
                step,
                prepared["identities"],
                prepared["terms"],
                external,
                own_terms=prepared["own"],
            )
        except ConnectorError as exc:
            raise ConnectorError(f"step {node[0]}.{node[1]}: {exc}") from exc
        return {k: v for k, v in asdict(report).items() if k != "statements"}

    def finish_erasure(
        self, request: Request, reports: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Mark the person erased in the ledger (and restricted where a law keeps rows)."""
        held = [r for r in reports if r.get("kept_because")]
        if request.subject is not None:
            state = self.tutela.ledger.state_or_none(request.subject)
            if state is not None and state.status is not AccountStatus.erased:
                if held:
                    laws = "; ".join(sorted({r["kept_because"] for r in held}))
                    self.tutela.ledger.set_restriction(
                        request.subject, True, f"kept by law: {laws}"
                    )
                self.tutela.ledger.update_subject(request.subject, status=AccountStatus.erased)
        return {
            "found": any(
                r.get("rows_deleted") or r.get("rows_masked") or r.get("rows_kept") for r in reports
            ),
            "collections": list(reports),
        }

    def _erase(self, request: Request) -> dict[str, Any]:
        prepared = self.prepare_erasure(request)
        reports = [self.erase_collection(node, prepared) for node in self.erasure_steps()]
        return self.finish_erasure(request, reports)

    def _names(self, identities: Identities, external: Any) -> list[str]:
        """The person's names as their own rows hold them (fields of category user.name)."""
        names: set[str] = set()
        reads = {r.node: r for r in plan_access(self.tutela.policy, self.graph).steps}
        for node in self.sql_nodes(sorted(self.graph.seeds)):
            collection = self.graph.collections[node]
            fields = [
                f.name
                for f in collection.fields
                if any(c == "user.name" or c.startswith("user.name.") for c in f.categories)
            ]
            if not fields:
                continue
            connector = self.connector(node[0])
            for row in connector.read(reads[node], identities, external):
                for f in fields:
                    value = row.get(f)
                    if isinstance(value, str) and value.strip():
                        names.add(unicodedata.normalize("NFC", value.strip()))
        return sorted(names)

    def _rectify(self, request: Request) -> dict[str, Any]:
        identities = self.identities(request)
        external = self.external_values(identities)
        by_collection: dict[Node, dict[str, Any]] = {}
        for name, value in request.details["corrections"].items():
            dataset, collection, fld = find_field(self.tutela.policy, name)
            by_collection.setdefault((dataset, collection), {})[fld.name] = value
        changed: dict[str, int] = {}
        for node, values in by_collection.items():
            connector = self.connector(node[0])
            table = connector.table(node[1])
            where = connector.selector(node, identities, external)
            values = {name: _column_value(table.c[name], v) for name, v in values.items()}
            with connector.engine.begin() as conn:
                changed[f"{node[0]}.{node[1]}"] = conn.execute(
                    update(table).where(where).values(values)
                ).rowcount
        return {"found": any(changed.values()), "rows_changed": changed}


def shared_terms(identities: Identities, names: Sequence[str]) -> list[str]:
    """What names the person in anyone's text: e-mail addresses, phones, full names.

    Erasure scrubs these from others' rows and access lists where others' rows hold
    them. A user id ("123") or a lone short name would also hit unrelated words and
    numbers ("Invoice 1234", "teams"), so those count only in the person's own rows.
    """
    full_names = [n for n in names if " " in n.strip() and len(n) >= 5]
    shared = [v for k, vs in identities.items() if k in ("email", "phone") for v in vs]
    return sorted({*full_names, *(v for v in shared if len(v) >= 5)})


def _column_value(column: Any, value: Any) -> Any:
    """Corrections travel as JSON; dates go back to dates for the driver."""
    if isinstance(value, str):
        try:
            wanted = column.type.python_type
        except NotImplementedError:
            return value
        if wanted is dt.datetime:
            return dt.datetime.fromisoformat(value)
        if wanted is dt.date:
            return dt.date.fromisoformat(value)
    return value
