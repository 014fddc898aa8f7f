"""Sending mail through an SMTP server given by URL.

The URL comes from ``TUTELA_SMTP_URL`` and the sender from ``TUTELA_MAIL_FROM``:

- ``smtp://host:port``: plain SMTP (a relay on the same host or network);
- ``smtp+starttls://user:password@host:587``: SMTP upgraded with STARTTLS;
- ``smtps://user:password@host:465``: SMTP over TLS from the first byte;
- ``file:///path/to/outbox``: no server; each message is written to that folder as
  an ``.eml`` file (for development and the demo, where nobody runs a mail server).

User and password are percent-decoded, so a password may hold any character.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tutela.errors import ConnectorError

__all__ = ["MAIL_FROM_ENV", "SMTP_URL_ENV", "Mailer"]

SMTP_URL_ENV = "TUTELA_SMTP_URL"
MAIL_FROM_ENV = "TUTELA_MAIL_FROM"

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class Mailer:
    """Sends plain-text mail through one SMTP server."""

    url: str
    sender: str
    timeout: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme == "file":
            if not parts.path:
                raise ConnectorError("a file:// mail URL names the outbox folder")
            return
        if parts.scheme not in _DEFAULT_PORTS:
            raise ConnectorError(
                "the SMTP URL must start with smtp://, smtp+starttls://, smtps:// or file://"
            )
        if not parts.hostname:
            raise ConnectorError("the SMTP URL names no host")
        if "@" not in self.sender:
            raise ConnectorError("the sender of mail must be an address")

    @classmethod
    def from_env(cls) -> Mailer:
        """The mailer configured by ``TUTELA_SMTP_URL`` and ``TUTELA_MAIL_FROM``."""
        url = os.environ.get(SMTP_URL_ENV, "")
        sender = os.environ.get(MAIL_FROM_ENV, "")
        if not url or not sender:
            raise ConnectorError(f"set {SMTP_URL_ENV} and {MAIL_FROM_ENV} to send mail")
        return cls(url, sender)

    def send(self, to: str, subject: str, body: str, *, language: str | None = None) -> None:
        """Send one plain-text message; :class:`ConnectorError` if the server refuses it."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[1])
        # Automated mail: ask auto-responders not to answer (RFC 3834).
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        if language:
            # After set_content, which replaces every Content-* header.
            message["Content-Language"] = language
        parts = urlsplit(self.url)
        if parts.scheme == "file":
            outbox = Path(unquote(parts.path))
            outbox.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
            (outbox / name).write_bytes(bytes(message))
            return
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        try:
            client: smtplib.SMTP
            if parts.scheme == "smtps":
                client = smtplib.SMTP_SSL(
                    host, port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(host, port, timeout=self.timeout)
            with client:
                if parts.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if parts.username:
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            # The class only: the server's reply may quote the recipient's address.
            raise ConnectorError(f"mail could not be sent ({type(exc).__name__})") from None
