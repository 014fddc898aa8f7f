"""Redact: remove the value."""

from __future__ import annotations

from tutela.scrub.entities import Entity
from tutela.scrub.operators.base import Operator

__all__ = ["Redact"]


class Redact(Operator):
    """Removes the value entirely."""

    name = "redact"

    def apply(self, value: str, entity: Entity) -> str:
        """An empty string."""
        return ""
