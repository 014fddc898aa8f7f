"""Receiving and moving data subject requests: intake, routing, deadlines, the audit trail.

Every request has its own hash-chained event stream (``request:<id>``) in the
ledger: creation and every transition are events, so the trail of who
approved, denied or extended what, and when, is tamper-evident.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tutela.decide import DIRECT_MARKETING, minimum_age_for
from tutela.engine import Tutela
from tutela.errors import RequestError, RequestNotFound
from tutela.ledger import tables as t
from tutela.ledger.database import read, retrying
from tutela.ledger.identities import normalise
from tutela.ledger.store import new_public_id
from tutela.policy.model import ErasureRoute
from tutela.requests.model import (
    TERMINAL,
    Deadline,
    RequestState,
    RequestType,
    check_transition,
    deadline,
    extend,
)

__all__ = ["Request", "Requests"]

SOURCES = ("product", "privacy_center", "email", "admin", "api")
"""Where a request came from. A request from the product on the person's behalf is
already verified; the others must prove the identity first."""


@dataclass(frozen=True, slots=True)
class Request:
    """A request as stored."""

    id: str
    type: RequestType
    state: RequestState
    subject: str | None
    identity_kind: str
    jurisdiction: str
    source: str
    language: str | None
    received_at: dt.datetime
    due_on: dt.date
    acknowledge_by: dt.date | None
    extended: bool
    extension_reason: str | None
    verified: bool
    organisation: str | None
    details: Mapping[str, Any]
    reason: str | None
    result: Mapping[str, Any] | None

    @property
    def overdue(self) -> bool:
        """Past its due date and not finished."""
        return self.state not in TERMINAL and dt.date.today() > self.due_on


def _identity_hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class Requests:
    """The request workflow of one :class:`~tutela.Tutela`."""

    def __init__(self, tutela: Tutela) -> None:
        self.tutela = tutela
        self.engine = tutela.engine

    # ------------------------------------------------------------ intake

    def create(
        self,
        type: RequestType | str,
        identity: tuple[str, str],
        *,
        source: str = "api",
        jurisdiction: str | None = None,
        details: Mapping[str, Any] | None = None,
        language: str | None = None,
        received_at: dt.datetime | None = None,
    ) -> Request:
        """Receive a request. Everything about it is checked before anything is written."""
        kind = RequestType(type)
        if source not in SOURCES:
            raise RequestError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
        policy = self.tutela.policy
        law = jurisdiction or policy.jurisdictions[0]
        facts = self.tutela.taxonomy.jurisdictions.get(law)
        if facts is None or law not in policy.jurisdictions:
            raise RequestError(f"the policy does not serve the jurisdiction {law!r}")
        id_kind, id_value = normalise(*identity)
        checked = self._check_details(kind, dict(details or {}))
        received = received_at or dt.datetime.now(dt.UTC)
        due = deadline(facts, received.date())
        public_id = new_public_id("req")

        def work(conn: Connection) -> Request:
            subject = conn.execute(
                select(t.subjects.c.id, t.subjects.c.organisation_id, t.subjects.c.managed)
                .join(t.identities, t.identities.c.subject_id == t.subjects.c.id)
                .where(t.identities.c.kind == id_kind, t.identities.c.value == id_value)
            ).first()
            verified = source in ("product", "admin")
            state = RequestState.received
            row_id = conn.execute(
                insert(t.requests)
                .values(
                    public_id=public_id,
                    type=kind.value,
                    state=state.value,
                    subject_id=subject.id if subject else None,
                    identity_kind=id_kind,
                    identity_hash=_identity_hash(id_kind, id_value),
                    jurisdiction=law,
                    source=source,
                    language=language,
                    received_at=received,
                    due_on=due.due,
                    acknowledge_by=due.acknowledge_by,
                    extended=False,
                    verified=verified,
                    organisation_id=subject.organisation_id if subject else None,
                    # The identity is needed to find data the ledger does not know
                    # (a prospect's enquiry); it is dropped when the request ends.
                    details={**checked, "identity": [id_kind, id_value]},
                    updated_at=received,
                )
                .returning(t.requests.c.id)
            ).scalar_one()
            self._event(
                conn,
                row_id,
                "request.received",
                {"type": kind.value, "source": source, "jurisdiction": law, "due_on": str(due.due)},
            )
            routed = self._route(kind, verified, subject)
            if routed is not state:
                self._move(conn, row_id, state, routed, None)
            return self._load(conn, public_id)

        return retrying(self.engine, work)

    def _route(self, kind: RequestType, verified: bool, subject: Any) -> RequestState:
        if not verified:
            return RequestState.verifying
        if self._needs_administrator(kind, subject):
            return RequestState.awaiting_administrator
        return RequestState.approved

    def _needs_administrator(self, kind: RequestType, subject: Any) -> bool:
        if subject is None or subject.organisation_id is None:
            return False
        rights = self.tutela.policy.rights
        # Where the policy routes a right through the administrator (Kitameraki), every
        # member's request of that kind waits, managed account or not; a copy of the
        # data (access or portability) follows ``rights.access``.
        routes = {
            RequestType.erasure: rights.erasure,
            RequestType.access: rights.access,
            RequestType.portability: rights.access,
        }
        if routes.get(kind) is ErasureRoute.via_administrator:
            return True
        changes = (RequestType.erasure, RequestType.rectification, RequestType.restriction)
        return bool(subject.managed) and kind in changes

    def _check_details(self, kind: RequestType, details: dict[str, Any]) -> dict[str, Any]:
        policy = self.tutela.policy
        if kind in (RequestType.objection, RequestType.consent_withdrawal):
            purposes = details.get("purposes")
            if not isinstance(purposes, list) or not purposes:
                raise RequestError(
                    f"a {kind.value} request names its purposes: {{purposes: [...]}}"
                )
            for name in purposes:
                if name == DIRECT_MARKETING and kind is RequestType.objection:
                    continue
                spec = policy.purposes.get(name)
                if spec is None:
                    raise RequestError(f"unknown purpose {name!r}")
                if kind is RequestType.consent_withdrawal and spec.legal_basis not in (
                    "consent",
                    "explicit_consent",
                ):
                    raise RequestError(f"purpose {name!r} does not rest on consent")
            return {"purposes": list(purposes)}
        if kind is RequestType.restriction:
            action = details.get("action", "start")
            if action not in ("start", "lift"):
                raise RequestError("a restriction request's action is start or lift")
            return {"action": action, "reason": str(details.get("reason") or "")}
        if kind is RequestType.rectification:
            corrections = details.get("corrections")
            if not isinstance(corrections, dict) or not corrections:
                raise RequestError(
                    "a rectification request carries corrections: {collection.field: value}"
                )
            from tutela.requests.rectify import check_corrections

            return {"corrections": check_corrections(policy, corrections)}
        if details:
            raise RequestError(f"a {kind.value} request takes no details")
        return {}

    def erase_if_child(self, subject: str, *, today: dt.date | None = None) -> Request | None:
        """Start erasure of a subject the ledger now knows to be a child (below the
        higher of the policy's minimum age and the country's age of digital consent).

        Returns the new request, or ``None`` when the subject is not a child or an
        erasure is already under way. Decisions deny a child everything at once; this
        removes what the product holds.
        """
        state = self.tutela.ledger.state(subject)
        if state.birth_date is None or state.status.value == "erased":
            return None
        day = today or dt.date.today()
        born = state.birth_date
        age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
        if age >= minimum_age_for(self.tutela.policy, state.country, self.tutela.taxonomy):
            return None
        open_erasures = [
            r
            for r in self.list(subject=subject, limit=1000)
            if r.type is RequestType.erasure and r.state not in TERMINAL
        ]
        if open_erasures:
            return None
        identities = self.tutela.ledger.identities(subject)
        if not identities:
            return None
        return self.create(RequestType.erasure, identities[0], source="admin")

    # ------------------------------------------------------------ moving

    def approve(self, request_id: str, *, actor: str) -> Request:
        """An operator or organisation administrator approves the request."""
        return self.transition(request_id, RequestState.approved, actor=actor)

    def deny(self, request_id: str, reason: str, *, actor: str) -> Request:
        """Deny with a reason, which the person is told."""
        if not reason.strip():
            raise RequestError("a denial needs a reason, which the person is told")
        return self.transition(request_id, RequestState.denied, reason=reason, actor=actor)

    def cancel(self, request_id: str, *, actor: str) -> Request:
        """The person (or an operator on their word) withdraws the request."""
        return self.transition(request_id, RequestState.cancelled, actor=actor)

    def mark_verified(self, request_id: str) -> Request:
        """The person proved the identity: route the request onwards."""

        def work(conn: Connection) -> Request:
            row = self._row(conn, request_id, lock=True)
            if RequestState(row.state) is not RequestState.verifying:
                raise RequestError(f"request {request_id} is not waiting for verification")
            conn.execute(update(t.requests).where(t.requests.c.id == row.id).values(verified=True))
            subject = None
            if row.subject_id is not None:
                subject = conn.execute(
                    select(t.subjects.c.organisation_id, t.subjects.c.managed).where(
                        t.subjects.c.id == row.subject_id
                    )
                ).first()
            target = self._route(RequestType(row.type), True, subject)
            self._move(conn, row.id, RequestState.verifying, target, None)
            return self._load(conn, request_id)

        return retrying(self.engine, work)

    def transition(
        self,
        request_id: str,
        target: RequestState,
        *,
        reason: str | None = None,
        actor: str | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> Request:
        """Move a request to ``target`` if its current state allows it."""

        def work(conn: Connection) -> Request:
            row = self._row(conn, request_id, lock=True)
            current = RequestState(row.state)
            check_transition(current, target)
            if target is RequestState.approved and not row.verified:
                raise RequestError("the identity has not been verified yet")
            self._move(conn, row.id, current, target, reason, actor=actor, result=result)
            return self._load(conn, request_id)

        return retrying(self.engine, work)

    def extend(
        self, request_id: str, reason: str, *, actor: str, today: dt.date | None = None
    ) -> Request:
        """Extend the deadline once, with the reason the person is told."""

        def work(conn: Connection) -> Request:
            row = self._row(conn, request_id, lock=True)
            if RequestState(row.state) in TERMINAL:
                raise RequestError("a finished request cannot be extended")
            facts = self.tutela.taxonomy.jurisdictions[row.jurisdiction]
            received = _aware(row.received_at).date()
            current = Deadline(
                received=received,
                due=row.due_on,
                extended=bool(row.extended),
                extension_allowed_until=facts.response.after(received),
            )
            longer = extend(facts, current, reason, today or dt.date.today())
            conn.execute(
                update(t.requests)
                .where(t.requests.c.id == row.id)
                .values(
                    due_on=longer.due,
                    extended=True,
                    extension_reason=longer.extension_reason,
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )
            self._event(
                conn,
                row.id,
                "request.extended",
                {"due_on": str(longer.due), "reason": longer.extension_reason, "actor": actor},
            )
            return self._load(conn, request_id)

        return retrying(self.engine, work)

    def _move(
        self,
        conn: Connection,
        row_id: int,
        current: RequestState,
        target: RequestState,
        reason: str | None,
        *,
        actor: str | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"state": target.value, "updated_at": dt.datetime.now(dt.UTC)}
        if reason is not None:
            values["reason"] = reason
        if result is not None:
            values["result"] = dict(result)
        if target in TERMINAL:
            details = conn.execute(
                select(t.requests.c.details).where(t.requests.c.id == row_id)
            ).scalar_one()
            values["details"] = {k: v for k, v in details.items() if k != "identity"}
        conn.execute(update(t.requests).where(t.requests.c.id == row_id).values(**values))
        self._event(
            conn,
            row_id,
            "request.state",
            {"from": current.value, "to": target.value, "reason": reason, "actor": actor},
        )

    def _event(self, conn: Connection, row_id: int, kind: str, payload: Mapping[str, Any]) -> None:
        self.tutela.ledger._append(conn, f"request:{row_id}", kind, payload)

    # ------------------------------------------------------------ reading

    def get(self, request_id: str) -> Request:
        """One request; :class:`RequestError` if there is none."""
        with read(self.engine) as conn:
            return self._load(conn, request_id)

    def list(
        self,
        *,
        state: RequestState | None = None,
        subject: str | None = None,
        organisation: str | None = None,
        limit: int = 100,
    ) -> list[Request]:
        """Requests ordered by due date (the queue), optionally filtered; one query."""
        query = _WITH_NAMES.order_by(t.requests.c.due_on, t.requests.c.id)
        if state is not None:
            query = query.where(t.requests.c.state == state.value)
        if subject is not None:
            query = query.where(t.subjects.c.public_id == subject)
        if organisation is not None:
            query = query.where(t.organisations.c.public_id == organisation)
        with read(self.engine) as conn:
            return [_request(row) for row in conn.execute(query.limit(limit))]

    def open_for(
        self, type: RequestType, identities: Sequence[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Those of ``identities`` (normalised) named by a request of this type that has
        not ended; one query per 500 of them."""
        by_hash = {}
        for identity in identities:
            pair = normalise(*identity)
            by_hash[_identity_hash(*pair)] = pair
        hashes = list(by_hash)
        found: set[tuple[str, str]] = set()
        with read(self.engine) as conn:
            for start in range(0, len(hashes), 500):
                query = select(t.requests.c.identity_hash).where(
                    t.requests.c.identity_hash.in_(hashes[start : start + 500]),
                    t.requests.c.type == type.value,
                    t.requests.c.state.not_in([s.value for s in TERMINAL]),
                )
                found.update(by_hash[h] for h in conn.execute(query).scalars())
        return found

    def trail(self, request_id: str) -> builtins.list[dict[str, Any]]:
        """The request's audit trail, oldest first."""
        with read(self.engine) as conn:
            row = self._row(conn, request_id)
            rows = conn.execute(
                select(t.events)
                .where(t.events.c.stream == f"request:{row.id}")
                .order_by(t.events.c.seq)
            )
            return [
                {"kind": r.kind, "at": _aware(r.at), "hash": r.hash, **json.loads(r.payload)}
                for r in rows
            ]

    def _row(self, conn: Connection, request_id: str, *, lock: bool = False) -> Any:
        query = select(t.requests).where(t.requests.c.public_id == request_id)
        if lock and conn.dialect.name != "sqlite":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise RequestNotFound(f"no request {request_id!r}")
        return row

    def _load(self, conn: Connection, request_id: str) -> Request:
        row = conn.execute(_WITH_NAMES.where(t.requests.c.public_id == request_id)).first()
        if row is None:
            raise RequestNotFound(f"no request {request_id!r}")
        return _request(row)


# A request with the public ids of its subject and organisation, in one query.
_WITH_NAMES = (
    select(
        t.requests,
        t.subjects.c.public_id.label("subject_public_id"),
        t.organisations.c.public_id.label("organisation_public_id"),
    )
    .select_from(t.requests)
    .outerjoin(t.subjects, t.subjects.c.id == t.requests.c.subject_id)
    .outerjoin(t.organisations, t.organisations.c.id == t.requests.c.organisation_id)
)


def _request(row: Any) -> Request:
    return Request(
        id=row.public_id,
        type=RequestType(row.type),
        state=RequestState(row.state),
        subject=row.subject_public_id,
        identity_kind=row.identity_kind,
        jurisdiction=row.jurisdiction,
        source=row.source,
        language=row.language,
        received_at=_aware(row.received_at),
        due_on=row.due_on,
        acknowledge_by=row.acknowledge_by,
        extended=bool(row.extended),
        extension_reason=row.extension_reason,
        verified=bool(row.verified),
        organisation=row.organisation_public_id,
        details=dict(row.details),
        reason=row.reason,
        result=dict(row.result) if row.result is not None else None,
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
