"""ASGI middleware: request metrics, the body size limit, and failing closed.

Order, outermost first: metrics (sees every answer, 413s and 500s too), size
limit (refuses before any parsing), fail-closed (turns an unexpected error into
a generic 500 and logs only its class name).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tutela.api.metrics import Metrics

__all__ = ["BodyLimitMiddleware", "FailClosedMiddleware", "MetricsMiddleware"]

log = logging.getLogger("tutela.api")


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _route_of(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class MetricsMiddleware:
    """Count each request by route template and status, and time it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.observe_request(
                _route_of(scope), scope["method"], status, time.perf_counter() - start
            )


class _TooLarge(HTTPException):
    # An HTTPException, so the body parser passes it on rather than calling it a parse error.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes; send less")


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes with 413: at once when ``Content-Length``
    says so, or as soon as a streamed body goes over."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await self._refuse(send)
                return
        seen = 0
        started = False

        async def receiving() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge(self.limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await _send_error(
            send, 413, "too_large", f"the body is larger than {self.limit} bytes; send less"
        )


class FailClosedMiddleware:
    """Answer any error nobody handled with a generic 500: no traceback, no message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except _TooLarge:
            raise
        except Exception as exc:
            # The class name and route only: messages of database errors quote rows.
            log.error("unexpected %s on %s", type(exc).__name__, _route_of(scope))
            if not started:
                await _send_error(
                    send, 500, "internal_error", "an unexpected error occurred; it was logged"
                )
