"""Requests to processors outside the company: a signed webhook, or a manual task.

Every recipient in the policy says how requests reach it (``requests:``):

- ``webhook``: an OpenDSR-style POST of the request (access, portability,
  erasure) to the recipient's endpoint, signed with the recipient's secret.
  The endpoint and secret come from the environment, by the recipient's name
  in upper case with every run of other characters as ``_``
  (``Mail Tool B.V.`` is ``MAIL_TOOL_B_V``)::

      TUTELA_PROCESSOR_MAIL_TOOL_B_V_URL=https://api.mailtool.example/dsr
      TUTELA_PROCESSOR_MAIL_TOOL_B_V_SECRET=...

  The processor answers through status callbacks (received, processing,
  completed, failed) signed with the same secret.
- ``manual``: a task a person carries out (a support form, a mail to the
  processor) and confirms.
- ``none``: nothing is sent.

Rectification and restriction are passed on as manual tasks whatever the
channel (GDPR Art. 19 asks that recipients be told; OpenDSR carries neither).
A request whose processor steps are not all done ends ``partially_completed``;
the last confirmation or completion callback completes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import Connection, func, insert, select, update

from tutela.engine import Tutela
from tutela.errors import CallbackRejected, ConnectorError, RequestError, TaskNotFound
from tutela.ledger import tables as t
from tutela.ledger.database import read, retrying
from tutela.ledger.store import new_public_id
from tutela.policy.model import Recipient
from tutela.requests.model import RequestState, RequestType
from tutela.requests.service import Request, Requests

__all__ = [
    "CALLBACK_URL_ENV",
    "SIGNATURE_HEADER",
    "CallbackRejected",
    "Processors",
    "Task",
    "TaskNotFound",
    "TaskStatus",
    "env_prefix",
    "sign",
    "verify_callback",
]

SIGNATURE_HEADER = "X-Tutela-Signature"
CALLBACK_URL_ENV = "TUTELA_CALLBACK_URL"
"""Base URL of the status-callback route; a task's callback is ``<base>/<request>/<slug>``."""

WEBHOOK_TYPES = frozenset({RequestType.access, RequestType.portability, RequestType.erasure})
MANUAL_TYPES = WEBHOOK_TYPES | {RequestType.rectification, RequestType.restriction}


class TaskStatus(StrEnum):
    """Where a processor step stands. Callbacks never move a step backwards."""

    pending = "pending"
    """Not yet delivered (webhook) or not yet confirmed (manual)."""
    delivered = "delivered"
    received = "received"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    """The processor reported failure: a person follows up and confirms by hand."""


_RANK = {
    TaskStatus.pending: 0,
    TaskStatus.delivered: 1,
    TaskStatus.received: 2,
    TaskStatus.processing: 3,
    TaskStatus.completed: 4,
    TaskStatus.failed: 4,
}
CALLBACK_STATUSES = frozenset(
    {TaskStatus.received, TaskStatus.processing, TaskStatus.completed, TaskStatus.failed}
)


@dataclass(frozen=True, slots=True)
class Task:
    """One processor step of a request."""

    id: str
    request_id: str
    recipient: str
    channel: str
    type: str
    status: TaskStatus
    idempotency_key: str
    submitted_at: dt.datetime
    updated_at: dt.datetime
    confirmed_by: str | None
    note: str | None
    error: str | None
    attempts: int

    @property
    def done(self) -> bool:
        """Nothing more is waited for."""
        return self.status is TaskStatus.completed


def env_prefix(recipient: str) -> str:
    """``TUTELA_PROCESSOR_<SLUG>``: the prefix of a recipient's webhook settings."""
    return f"TUTELA_PROCESSOR_{slug(recipient)}"


def slug(recipient: str) -> str:
    """The recipient's name in upper case, other characters folded to ``_``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", recipient).strip("_").upper()


def sign(body: bytes, secret: bytes) -> str:
    """The signature header value of a body: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_callback(body: bytes, signature: str | None, secret: bytes) -> bool:
    """Whether ``signature`` is the body's signature under ``secret`` (constant time)."""
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode())


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Processors:
    """Hands requests of one :class:`~tutela.Tutela` to its processors and follows them."""

    def __init__(
        self,
        tutela: Tutela,
        *,
        client: httpx.Client | None = None,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        timeout: float = 10.0,
        callback_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.tutela = tutela
        self.requests = Requests(tutela)
        self.client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._env = environ if environ is not None else os.environ
        self.callback_url = callback_url or self._env.get(CALLBACK_URL_ENV)
        self._sleep = sleep

    # ------------------------------------------------------------ configuration

    def recipients(self, kind: RequestType) -> list[tuple[Recipient, str]]:
        """Recipients a request of this type goes to, with the channel it goes by."""
        out: list[tuple[Recipient, str]] = []
        for recipient in self.tutela.policy.recipients:
            if recipient.requests == "webhook" and kind in WEBHOOK_TYPES:
                out.append((recipient, "webhook"))
            elif recipient.requests != "none" and kind in MANUAL_TYPES:
                out.append((recipient, "manual"))
        return out

    def _endpoint(self, recipient: str) -> tuple[str, bytes]:
        prefix = env_prefix(recipient)
        url = self._env.get(f"{prefix}_URL", "")
        secret = self._env.get(f"{prefix}_SECRET", "")
        if not url or not secret:
            raise ConnectorError(
                f"recipient {recipient!r} receives requests by webhook: "
                f"set {prefix}_URL and {prefix}_SECRET"
            )
        return url, secret.encode()

    # ------------------------------------------------------------ dispatch

    def dispatch(self, request: Request, identities: Mapping[str, Sequence[str]]) -> list[Task]:
        """Create the request's processor steps (once) and deliver its webhooks.

        Running it again (after a crash) creates nothing new and re-delivers only
        webhooks not yet delivered, with the same idempotency key and body.
        """
        targets = self.recipients(request.type)
        for recipient, channel in targets:
            if channel == "webhook":
                self._endpoint(recipient.name)  # every setting is checked before anything
        now = dt.datetime.now(dt.UTC)

        def work(conn: Connection) -> None:
            row_id = self._request_row(conn, request.id)
            existing = set(
                conn.execute(
                    select(t.processor_tasks.c.recipient).where(
                        t.processor_tasks.c.request_id == row_id
                    )
                ).scalars()
            )
            new = [(r, c) for r, c in targets if r.name not in existing]
            if not new:
                return
            # One insert for all the tasks and one append for their events: a batch
            # erasure hands over thousands of requests.
            conn.execute(
                insert(t.processor_tasks),
                [
                    {
                        "public_id": new_public_id("task"),
                        "request_id": row_id,
                        "recipient": recipient.name,
                        "channel": channel,
                        "type": request.type.value,
                        "status": TaskStatus.pending.value,
                        "idempotency_key": f"{request.id}:{slug(recipient.name)}",
                        "submitted_at": now,
                        "updated_at": now,
                    }
                    for recipient, channel in new
                ],
            )
            self.tutela.ledger._append_many(
                conn,
                f"request:{row_id}",
                [("request.processor_task", {"recipient": r.name, "channel": c}) for r, c in new],
            )

        if targets:
            retrying(self.tutela.engine, work)
        tasks = self.tasks(request.id) if targets else []
        pending = [x for x in tasks if x.channel == "webhook" and x.status is TaskStatus.pending]
        for task in pending:
            self.deliver(task, request, identities)
        return self.tasks(request.id) if pending else tasks

    def payload(
        self, task: Task, request: Request, identities: Mapping[str, Sequence[str]]
    ) -> bytes:
        """The webhook body: the same bytes for every attempt of one delivery."""
        callback = None
        if self.callback_url:
            callback = f"{self.callback_url.rstrip('/')}/{request.id}/{slug(task.recipient)}"
        body = {
            "request_id": request.id,
            "type": task.type,
            "subject": {kind: list(values) for kind, values in sorted(identities.items())},
            "callback_url": callback,
            "submitted_at": task.submitted_at.isoformat(),
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def deliver(
        self, task: Task, request: Request, identities: Mapping[str, Sequence[str]]
    ) -> Task:
        """POST the request to the processor, retrying 5xx, 429 and network errors with
        exponential backoff (bounded). Every attempt is recorded. A task that is still
        not delivered stays pending for a later :meth:`deliver`."""
        url, secret = self._endpoint(task.recipient)
        body = self.payload(task, request, identities)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret),
            "Idempotency-Key": task.idempotency_key,
        }
        first = task.attempts + 1
        for attempt in range(first, first + self.max_attempts):
            started = time.monotonic()
            code: int | None = None
            try:
                response = self.client.post(url, content=body, headers=headers)
                code = response.status_code
                outcome = "delivered" if response.is_success or code == 409 else f"http_{code}"
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__[:32]
            self._record(task, attempt, code, outcome, started)
            if outcome == "delivered":
                # 409: the processor already has this idempotency key, so it has the request.
                return self._set_status(task.id, TaskStatus.delivered, error=None)
            retry = code is None or code >= 500 or code == 429
            if not retry:
                return self._set_status(
                    task.id, TaskStatus.failed, error=f"the processor refused it ({outcome})"
                )
            if attempt < first + self.max_attempts - 1:
                self._sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - first)))
        return self._set_status(
            task.id, TaskStatus.pending, error=f"not delivered after {self.max_attempts} attempts"
        )

    def _record(
        self, task: Task, attempt: int, code: int | None, outcome: str, started: float
    ) -> None:
        # Each attempt in its own transaction, so the record survives a crash mid-retry.
        with self.tutela.engine.begin() as conn:
            task_row = conn.execute(
                select(t.processor_tasks.c.id).where(t.processor_tasks.c.public_id == task.id)
            ).scalar_one()
            conn.execute(
                insert(t.processor_attempts).values(
                    task_id=task_row,
                    attempt=attempt,
                    at=dt.datetime.now(dt.UTC),
                    status_code=code,
                    outcome=outcome,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
            )

    def _set_status(self, task_id: str, status: TaskStatus, *, error: str | None) -> Task:
        def work(conn: Connection) -> None:
            row = self._task_row(conn, task_id)
            if _RANK[status] < _RANK[TaskStatus(row.status)]:
                return  # a callback during the POST already moved it further
            conn.execute(
                update(t.processor_tasks)
                .where(t.processor_tasks.c.id == row.id)
                .values(status=status.value, error=error, updated_at=dt.datetime.now(dt.UTC))
            )
            if status.value != row.status:
                self._event(
                    conn,
                    row.request_id,
                    "request.processor_status",
                    {"recipient": row.recipient, "status": status.value, "source": "delivery"},
                )

        retrying(self.tutela.engine, work)
        return self.task(task_id)

    # ------------------------------------------------------------ callbacks

    def handle_callback(
        self, request_id: str, recipient_slug: str, body: bytes, signature: str | None
    ) -> Task:
        """Record a processor's status callback, after checking its signature.

        The body is JSON ``{"request_id", "status", "reason"?}`` with ``status`` one of
        received, processing, completed, failed. A callback that is not signed with
        the recipient's secret, or names another request, changes nothing
        (:class:`CallbackRejected`). A status older than the one recorded is ignored.
        """
        recipient = next(
            (r for r in self.tutela.policy.recipients if slug(r.name) == recipient_slug), None
        )
        if recipient is None or recipient.requests != "webhook":
            raise CallbackRejected("no recipient takes requests by webhook under that name")
        _, secret = self._endpoint(recipient.name)
        if not verify_callback(body, signature, secret):
            raise CallbackRejected("the callback's signature does not match")
        try:
            data = json.loads(body)
            status = TaskStatus(data["status"])
        except (ValueError, KeyError, TypeError):
            raise CallbackRejected("the callback is not a status of this request") from None
        if not isinstance(data, dict) or data.get("request_id") != request_id:
            raise CallbackRejected("the callback is not a status of this request")
        if status not in CALLBACK_STATUSES:
            raise CallbackRejected(f"a processor cannot report {status.value}")
        reason = str(data.get("reason") or "")[:500] or None

        def work(conn: Connection) -> str:
            request_row = self._request_row(conn, request_id)
            row = conn.execute(
                select(t.processor_tasks).where(
                    t.processor_tasks.c.request_id == request_row,
                    t.processor_tasks.c.recipient == recipient.name,
                )
            ).first()
            if row is None:
                raise CallbackRejected("the request was not sent to this recipient")
            if _RANK[status] > _RANK[TaskStatus(row.status)]:
                conn.execute(
                    update(t.processor_tasks)
                    .where(t.processor_tasks.c.id == row.id)
                    .values(
                        status=status.value,
                        error=reason if status is TaskStatus.failed else None,
                        updated_at=dt.datetime.now(dt.UTC),
                    )
                )
                self._event(
                    conn,
                    request_row,
                    "request.processor_status",
                    {"recipient": recipient.name, "status": status.value, "source": "callback"},
                )
            return str(row.public_id)

        task_id = retrying(self.tutela.engine, work)
        self.settle(request_id)
        return self.task(task_id)

    # ------------------------------------------------------------ manual tasks

    def confirm_task(self, task_id: str, actor: str, note: str = "") -> Task:
        """A person confirms a step is done (a manual task, or a webhook step the
        processor failed or never answered, settled by other means)."""
        if not actor.strip():
            raise RequestError("a confirmation names who confirms")

        def work(conn: Connection) -> str:
            row = self._task_row(conn, task_id)
            if TaskStatus(row.status) is TaskStatus.completed:
                raise RequestError(f"task {task_id} is already completed")
            conn.execute(
                update(t.processor_tasks)
                .where(t.processor_tasks.c.id == row.id)
                .values(
                    status=TaskStatus.completed.value,
                    confirmed_by=actor.strip(),
                    note=note.strip() or None,
                    updated_at=dt.datetime.now(dt.UTC),
                )
            )
            self._event(
                conn,
                row.request_id,
                "request.processor_confirmed",
                {"recipient": row.recipient, "actor": actor.strip(), "task": task_id},
            )
            return str(
                conn.execute(
                    select(t.requests.c.public_id).where(t.requests.c.id == row.request_id)
                ).scalar_one()
            )

        request_id = retrying(self.tutela.engine, work)
        self.settle(request_id)
        return self.task(task_id)

    def settle(self, request_id: str) -> Request:
        """Complete a partially completed request whose processor steps are all done."""
        request = self.requests.get(request_id)
        if request.state is not RequestState.partially_completed:
            return request
        tasks = self.tasks(request_id)
        if any(not task.done for task in tasks):
            return request
        result = {**(request.result or {}), "processors": summary(tasks)}
        try:
            return self.requests.transition(
                request_id, RequestState.completed, actor="processors", result=result
            )
        except RequestError:
            # Settled at the same moment by another confirmation.
            return self.requests.get(request_id)

    # ------------------------------------------------------------ reading

    def task(self, task_id: str) -> Task:
        """One task; :class:`TaskNotFound` if there is none."""
        found = self._load(t.processor_tasks.c.public_id == task_id)
        if not found:
            raise TaskNotFound(f"no task {task_id!r}")
        return found[0]

    def tasks(
        self, request_id: str | None = None, *, status: TaskStatus | None = None
    ) -> list[Task]:
        """Tasks of one request, or all tasks (with a status: the work queue)."""
        conditions = []
        if request_id is not None:
            conditions.append(t.requests.c.public_id == request_id)
        if status is not None:
            conditions.append(t.processor_tasks.c.status == status.value)
        return self._load(*conditions)

    def _load(self, *conditions: Any) -> list[Task]:
        attempts = (
            select(func.count())
            .where(t.processor_attempts.c.task_id == t.processor_tasks.c.id)
            .scalar_subquery()
        )
        query = (
            select(t.processor_tasks, t.requests.c.public_id.label("request_public_id"), attempts)
            .join(t.requests, t.requests.c.id == t.processor_tasks.c.request_id)
            .where(*conditions)
            .order_by(t.processor_tasks.c.id)
        )
        with read(self.tutela.engine) as conn:
            rows = conn.execute(query).all()
        return [
            Task(
                id=r.public_id,
                request_id=r.request_public_id,
                recipient=r.recipient,
                channel=r.channel,
                type=r.type,
                status=TaskStatus(r.status),
                idempotency_key=r.idempotency_key,
                submitted_at=_aware(r.submitted_at),
                updated_at=_aware(r.updated_at),
                confirmed_by=r.confirmed_by,
                note=r.note,
                error=r.error,
                attempts=int(r[-1]),
            )
            for r in rows
        ]

    def attempts(self, task_id: str) -> list[dict[str, Any]]:
        """The delivery attempts of a task, oldest first."""
        query = (
            select(t.processor_attempts)
            .join(t.processor_tasks, t.processor_tasks.c.id == t.processor_attempts.c.task_id)
            .where(t.processor_tasks.c.public_id == task_id)
            .order_by(t.processor_attempts.c.attempt)
        )
        with read(self.tutela.engine) as conn:
            return [
                {
                    "attempt": r.attempt,
                    "at": _aware(r.at),
                    "status_code": r.status_code,
                    "outcome": r.outcome,
                    "duration_ms": r.duration_ms,
                }
                for r in conn.execute(query)
            ]

    # ------------------------------------------------------------ rows

    def _request_row(self, conn: Connection, request_id: str) -> int:
        row_id = conn.execute(
            select(t.requests.c.id).where(t.requests.c.public_id == request_id)
        ).scalar()
        if row_id is None:
            raise RequestError(f"no request {request_id!r}")
        return int(row_id)

    def _task_row(self, conn: Connection, task_id: str) -> Any:
        query = select(t.processor_tasks).where(t.processor_tasks.c.public_id == task_id)
        if conn.dialect.name != "sqlite":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise TaskNotFound(f"no task {task_id!r}")
        return row

    def _event(self, conn: Connection, row_id: int, kind: str, payload: Mapping[str, Any]) -> None:
        self.requests._event(conn, row_id, kind, payload)


def summary(tasks: Iterable[Task]) -> list[dict[str, Any]]:
    """What a request's result says about its processor steps."""
    return [
        {"task": x.id, "recipient": x.recipient, "channel": x.channel, "status": x.status.value}
        for x in tasks
    ]
