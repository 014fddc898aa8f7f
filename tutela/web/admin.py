"""The admin console: pages under ``/admin/`` for staff and organisation administrators.

Who may sign in, and with which role:

* staff, listed in ``TUTELA_STAFF`` as ``address:role`` pairs separated by commas
  (``dpo@example.com:admin,ops@example.com:operator``);
* organisation administrators, as the ledger records them (``add_administrator``):
  they see and decide only their own organisations' requests.

Everyone signs in as in the privacy center, with a code mailed to the address;
the session lives in its own cookie (``tutela_admin``, path ``/admin``) under a
key of its own, ends with the browser, and lasts eight hours at most. The role
is looked up again on every request, so removing someone takes effect at once.

Every page that shows a person's data records who saw what (the ledger's
``staff-views`` stream, :meth:`~tutela.ledger.store.Ledger.record_view`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from tutela.errors import ConnectorError, TooManyCodes, TutelaError
from tutela.ledger import tables as t
from tutela.ledger.database import read
from tutela.ledger.signin import SignInCodes
from tutela.plan.retention import plan_sweep
from tutela.records import (
    data_map_svg,
    plan_outline,
    records_csv,
    records_of_processing,
    request_metrics,
)
from tutela.requests.model import TERMINAL, RequestState
from tutela.requests.service import Request as DsRequest
from tutela.requests.service import Requests
from tutela.web import csrf
from tutela.web.center import LABELS, WebContext, _form, _mail
from tutela.web.i18n import LANGUAGES, N_, gettext_for, negotiate
from tutela.web.session import Session, SessionCodec

__all__ = [
    "ADMIN_COOKIE",
    "PERMISSIONS",
    "STAFF_ENV",
    "AdminCodec",
    "Principal",
    "Role",
    "mount_admin",
    "parse_staff",
    "router",
]

log = logging.getLogger(__name__)

STAFF_ENV = "TUTELA_STAFF"
ADMIN_COOKIE = "tutela_admin"
SESSION_LIFETIME = dt.timedelta(hours=8)
QUEUE_LIMIT = 500
METRICS_LIMIT = 100_000


class Role(StrEnum):
    """What a member of staff may do; organisation administrators have a role of their own."""

    viewer = "viewer"
    operator = "operator"
    approver = "approver"
    admin = "admin"
    org_admin = "org_admin"


_READ = frozenset({"queue", "reports"})
PERMISSIONS: Mapping[Role, frozenset[str]] = {
    Role.viewer: _READ,
    Role.operator: _READ | {"extend", "tasks", "run", "lookup"},
    Role.approver: _READ | {"decide", "lookup"},
    Role.admin: _READ | {"extend", "tasks", "run", "lookup", "decide", "audit"},
    # Their members' requests only; no reports on the whole company, no lookup.
    Role.org_admin: frozenset({"queue", "decide"}),
}
"""Each role's permissions: ``queue`` (requests and their trails), ``reports``
(records of processing, data map, metrics), ``extend``, ``tasks`` (manual tasks),
``run``, ``decide`` (approve, deny), ``lookup`` (subjects), ``audit`` (the chain)."""


def parse_staff(text: str) -> dict[str, Role]:
    """``"a@example.com:admin, b@example.com:viewer"`` as addresses (lower case) to roles.

    Raises :class:`ValueError` naming the entry that is not ``address:role``.
    """
    staff: dict[str, Role] = {}
    for entry in text.split(","):
        if not entry.strip():
            continue
        address, _, role = entry.strip().rpartition(":")
        choices = [r.value for r in Role if r is not Role.org_admin]
        if "@" not in address or role not in choices:
            raise ValueError(
                f"{STAFF_ENV}: {entry.strip()!r} is not address:role (roles: {', '.join(choices)})"
            )
        staff[address.strip().lower()] = Role(role)
    return staff


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is signed in to the console, with what role, over which organisations."""

    email: str
    role: Role
    organisations: tuple[str, ...] | None = None
    """The organisations an administrator manages; ``None`` for staff (all requests)."""

    def may(self, permission: str) -> bool:
        """Whether the role grants ``permission``."""
        return permission in PERMISSIONS[self.role]

    def sees(self, request: DsRequest) -> bool:
        """Whether the request is within this person's reach."""
        return self.organisations is None or request.organisation in self.organisations


ROLE_LABELS: Mapping[Role, str] = {
    Role.viewer: N_("viewer"),
    Role.operator: N_("operator"),
    Role.approver: N_("approver"),
    Role.admin: N_("administrator"),
    Role.org_admin: N_("organisation administrator"),
}


class AdminCodec(SessionCodec):
    """Console sessions: their own key and cookie, browser-session only, eight hours."""

    def __init__(self, secret: str, codec: SessionCodec) -> None:
        # A key of its own: a privacy-center cookie is never a console session.
        super().__init__(secret + "/admin-console", codec.policy, clock=codec.now)

    @property
    def session_only(self) -> bool:
        """Console cookies end with the browser, whatever the policy allows the center."""
        return True

    @property
    def relogin_after(self) -> dt.timedelta:
        """A console sign-in counts for eight hours."""
        return SESSION_LIFETIME

    def cookie(self, session: Session) -> dict[str, Any]:
        """Keyword arguments for ``Response.set_cookie``: the console's cookie."""
        options = super().cookie(session)
        options.update(key=ADMIN_COOKIE, path="/admin")
        return options


@dataclass
class AdminContext:
    """What the console's pages share."""

    web: WebContext
    codec: AdminCodec
    codes: SignInCodes
    staff: Mapping[str, Role]


router = APIRouter(prefix="/admin", include_in_schema=False)


def mount_admin(app: FastAPI, web: WebContext, *, staff: Mapping[str, Role] | None = None) -> None:
    """Serve the console from ``app``; staff default to :data:`STAFF_ENV`."""
    secret = web.settings.secret_key or ""
    app.state.admin = AdminContext(
        web=web,
        codec=AdminCodec(secret, web.codec),
        codes=SignInCodes(web.tutela.engine, secret.encode(), context="admin-console"),
        staff=staff if staff is not None else parse_staff(os.environ.get(STAFF_ENV, "")),
    )
    app.include_router(router)


# ---------------------------------------------------------------- plumbing


def _ctx(request: Request) -> AdminContext:
    ctx: AdminContext = request.app.state.admin
    return ctx


def _session(ctx: AdminContext, request: Request) -> Session:
    found = ctx.codec.loads(request.cookies.get(ADMIN_COOKIE))
    return found or Session.fresh(negotiate(request.headers.get("accept-language")))


def _language(session: Session, request: Request) -> str:
    if session.language in LANGUAGES:
        return session.language
    return negotiate(request.headers.get("accept-language"))


def _principal(ctx: AdminContext, email: str | None) -> Principal | None:
    """The role of ``email`` now: staff first, else the organisations it administers."""
    if not email:
        return None
    address = email.strip().lower()
    role = ctx.staff.get(address)
    if role is not None:
        return Principal(address, role)
    state = ctx.web.tutela.state({"email": address})
    if state is None:
        return None
    organisations = ctx.web.tutela.ledger.administered_organisations(state.subject_id)
    if not organisations:
        return None
    return Principal(address, Role.org_admin, tuple(organisations))


def _finish(ctx: AdminContext, response: Response, session: Session) -> Response:
    response.set_cookie(**ctx.codec.cookie(session))
    return response


def _render(
    ctx: AdminContext,
    request: Request,
    session: Session,
    template: str,
    status: int = 200,
    principal: Principal | None = None,
    **values: Any,
) -> Response:
    language = _language(session, request)
    _ = gettext_for(language)
    page = ctx.web.env.get_template(f"admin/{template}").render(
        _=_,
        label=lambda key: _(LABELS[key]) if key in LABELS else key,
        lang=language,
        csrf_field=csrf.FIELD,
        csrf_token=ctx.codec.csrf_token(session),
        principal=principal,
        roles=ROLE_LABELS,
        organisation=ctx.web.tutela.policy.organisation.name,
        path=request.url.path,
        **values,
    )
    return _finish(ctx, HTMLResponse(page, status_code=status), session)


def _redirect(ctx: AdminContext, session: Session, to: str) -> Response:
    return _finish(ctx, RedirectResponse(to, status_code=303), session)


def _error(
    ctx: AdminContext,
    request: Request,
    session: Session,
    status: int,
    message: str,
    principal: Principal | None = None,
) -> Response:
    _ = gettext_for(_language(session, request))
    return _render(
        ctx, request, session, "error.html", status, principal=principal, message=_(message)
    )


@dataclass(frozen=True, slots=True)
class _Allowed:
    session: Session
    principal: Principal


def _guard(ctx: AdminContext, request: Request, permission: str) -> _Allowed | Response:
    """The signed-in principal if it holds ``permission``; else the answer to give."""
    session = _session(ctx, request)
    principal = _principal(ctx, session.email) if session.signed_in else None
    if principal is None:
        return _redirect(ctx, session, "/admin/login")
    if not principal.may(permission):
        return _error(ctx, request, session, 403, FORBIDDEN, principal)
    return _Allowed(session, principal)


async def _guard_post(
    ctx: AdminContext, request: Request, permission: str
) -> tuple[_Allowed | Response, dict[str, str]]:
    form = await _form(request)
    allowed = _guard(ctx, request, permission)
    if isinstance(allowed, _Allowed) and not csrf.valid(
        ctx.codec, allowed.session, form, request.headers.get(csrf.HEADER)
    ):
        return _error(ctx, request, allowed.session, 403, EXPIRED, allowed.principal), form
    return allowed, form


FORBIDDEN = N_("Your role does not allow this.")
EXPIRED = N_("This form has expired. Go back, reload the page and try again.")
NOT_FOUND = N_("There is no such request.")


def _find(ctx: AdminContext, principal: Principal, request_id: str) -> DsRequest | None:
    """The request if it exists and is within the principal's reach; else ``None``, so
    another organisation's request answers exactly like one that does not exist."""
    try:
        found = Requests(ctx.web.tutela).get(request_id[:64])
    except TutelaError:
        return None
    return found if principal.sees(found) else None


def _queue(ctx: AdminContext, principal: Principal, state: RequestState | None) -> list[DsRequest]:
    service = Requests(ctx.web.tutela)
    if principal.organisations is None:
        return service.list(state=state, limit=QUEUE_LIMIT)
    found = [
        r
        for org in principal.organisations
        for r in service.list(state=state, organisation=org, limit=QUEUE_LIMIT)
    ]
    return sorted(found, key=lambda r: (r.due_on, r.id))


# ---------------------------------------------------------------- signing in


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """Ask for a staff address."""
    ctx = _ctx(request)
    return _render(ctx, request, _session(ctx, request), "login.html")


@router.post("/login", response_class=HTMLResponse)
async def send_code(request: Request) -> Response:
    """Mail a code to staff and administrators. Anyone else gets the same answer and no
    mail, so the page does not tell who is staff."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    form = await _form(request)
    if not csrf.valid(ctx.codec, session, form, request.headers.get(csrf.HEADER)):
        return _error(ctx, request, session, 403, EXPIRED)
    _ = gettext_for(_language(session, request))
    email = form.get("email", "").strip()
    if not email or "@" not in email or len(email) > 254:
        error = _("Enter an email address.")
        return _render(ctx, request, session, "login.html", 400, error=error)
    if _principal(ctx, email) is not None:
        host = request.client.host if request.client else None
        try:
            code = ctx.codes.issue(email.lower(), ip=host)
            subject = _("Your sign-in code: %(code)s", code=code)
            body = _(
                "Someone asked to sign in to the admin console of %(organisation)s with "
                "this address.\n\nIf it was you, enter this code within 15 minutes:\n\n"
                "    %(code)s\n\nIf it was not you, tell your data protection officer.\n",
                organisation=ctx.web.tutela.policy.organisation.name,
                code=code,
            )
            await run_in_threadpool(
                _mail, ctx.web, email, subject, body, _language(session, request)
            )
        except TooManyCodes:
            error = _("Too many codes were asked for. Try again in an hour.")
            return _render(ctx, request, session, "login.html", 429, error=error)
        except ConnectorError as exc:
            log.warning("a console sign-in code could not be mailed: %s", type(exc).__name__)
            error = _("Sign-in by email is not available right now. Try again later.")
            return _render(ctx, request, session, "login.html", 503, error=error)
    return _render(ctx, request, session, "code.html", email=email)


@router.post("/login/code", response_class=HTMLResponse)
async def check_code(request: Request) -> Response:
    """Sign in with the mailed code."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    form = await _form(request)
    if not csrf.valid(ctx.codec, session, form, request.headers.get(csrf.HEADER)):
        return _error(ctx, request, session, 403, EXPIRED)
    email = form.get("email", "").strip().lower()
    if not email or not ctx.codes.check(email, form.get("code", "")[:12]):
        _ = gettext_for(_language(session, request))
        error = _("That code is wrong or has expired. Ask for a new one if needed.")
        return _render(ctx, request, session, "code.html", 400, email=email, error=error)
    signed = session.signed_in_as(subject=None, email=email, at=ctx.codec.now())
    return _redirect(ctx, signed, "/admin/")


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Sign out: a new, anonymous session."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    form = await _form(request)
    if not csrf.valid(ctx.codec, session, form, request.headers.get(csrf.HEADER)):
        return _error(ctx, request, session, 403, EXPIRED)
    return _redirect(ctx, Session.fresh(session.language), "/admin/login")


# ---------------------------------------------------------------- requests


@router.get("/", response_class=HTMLResponse)
def queue(request: Request, state: str = "") -> Response:
    """The request queue, by due date, overdue ones marked."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "queue")
    if not isinstance(allowed, _Allowed):
        return allowed
    chosen = RequestState(state) if state in RequestState.__members__ else None
    return _render(
        ctx,
        request,
        allowed.session,
        "queue.html",
        principal=allowed.principal,
        requests=_queue(ctx, allowed.principal, chosen),
        states=[s.value for s in RequestState],
        chosen=state if chosen else "",
        terminal=TERMINAL,
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_detail(request: Request, request_id: str) -> Response:
    """One request: its plan, its report, its trail, and what may be done with it."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "queue")
    if not isinstance(allowed, _Allowed):
        return allowed
    found = _find(ctx, allowed.principal, request_id)
    if found is None:
        return _error(ctx, request, allowed.session, 404, NOT_FOUND, allowed.principal)
    tutela = ctx.web.tutela
    if found.subject is not None:
        tutela.ledger.record_view(allowed.principal.email, found.subject, f"request {found.id}")
    from tutela.connectors.processors import Processors

    return _render(
        ctx,
        request,
        allowed.session,
        "request.html",
        principal=allowed.principal,
        r=found,
        plan=plan_outline(tutela.policy, tutela.taxonomy, found.type),
        trail=Requests(tutela).trail(found.id),
        tasks=Processors(tutela).tasks(found.id),
        report=sorted((found.result or {}).items()),
        terminal=TERMINAL,
        error=request.query_params.get("error") == "1",
    )


async def _act(request: Request, request_id: str, permission: str, action: str) -> Response:
    ctx = _ctx(request)
    allowed, form = await _guard_post(ctx, request, permission)
    if not isinstance(allowed, _Allowed):
        return allowed
    found = _find(ctx, allowed.principal, request_id)
    if found is None:
        return _error(ctx, request, allowed.session, 404, NOT_FOUND, allowed.principal)
    service, actor = Requests(ctx.web.tutela), allowed.principal.email
    reason = form.get("reason", "").strip()[:1000]
    try:
        if action == "approve":
            approved = service.approve(found.id, actor=actor)
            if ctx.web.settings.run_requests_inline:
                await _run(ctx, approved.id)
        elif action == "deny":
            service.deny(found.id, reason, actor=actor)
        elif action == "extend":
            service.extend(found.id, reason, actor=actor)
        elif action == "run":
            await _run(ctx, found.id)
    except TutelaError as exc:
        # The engine's message says what was wrong (no reason given, already extended).
        log.info("a console action was refused: %s", type(exc).__name__)
        return _render(
            ctx,
            request,
            allowed.session,
            "refused.html",
            409,
            principal=allowed.principal,
            r=found,
            detail=str(exc),
        )
    return _redirect(ctx, allowed.session, f"/admin/requests/{found.id}")


async def _run(ctx: AdminContext, request_id: str) -> None:
    from tutela.requests.runner import Runner

    try:
        await run_in_threadpool(Runner(ctx.web.tutela).run, request_id)
    except TutelaError as exc:
        # The request is marked failed and its trail says why; the page shows it.
        log.warning("request %s failed: %s", request_id, type(exc).__name__)


@router.post("/requests/{request_id}/approve")
async def approve(request: Request, request_id: str) -> Response:
    """Approve a request waiting for a decision (run at once when so configured)."""
    return await _act(request, request_id, "decide", "approve")


@router.post("/requests/{request_id}/deny")
async def deny(request: Request, request_id: str) -> Response:
    """Deny with a reason the person is told."""
    return await _act(request, request_id, "decide", "deny")


@router.post("/requests/{request_id}/extend")
async def extend(request: Request, request_id: str) -> Response:
    """Extend the deadline once, with a reason the person is told."""
    return await _act(request, request_id, "extend", "extend")


@router.post("/requests/{request_id}/run")
async def run(request: Request, request_id: str) -> Response:
    """Run an approved or failed request now, in this process."""
    return await _act(request, request_id, "run", "run")


# ---------------------------------------------------------------- manual tasks


@router.get("/tasks", response_class=HTMLResponse)
def tasks(request: Request) -> Response:
    """Processor steps still open, for a person to confirm once done by other means."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "tasks")
    if not isinstance(allowed, _Allowed):
        return allowed
    from tutela.connectors.processors import Processors

    open_tasks = [task for task in Processors(ctx.web.tutela).tasks() if not task.done]
    return _render(
        ctx, request, allowed.session, "tasks.html", principal=allowed.principal, tasks=open_tasks
    )


@router.post("/tasks/{task_id}/confirm")
async def confirm_task(request: Request, task_id: str) -> Response:
    """Confirm a task done, with an optional note."""
    ctx = _ctx(request)
    allowed, form = await _guard_post(ctx, request, "tasks")
    if not isinstance(allowed, _Allowed):
        return allowed
    from tutela.connectors.processors import Processors

    try:
        Processors(ctx.web.tutela).confirm_task(
            task_id[:64], allowed.principal.email, form.get("note", "")[:1000]
        )
    except TutelaError as exc:
        log.info("a task confirmation was refused: %s", type(exc).__name__)
    return _redirect(ctx, allowed.session, "/admin/tasks")


# ---------------------------------------------------------------- subjects and audit


@router.get("/subjects", response_class=HTMLResponse)
def subjects(request: Request, q: str = "") -> Response:
    """Find a person by email, phone, user id or subject id. Every person shown is
    recorded as seen by whoever looked."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "lookup")
    if not isinstance(allowed, _Allowed):
        return allowed
    tutela = ctx.web.tutela
    query = q.strip()[:254]
    state = None
    if query:
        kind = "id" if query.startswith("sub_") else "email" if "@" in query else "user_id"
        try:
            state = tutela.ledger.state_for(kind, query)
            if state is None and kind == "user_id" and query.lstrip("+").isdigit():
                state = tutela.ledger.state_for("phone", query)
        except TutelaError:
            state = None
    values: dict[str, Any] = {"q": query, "state": state}
    if state is not None:
        tutela.ledger.record_view(allowed.principal.email, state.subject_id, "subject lookup")
        values["identities"] = tutela.ledger.identities(state.subject_id)
        values["history"] = tutela.ledger.history(state.subject_id)
        values["requests"] = Requests(tutela).list(subject=state.subject_id)
    return _render(
        ctx, request, allowed.session, "subjects.html", principal=allowed.principal, **values
    )


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request) -> Response:
    """Verify every hash chain of the ledger and show the broken ones."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "audit")
    if not isinstance(allowed, _Allowed):
        return allowed
    ledger = ctx.web.tutela.ledger
    broken = list(ledger.verify())
    return _render(
        ctx, request, allowed.session, "audit.html", principal=allowed.principal, broken=broken
    )


# ---------------------------------------------------------------- reports


@router.get("/records", response_class=HTMLResponse)
def records(request: Request) -> Response:
    """The Art. 30 record of processing activities."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "reports")
    if not isinstance(allowed, _Allowed):
        return allowed
    found = records_of_processing(ctx.web.tutela.policy, ctx.web.tutela.taxonomy)
    return _render(
        ctx, request, allowed.session, "records.html", principal=allowed.principal, records=found
    )


@router.get("/records.csv")
def records_download(request: Request) -> Response:
    """The Art. 30 record as CSV."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "reports")
    if not isinstance(allowed, _Allowed):
        return allowed
    found = records_of_processing(ctx.web.tutela.policy, ctx.web.tutela.taxonomy)
    response = Response(
        records_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="records-of-processing.csv"'},
    )
    return _finish(ctx, response, allowed.session)


@router.get("/retention", response_class=HTMLResponse)
def retention(request: Request) -> Response:
    """What the policy's retention periods end as of now, and the latest sweeps."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "reports")
    if not isinstance(allowed, _Allowed):
        return allowed
    tutela = ctx.web.tutela
    plan = plan_sweep(tutela.policy, dt.datetime.now(dt.UTC))
    return _render(
        ctx,
        request,
        allowed.session,
        "retention.html",
        principal=allowed.principal,
        plan=plan,
        sweeps=tutela.ledger.sweeps(),
    )


@router.get("/map", response_class=HTMLResponse)
def data_map_page(request: Request) -> Response:
    """The data map: datasets, purposes, recipients and countries, drawn as SVG."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "reports")
    if not isinstance(allowed, _Allowed):
        return allowed
    _ = gettext_for(_language(allowed.session, request))
    svg = data_map_svg(ctx.web.tutela.policy, title=_("Data map"))
    return _render(ctx, request, allowed.session, "map.html", principal=allowed.principal, svg=svg)


@router.get("/map.svg")
def data_map_image(request: Request) -> Response:
    """The data map alone, as an SVG file."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "reports")
    if not isinstance(allowed, _Allowed):
        return allowed
    svg = data_map_svg(ctx.web.tutela.policy)
    return _finish(ctx, Response(svg, media_type="image/svg+xml"), allowed.session)


@router.get("/metrics", response_class=HTMLResponse)
def metrics(request: Request) -> Response:
    """Requests by type and state, the median time to complete, how many are overdue."""
    ctx = _ctx(request)
    allowed = _guard(ctx, request, "reports")
    if not isinstance(allowed, _Allowed):
        return allowed
    every = Requests(ctx.web.tutela).list(limit=METRICS_LIMIT)
    found = request_metrics(every, _finished_at(ctx, every))
    return _render(
        ctx, request, allowed.session, "metrics.html", principal=allowed.principal, m=found
    )


def _finished_at(ctx: AdminContext, requests: list[DsRequest]) -> dict[str, dt.datetime]:
    """When each completed request completed: a finished request is never updated
    again, so its last update is its completion. One query."""
    wanted = {r.id for r in requests if r.state is RequestState.completed}
    if not wanted:
        return {}
    query = select(t.requests.c.public_id, t.requests.c.updated_at).where(
        t.requests.c.state == RequestState.completed.value
    )
    with read(ctx.web.tutela.engine) as conn:
        return {
            row.public_id: _aware(row.updated_at)
            for row in conn.execute(query)
            if row.public_id in wanted
        }


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
