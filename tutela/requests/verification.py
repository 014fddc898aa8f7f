"""Proving who asks: a one-time code by email for requests the product did not send.

A request from the privacy center, by email or through the API starts in
``verifying``. :meth:`Verifier.send_code` mails a six-digit code to the address
the request names; :meth:`Verifier.check_code` takes it back and, when it
matches, moves the request on (:meth:`Requests.mark_verified`).

What nobody may learn from it is whether the ledger knows the address. The
verifier never looks at the subject: it mails the code to whatever address was
given (whoever reads that mailbox controls it, known or not), answers with the
same words, and lets a verified request about a stranger run to "no data
found". Only a keyed hash of each code is stored (HMAC with
``TUTELA_SECRET_KEY``), so a copy of the database does not give the codes, and
a six-digit code cannot be found by hashing all million candidates without the
key. Rate limits count codes per identity and per requesting address (both also
stored as keyed hashes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection, func, insert, select, update

from tutela.engine import Tutela
from tutela.errors import RequestError, RequestNotFound, TooManyCodes
from tutela.ledger import tables as t
from tutela.ledger.database import retrying
from tutela.requests.model import RequestState
from tutela.requests.service import Request, Requests

__all__ = [
    "CODE_LIFETIME",
    "MAX_ATTEMPTS",
    "SECRET_KEY_ENV",
    "CheckOutcome",
    "CodeCheck",
    "CodeSent",
    "TooManyCodes",
    "Verifier",
]

SECRET_KEY_ENV = "TUTELA_SECRET_KEY"
CODE_LIFETIME = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5
RATE_WINDOW = dt.timedelta(hours=1)

SENT_MESSAGE = (
    "If this address can receive mail, a code is on its way to it. "
    "Enter it within 15 minutes to confirm your request."
)
"""What the person is told after asking for a code: the same words whoever they are."""


class MailSender(Protocol):
    """What the verifier needs of a mailer (:class:`tutela.requests.mail.Mailer`)."""

    def send(self, to: str, subject: str, body: str, *, language: str | None = None) -> None:
        """Send one plain-text message."""


@dataclass(frozen=True, slots=True)
class CodeSent:
    """The answer to asking for a code: identical for known and unknown people."""

    request_id: str
    expires_at: dt.datetime
    message: str = SENT_MESSAGE


class CheckOutcome(StrEnum):
    """What became of a code that was entered."""

    verified = "verified"
    wrong = "wrong"
    expired = "expired"
    """No live code: it expired, was replaced by a newer one, or none was sent."""
    exhausted = "exhausted"
    """Five wrong tries: the code is dead and a new one must be asked for."""


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The result of entering a code."""

    outcome: CheckOutcome
    attempts_left: int
    request: Request | None = None
    """The request after verification (only when verified)."""

    @property
    def ok(self) -> bool:
        """The code matched and the request moved on."""
        return self.outcome is CheckOutcome.verified


_SUBJECTS = {
    "en": "Your verification code: {code}",
    "nl": "Uw verificatiecode: {code}",
    "sv": "Din verifieringskod: {code}",
    "de": "Ihr Bestätigungscode: {code}",
    "fr": "Votre code de vérification : {code}",
}
_BODIES = {
    "en": (
        "Someone asked {org} to handle a privacy request ({type}) for this email address.\n\n"
        "If it was you, enter this code to confirm it:\n\n    {code}\n\n"
        "The code is valid for 15 minutes. If you did not ask, you can ignore this message;"
        " nothing happens without the code.\n"
    ),
    "nl": (
        "Iemand heeft {org} gevraagd een privacyverzoek ({type}) voor dit e-mailadres te"
        " behandelen.\n\nAls u dat was, bevestig het dan met deze code:\n\n    {code}\n\n"
        "De code is 15 minuten geldig. Heeft u niets gevraagd, dan kunt u dit bericht negeren;"
        " zonder de code gebeurt er niets.\n"
    ),
    "sv": (
        "Någon har bett {org} att hantera en integritetsbegäran ({type}) för den här"
        " e-postadressen.\n\nOm det var du, bekräfta den med den här koden:\n\n    {code}\n\n"
        "Koden gäller i 15 minuter. Om du inte har bett om något kan du bortse från"
        " meddelandet; utan koden händer ingenting.\n"
    ),
    "de": (
        "Jemand hat {org} gebeten, eine Datenschutzanfrage ({type}) für diese E-Mail-Adresse"
        " zu bearbeiten.\n\nWenn Sie das waren, bestätigen Sie sie mit diesem Code:\n\n"
        "    {code}\n\nDer Code ist 15 Minuten gültig. Wenn Sie nichts angefragt haben, können"
        " Sie diese Nachricht ignorieren; ohne den Code geschieht nichts.\n"
    ),
    "fr": (
        "Quelqu'un a demandé à {org} de traiter une demande relative à la vie privée ({type})"
        " pour cette adresse e-mail.\n\nSi c'était vous, confirmez-la avec ce code :\n\n"
        "    {code}\n\nLe code est valable 15 minutes. Si vous n'avez rien demandé, ignorez ce"
        " message ; rien ne se passe sans le code.\n"
    ),
}


def code_mail(
    language: str | None, organisation: str, request_type: str, code: str
) -> tuple[str, str, str]:
    """Subject, body and language of the code mail: the request's language if there is a
    text in it, else English."""
    lang = (language or "en").lower()[:2]
    if lang not in _BODIES:
        lang = "en"
    kind = request_type.replace("_", " ")
    subject = _SUBJECTS[lang].format(code=code)
    body = _BODIES[lang].format(org=organisation, type=kind, code=code)
    return subject, body, lang


class Verifier:
    """Sends and checks verification codes for the requests of one :class:`~tutela.Tutela`."""

    def __init__(
        self,
        tutela: Tutela,
        mailer: MailSender,
        *,
        secret_key: bytes | None = None,
        per_identity: int = 5,
        per_address: int = 20,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        key = secret_key or os.environ.get(SECRET_KEY_ENV, "").encode()
        if len(key) < 16:
            # Without a secret key the stored hashes of six-digit codes could be reversed
            # by trying all million of them.
            raise RequestError(f"set {SECRET_KEY_ENV} (at least 16 characters) to verify people")
        self._key = key
        self.tutela = tutela
        self.requests = Requests(tutela)
        self.mailer = mailer
        self.per_identity = per_identity
        self.per_address = per_address
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def _mac(self, *parts: str) -> str:
        message = "\x00".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    # ------------------------------------------------------------ sending

    def send_code(self, request_id: str, *, address_ip: str | None = None) -> CodeSent:
        """Mail a new code for a request that is waiting for verification.

        Earlier codes of the request stop working. :class:`TooManyCodes` when the
        identity or the requesting address asked too often in the last hour.
        """
        request = self.requests.get(request_id)
        if request.state is not RequestState.verifying:
            raise RequestError(f"request {request_id} is not waiting for verification")
        identity = request.details.get("identity")
        if not identity or identity[0] != "email":
            kind = identity[0] if identity else "identity"
            raise RequestError(
                f"codes go by email, and this request names a {kind}: "
                "an operator verifies it another way and marks it verified"
            )
        kind, value = str(identity[0]), str(identity[1])
        now = self._clock()
        identity_hash = self._mac("identity", kind, value)
        address_hash = self._mac("address", address_ip) if address_ip else None
        code = f"{secrets.randbelow(1_000_000):06d}"
        expires = now + CODE_LIFETIME

        def work(conn: Connection) -> None:
            row_id = _request_row(conn, request_id)
            since = now - RATE_WINDOW
            self._limit(
                conn,
                t.verification_codes.c.identity_hash,
                identity_hash,
                since,
                now,
                self.per_identity,
                "this identity",
            )
            if address_hash is not None:
                self._limit(
                    conn,
                    t.verification_codes.c.address_hash,
                    address_hash,
                    since,
                    now,
                    self.per_address,
                    "this address",
                )
            # Only the newest code works: older ones would multiply the guesses allowed.
            conn.execute(
                update(t.verification_codes)
                .where(
                    t.verification_codes.c.request_id == row_id,
                    t.verification_codes.c.used.is_(False),
                )
                .values(used=True)
            )
            conn.execute(
                insert(t.verification_codes).values(
                    request_id=row_id,
                    code_hash=self._mac("code", request_id, code),
                    identity_hash=identity_hash,
                    address_hash=address_hash,
                    attempts=0,
                    expires_at=expires,
                    used=False,
                    created_at=now,
                )
            )
            self.requests._event(
                conn, row_id, "request.code_sent", {"expires_at": expires.isoformat()}
            )

        retrying(self.tutela.engine, work)
        subject, body, language = code_mail(
            request.language, self.tutela.policy.organisation.name, request.type.value, code
        )
        self.mailer.send(value, subject, body, language=language)
        return CodeSent(request_id=request_id, expires_at=expires)

    def _limit(
        self,
        conn: Connection,
        column: Any,
        value: str,
        since: dt.datetime,
        now: dt.datetime,
        limit: int,
        what: str,
    ) -> None:
        recent = conn.execute(
            select(func.count(), func.min(t.verification_codes.c.created_at)).where(
                column == value, t.verification_codes.c.created_at >= since
            )
        ).one()
        if recent[0] >= limit:
            oldest = _aware(recent[1])
            wait = max(1, int((oldest + RATE_WINDOW - now).total_seconds()) + 1)
            raise TooManyCodes(
                f"too many codes were asked for {what} in the last hour; try again later",
                retry_after=wait,
            )

    # ------------------------------------------------------------ checking

    def check_code(self, request_id: str, code: str) -> CodeCheck:
        """Check an entered code against the request's newest one.

        Five tries per code; each try counts before the comparison, so parallel
        guesses cannot exceed the limit. On a match the request moves on.
        """
        given = "".join(code.split())
        # Hash whatever was given: a malformed code costs a try like a wrong one, and
        # the comparison takes the same time either way.
        given_hash = self._mac("code", request_id, given)
        now = self._clock()

        def work(conn: Connection) -> tuple[CheckOutcome, int]:
            row_id = _request_row(conn, request_id)
            state = conn.execute(
                select(t.requests.c.state).where(t.requests.c.id == row_id)
            ).scalar_one()
            if RequestState(state) is not RequestState.verifying:
                raise RequestError(f"request {request_id} is not waiting for verification")
            codes = t.verification_codes
            latest = conn.execute(
                select(codes)
                .where(codes.c.request_id == row_id, codes.c.used.is_(False))
                .order_by(codes.c.id.desc())
                .limit(1)
            ).first()
            if latest is None or _aware(latest.expires_at) <= now:
                outcome, left = CheckOutcome.expired, 0
            else:
                counted = conn.execute(
                    update(codes)
                    .where(codes.c.id == latest.id, codes.c.attempts < MAX_ATTEMPTS)
                    .values(attempts=codes.c.attempts + 1)
                ).rowcount
                if not counted:
                    outcome, left = CheckOutcome.exhausted, 0
                else:
                    left = MAX_ATTEMPTS - latest.attempts - 1
                    if hmac.compare_digest(latest.code_hash, given_hash):
                        conn.execute(update(codes).where(codes.c.id == latest.id).values(used=True))
                        outcome = CheckOutcome.verified
                    else:
                        outcome = CheckOutcome.wrong
            self.requests._event(conn, row_id, "request.code_checked", {"outcome": outcome.value})
            return outcome, left

        outcome, left = retrying(self.tutela.engine, work)
        if outcome is CheckOutcome.verified:
            return CodeCheck(outcome, left, self.requests.mark_verified(request_id))
        return CodeCheck(outcome, left)


def _request_row(conn: Connection, request_id: str) -> int:
    query = select(t.requests.c.id).where(t.requests.c.public_id == request_id)
    if conn.dialect.name != "sqlite":
        # One sender or checker at a time per request: limits and tries stay exact.
        query = query.with_for_update()
    row_id = conn.execute(query).scalar()
    if row_id is None:
        raise RequestNotFound(f"no request {request_id!r}")
    return int(row_id)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
