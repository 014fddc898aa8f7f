"""Data subject requests as values: types, states, the transitions between them, deadlines.

Pure: the service in :mod:`tutela.requests.service` stores requests and calls
these functions to decide what may happen next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tutela.errors import RequestError
from tutela.policy.taxonomy import Jurisdiction

__all__ = [
    "CCPA_TYPES",
    "TERMINAL",
    "TRANSITIONS",
    "Deadline",
    "RequestState",
    "RequestType",
    "check_transition",
    "deadline",
    "extend",
]


class RequestType(StrEnum):
    """What the person asks for, by GDPR article."""

    access = "access"  # Art. 15
    portability = "portability"  # Art. 20
    rectification = "rectification"  # Art. 16
    erasure = "erasure"  # Art. 17
    restriction = "restriction"  # Art. 18
    objection = "objection"  # Art. 21
    consent_withdrawal = "consent_withdrawal"  # Art. 7(3)


CCPA_TYPES: dict[str, RequestType] = {
    "know": RequestType.access,
    "delete": RequestType.erasure,
    "correct": RequestType.rectification,
    "opt_out": RequestType.objection,
}
"""The CCPA's requests and the GDPR request each maps onto."""


class RequestState(StrEnum):
    """Where a request stands."""

    received = "received"
    verifying = "verifying"
    awaiting_administrator = "awaiting_administrator"
    approved = "approved"
    running = "running"
    completed = "completed"
    partially_completed = "partially_completed"
    denied = "denied"
    failed = "failed"
    cancelled = "cancelled"


S = RequestState
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.received: frozenset(
        {S.verifying, S.awaiting_administrator, S.approved, S.denied, S.cancelled}
    ),
    S.verifying: frozenset({S.awaiting_administrator, S.approved, S.denied, S.cancelled}),
    S.awaiting_administrator: frozenset({S.approved, S.denied, S.cancelled}),
    S.approved: frozenset({S.running, S.cancelled}),
    S.running: frozenset({S.completed, S.partially_completed, S.failed}),
    S.partially_completed: frozenset({S.completed, S.failed}),
    S.failed: frozenset({S.running, S.cancelled}),
    S.completed: frozenset(),
    S.denied: frozenset(),
    S.cancelled: frozenset(),
}
"""Which state may follow which. A failed request may be run again."""

TERMINAL = frozenset({S.completed, S.denied, S.cancelled})


def check_transition(current: RequestState, target: RequestState) -> None:
    """Raise :class:`RequestError` unless ``current`` may move to ``target``."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "nothing"
        raise RequestError(
            f"a request that is {current.value} cannot become {target.value} "
            f"(it may become: {allowed})"
        )


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a request is due, and whether and why it was extended."""

    received: dt.date
    due: dt.date
    acknowledge_by: dt.date | None = None
    extended: bool = False
    extension_reason: str | None = None
    extension_allowed_until: dt.date | None = None
    details: dict[str, Any] = field(default_factory=dict)


def deadline(jurisdiction: Jurisdiction, received: dt.date) -> Deadline:
    """The deadline of a request received on ``received`` (counted from receipt)."""
    first = jurisdiction.response.after(received)
    return Deadline(
        received=received,
        due=first,
        acknowledge_by=jurisdiction.acknowledge.after(received)
        if jurisdiction.acknowledge
        else None,
        extension_allowed_until=first if jurisdiction.extension else None,
    )


def extend(jurisdiction: Jurisdiction, current: Deadline, reason: str, today: dt.date) -> Deadline:
    """Extend once, with a recorded reason, and only within the first period
    (GDPR Art. 12(3): inform the person within one month; CCPA 1798.130(a)(2))."""
    if jurisdiction.extension is None:
        raise RequestError(f"{jurisdiction.name} allows no extension")
    if current.extended:
        raise RequestError("the deadline was already extended once")
    if not reason.strip():
        raise RequestError("an extension needs a reason, which the person is told")
    limit = current.extension_allowed_until or current.due
    if today > limit:
        raise RequestError(
            f"an extension must be decided by {limit.isoformat()}, within the first period"
        )
    return Deadline(
        received=current.received,
        due=jurisdiction.due(current.received, extended=True),
        acknowledge_by=current.acknowledge_by,
        extended=True,
        extension_reason=reason.strip(),
        extension_allowed_until=limit,
    )
