"""One-click unsubscribe (RFC 8058): signed links that turn a marketing channel off.

``POST /v1/unsubscribe-links`` (with an API key) makes a link for a message's
``List-Unsubscribe`` header. The link itself needs no key: its HMAC signature
is the authority. ``GET`` shows a confirmation page and changes nothing (mail
scanners follow links); ``POST`` with ``List-Unsubscribe=One-Click`` opts the
channel out. A link that is forged, altered or expired is refused before the
ledger is touched. Without ``TUTELA_SECRET_KEY`` these routes answer 503: a
default key would let anyone forge links.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from tutela.api.deps import SettingsDep, TutelaDep, require_scope
from tutela.api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from tutela.api.schemas import UnsubscribeLinkCreate, UnsubscribeLinkPublic
from tutela.api.settings import ApiSettings
from tutela.ledger import links

__all__ = ["router"]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    503: {"model": ErrorBody, "description": "No secret key is configured for signed links"},
}
router = APIRouter(prefix="/v1", tags=["unsubscribe"], responses=_RESPONSES)

Token = Annotated[str, Path(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_.-]+$")]

_ONE_CLICK_BODY = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
                "required": ["List-Unsubscribe"],
            }
        }
    },
}
_MULTIPART_ONE_CLICK = re.compile(
    rb'name="?List-Unsubscribe"?\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click'
)


def _secret(settings: ApiSettings) -> str:
    if not settings.secret_key:
        raise ApiError(
            503,
            "unavailable",
            "unsubscribe links need TUTELA_SECRET_KEY to be set on the server",
        )
    return settings.secret_key


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width">'
        f"<title>{title}</title><body><h1>{title}</h1>{body}</body></html>"
    )
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store"})


@router.post(
    "/unsubscribe-links",
    dependencies=[Depends(require_scope("consents:write"))],
    status_code=201,
    summary="Make a one-click unsubscribe link",
)
def create_link(
    body: UnsubscribeLinkCreate, request: Request, tutela: TutelaDep, settings: SettingsDep
) -> UnsubscribeLinkPublic:
    """A signed link for one subject and channel, and the headers to send it in."""
    secret = _secret(settings)
    tutela.ledger.state(body.subject)  # 404 for someone unknown, before anything is signed
    lifetime = (
        dt.timedelta(days=body.lifetime_days) if body.lifetime_days else settings.link_lifetime
    )
    expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + lifetime
    token = links.sign(secret, body.subject, body.channel, expires)
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    url = f"{base}/v1/unsubscribe/{token}"
    return UnsubscribeLinkPublic(
        url=url,
        token=token,
        expires_at=expires,
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@router.get(
    "/unsubscribe/{token}",
    response_class=HTMLResponse,
    summary="Confirmation page of an unsubscribe link",
)
def confirm_page(token: Token, settings: SettingsDep) -> HTMLResponse:
    """A page with one button; opening it changes nothing."""
    link = links.verify(_secret(settings), token)
    channel = html.escape(link.channel)
    return _page(
        "Unsubscribe",
        f"<p>Stop marketing messages by {channel}?</p>"
        '<form method=post><input type=hidden name="List-Unsubscribe" value="One-Click">'
        "<button type=submit>Unsubscribe</button></form>",
    )


@router.post(
    "/unsubscribe/{token}",
    response_class=HTMLResponse,
    summary="Unsubscribe with one click (RFC 8058)",
    openapi_extra={"requestBody": _ONE_CLICK_BODY},
)
async def one_click(
    token: Token, request: Request, tutela: TutelaDep, settings: SettingsDep
) -> HTMLResponse:
    """Opt the link's channel out, if the link is valid and the body is
    ``List-Unsubscribe=One-Click``."""
    link = links.verify(_secret(settings), token)
    raw = await request.body()
    if not _is_one_click(request.headers.get("content-type", ""), raw):
        raise ApiError(400, "invalid_request", "the body must be List-Unsubscribe=One-Click")
    await run_in_threadpool(
        tutela.ledger.set_channel, link.subject, link.channel, True, source="email_link"
    )
    channel = html.escape(link.channel)
    return _page("Unsubscribed", f"<p>You will get no more marketing messages by {channel}.</p>")


def _is_one_click(content_type: str, raw: bytes) -> bool:
    if content_type.lower().startswith("multipart/form-data"):
        return _MULTIPART_ONE_CLICK.search(raw) is not None
    try:
        form = parse_qs(raw.decode("utf-8"), strict_parsing=False)
    except UnicodeDecodeError:
        return False
    return form.get("List-Unsubscribe") == ["One-Click"]
