"""Replace: write the entity type (or a fixed text) instead of the value."""

from __future__ import annotations

from tutela.scrub.entities import Entity
from tutela.scrub.operators.base import Operator

__all__ = ["Replace"]


class Replace(Operator):
    """Replaces the value with ``<TYPE>``, or with ``text`` when given."""

    name = "replace"

    def __init__(self, text: str | None = None) -> None:
        self.text = text

    def apply(self, value: str, entity: Entity) -> str:
        """The fixed text, or the type tag such as ``<EMAIL>``."""
        return self.text if self.text is not None else f"<{entity.type.value}>"
