"""The HTTP API's settings: limits and the secret for signed links, from the environment."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

__all__ = ["ApiSettings"]


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Limits and secrets of one app. Build it with :meth:`from_env` in a deployment."""

    max_body_bytes: int = 1024 * 1024
    """Bodies over this size are refused (413) before they are read in full."""
    max_bulk_items: int = 10_000
    """Most items one bulk call (decisions, consent import) may carry."""
    max_page_size: int = 500
    """Largest ``limit`` a list endpoint accepts."""
    default_page_size: int = 100
    secret_key: str | None = None
    """Signs unsubscribe links; without it those routes answer 503."""
    link_lifetime: dt.timedelta = dt.timedelta(days=365)
    """How long an unsubscribe link works; mail is read long after it was sent."""
    public_url: str | None = None
    """Base URL of the public unsubscribe routes (default: the URL the request came to)."""
    download_lifetime: dt.timedelta = dt.timedelta(days=7)
    """How long a package download link works."""
    run_requests_inline: bool = False
    """Run requests in the server process (tests, small installations) instead of
    queueing them for ``tutela worker``."""
    policy_file: str | None = None
    """The policy file the app was opened from: the privacy center's policy archive
    reads each version's notice files relative to it."""
    key_cache_seconds: float = 2.0
    """How long a verified API key is trusted without asking the database again: a
    revoked key stops working within this time."""

    @classmethod
    def from_env(cls) -> ApiSettings:
        """Settings with the secret from ``TUTELA_SECRET_KEY`` and the public URL from
        ``TUTELA_PUBLIC_URL``; every limit at its default."""
        return cls(
            secret_key=os.environ.get("TUTELA_SECRET_KEY") or None,
            public_url=os.environ.get("TUTELA_PUBLIC_URL") or None,
        )
