"""``redact``: the text with every entity replaced by what its operator says."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tutela.scrub.detector import detect
from tutela.scrub.entities import Entity, EntityType
from tutela.scrub.operators import Operator, Replace

__all__ = ["Operators", "apply_operators", "redact"]

Operators = Operator | Mapping[EntityType | str, Operator] | None
"""One operator for every type, or one per type (key ``"*"`` for the rest), or the default."""

_DEFAULT = Replace()


def _operator_for(operators: Operators, entity_type: EntityType) -> Operator:
    if operators is None:
        return _DEFAULT
    if isinstance(operators, Operator):
        return operators
    found = operators.get(entity_type) or operators.get(entity_type.value) or operators.get("*")
    return found or _DEFAULT


def apply_operators(text: str, entities: Iterable[Entity], operators: Operators = None) -> str:
    """``text`` with each of the (non-overlapping) ``entities`` replaced by its operator."""
    parts: list[str] = []
    pos = 0
    for entity in sorted(entities, key=lambda e: e.start):
        if entity.start < pos:
            continue  # overlapping entities: the first one already covers this
        parts.append(text[pos : entity.start])
        value = text[entity.start : entity.end]
        parts.append(_operator_for(operators, entity.type).apply(value, entity))
        pos = entity.end
    parts.append(text[pos:])
    return "".join(parts)


def redact(text: str, operators: Operators = None, lang: str | None = None, **options: Any) -> str:
    """``text`` scrubbed: every entity :func:`detect` finds, replaced by its operator.

    The default operator writes the type tag (``<EMAIL>``). ``options`` go to
    :func:`detect` (``region``, ``known``, ``recognizers``, ``types``, ``min_score``).
    """
    return apply_operators(text, detect(text, lang, **options), operators)
