"""Pseudonymise: a keyed HMAC of the value, stable across documents and runs."""

from __future__ import annotations

import hashlib
import hmac
import re

from tutela.scrub.entities import Entity, EntityType
from tutela.scrub.operators.base import Operator
from tutela.scrub.operators.keys import check, derive

__all__ = ["Pseudonymize", "normalise"]

_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")
_COMPACT_TYPES = frozenset(
    {
        EntityType.PHONE,
        EntityType.IBAN,
        EntityType.PAYMENT_CARD,
        EntityType.NATIONAL_ID,
        EntityType.ORG_ID,
        EntityType.VAT_ID,
    }
)


def normalise(value: str, entity_type: EntityType) -> str:
    """The form of ``value`` that is hashed: one person's value gives one pseudonym.

    E-mail addresses are compared without case; numbers without their separators.
    """
    if entity_type is EntityType.EMAIL:
        return value.strip().lower()
    if entity_type in _COMPACT_TYPES:
        return _NOT_ALNUM.sub("", value).upper()
    return value.strip()


class Pseudonymize(Operator):
    """Replaces the value with ``<TYPE:hex>``, an HMAC-SHA-256 of it under a secret key.

    The same value gives the same pseudonym in every document and run that use
    the same secret, so records can still be joined; without the secret the value
    cannot be recovered or confirmed by guessing.
    """

    name = "hash"

    def __init__(self, secret: bytes, length: int = 16) -> None:
        check(secret)
        if not 8 <= length <= 64:
            raise ValueError("length must be between 8 and 64 hex characters")
        self._key = derive(secret, "pseudonym")
        self.length = length

    def apply(self, value: str, entity: Entity) -> str:
        """The pseudonym of ``value``."""
        message = f"{entity.type.value}\x00{normalise(value, entity.type)}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return f"<{entity.type.value}:{digest[: self.length]}>"
