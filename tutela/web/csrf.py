"""CSRF protection of the privacy center's forms.

Every form carries a token derived from the session's nonce
(:meth:`~tutela.web.session.SessionCodec.csrf_token`); a POST without the
token of the session it arrives with is refused (403) before anything happens.
Signing in replaces the nonce, so a token from before the sign-in is void.
"""

from __future__ import annotations

from collections.abc import Mapping

from tutela.web.session import Session, SessionCodec

__all__ = ["FIELD", "HEADER", "valid"]

FIELD = "csrf"
"""The form field holding the token."""
HEADER = "x-csrf-token"
"""The header an htmx request may carry it in instead."""


def valid(
    codec: SessionCodec, session: Session, form: Mapping[str, str], header: str | None
) -> bool:
    """Whether the form (or the header) carries this session's token."""
    return codec.csrf_ok(session, form.get(FIELD) or header)
