"""``detect``: every entity in a text, from one combined scan.

The pipeline is: combined scan for candidates (:mod:`tutela.scrub.engine`),
recognisers with validators on the candidates only
(:mod:`tutela.scrub.recognizers`), mentions of known people
(:mod:`tutela.scrub.people`), optional plug-in recognisers (for instance a
named-entity model an installation provides), then one pass that keeps the best
of overlapping readings.
"""

from __future__ import annotations

import sys
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

from tutela.scrub import engine
from tutela.scrub.entities import Entity, EntityType
from tutela.scrub.patterns import Kind
from tutela.scrub.people import KnownPeople
from tutela.scrub.recognizers import RECOGNISERS, Ctx, regions_for

__all__ = ["DEFAULT_MIN_SCORE", "Recognizer", "detect", "resolve"]

DEFAULT_MIN_SCORE = 0.5
"""Entities scoring below this are dropped unless the caller asks for a lower bar."""

# When two readings of the same characters score the same, the more specific wins.
_PRIORITY = {
    t: i
    for i, t in enumerate(
        (
            EntityType.PERSON,
            EntityType.SECRET,
            EntityType.IBAN,
            EntityType.PAYMENT_CARD,
            EntityType.NATIONAL_ID,
            EntityType.EMAIL,
            EntityType.VAT_ID,
            EntityType.ORG_ID,
            EntityType.PHONE,
            EntityType.IP_ADDRESS,
            EntityType.DATE_OF_BIRTH,
            EntityType.URL,
        )
    )
}


class Recognizer(Protocol):
    """A plug-in recogniser, such as a named-entity model an installation has.

    It is called with the text and its language and returns entities with
    character offsets; Tutela ships none and downloads none.
    """

    def __call__(self, text: str, lang: str | None) -> Iterable[Entity]: ...


# Numbers come after the families that claim digits (see ``_CLAIMING`` and dates).
_ORDER = (
    Kind.EMAIL,
    Kind.URL,
    Kind.IPV4,
    Kind.IPV6,
    Kind.CODE,
    Kind.DATE,
    Kind.NUMBER,
    Kind.SECRET_TOKEN,
    Kind.SECRET_CONTEXT,
)

# Families recognised before numbers whose confirmed matches claim their digits.
_CLAIMING = frozenset({Kind.EMAIL, Kind.URL, Kind.IPV4, Kind.IPV6, Kind.CODE})


def _inside(claimed: list[tuple[int, int]], span: tuple[int, int]) -> bool:
    i = bisect_right(claimed, (span[0], sys.maxsize)) - 1
    return i >= 0 and claimed[i][0] <= span[0] and span[1] <= claimed[i][1]


def resolve(entities: Iterable[Entity]) -> list[Entity]:
    """Non-overlapping entities, preferring higher score, then longer, then more specific."""
    ranked = sorted(entities, key=lambda e: (-e.score, e.start - e.end, _PRIORITY[e.type]))
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Entity] = []
    for entity in ranked:
        i = bisect_left(starts, entity.start)
        if i > 0 and ends[i - 1] > entity.start:
            continue
        if i < len(starts) and starts[i] < entity.end:
            continue
        starts.insert(i, entity.start)
        ends.insert(i, entity.end)
        kept.insert(i, entity)
    return kept


def detect(
    text: str,
    lang: str | None = None,
    *,
    region: str | None = None,
    known: KnownPeople | None = None,
    recognizers: Sequence[Recognizer] = (),
    types: Collection[EntityType] | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[Entity]:
    """The personal data in ``text``, as non-overlapping entities in text order.

    ``lang`` (``en``, ``sv``, ``nl``, ``fr``, ``cs``) picks the context words and the
    phone region; ``region`` (ISO country code) overrides the phone region. ``known``
    adds mentions of known people; ``recognizers`` adds plug-in recognisers.
    ``types`` keeps only those entity types. Pure: no I/O, no state.
    """
    lang = lang.lower()[:2] if lang else None
    ctx = Ctx(text, lang, regions_for(lang, region))
    found: list[Entity] = []
    claimed: list[tuple[int, int]] = []
    candidates = engine.scan(text)
    for kind in _ORDER:
        spans = candidates[kind]
        if not spans:
            continue
        recognise = RECOGNISERS[kind]
        if kind is Kind.NUMBER and claimed:
            # Digits inside a confirmed IBAN, VAT number, address or link are part
            # of it; validating them again as phones or ids only costs time.
            claimed.sort()
            spans = [s for s in spans if not _inside(claimed, s)]
        for start, end in spans:
            entities = recognise(ctx, start, end)
            found.extend(entities)
            if kind is Kind.DATE:
                # A valid date is a date, even without the context that makes it
                # a birth date; its digits are no phone number or id.
                claimed.extend((e.start, e.end) for e in entities)
            elif kind in _CLAIMING:
                claimed.extend((e.start, e.end) for e in entities if e.score >= min_score)
    if known is not None:
        found.extend(known.find(text))
    for recognizer in recognizers:
        found.extend(recognizer(text, lang))
    kept = [e for e in found if e.score >= min_score and (types is None or e.type in types)]
    return resolve(kept)
