"""Encrypt: deterministic, reversible by whoever holds the key (AES-SIV)."""

from __future__ import annotations

import base64
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from tutela.errors import InputError
from tutela.scrub.entities import Entity, EntityType
from tutela.scrub.operators.base import Operator
from tutela.scrub.operators.keys import check, derive

__all__ = ["TOKEN", "Encrypt"]

TOKEN = re.compile(r"ENC\((?P<type>[A-Z_]+):(?P<data>[A-Za-z0-9_\-]+)\)")
"""How an encrypted value appears in scrubbed text."""


class Encrypt(Operator):
    """Replaces the value with ``ENC(TYPE:ciphertext)``.

    AES-SIV is deterministic: the same value under the same key always gives the
    same ciphertext, so equal values stay equal, and :meth:`decrypt` gives the value
    back to the key holder. The entity type is bound in as associated data.
    """

    name = "encrypt"

    def __init__(self, secret: bytes) -> None:
        check(secret)
        self._siv = AESSIV(derive(secret, "encrypt", 64))

    def apply(self, value: str, entity: Entity) -> str:
        """The token that replaces ``value``."""
        sealed = self._siv.encrypt(value.encode("utf-8"), [entity.type.value.encode()])
        data = base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")
        return f"ENC({entity.type.value}:{data})"

    def decrypt(self, token: str) -> tuple[EntityType, str]:
        """The entity type and value inside a token; ``InputError`` if it is not one of ours."""
        m = TOKEN.fullmatch(token.strip())
        if m is None:
            raise InputError("not an encrypted token: expected ENC(TYPE:data)")
        try:
            entity_type = EntityType(m["type"])
            data = m["data"]
            sealed = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
            plain = self._siv.decrypt(sealed, [entity_type.value.encode()])
        except (ValueError, InvalidTag) as exc:
            raise InputError("the token was not made with this key or was altered") from exc
        return entity_type, plain.decode("utf-8")

    def decrypt_text(self, text: str) -> str:
        """``text`` with every token made by this key replaced by its value."""
        return TOKEN.sub(lambda m: self.decrypt(m.group(0))[1], text)
