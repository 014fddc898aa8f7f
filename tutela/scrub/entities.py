"""What the detector finds: entity types, the matches it reports, and the plug-ins
that may report more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

__all__ = ["Entity", "EntityType", "Recognizer"]


class EntityType(StrEnum):
    """The kinds of personal data (and secrets) the detector recognises."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    IBAN = "IBAN"
    PAYMENT_CARD = "PAYMENT_CARD"
    IP_ADDRESS = "IP_ADDRESS"
    URL = "URL"
    NATIONAL_ID = "NATIONAL_ID"
    ORG_ID = "ORG_ID"
    VAT_ID = "VAT_ID"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    PERSON = "PERSON"
    SECRET = "SECRET"


@dataclass(frozen=True, slots=True)
class Entity:
    """One match: ``text[start:end]`` is a value of ``type``.

    ``start`` and ``end`` are character offsets (not bytes) into the text that was
    scanned. ``score`` is between 0 and 1; ``validator`` names the check that
    confirmed the match (``"iban.mod97"``, ``"se.personnummer"``, ``"known"``...).
    ``flags`` carries extra findings about the value, such as ``"credentials"`` on
    a URL that holds a user name and password.
    """

    type: EntityType
    start: int
    end: int
    score: float
    validator: str
    flags: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        """The entity as the JSON object the CLI writes (no value, only its place)."""
        return {
            "type": self.type.value,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 3),
        }


class Recognizer(Protocol):
    """A plug-in recogniser, such as a named-entity model an installation has.

    It is called with the text and its language and returns entities with
    character offsets; Tutela ships none and downloads none.
    """

    def __call__(self, text: str, lang: str | None) -> Iterable[Entity]: ...


_new = object.__new__
_SETTERS = tuple(
    getattr(Entity, name).__set__
    for name in ("type", "start", "end", "score", "validator", "flags")
)


def entity_of(reading: tuple[EntityType, int, int, float, str, tuple[str, ...]]) -> Entity:
    """``Entity(*reading)``, made without the dataclass's ``__init__``.

    A frozen dataclass sets each field through ``object.__setattr__``; setting the
    slots directly takes half the time, which counts for every entity of every text.
    """
    entity = _new(Entity)
    set_type, set_start, set_end, set_score, set_validator, set_flags = _SETTERS
    set_type(entity, reading[0])
    set_start(entity, reading[1])
    set_end(entity, reading[2])
    set_score(entity, reading[3])
    set_validator(entity, reading[4])
    set_flags(entity, reading[5])
    return entity
