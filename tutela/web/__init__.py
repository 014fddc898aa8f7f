"""The privacy center: server-rendered pages for the person whose data it is.

>>> from tutela.web import mount_web
>>> mount_web(app, tutela, settings)                          # doctest: +SKIP

Pages live under ``/privacy/`` and their static files under
``/privacy/static/``; the admin console (:mod:`tutela.web.admin`) under
``/admin/``. Every response there carries a strict Content-Security-Policy.
Sign-in is by a mailed one-time code or by a signed link the product hands
out (:func:`tutela.center.sign_login_link`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from starlette.staticfiles import StaticFiles

from tutela.api.settings import ApiSettings
from tutela.engine import Tutela
from tutela.ledger.signin import SignInCodes
from tutela.requests.verification import MailSender
from tutela.web.admin import mount_admin
from tutela.web.archive import router as archive_router
from tutela.web.center import WebContext, header_values, make_environment, router
from tutela.web.session import SessionCodec

__all__ = ["mount_web"]

STATIC = Path(__file__).parent / "static"


def mount_web(
    app: FastAPI,
    tutela: Tutela,
    settings: ApiSettings,
    *,
    mailer: MailSender | None = None,
) -> None:
    """Serve the privacy center from ``app``. Without a secret key (``TUTELA_SECRET_KEY``)
    there is no way to sign sessions, and the center is not mounted.

    ``mailer`` sends sign-in codes; by default it is built from ``TUTELA_SMTP_URL``
    and ``TUTELA_MAIL_FROM`` when the first code is sent.
    """
    secret = settings.secret_key
    if not secret or len(secret) < 16:
        return
    app.state.web = web = WebContext(
        tutela=tutela,
        settings=settings,
        codec=SessionCodec(secret, tutela.policy),
        codes=SignInCodes(tutela.engine, secret.encode()),
        mailer=mailer,
        env=make_environment(),
    )
    app.include_router(router)
    app.include_router(archive_router)
    mount_admin(app, web)
    app.mount("/privacy/static", StaticFiles(directory=STATIC), name="privacy-static")
    headers = dict(header_values())

    @app.middleware("http")
    async def privacy_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(("/privacy", "/admin")):
            response.headers.update(headers)
        return response
