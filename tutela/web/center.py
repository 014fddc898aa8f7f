"""The privacy center's pages: parse the form, call the engine, render a template.

Every page works without JavaScript (plain links and forms, answered with a
redirect after each change); htmx, when it runs, only makes the same links and
forms swap the page body in place.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from tutela.api.settings import ApiSettings
from tutela.center import (
    announcement,
    choice_history,
    consent_choices,
    correctable_fields,
    marketing_channels,
    objection_choices,
    verify_login_link,
    what_we_hold,
)
from tutela.engine import Tutela
from tutela.errors import (
    ConnectorError,
    IdentityError,
    LinkError,
    RequestError,
    TooManyCodes,
    TutelaError,
)
from tutela.ledger.signin import SignInCodes
from tutela.requests.model import TERMINAL, RequestType
from tutela.requests.service import Requests
from tutela.requests.verification import MailSender
from tutela.web import csrf
from tutela.web.i18n import LANGUAGE_NAMES, LANGUAGES, N_, gettext_for, negotiate
from tutela.web.session import COOKIE_NAME, Session, SessionCodec

__all__ = ["WebContext", "router"]

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 16 * 1024

REQUEST_KINDS = {
    "access": N_("A copy of my data"),
    "portability": N_("My data in a machine-readable form"),
    "erasure": N_("Erase my data"),
    "restriction": N_("Restrict the use of my data"),
}
"""Requests a person makes here with one button, and their labels."""

LABELS = {
    # Legal bases.
    "consent": N_("your consent"),
    "explicit_consent": N_("your explicit consent"),
    "contract": N_("a contract with you"),
    "legal_obligation": N_("a legal obligation"),
    "vital_interest": N_("vital interests"),
    "public_task": N_("a task in the public interest"),
    "legitimate_interest": N_("our legitimate interest"),
    # Request types.
    "rectification": N_("Correct my data"),
    "objection": N_("Object"),
    "consent_withdrawal": N_("Withdraw consent"),
    # Request states.
    "received": N_("received"),
    "verifying": N_("verifying"),
    "awaiting_administrator": N_("awaiting your organisation's administrator"),
    "approved": N_("approved"),
    "running": N_("in progress"),
    "completed": N_("completed"),
    "partially_completed": N_("partially completed"),
    "denied": N_("denied"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
    # Marketing channels.
    "email": N_("email"),
    "sms": N_("text messages"),
    "push": N_("push notifications"),
    "in_app": N_("messages in the app"),
    "post": N_("post"),
    "phone": N_("phone calls"),
    "direct marketing": N_("direct marketing"),
    **REQUEST_KINDS,
}


@dataclass
class WebContext:
    """What the pages share: the engine, the settings, sessions, sign-in codes, mail."""

    tutela: Tutela
    settings: ApiSettings
    codec: SessionCodec
    codes: SignInCodes
    mailer: MailSender | None
    env: Environment


def make_environment() -> Environment:
    """The templates' environment: autoescaped HTML."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


router = APIRouter(prefix="/privacy", include_in_schema=False)


# ---------------------------------------------------------------- plumbing


def _ctx(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def _session(ctx: WebContext, request: Request) -> Session:
    found = ctx.codec.loads(request.cookies.get(COOKIE_NAME))
    return found or Session.fresh(negotiate(request.headers.get("accept-language")))


def _language(session: Session, request: Request) -> str:
    if session.language in LANGUAGES:
        return session.language
    return negotiate(request.headers.get("accept-language"))


async def _form(request: Request) -> dict[str, str]:
    # Forms here are small and url-encoded; reading them needs no multipart parser.
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _finish(ctx: WebContext, response: Response, session: Session) -> Response:
    response.set_cookie(**ctx.codec.cookie(session))
    return response


def _render(
    ctx: WebContext,
    request: Request,
    session: Session,
    template: str,
    status: int = 200,
    **values: Any,
) -> Response:
    language = _language(session, request)
    _ = gettext_for(language)
    page = ctx.env.get_template(template).render(
        _=_,
        label=lambda key: _(LABELS[key]) if key in LABELS else key,
        lang=language,
        languages=LANGUAGE_NAMES,
        csrf_field=csrf.FIELD,
        csrf_token=ctx.codec.csrf_token(session),
        session=session,
        organisation=ctx.tutela.policy.organisation.name,
        path=request.url.path,
        announcement=announcement(ctx.tutela.policy, dt.date.today()),
        **values,
    )
    return _finish(ctx, HTMLResponse(page, status_code=status), session)


def _redirect(ctx: WebContext, session: Session, to: str) -> Response:
    return _finish(ctx, RedirectResponse(to, status_code=303), session)


def _refused(ctx: WebContext, request: Request, session: Session) -> Response:
    _ = gettext_for(_language(session, request))
    message = _("This form has expired. Go back, reload the page and try again.")
    return _render(ctx, request, session, "error.html", 403, message=message)


async def _posted(ctx: WebContext, request: Request) -> tuple[Session, dict[str, str], bool]:
    session = _session(ctx, request)
    form = await _form(request)
    ok = csrf.valid(ctx.codec, session, form, request.headers.get(csrf.HEADER))
    return session, form, ok


async def _posted_by_person(
    ctx: WebContext, request: Request
) -> tuple[Session, str, dict[str, str]] | Response:
    """A form posted with a valid CSRF token by a person the ledger knows; otherwise the
    answer to send instead (refusal, or the sign-in page)."""
    session, form, ok = await _posted(ctx, request)
    if not ok:
        return _refused(ctx, request, session)
    person = _signed_in(ctx, session)
    if person is None or person.subject is None:
        return _redirect(ctx, session, "/privacy/login")
    return person, person.subject, form


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _state(ctx: WebContext, session: Session) -> Any:
    if session.subject:
        return ctx.tutela.state(session.subject)
    if session.email:
        return ctx.tutela.state({"email": session.email})
    return None


def _signed_in(ctx: WebContext, session: Session) -> Session | None:
    """The session with the ledger's subject filled in once the person is known."""
    if not session.signed_in:
        return None
    if session.subject is None and session.email:
        # Someone who signed in by code before the product registered them.
        state = ctx.tutela.state({"email": session.email})
        if state is not None:
            return Session(
                session.nonce,
                state.subject_id,
                session.email,
                session.signed_in_at,
                session.language,
            )
    return session


# ---------------------------------------------------------------- signing in


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    """What we hold and why, with the person's own choices."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    person = _signed_in(ctx, session)
    if person is None:
        return _redirect(ctx, session, "/privacy/login")
    state = _state(ctx, person)
    holdings = what_we_hold(ctx.tutela.policy, ctx.tutela.taxonomy, state)
    return _render(ctx, request, person, "overview.html", holdings=holdings)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """Ask for an email address."""
    ctx = _ctx(request)
    return _render(ctx, request, _session(ctx, request), "login.html")


@router.post("/login", response_class=HTMLResponse)
async def send_code(request: Request) -> Response:
    """Mail a sign-in code. The answer is the same whether or not the address is known."""
    ctx = _ctx(request)
    session, form, ok = await _posted(ctx, request)
    if not ok:
        return _refused(ctx, request, session)
    _ = gettext_for(_language(session, request))
    email = form.get("email", "").strip()
    if not email or "@" not in email or len(email) > 254:
        error = _("Enter an email address.")
        return _render(ctx, request, session, "login.html", 400, error=error)
    try:
        code = ctx.codes.issue(email, ip=_client_ip(request))
    except TooManyCodes:
        error = _("Too many codes were asked for. Try again in an hour.")
        return _render(ctx, request, session, "login.html", 429, error=error)
    subject = _("Your sign-in code: %(code)s", code=code)
    body = _(
        "Someone asked to sign in to the privacy center of %(organisation)s with this "
        "address.\n\nIf it was you, enter this code within 15 minutes:\n\n    %(code)s\n\n"
        "If it was not you, ignore this message; nothing happens without the code.\n",
        organisation=ctx.tutela.policy.organisation.name,
        code=code,
    )
    try:
        # Mailed to any address, known or not: the mailbox's owner is who signs in.
        await run_in_threadpool(_mail, ctx, email, subject, body, _language(session, request))
    except ConnectorError as exc:
        log.warning("a sign-in code could not be mailed: %s", exc)
        error = _("Sign-in by email is not available right now. Try again later.")
        return _render(ctx, request, session, "login.html", 503, error=error)
    return _render(ctx, request, session, "code.html", email=email)


def _mail(ctx: WebContext, to: str, subject: str, body: str, language: str) -> None:
    if ctx.mailer is None:
        from tutela.requests.mail import Mailer

        ctx.mailer = Mailer.from_env()
    ctx.mailer.send(to, subject, body, language=language)


@router.post("/login/code", response_class=HTMLResponse)
async def check_code(request: Request) -> Response:
    """Sign in with the mailed code."""
    ctx = _ctx(request)
    session, form, ok = await _posted(ctx, request)
    if not ok:
        return _refused(ctx, request, session)
    email = form.get("email", "").strip()
    code = form.get("code", "")
    if not email or not ctx.codes.check(email, code[:12]):
        _ = gettext_for(_language(session, request))
        error = _("That code is wrong or has expired. Ask for a new one if needed.")
        return _render(ctx, request, session, "code.html", 400, email=email, error=error)
    try:
        state = ctx.tutela.state({"email": email})
    except (IdentityError, TutelaError):
        state = None
    subject = state.subject_id if state else None
    signed = session.signed_in_as(subject=subject, email=email, at=ctx.codec.now())
    return _redirect(ctx, signed, "/privacy/")


@router.get("/login/link", response_class=HTMLResponse)
def login_link(request: Request, token: str = "") -> Response:
    """Sign in with a signed link the product handed out."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    try:
        subject = verify_login_link(ctx.settings.secret_key or "", token)
    except LinkError:
        subject = None
    if subject is None or ctx.tutela.ledger.state_or_none(subject) is None:
        _ = gettext_for(_language(session, request))
        message = _("This sign-in link is not valid or has expired. Sign in with your email.")
        return _render(ctx, request, session, "error.html", 403, message=message)
    signed = session.signed_in_as(subject=subject, email=None, at=ctx.codec.now())
    # A redirect, so the token leaves the address bar and the history.
    return _redirect(ctx, signed, "/privacy/")


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Sign out: a new, anonymous session."""
    ctx = _ctx(request)
    session, _unused, ok = await _posted(ctx, request)
    if not ok:
        return _refused(ctx, request, session)
    return _redirect(ctx, Session.fresh(session.language), "/privacy/login")


@router.post("/language")
async def language(request: Request) -> Response:
    """Switch the language, then go back to the page the switch was on."""
    ctx = _ctx(request)
    session, form, ok = await _posted(ctx, request)
    if not ok:
        return _refused(ctx, request, session)
    chosen = form.get("language", "")
    back = form.get("next", "/privacy/")
    # Only back into the privacy center: the field must not redirect elsewhere.
    if not back.startswith("/privacy/") or "//" in back or "\\" in back:
        back = "/privacy/"
    if chosen in LANGUAGES:
        session = session.with_language(chosen)
    return _redirect(ctx, session, back)


# ---------------------------------------------------------------- choices


@router.get("/choices", response_class=HTMLResponse)
def choices(request: Request) -> Response:
    """Consents, marketing channels and objections, with their history."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    person = _signed_in(ctx, session)
    if person is None:
        return _redirect(ctx, session, "/privacy/login")
    policy = ctx.tutela.policy
    state = _state(ctx, person)
    history = choice_history(ctx.tutela.ledger.history(person.subject)) if person.subject else []
    return _render(
        ctx,
        request,
        person,
        "choices.html",
        known=state is not None,
        consents=consent_choices(policy, state),
        channels=[
            (c, c not in (state.channel_opt_outs if state else ()))
            for c in marketing_channels(policy)
        ],
        objections=objection_choices(policy, state),
        history=history,
    )


@router.post("/choices")
async def change_choice(request: Request) -> Response:
    """Switch one consent, channel or objection, then show the choices again."""
    ctx = _ctx(request)
    checked = await _posted_by_person(ctx, request)
    if isinstance(checked, Response):
        return checked
    person, subject, form = checked
    kind, name, on = form.get("kind"), form.get("name", ""), form.get("on") == "1"
    ledger, policy = ctx.tutela.ledger, ctx.tutela.policy
    try:
        if kind == "consent" and name in {c.purpose for c in consent_choices(policy, None)}:
            ledger.record_consent(
                subject,
                name,
                on,
                policy_version=policy.version,
                source="web",
                ip=_client_ip(request),
                user_agent=request.headers.get("user-agent"),
            )
        elif kind == "channel" and name in marketing_channels(policy):
            ledger.set_channel(subject, name, not on, source="web")
        elif kind == "objection" and name in {o.purpose for o in objection_choices(policy, None)}:
            ledger.set_objection(subject, name, on, source="web")
    except TutelaError as exc:
        log.warning("a choice was refused: %s", type(exc).__name__)
    return _redirect(ctx, person, "/privacy/choices")


# ---------------------------------------------------------------- requests


@router.get("/requests", response_class=HTMLResponse)
def requests_page(request: Request) -> Response:
    """The person's requests with state and due date, and buttons for new ones."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    person = _signed_in(ctx, session)
    if person is None:
        return _redirect(ctx, session, "/privacy/login")
    mine = Requests(ctx.tutela).list(subject=person.subject) if person.subject else []
    return _render(
        ctx,
        request,
        person,
        "requests.html",
        known=person.subject is not None,
        requests=sorted(mine, key=lambda r: r.received_at, reverse=True),
        kinds=REQUEST_KINDS,
        terminal=TERMINAL,
        correctable=correctable_fields(ctx.tutela.policy, ctx.tutela.taxonomy),
    )


@router.post("/requests")
async def make_request(request: Request) -> Response:
    """Make a request. The session proved the identity, so it is verified at once."""
    ctx = _ctx(request)
    checked = await _posted_by_person(ctx, request)
    if isinstance(checked, Response):
        return checked
    person, _, form = checked
    kind = form.get("type", "")
    if kind not in REQUEST_KINDS and kind != RequestType.rectification.value:
        return _redirect(ctx, person, "/privacy/requests")
    identity = _identity(ctx, person)
    details: dict[str, Any] | None = None
    if kind == RequestType.restriction.value:
        details = {"action": "start"}
    elif kind == RequestType.rectification.value:
        details = {"corrections": {form.get("field", ""): form.get("value", "")}}
    service = Requests(ctx.tutela)
    try:
        made = service.create(
            kind,
            identity,
            source="privacy_center",
            details=details,
            language=_language(person, request),
        )
    except RequestError:
        # A field that cannot be corrected, or a value of the wrong kind: nothing written.
        _ = gettext_for(_language(person, request))
        message = _("This correction cannot be made here. Choose a field and give its new value.")
        return _render(ctx, request, person, "error.html", 400, message=message)
    made = service.mark_verified(made.id)
    if ctx.settings.run_requests_inline and made.state.value == "approved":
        from tutela.requests.runner import Runner

        try:
            await run_in_threadpool(Runner(ctx.tutela).run, made.id)
        except TutelaError as exc:
            # The request is marked failed and shows so; the reason stays with operators.
            log.warning("request %s failed: %s", made.id, type(exc).__name__)
    return _redirect(ctx, person, "/privacy/requests")


def _identity(ctx: WebContext, person: Session) -> tuple[str, str]:
    if person.email:
        return ("email", person.email)
    known = ctx.tutela.ledger.identities(person.subject or "")
    preferred = sorted(known, key=lambda i: {"email": 0, "user_id": 1}.get(i[0], 2))
    return preferred[0]


@router.get("/requests/{request_id}/download")
def download(request: Request, request_id: str) -> Response:
    """The access package of one of the person's own requests; anyone else's is not found."""
    ctx = _ctx(request)
    session = _session(ctx, request)
    person = _signed_in(ctx, session)
    if person is None:
        return _redirect(ctx, session, "/privacy/login")
    _ = gettext_for(_language(person, request))
    try:
        found = Requests(ctx.tutela).get(request_id[:64])
    except TutelaError:
        found = None
    # Someone else's request answers exactly like one that does not exist.
    if found is None or person.subject is None or found.subject != person.subject:
        message = _("There is no such download.")
        return _render(ctx, request, person, "error.html", 404, message=message)
    package = (found.result or {}).get("package")
    path = Path(package) if isinstance(package, str) else None
    if path is None or not path.is_file():
        message = _("This download is no longer kept. Ask for a new copy.")
        return _render(ctx, request, person, "error.html", 410, message=message)
    return _finish(
        ctx,
        FileResponse(path, media_type="application/zip", filename=f"{found.id}.zip"),
        person,
    )


def header_values() -> Mapping[str, str]:
    """Headers on every privacy-center response: a strict CSP and no caching or framing."""
    return {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
