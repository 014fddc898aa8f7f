"""Signed session cookies for the privacy center.

One cookie holds the whole session: a random nonce (the CSRF token is derived
from it), who is signed in (a subject id, or the email the person proved),
when they signed in, and the chosen language. It is signed with an HMAC under
a key derived from ``TUTELA_SECRET_KEY`` for this one use, so it cannot be
forged or altered; it is not encrypted, and holds nothing the person does not
already know about themselves.

The cookie is ``Secure``, ``HttpOnly`` and ``SameSite=Lax``. When the policy
promises ``cookies: session_only`` it has no expiry (the browser drops it when
it closes); when the policy sets ``relogin_interval``, a sign-in older than
that no longer counts and the person signs in again.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tutela.policy.model import CookiePromise, Policy, duration_days

__all__ = ["COOKIE_NAME", "Session", "SessionCodec"]

COOKIE_NAME = "tutela_session"
PERSISTENT_LIFETIME = dt.timedelta(days=30)
"""How long a session lasts when the policy allows persistent cookies and sets no
re-login interval."""


@dataclass(frozen=True, slots=True)
class Session:
    """What one browser's session holds."""

    nonce: str
    subject: str | None = None
    """The ledger's public id of the person signed in, when the ledger knows them."""
    email: str | None = None
    """The address the person proved by code (kept for people the ledger does not know)."""
    signed_in_at: int | None = None
    """Unix time of the sign-in."""
    language: str | None = None

    @property
    def signed_in(self) -> bool:
        """Someone proved who they are in this session."""
        return self.signed_in_at is not None and (self.subject or self.email) is not None

    @classmethod
    def fresh(cls, language: str | None = None) -> Session:
        """A new anonymous session with a new nonce."""
        return cls(nonce=secrets.token_urlsafe(18), language=language)

    def signed_in_as(self, *, subject: str | None, email: str | None, at: dt.datetime) -> Session:
        """The session after a sign-in: a new nonce, so a token planted before it is void."""
        return Session(
            nonce=secrets.token_urlsafe(18),
            subject=subject,
            email=email,
            signed_in_at=int(at.timestamp()),
            language=self.language,
        )

    def with_language(self, language: str) -> Session:
        """The same session in another language."""
        return replace(self, language=language)


class SessionCodec:
    """Signs, reads and expires sessions under one policy's cookie promises."""

    def __init__(
        self,
        secret: str,
        policy: Policy,
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the privacy center needs TUTELA_SECRET_KEY (16 characters or more)")
        self._key = hmac.new(secret.encode(), b"tutela/center-session/v1", hashlib.sha256).digest()
        self._csrf_key = hmac.new(
            secret.encode(), b"tutela/center-csrf/v1", hashlib.sha256
        ).digest()
        self.policy = policy
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def now(self) -> dt.datetime:
        """The codec's clock."""
        return self._clock()

    @property
    def session_only(self) -> bool:
        """The policy promises cookies that end with the browser session."""
        return self.policy.promises.cookies is CookiePromise.session_only

    @property
    def relogin_after(self) -> dt.timedelta | None:
        """How long a sign-in counts, if the policy limits it."""
        interval = self.policy.promises.relogin_interval
        return dt.timedelta(days=duration_days(interval)) if interval else None

    def _mac(self, body: bytes) -> str:
        digest = hmac.new(self._key, body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def dumps(self, session: Session) -> str:
        """The cookie value for ``session``."""
        data = {
            "n": session.nonce,
            "s": session.subject,
            "e": session.email,
            "t": session.signed_in_at,
            "l": session.language,
        }
        body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(
            b"="
        )
        return f"{body.decode()}.{self._mac(body)}"

    def loads(self, value: str | None) -> Session | None:
        """The session a cookie holds; ``None`` if it is missing, altered or malformed.

        A sign-in older than the policy's re-login interval (or the cookie
        lifetime) is dropped: the session stays, the person is signed out.
        """
        if not value or len(value) > 4096 or "." not in value:
            return None
        body, _, mac = value.rpartition(".")
        if not hmac.compare_digest(self._mac(body.encode()), mac):
            return None
        try:
            data: dict[str, Any] = json.loads(
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            )
            session = Session(
                nonce=str(data["n"]),
                subject=_opt(data.get("s")),
                email=_opt(data.get("e")),
                signed_in_at=int(data["t"]) if data.get("t") is not None else None,
                language=_opt(data.get("l")),
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            return None
        if session.signed_in_at is not None and self._expired(session.signed_in_at):
            return Session(nonce=session.nonce, language=session.language)
        return session

    def _expired(self, signed_in_at: int) -> bool:
        limit = self.relogin_after or PERSISTENT_LIFETIME
        return self.now().timestamp() - signed_in_at > limit.total_seconds()

    def cookie(self, session: Session) -> dict[str, Any]:
        """Keyword arguments for ``Response.set_cookie``."""
        options: dict[str, Any] = {
            "key": COOKIE_NAME,
            "value": self.dumps(session),
            "path": "/privacy",
            "secure": True,
            "httponly": True,
            "samesite": "lax",
        }
        if not self.session_only:
            # Persistent only where the policy allows it, and never past a forced re-login.
            options["max_age"] = int((self.relogin_after or PERSISTENT_LIFETIME).total_seconds())
        return options

    def csrf_token(self, session: Session) -> str:
        """The token every form of this session carries."""
        digest = hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """Whether ``token`` is this session's CSRF token."""
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token or "")


def _opt(value: Any) -> str | None:
    return str(value) if value is not None else None
