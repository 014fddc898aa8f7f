"""One-time sign-in codes for the privacy center and the console, kept in the ledger so
every server process shares them.

Only keyed hashes are stored: of the address, of the code, of the requesting IP.
A code works once, for 15 minutes and five tries; a new code replaces the old
one. Codes per address and per requesting IP are limited per hour. A code is
made for any address, known to the ledger or not, so nobody learns from the
answer whether a person is known.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update

from tutela.errors import TooManyCodes
from tutela.ledger import tables as t
from tutela.ledger.database import retrying

__all__ = ["CODE_LIFETIME", "CODE_TRIES", "RATE_WINDOW", "SignInCodes"]

CODE_LIFETIME = dt.timedelta(minutes=15)
CODE_TRIES = 5
RATE_WINDOW = dt.timedelta(hours=1)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class SignInCodes:
    """Issue and check sign-in codes; ``context`` keeps the console's codes apart from
    the privacy center's even for the same address."""

    def __init__(
        self,
        engine: Engine,
        secret: bytes,
        *,
        context: str = "center",
        per_address: int = 5,
        per_ip: int = 20,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.engine = engine
        self._key = hmac.new(
            secret, f"tutela/sign-in/{context}/v1".encode(), hashlib.sha256
        ).digest()
        self.per_address = per_address
        self.per_ip = per_ip
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def _mac(self, *parts: str) -> str:
        return hmac.new(self._key, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()

    def _count(self, conn: Connection, key: str, now: dt.datetime, limit: int) -> None:
        since = now - RATE_WINDOW
        issues = t.sign_in_issues
        recent = conn.execute(
            select(func.count(), func.min(issues.c.at)).where(
                and_(issues.c.key_hash == key, issues.c.at > since)
            )
        ).one()
        if recent[0] >= limit:
            wait = int((_aware(recent[1]) + RATE_WINDOW - now).total_seconds()) + 1
            raise TooManyCodes("too many sign-in codes were asked for; try again later", wait)
        conn.execute(insert(issues).values(key_hash=key, at=now))

    def issue(self, email: str, *, ip: str | None = None) -> str:
        """A new six-digit code for ``email``; :class:`TooManyCodes` past the limits."""
        address = self._mac("address", email.strip().lower())
        now = self.clock()
        code = f"{secrets.randbelow(1_000_000):06d}"

        def work(conn: Connection) -> None:
            self._count(conn, address, now, self.per_address)
            if ip:
                self._count(conn, self._mac("ip", ip), now, self.per_ip)
            codes = t.sign_in_codes
            conn.execute(delete(codes).where(codes.c.address_hash == address))
            conn.execute(
                insert(codes).values(
                    address_hash=address,
                    code_hash=self._mac("code", address, code),
                    expires_at=now + CODE_LIFETIME,
                    tries=0,
                )
            )
            # Old rows go as new ones come: the tables stay as small as the last hour.
            conn.execute(delete(codes).where(codes.c.expires_at <= now))
            conn.execute(delete(t.sign_in_issues).where(t.sign_in_issues.c.at <= now - RATE_WINDOW))

        retrying(self.engine, work)
        return code

    def check(self, email: str, code: str) -> bool:
        """Whether ``code`` is the live code of ``email``; a match uses it up."""
        address = self._mac("address", email.strip().lower())
        given = self._mac("code", address, "".join(code.split()))
        now = self.clock()
        codes = t.sign_in_codes

        def work(conn: Connection) -> bool:
            # The try counts before the comparison, in the same statement that checks
            # the code is live: parallel guesses stay within the limit.
            counted = conn.execute(
                update(codes)
                .where(
                    and_(
                        codes.c.address_hash == address,
                        codes.c.expires_at > now,
                        codes.c.tries < CODE_TRIES,
                    )
                )
                .values(tries=codes.c.tries + 1)
            ).rowcount
            if counted != 1:
                return False
            stored = conn.execute(
                select(codes.c.code_hash).where(codes.c.address_hash == address)
            ).scalar_one()
            if hmac.compare_digest(stored, given):
                conn.execute(delete(codes).where(codes.c.address_hash == address))
                return True
            return False

        return retrying(self.engine, work)
