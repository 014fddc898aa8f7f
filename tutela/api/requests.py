"""``/v1/requests``: receive data subject requests, decide them, run them, hand out packages."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tutela.api.deps import SettingsDep, TutelaDep, require_scope
from tutela.api.errors import ERROR_RESPONSES, ApiError
from tutela.api.schemas import SubjectRef
from tutela.connectors.processors import Processors, Task
from tutela.engine import Tutela
from tutela.requests import Request as DsRequest
from tutela.requests import Requests, RequestState, RequestType, Runner
from tutela.requests.downloads import DownloadError, sign_download, verify_download

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["requests"], responses=ERROR_RESPONSES)

RequestId = Annotated[
    str, Path(min_length=5, max_length=40, pattern=r"^req_[0-9a-f]{20}$", examples=["req_0"])
]
_read = [Depends(require_scope("requests:read"))]
_write = [Depends(require_scope("requests:write"))]


class RequestCreate(BaseModel):
    """A request as the product (or an operator) hands it in."""

    model_config = ConfigDict(extra="forbid")

    type: RequestType
    subject: SubjectRef = Field(description="The person, by email, phone or user id.")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description='{"purposes": [...]} for objection and consent withdrawal, '
        '{"corrections": {"collection.field": value}} for rectification, '
        '{"action": "start"|"lift", "reason": ...} for restriction.',
    )
    source: Literal["product", "privacy_center", "email", "admin", "api"] = "product"
    language: str | None = Field(None, pattern=r"^[a-z]{2}$")


class Decision(BaseModel):
    """Who decides, and why (the reason is told to the person)."""

    model_config = ConfigDict(extra="forbid")

    actor: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(None, max_length=2000)


class RequestPublic(BaseModel):
    """A request as the API shows it."""

    id: str
    type: str
    state: str
    subject: str | None
    jurisdiction: str
    source: str
    received_at: dt.datetime
    due_on: dt.date
    overdue: bool
    extended: bool
    extension_reason: str | None
    verified: bool
    reason: str | None
    result: dict[str, Any] | None
    download_url: str | None = None


def _public(request: DsRequest, download: str | None = None) -> RequestPublic:
    result = dict(request.result) if request.result else None
    if result and "package" in result:
        result["package"] = FilePath(result["package"]).name  # never a server path
    return RequestPublic(
        id=request.id,
        type=request.type.value,
        state=request.state.value,
        subject=request.subject,
        jurisdiction=request.jurisdiction,
        source=request.source,
        received_at=request.received_at,
        due_on=request.due_on,
        overdue=request.overdue,
        extended=request.extended,
        extension_reason=request.extension_reason,
        verified=request.verified,
        reason=request.reason,
        result=result,
        download_url=download,
    )


def _identity(ref: SubjectRef) -> tuple[str, str]:
    given = ref.as_mapping()
    if "id" in given or len(given) != 1:
        raise ApiError(422, "invalid_subject", "name the person by one email, phone or user_id")
    ((kind, value),) = given.items()
    return kind, value


@router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    dependencies=_write,
    summary="Receive a request",
)
def create_request(body: RequestCreate, tutela: TutelaDep) -> RequestPublic:
    """Receive a request. From the product on the person's behalf it is verified and,
    unless an organisation administrator must decide, approved at once."""
    request = Requests(tutela).create(
        body.type,
        _identity(body.subject),
        source=body.source,
        details=body.details or None,
        language=body.language,
    )
    return _public(request)


@router.get("/requests", dependencies=_read, summary="The request queue")
def list_requests(
    tutela: TutelaDep,
    state: RequestState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RequestPublic]:
    """Requests by due date, optionally in one state."""
    return [_public(r) for r in Requests(tutela).list(state=state, limit=limit)]


@router.get("/requests/{request_id}", dependencies=_read, summary="One request")
def get_request(
    request_id: RequestId, tutela: TutelaDep, settings: SettingsDep, http: Request
) -> RequestPublic:
    """A request, with a signed download link once its package is ready."""
    request = Requests(tutela).get(request_id)
    download = None
    if request.result and request.result.get("package") and settings.secret_key:
        expires = dt.datetime.now(dt.UTC) + settings.download_lifetime
        token = sign_download(settings.secret_key, request.id, expires)
        base = settings.public_url or str(http.base_url).rstrip("/")
        download = f"{base}/v1/packages/{token}"
    return _public(request, download)


@router.get("/requests/{request_id}/trail", dependencies=_read, summary="Its audit trail")
def trail(request_id: RequestId, tutela: TutelaDep) -> list[dict[str, Any]]:
    """Every transition, oldest first, with the hash that chains it."""
    return [
        {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in event.items()}
        for event in Requests(tutela).trail(request_id)
    ]


@router.post("/requests/{request_id}:approve", dependencies=_write, summary="Approve")
def approve(request_id: RequestId, body: Decision, tutela: TutelaDep) -> RequestPublic:
    """Approve a request waiting for an operator or organisation administrator."""
    return _public(Requests(tutela).approve(request_id, actor=body.actor))


@router.post("/requests/{request_id}:deny", dependencies=_write, summary="Deny")
def deny(request_id: RequestId, body: Decision, tutela: TutelaDep) -> RequestPublic:
    """Deny, with the reason the person is told."""
    return _public(Requests(tutela).deny(request_id, body.reason or "", actor=body.actor))


@router.post("/requests/{request_id}:extend", dependencies=_write, summary="Extend")
def extend(request_id: RequestId, body: Decision, tutela: TutelaDep) -> RequestPublic:
    """Extend the deadline once, within the first period, with the reason."""
    return _public(Requests(tutela).extend(request_id, body.reason or "", actor=body.actor))


@router.post("/requests/{request_id}:cancel", dependencies=_write, summary="Cancel")
def cancel(request_id: RequestId, body: Decision, tutela: TutelaDep) -> RequestPublic:
    """Cancel a request that has not run."""
    return _public(Requests(tutela).cancel(request_id, actor=body.actor))


@router.post(
    "/requests/{request_id}:run",
    dependencies=_write,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run",
)
async def run(request_id: RequestId, tutela: TutelaDep, settings: SettingsDep) -> RequestPublic:
    """Queue an approved request for the workers (or, where the server runs requests
    itself, run it now)."""
    requests = Requests(tutela)
    request = await run_in_threadpool(requests.get, request_id)
    if request.state not in (RequestState.approved, RequestState.failed):
        raise ApiError(409, "conflict", f"the request is {request.state.value}, not approved")
    if settings.run_requests_inline:
        done = await run_in_threadpool(_run_inline, tutela, request_id)
        return _public(done)
    from tutela.jobs import enqueue

    await run_in_threadpool(enqueue, tutela.engine.url.render_as_string(False), request_id)
    return _public(request)


def _run_inline(tutela: Tutela, request_id: str) -> DsRequest:
    return Runner(tutela).run(request_id)


@router.get(
    "/packages/{token}",
    summary="Download a package",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def download(
    token: Annotated[str, Path(max_length=200)], tutela: TutelaDep, settings: SettingsDep
) -> FileResponse:
    """The access package behind a signed, unexpired link. No API key: the link is the
    proof, so a link for one request never opens another."""
    try:
        request_id = verify_download(settings.secret_key or "", token)
    except DownloadError as exc:
        raise ApiError(403, "invalid_link", str(exc)) from None
    request = Requests(tutela).get(request_id)
    package = (request.result or {}).get("package")
    path = FilePath(package) if isinstance(package, str) else None
    if path is None or not path.is_file():
        raise ApiError(410, "gone", "the package is no longer kept; ask for a new copy")
    return FileResponse(path, media_type="application/zip", filename=f"{request_id}.zip")


# ---------------------------------------------------------------- verification


class CodeIn(BaseModel):
    """A code the person typed."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=12, pattern=r"^[0-9 ]+$")


class CodeSentPublic(BaseModel):
    """The same answer whether or not the person is known."""

    request_id: str
    expires_at: dt.datetime
    message: str


class CodeCheckPublic(BaseModel):
    """What became of the code."""

    outcome: str
    attempts_left: int
    state: str | None = None


@router.post(
    "/requests/{request_id}/verification:send",
    dependencies=_write,
    summary="Mail a verification code",
)
def send_code(request_id: RequestId, tutela: TutelaDep, http: Request) -> CodeSentPublic:
    """Mail a one-time code to the email the request names (15 minutes, five tries).
    The answer is the same whether or not the person is known."""
    Requests(tutela).get(request_id)  # 404 for a request that does not exist
    client = http.client.host if http.client else None
    sent = _verifier(tutela, mail=True).send_code(request_id, address_ip=client)
    return CodeSentPublic(
        request_id=sent.request_id, expires_at=sent.expires_at, message=sent.message
    )


class _NoMail:
    # Checking a code sends nothing; a verifier still wants someone to send with.
    def send(self, to: str, subject: str, body: str, *, language: str | None = None) -> None:
        raise AssertionError("checking a code sends no mail")


def _verifier(tutela: Tutela, *, mail: bool) -> Any:
    from tutela.errors import ConnectorError
    from tutela.requests.mail import Mailer
    from tutela.requests.verification import SECRET_KEY_ENV, Verifier

    if not os.environ.get(SECRET_KEY_ENV):
        raise ApiError(503, "unavailable", "identity verification is not configured here")
    try:
        sender: Any = Mailer.from_env() if mail else _NoMail()
    except ConnectorError:
        raise ApiError(503, "unavailable", "sending mail is not configured here") from None
    return Verifier(tutela, sender)


@router.post(
    "/requests/{request_id}/verification:check",
    dependencies=_write,
    summary="Check a verification code",
)
def check_code(request_id: RequestId, body: CodeIn, tutela: TutelaDep) -> CodeCheckPublic:
    """Check the code the person entered; on success the request moves on."""
    Requests(tutela).get(request_id)
    checked = _verifier(tutela, mail=False).check_code(request_id, body.code)
    return CodeCheckPublic(
        outcome=checked.outcome.value,
        attempts_left=checked.attempts_left,
        state=checked.request.state.value if checked.request else None,
    )


# ---------------------------------------------------------------- processors


class TaskPublic(BaseModel):
    """A processor's part of a request: a webhook delivery or a manual task."""

    id: str
    request_id: str
    recipient: str
    channel: str
    type: str
    status: str
    done: bool
    confirmed_by: str | None
    attempts: int


class Confirmation(BaseModel):
    """Who confirms a manual task, and what they did."""

    model_config = ConfigDict(extra="forbid")

    actor: str = Field(min_length=1, max_length=200)
    note: str = Field("", max_length=2000)


def _task(task: Task) -> TaskPublic:
    return TaskPublic(
        id=task.id,
        request_id=task.request_id,
        recipient=task.recipient,
        channel=task.channel,
        type=task.type,
        status=task.status.value,
        done=task.done,
        confirmed_by=task.confirmed_by,
        attempts=task.attempts,
    )


@router.get("/tasks", dependencies=_read, summary="Processor tasks")
def list_tasks(
    tutela: TutelaDep,
    request_id: Annotated[str | None, Query(pattern=r"^req_[0-9a-f]{20}$")] = None,
) -> list[TaskPublic]:
    """Webhook deliveries and manual tasks, of one request or all."""
    return [_task(t) for t in Processors(tutela).tasks(request_id)]


@router.post("/tasks/{task_id}:confirm", dependencies=_write, summary="Confirm a manual task")
def confirm_task(
    task_id: Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")],
    body: Confirmation,
    tutela: TutelaDep,
) -> TaskPublic:
    """A person confirms they carried out a recipient's part by hand."""
    return _task(Processors(tutela).confirm_task(task_id, body.actor, body.note))


@router.post(
    "/callbacks/{request_id}/{recipient}",
    summary="A processor's status callback",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def callback(
    request_id: RequestId,
    recipient: Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Z0-9_]+$")],
    http: Request,
    tutela: TutelaDep,
) -> None:
    """A processor reports progress. No API key: the body must be signed with the
    recipient's secret (``X-Tutela-Signature: sha256=...``); anything else changes nothing."""
    body = await http.body()
    signature = http.headers.get("x-tutela-signature")
    await run_in_threadpool(
        Processors(tutela).handle_callback, request_id, recipient, body, signature
    )
