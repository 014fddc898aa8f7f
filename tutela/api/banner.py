"""The cookie banner over HTTP: the script, its configuration, visitors' choices, linking
a visitor to a person, and ``/.well-known/gpc.json``.

The banner's routes are public (no key) except linking. They answer any origin
(``Access-Control-Allow-Origin: *``, never with credentials): the script runs on
the product's pages and talks to Tutela's origin. The script posts its choices as
``text/plain`` so browsers send them without a preflight. Posting is limited per
client address and to small bodies; purposes are checked before anything is
written. The rules live in :mod:`tutela.banner`.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from tutela import banner
from tutela.api.deps import TutelaDep, require_scope
from tutela.api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from tutela.api.schemas import SubjectRef
from tutela.decide import Signals

__all__ = ["MAX_CONSENT_BYTES", "RateLimiter", "router"]

SCRIPT = Path(__file__).resolve().parent.parent / "web" / "banner.js"
MAX_CONSENT_BYTES = 4096
"""Largest body ``POST /v1/banner/consents`` reads."""
MAX_CHOICES = 64

_CORS = {"Access-Control-Allow-Origin": "*"}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    429: {"model": ErrorBody, "description": "Too many posts from this address"},
}
router = APIRouter(tags=["banner"], responses=_RESPONSES)


class RateLimiter:
    """A token bucket per client address: ``burst`` posts at once, refilled at ``rate``
    per second. Holds at most ``max_clients`` addresses, dropping the idlest."""

    def __init__(
        self,
        rate: float = 0.5,
        burst: int = 20,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.max_clients, self.clock = rate, burst, max_clients, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        """Take one token for ``address``; false when it has none left."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(address, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[address] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.max_clients:
                # Dicts keep insertion order and each use re-inserts: the first is the idlest.
                del self._buckets[next(iter(self._buckets))]
            return allowed


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "banner_limiter", None)
    if limiter is None:
        limiter = state.banner_limiter = RateLimiter()
    return limiter


class BannerChoices(BaseModel):
    """A visitor's choices from the banner."""

    model_config = ConfigDict(extra="forbid")

    visitor_id: str | None = Field(
        None,
        max_length=64,
        description="The visitor id from the consent cookie; omit it on a first visit.",
        examples=["v_4f3c0d1e2a9b8c7d6e5f4a3b2c1d0e9f"],
    )
    choices: dict[Annotated[str, Field(max_length=64)], bool] = Field(
        default_factory=dict,
        max_length=MAX_CHOICES,
        description="Purpose name to granted (true) or refused (false).",
        examples=[{"analytics": True, "advertising": False}],
    )
    objections: dict[Annotated[str, Field(max_length=64)], bool] = Field(
        default_factory=dict,
        max_length=MAX_CHOICES,
        description="Purpose on legitimate interest to objected (true) or not (false).",
        examples=[{"product_research": True}],
    )
    policy_version: str | None = Field(
        None, max_length=64, description="The version the banner showed; refused if outdated."
    )


class BannerLink(BaseModel):
    """Link a visitor id to the person who signed in."""

    model_config = ConfigDict(extra="forbid")

    visitor_id: str = Field(max_length=64, examples=["v_4f3c0d1e2a9b8c7d6e5f4a3b2c1d0e9f"])
    subject: SubjectRef


class BannerLinked(BaseModel):
    """The person the visitor now belongs to; ``merged`` when it brought choices."""

    subject: str
    merged: bool


@functools.cache
def _script() -> tuple[bytes, str]:
    body = SCRIPT.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get(
    "/banner.js",
    summary="The cookie banner script",
    response_class=Response,
    responses={
        200: {"content": {"application/javascript": {}}},
        304: {"description": "Not modified since the ETag sent"},
    },
)
def banner_script(
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """The script a product adds with one tag. Cacheable, with an ETag."""
    body, etag = _script()
    headers = {
        "Cache-Control": "public, max-age=3600",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        **_CORS,
    }
    if if_none_match is not None and etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)


@router.get("/v1/banner/config", summary="The banner's configuration (no key)")
def banner_config(
    request: Request,
    tutela: TutelaDep,
    since: Annotated[
        str | None,
        Query(
            max_length=64, description="The version the visitor's stored choices were given under."
        ),
    ] = None,
) -> JSONResponse:
    """Categories, texts, GPC and whether to ask again, for the script. ``Sec-GPC: 1``
    marks what Global Privacy Control turns off as off."""
    config = banner.banner_config(
        tutela.policy,
        gpc=Signals.from_headers(request.headers).gpc,
        since=since,
        accept_language=request.headers.get("accept-language", "")[:200],
        taxonomy=tutela.taxonomy,
    )
    return JSONResponse(
        config.to_dict(),
        headers={
            "Cache-Control": "public, max-age=60",
            "Vary": "Sec-GPC, Accept-Language",
            **_CORS,
        },
    )


async def _read_limited(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_CONSENT_BYTES):
        raise ApiError(413, "too_large", f"send at most {MAX_CONSENT_BYTES} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CONSENT_BYTES:
            raise ApiError(413, "too_large", f"send at most {MAX_CONSENT_BYTES} bytes")
    return body


@router.post(
    "/v1/banner/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Record a visitor's banner choices (no key)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/plain": {"schema": BannerChoices.model_json_schema()},
                "application/json": {"schema": BannerChoices.model_json_schema()},
            },
        }
    },
)
async def banner_consents(request: Request, tutela: TutelaDep) -> JSONResponse:
    """Record the choices under the visitor (a new visitor id when none or an unknown
    one is sent) and the policy's current version. Returns the visitor id to keep."""
    address = request.client.host if request.client else "unknown"
    if not _limiter(request).allow(address):
        raise ApiError(429, "too_many_requests", "too many choices from this address; wait")
    raw = await _read_limited(request)
    try:
        body = BannerChoices.model_validate_json(raw)
    except ValidationError:
        raise ApiError(
            422,
            "invalid_request",
            "send JSON: {visitor_id?, choices: {purpose: bool}, objections: {purpose: bool}}",
        ) from None
    if body.policy_version is not None and body.policy_version != tutela.policy.version:
        raise ApiError(409, "policy_changed", "the policy changed; load the banner again")
    gpc = Signals.from_headers(request.headers).gpc
    recorded = await run_in_threadpool(
        partial(
            banner.record_visitor_choices,
            tutela,
            body.visitor_id,
            body.choices,
            gpc=gpc,
            objections=body.objections,
        )
    )
    return JSONResponse(
        {
            "visitor_id": recorded.visitor_id,
            "policy_version": recorded.policy_version,
            "choices": dict(recorded.choices),
            "objections": dict(recorded.objections),
        },
        status_code=201,
        headers={"Cache-Control": "no-store", **_CORS},
    )


@router.options("/v1/banner/consents", include_in_schema=False)
def banner_consents_preflight() -> Response:
    """Let browsers that preflight a JSON post through."""
    return Response(
        status_code=204,
        headers={
            **_CORS,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "86400",
        },
    )


@router.post(
    "/v1/banner/link",
    dependencies=[Depends(require_scope("subjects:write"))],
    summary="Link a visitor to the person who signed in",
)
def banner_link(body: BannerLink, tutela: TutelaDep) -> BannerLinked:
    """Merge the visitor's banner choices into the person (the later choice wins) and
    keep the visitor id on them. A visitor id linked to someone else is refused (409)."""
    linked = banner.link_visitor(tutela, body.visitor_id, body.subject.as_mapping())
    return BannerLinked(subject=linked.subject, merged=linked.merged)


@router.get("/.well-known/gpc.json", summary="Global Privacy Control support resource")
def gpc_json(tutela: TutelaDep) -> JSONResponse:
    """``{"gpc": true}`` when the policy honours GPC, ``false`` otherwise, with the
    effective date of the policy in force as ``lastUpdate``."""
    return JSONResponse(
        banner.gpc_document(tutela.policy),
        headers={"Cache-Control": "public, max-age=3600", **_CORS},
    )
