"""The app factory: one FastAPI app over one opened :class:`~tutela.engine.Tutela`."""

from __future__ import annotations

from fastapi import FastAPI

from tutela import __version__
from tutela.api import (
    banner,
    consents,
    decisions,
    health,
    preferences,
    requests,
    scrub,
    subjects,
    unsubscribe,
)
from tutela.api.errors import install_error_handlers
from tutela.api.metrics import Metrics
from tutela.api.middleware import BodyLimitMiddleware, FailClosedMiddleware, MetricsMiddleware
from tutela.api.settings import ApiSettings
from tutela.engine import Tutela
from tutela.ledger.keys import KeyCache

__all__ = ["create_app"]

_DESCRIPTION = """\
Tutela's HTTP API: register people, record their consents and choices, and ask
whether a purpose may use their data. Send an API key as `Authorization: Bearer tut_...`;
each key has scopes. Errors have one shape: `{"error": {"code": ..., "message": ...}}`.
"""


def create_app(tutela: Tutela, *, settings: ApiSettings | None = None) -> FastAPI:
    """An app serving ``tutela``. Settings default to :meth:`ApiSettings.from_env`."""
    settings = settings or ApiSettings.from_env()
    app = FastAPI(
        title="Tutela",
        version=__version__,
        description=_DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.tutela = tutela
    app.state.settings = settings
    app.state.metrics = metrics = Metrics()
    app.state.keys = KeyCache(tutela.engine, ttl=settings.key_cache_seconds)
    install_error_handlers(app)
    for module in (
        subjects,
        consents,
        decisions,
        preferences,
        requests,
        scrub,
        unsubscribe,
        banner,
        health,
    ):
        app.include_router(module.router)
    # Added innermost first: Starlette wraps each new middleware around the previous ones.
    app.add_middleware(FailClosedMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # The privacy center's pages under /privacy/, with their own security headers.
    from tutela.web import mount_web

    mount_web(app, tutela, settings)
    return app
