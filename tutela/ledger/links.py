"""Signed one-click unsubscribe links (RFC 8058): who, which channel, until when.

A link carries the subject's public id, the channel and an expiry, with an
HMAC-SHA256 over all three. Nothing is stored: the signature is the proof, so a
forged or altered link is refused before anything is looked up or written.

The key is derived from the deployment's secret (``TUTELA_SECRET_KEY``) for
this one use, so a link signature never doubles as any other keyed hash.

>>> import datetime as dt
>>> when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
>>> token = sign("s3cret", "sub_0123", "email", when)
>>> verify("s3cret", token, now=dt.datetime(2029, 1, 1, tzinfo=dt.UTC)).channel
'email'
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from tutela.errors import LinkError

__all__ = ["LinkError", "UnsubscribeLink", "sign", "verify"]

_VERSION = "v1"
_CONTEXT = b"tutela/unsubscribe-link/v1"
_MAX_TOKEN = 512


@dataclass(frozen=True, slots=True)
class UnsubscribeLink:
    """What a valid link asks for."""

    subject: str
    channel: str
    expires: dt.datetime


def _key(secret: str | bytes) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else secret
    if not raw:
        raise LinkError("no secret key is configured for signed links")
    return hmac.new(raw, _CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _message(subject: str, channel: str, expires: int) -> bytes:
    return f"{_VERSION}|{subject}|{channel}|{expires}".encode()


def sign(secret: str | bytes, subject: str, channel: str, expires: dt.datetime) -> str:
    """A URL-safe token for ``subject`` to opt ``channel`` out until ``expires``."""
    if "|" in subject or "|" in channel:
        raise LinkError("a subject id or channel cannot contain '|'")
    stamp = int(expires.timestamp())
    message = _message(subject, channel, stamp)
    mac = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return f"{_b64(message)}.{_b64(mac)}"


def verify(secret: str | bytes, token: str, *, now: dt.datetime | None = None) -> UnsubscribeLink:
    """The link's content if its signature holds and it has not expired; else :class:`LinkError`.

    The signature is checked before anything in the token is trusted, and in
    constant time, so an altered token reveals nothing about the right one.
    """
    key = _key(secret)
    if len(token) > _MAX_TOKEN or token.count(".") != 1:
        raise LinkError("this link is not valid")
    body, mac_text = token.split(".")
    try:
        message, mac = _unb64(body), _unb64(mac_text)
    except (binascii.Error, ValueError):
        raise LinkError("this link is not valid") from None
    expected = hmac.new(key, message, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, mac):
        raise LinkError("this link is not valid")
    parts = message.decode("utf-8", "replace").split("|")
    if len(parts) != 4 or parts[0] != _VERSION or not parts[3].isdigit():
        raise LinkError("this link is not valid")
    expires = dt.datetime.fromtimestamp(int(parts[3]), dt.UTC)
    if expires <= (now or dt.datetime.now(dt.UTC)):
        raise LinkError("this link has expired")
    return UnsubscribeLink(parts[1], parts[2], expires)
