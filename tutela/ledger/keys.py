"""API keys: shown once, stored as a hash, each limited to scopes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update

from tutela.errors import LedgerError, SubjectNotFound
from tutela.ledger import tables as t
from tutela.ledger.database import read, retrying

__all__ = ["SCOPES", "ApiKey", "KeyCache", "create_key", "list_keys", "revoke_key", "verify_key"]

SCOPES = (
    "subjects:read",
    "subjects:write",
    "consents:read",
    "consents:write",
    "decisions",
    "requests:read",
    "requests:write",
    "scrub",
    "admin",
)
"""What a key may be allowed to do. ``admin`` implies every other scope."""

_PREFIX = "tut"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed: never its secret."""

    id: int
    prefix: str
    name: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    revoked: bool

    def allows(self, scope: str) -> bool:
        """Whether this key may act within ``scope``."""
        return not self.revoked and ("admin" in self.scopes or scope in self.scopes)


def _digest(secret: str) -> str:
    # The secret has 256 bits of entropy, so a plain SHA-256 cannot be brute-forced;
    # a slow password hash would only slow every request down.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    engine: Engine, name: str, scopes: list[str] | tuple[str, ...]
) -> tuple[ApiKey, str]:
    """Create a key; returns it and the token to show once (``tut_<prefix>_<secret>``)."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise LedgerError(
            f"unknown scope {unknown[0]!r}" if unknown else "a key needs at least one scope"
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)

    def work(conn: Connection) -> int:
        return int(
            conn.execute(
                insert(t.api_keys)
                .values(
                    prefix=prefix,
                    secret_hash=_digest(secret),
                    name=name,
                    scopes=list(scopes),
                    created_at=now,
                )
                .returning(t.api_keys.c.id)
            ).scalar_one()
        )

    key_id = retrying(engine, work)
    key = ApiKey(key_id, prefix, name, tuple(scopes), now, False)
    return key, f"{_PREFIX}_{prefix}_{secret}"


def verify_key(engine: Engine, token: str) -> ApiKey | None:
    """The key a presented token belongs to, if the token is valid and not revoked."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or len(parts[1]) != 12:
        return None
    with read(engine) as conn:
        row = conn.execute(select(t.api_keys).where(t.api_keys.c.prefix == parts[1])).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _digest(parts[2])):
        return None
    return ApiKey(row.id, row.prefix, row.name, tuple(row.scopes), row.created_at, False)


def list_keys(engine: Engine) -> list[ApiKey]:
    """Every key, newest first, without secrets."""
    with read(engine) as conn:
        rows = conn.execute(select(t.api_keys).order_by(t.api_keys.c.id.desc()))
        return [
            ApiKey(r.id, r.prefix, r.name, tuple(r.scopes), r.created_at, r.revoked_at is not None)
            for r in rows
        ]


def revoke_key(engine: Engine, prefix: str) -> None:
    """Revoke a key by its prefix; it stops working at once."""
    with engine.begin() as conn:
        done = conn.execute(
            update(t.api_keys)
            .where(t.api_keys.c.prefix == prefix)
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
        if done.rowcount == 0:
            raise SubjectNotFound(f"no API key with prefix {prefix!r}")


class KeyCache:
    """Verified keys remembered for ``ttl`` seconds, so a request costs no database round
    trip for its key. A revocation takes effect within ``ttl`` seconds in every process.

    Only valid keys are kept (never unknown tokens, which anyone could send in bulk),
    indexed by a hash of the token, and at most ``size`` of them.
    """

    def __init__(self, engine: Engine, *, ttl: float = 2.0, size: int = 1024) -> None:
        self.engine = engine
        self.ttl = ttl
        self.size = size
        self._keys: dict[str, tuple[ApiKey, float]] = {}

    def cached(self, token: str) -> ApiKey | None:
        """The key if it was verified less than ``ttl`` seconds ago, else ``None``."""
        hit = self._keys.get(_digest(token))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return None

    def verify(self, token: str) -> ApiKey | None:
        """Like :func:`verify_key`, answered from memory while fresh."""
        key = self.cached(token)
        if key is not None:
            return key
        key = verify_key(self.engine, token)
        digest = _digest(token)
        if key is None:
            self._keys.pop(digest, None)
            return None
        if len(self._keys) >= self.size:
            self._keys.clear()  # rare; simpler than LRU bookkeeping on the hot path
        self._keys[digest] = (key, time.monotonic() + self.ttl)
        return key
