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
from operator import itemgetter
from typing import Any, TypeVar

from tutela.scrub import engine
from tutela.scrub.entities import Entity, EntityType, Recognizer, entity_of
from tutela.scrub.patterns import Kind
from tutela.scrub.people import KnownPeople
from tutela.scrub.recognizers import RECOGNISERS, Ctx, Reading, regions_for, settle

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
_CLAIMING = frozenset({Kind.EMAIL, Kind.URL, Kind.CODE})
# Families whose every reading claims its characters, whatever its score: a valid
# date is a date and a valid dotted quad an address (or a version), even without
# the context that makes it personal data; their digits are no phone number or id.
_CLAIMING_ALL = frozenset({Kind.DATE, Kind.IPV4, Kind.IPV6})


# Per family, in order: its index, its recogniser, and which of its readings claim
# their characters (all, the confirmed ones, none).
_ALL, _CONFIRMED, _NONE = "all", "confirmed", "none"
_STEPS = tuple(
    (
        int(kind),
        RECOGNISERS[kind],
        _ALL if kind in _CLAIMING_ALL else _CONFIRMED if kind in _CLAIMING else _NONE,
    )
    for kind in _ORDER
)
_NUMBER = int(Kind.NUMBER)


def _inside(claimed: list[tuple[int, int]], span: tuple[int, int]) -> bool:
    i = bisect_right(claimed, (span[0], sys.maxsize)) - 1
    return i >= 0 and claimed[i][0] <= span[0] and span[1] <= claimed[i][1]


def _rank(reading: tuple[Any, ...]) -> tuple[float, int, int]:
    return (-reading[3], reading[1] - reading[2], _PRIORITY[reading[0]])


_R = TypeVar("_R", bound=tuple[Any, ...])
_START = itemgetter(1)


def _resolve(readings: list[_R]) -> list[_R]:
    """Non-overlapping readings, preferring higher score, then longer, then more specific."""
    if len(readings) < 2:
        return readings
    # Mostly no two readings overlap, and all are kept, in text order.
    in_order = sorted(readings, key=_START)
    last_end = -1
    for reading in in_order:
        if reading[1] < last_end:
            break
        last_end = reading[2]
    else:
        return in_order
    readings.sort(key=_rank)
    starts: list[int] = []
    ends: list[int] = []
    kept: list[_R] = []
    for reading in readings:
        start = reading[1]
        end = reading[2]
        i = bisect_left(starts, start)
        if i > 0 and ends[i - 1] > start:
            continue
        if i < len(starts) and starts[i] < end:
            continue
        starts.insert(i, start)
        ends.insert(i, end)
        kept.insert(i, reading)
    return kept


def _as_reading(e: Entity) -> Reading:
    return (e.type, e.start, e.end, e.score, e.validator, e.flags)


def resolve(entities: Iterable[Entity]) -> list[Entity]:
    """Non-overlapping entities, preferring higher score, then longer, then more specific."""
    given = list(entities)
    # Each entity's reading, with its position last so that the entity comes back.
    kept = _resolve([(*_as_reading(e), i) for i, e in enumerate(given)])
    return [given[r[6]] for r in kept]


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
    ctx = Ctx(text, lang, regions_for(lang, region), min_score)
    found: list[Reading] = []
    claimed: list[tuple[int, int]] = []
    candidates = engine.scan(text)
    for index, recognise, claims in _STEPS:
        spans = candidates[index]
        if not spans:
            continue
        if index == _NUMBER and claimed:
            # Digits inside a confirmed IBAN, VAT number, address or link are part
            # of it; validating them again as phones or ids only costs time.
            claimed.sort()
            spans = [s for s in spans if not _inside(claimed, s)]
        for start, end in spans:
            readings = recognise(ctx, start, end)
            if not readings:
                continue
            found.extend(readings)
            if claims is _ALL:
                claimed.extend([(r[1], r[2]) for r in readings])
            elif claims is _CONFIRMED:
                claimed.extend([(r[1], r[2]) for r in readings if r[3] >= min_score])
    if ctx.pending:
        settle(ctx, found)
    if known is not None:
        found.extend(_as_reading(e) for e in known.find(text))
    for recognizer in recognizers:
        found.extend(_as_reading(e) for e in recognizer(text, lang))
    kept = [r for r in found if r[3] >= min_score and (types is None or r[0] in types)]
    return [entity_of(r) for r in _resolve(kept)]
