"""The one interface every operator implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from tutela.scrub.entities import Entity

__all__ = ["Operator"]


class Operator(ABC):
    """Turns the value of one entity into what replaces it in the text."""

    name: ClassVar[str]
    """The name the operator is known by in the registry and on the command line."""

    @abstractmethod
    def apply(self, value: str, entity: Entity) -> str:
        """What to write instead of ``value``, the text of ``entity``."""
