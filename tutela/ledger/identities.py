"""Normalising the identifiers a person is known by, so one person has one key per kind.

Emails are compared case-insensitively in the domain and (by near-universal
practice) in the local part; phone numbers are stored in E.164 so
"070-123 45 67" with region SE and "+46701234567" are the same person.
"""

from __future__ import annotations

import unicodedata

import phonenumbers

from tutela.errors import IdentityError

__all__ = ["IDENTITY_KINDS", "IdentityError", "normalise"]

IDENTITY_KINDS = ("email", "phone", "user_id", "custom")
MAX_LENGTH = 320
"""The longest identifier kept (the longest email address RFC 5321 allows)."""


def normalise(kind: str, value: str, *, region: str | None = None) -> tuple[str, str]:
    """Return ``(kind, normalised value)``; custom kinds are written ``custom:<name>``.

    ``region`` is the ISO country used to read a phone number written without
    its country code.
    """
    if not isinstance(value, str) or not value.strip():
        raise IdentityError(f"{kind}: an empty identifier")
    if len(value) > MAX_LENGTH:
        raise IdentityError(f"{kind}: longer than {MAX_LENGTH} characters")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise IdentityError(f"{kind}: contains control characters")
    value = unicodedata.normalize("NFC", value.strip())
    if kind == "email":
        return kind, _email(value)
    if kind == "phone":
        return kind, _phone(value, region)
    if kind == "user_id":
        return kind, value
    if kind.startswith("custom:") and 7 < len(kind) <= 32:
        return kind, value
    raise IdentityError(f"unknown identity kind {kind!r}; use email, phone, user_id or custom:NAME")


def _email(value: str) -> str:
    if value.count("@") != 1:
        raise IdentityError("email: not an email address")
    local, domain = value.rsplit("@", 1)
    if not local or "." not in domain or any(c.isspace() for c in value):
        raise IdentityError("email: not an email address")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise IdentityError("email: the domain is not a valid host name") from None
    normalised = f"{local.casefold()}@{domain.lower()}"
    if len(normalised) > 320:
        raise IdentityError("email: longer than 320 characters")
    return normalised


def _phone(value: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(value, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise IdentityError(
            "phone: not a phone number (write it with its country code, like +46 70 123 45 67, "
            "or give a region)"
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise IdentityError("phone: not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
