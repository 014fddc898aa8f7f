"""Mentions of known people: names and identifiers the ledger holds, found in text.

This is how a request finds a person's mentions in free text: the caller passes
the person's names, e-mail addresses, phone numbers and user names, and every
occurrence is returned as a ``PERSON`` entity, matched without regard to case or
accents ("Ondřej Šťastný" finds "ondrej stastny"). Digits are matched with any
separators between them, so "+46701234567" also finds "+46 70-123 45 67".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers

from tutela.scrub.entities import Entity, EntityType

__all__ = ["KnownPeople", "find_mentions", "fold"]

# Letters whose accent-free form is not reached by Unicode decomposition.
_EXTRA = {"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ß": "s", "æ": "a"}


class _FoldTable(dict[int, int]):
    """``str.translate`` table mapping each character to one folded character.

    Folding keeps one character per character so that offsets in the folded text
    are offsets in the original.
    """

    def __missing__(self, code: int) -> int:
        ch = chr(code)
        folded = _EXTRA.get(ch)
        if folded is None:
            base = unicodedata.normalize("NFD", ch)[:1] or ch
            lower = base.lower()
            folded = lower if len(lower) == 1 else base
        self[code] = ord(folded)
        return self[code]


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """``text`` in lower case without accents, one character for each character."""
    return text.translate(_FOLD)


_SEPARATORS = r"[\s\-./()]{0,2}"


def _identifier_pattern(identifier: str) -> str | None:
    folded = fold(identifier.strip())
    if not folded:
        return None
    digits = re.sub(r"[^0-9]", "", folded)
    if len(digits) >= 6 and len(digits) >= len(folded.replace(" ", "")) - 2:
        # A number (phone, id): its digits in order, whatever the separators.
        body = _SEPARATORS.join(digits)
        if folded.startswith("+"):
            # A phone number in E.164 also matches its national, trunk-prefixed form.
            try:
                number = phonenumbers.parse(folded, None)
            except phonenumbers.NumberParseException:
                number = None
            if number is not None and number.country_code:
                national = _SEPARATORS.join(str(number.national_number))
                sep = _SEPARATORS
                prefix = rf"(?:(?:\+|00){number.country_code}{sep}(?:\(0\){sep})?|0)"
                body = rf"{prefix}{national}"
        return rf"(?<![0-9])\+?{body}(?![0-9])"
    words = [re.escape(w) for w in folded.split()]
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


class KnownPeople:
    """A compiled matcher for the identifiers of one or more people.

    Build it once per request (or per batch of people) and call :meth:`find` on
    each text. ``labels`` is an optional mapping from each identifier to a label
    (for example the subject id) reported in the entity's ``flags``.
    """

    def __init__(self, identifiers: Iterable[str], labels: dict[str, str] | None = None) -> None:
        self._labels: list[str] = []
        parts: list[str] = []
        ordered = sorted({i for i in identifiers if i and i.strip()}, key=len, reverse=True)
        for identifier in ordered:
            pattern = _identifier_pattern(identifier)
            if pattern is None:
                continue
            parts.append(f"(?P<i{len(self._labels)}>{pattern})")
            self._labels.append((labels or {}).get(identifier, ""))
        self._regex = re.compile("|".join(parts)) if parts else None

    def find(self, text: str) -> list[Entity]:
        """Every mention of the identifiers in ``text``, as ``PERSON`` entities."""
        if self._regex is None:
            return []
        out = []
        for m in self._regex.finditer(fold(text)):
            label = self._labels[int((m.lastgroup or "i0")[1:])]
            flags = (label,) if label else ()
            out.append(Entity(EntityType.PERSON, m.start(), m.end(), 1.0, "known", flags))
        return out


def find_mentions(text: str, identifiers: Iterable[str]) -> list[Entity]:
    """Mentions in ``text`` of any of ``identifiers`` (names, e-mails, phones, user names)."""
    return KnownPeople(identifiers).find(text)
