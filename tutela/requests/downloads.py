"""Access packages leave only through signed, expiring links, and are deleted after a while.

A download link carries the request id and an expiry with an HMAC over both,
keyed from the deployment's secret for this one use: a link cannot be made
for another person's request, nor stretched past its expiry.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import time
from pathlib import Path

from tutela.errors import DownloadError

__all__ = ["DownloadError", "purge_packages", "sign_download", "verify_download"]

_CONTEXT = b"tutela/package-download/v1"


def _key(secret: str) -> bytes:
    if not secret:
        raise DownloadError("no secret key is configured for download links")
    return hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest()


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_download(secret: str, request_id: str, expires: dt.datetime) -> str:
    """A token naming one request's package until ``expires``."""
    body = f"{request_id}.{int(expires.timestamp())}"
    return f"{body}.{_mac(secret, body)}"


def verify_download(secret: str, token: str, *, now: dt.datetime | None = None) -> str:
    """The request id a valid, unexpired token names; :class:`DownloadError` otherwise."""
    parts = token.split(".")
    if len(token) > 200 or len(parts) != 3 or not parts[1].isdigit():
        raise DownloadError("not a download link")
    body = f"{parts[0]}.{parts[1]}"
    try:
        good = hmac.compare_digest(_mac(secret, body), parts[2])
    except (binascii.Error, ValueError):
        good = False
    if not good:
        raise DownloadError("this download link is not valid")
    moment = (now or dt.datetime.now(dt.UTC)).timestamp()
    if moment > int(parts[1]):
        raise DownloadError("this download link has expired; ask for a new one")
    return parts[0]


def purge_packages(folder: Path, *, days: float, now: float | None = None) -> list[Path]:
    """Delete packages older than ``days``; returns what was deleted."""
    if not folder.is_dir():
        return []
    cutoff = (now if now is not None else time.time()) - days * 86_400
    gone = []
    for path in folder.glob("*.zip"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            gone.append(path)
    return gone
