"""Dependencies routes declare with ``Annotated`` aliases: the engine, the settings, the key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from tutela.api.errors import ApiError
from tutela.api.metrics import Metrics
from tutela.api.settings import ApiSettings
from tutela.engine import Tutela
from tutela.ledger.keys import SCOPES, ApiKey, KeyCache

__all__ = [
    "CurrentKey",
    "MetricsDep",
    "SettingsDep",
    "TutelaDep",
    "get_key",
    "get_metrics",
    "get_settings",
    "get_tutela",
    "require_scope",
]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `tutela keys create`, sent as `Authorization: Bearer tut_...`.",
)


def get_tutela(request: Request) -> Tutela:
    """The engine this app was created with."""
    tutela: Tutela = request.app.state.tutela
    return tutela


def get_settings(request: Request) -> ApiSettings:
    """The app's settings."""
    settings: ApiSettings = request.app.state.settings
    return settings


def get_metrics(request: Request) -> Metrics:
    """The app's metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


TutelaDep = Annotated[Tutela, Depends(get_tutela)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]

_UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


async def get_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The API key the request presents; 401 without a valid one."""
    if credentials is None:
        raise ApiError(401, "unauthenticated", "send an API key", _UNAUTHENTICATED)
    cache: KeyCache = request.app.state.keys
    # A fresh key is answered from memory without a thread hop; others go to the database.
    key = cache.cached(credentials.credentials)
    if key is None:
        key = await run_in_threadpool(cache.verify, credentials.credentials)
    if key is None:
        raise ApiError(
            401, "unauthenticated", "the API key is unknown or revoked", _UNAUTHENTICATED
        )
    return key


CurrentKey = Annotated[ApiKey, Depends(get_key)]


def require_scope(scope: str) -> Callable[[ApiKey], Awaitable[ApiKey]]:
    """A dependency that lets the request through only if its key has ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def check(key: CurrentKey) -> ApiKey:  # async: no thread hop for a set lookup
        if not key.allows(scope):
            raise ApiError(403, "forbidden", f"this API key lacks the {scope!r} scope")
        return key

    return check
