"""Errors to HTTP responses, in one place.

Every error body has one shape: ``{"error": {"code": str, "message": str}}``.

=============================================  ======  ====================
raised                                         status  code
=============================================  ======  ====================
request body or parameters fail validation      422    ``invalid_request``
``IdentityError`` (not an email, a phone...)    422    ``invalid_identity``
``InputError``, ``PolicyError``                 400    ``invalid_input``
``NotFound`` (subject, organisation, request)    404    ``not_found``
``LinkError`` (forged, altered, expired link)   403    ``invalid_link``
other ``LedgerError``, ``RequestError``         409    ``conflict``
``ConnectorError``                              502    ``connector_failed``
:class:`ApiError` (auth, size, cursor...)       own    own
anything else                                   500    ``internal_error``
=============================================  ======  ====================

Unexpected errors are logged by class name and route only: their messages may
hold personal data (a database error quotes the row it refused).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from tutela.errors import (
    ConnectorError,
    InputError,
    LedgerError,
    NotFound,
    PolicyError,
    RequestError,
    TutelaError,
)
from tutela.ledger.identities import IdentityError
from tutela.ledger.links import LinkError

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "ErrorBody",
    "ErrorDetail",
    "error_response",
    "install_error_handlers",
    "status_for",
]

log = logging.getLogger("tutela.api")


class ErrorDetail(BaseModel):
    """What went wrong: a stable code and a readable message."""

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no subject 'sub_4f3c0d1e2a9b8c7d6e5f'"])


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """An error of the HTTP layer itself (authentication, size, paging), with its status."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "The input cannot be used"),
        (401, "No valid API key"),
        (403, "The key lacks the scope"),
        (404, "No such subject"),
        (409, "The ledger refused the change"),
        (413, "The body is too large"),
        (422, "The body or parameters are invalid"),
        (500, "An unexpected error"),
    )
}
"""Documented on every route, so the OpenAPI schema covers each answer we can give."""


def status_for(exc: TutelaError) -> tuple[int, str]:
    from tutela.connectors.processors import CallbackRejected
    from tutela.requests.verification import TooManyCodes

    """The HTTP status and error code for an engine error."""
    if isinstance(exc, IdentityError):
        return 422, "invalid_identity"
    if isinstance(exc, InputError | PolicyError):
        return 400, "invalid_input"
    if isinstance(exc, LinkError):
        return 403, "invalid_link"
    if isinstance(exc, NotFound):
        return 404, "not_found"
    if isinstance(exc, TooManyCodes):
        return 429, "too_many_requests"
    if isinstance(exc, CallbackRejected):
        return 401, "unauthenticated"
    if isinstance(exc, LedgerError):
        return 409, "conflict"
    if isinstance(exc, RequestError):
        return 409, "conflict"
    if isinstance(exc, ConnectorError):
        return 502, "connector_failed"
    return 500, "internal_error"


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error response in the one shape every error has."""
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    # Locations and messages only: the rejected input may be personal data.
    parts = []
    for error in exc.errors()[:10]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is invalid"


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping above on ``app``."""

    async def on_tutela(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TutelaError)
        status, code = status_for(exc)
        if status >= 500:
            log.error("engine error %s", type(exc).__name__)
            return error_response(status, code, "the request could not be completed")
        return error_response(status, code, str(exc))

    async def on_api(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", _validation_message(exc))

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, str(exc.detail), headers)

    app.add_exception_handler(TutelaError, on_tutela)
    app.add_exception_handler(ApiError, on_api)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
