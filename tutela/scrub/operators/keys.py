"""Keys for the keyed operators: given by the caller or read from the environment.

One secret serves both keyed operators; each derives its own key from it with
HMAC-SHA-512 and a distinct label, so a pseudonym never reveals the encryption key.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from tutela.errors import InputError

__all__ = ["DEFAULT_KEY_ENV", "MIN_SECRET_BYTES", "derive", "secret_from_env"]

DEFAULT_KEY_ENV = "TUTELA_SCRUB_KEY"
"""The environment variable the command line reads the secret from, unless told another."""

MIN_SECRET_BYTES = 16


def secret_from_env(name: str = DEFAULT_KEY_ENV) -> bytes:
    """The secret in environment variable ``name``; ``InputError`` if absent or short."""
    value = os.environ.get(name, "")
    if not value:
        raise InputError(
            f"environment variable {name} is not set; "
            f"set it to a secret of at least {MIN_SECRET_BYTES} characters"
        )
    secret = value.encode("utf-8")
    check(secret)
    return secret


def check(secret: bytes) -> None:
    """Refuse secrets too short to key an HMAC or a cipher safely."""
    if len(secret) < MIN_SECRET_BYTES:
        raise InputError(f"the scrubbing secret must be at least {MIN_SECRET_BYTES} bytes long")


def derive(secret: bytes, label: str, size: int = 32) -> bytes:
    """A ``size``-byte key for ``label`` derived from ``secret`` (at most 64 bytes)."""
    return hmac.new(secret, b"tutela.scrub." + label.encode(), hashlib.sha512).digest()[:size]
