"""Mask: hide all but the last characters of the value."""

from __future__ import annotations

from tutela.scrub.entities import Entity
from tutela.scrub.operators.base import Operator

__all__ = ["Mask"]


class Mask(Operator):
    """Replaces letters and digits with ``char``, keeping the last ``keep_last`` of them.

    Separators (spaces, dashes, dots, ``@``) stay, so the shape of the value is
    still recognisable: ``4111 1111 1111 1234`` becomes ``**** **** **** 1234``.
    """

    name = "mask"

    def __init__(self, keep_last: int = 4, char: str = "*") -> None:
        if keep_last < 0:
            raise ValueError("keep_last must be 0 or more")
        if len(char) != 1:
            raise ValueError("char must be one character")
        self.keep_last = keep_last
        self.char = char

    def apply(self, value: str, entity: Entity) -> str:
        """The masked value, as long as the original."""
        out = []
        kept = 0
        for ch in reversed(value):
            if ch.isalnum():
                if kept < self.keep_last:
                    out.append(ch)
                    kept += 1
                else:
                    out.append(self.char)
            else:
                out.append(ch)
        return "".join(reversed(out))
