"""Mentions of known people: names and identifiers the ledger holds, found in text.

This is how a request finds a person's mentions in free text: the caller passes
the person's names, e-mail addresses, phone numbers and user names, and every
occurrence is returned as a ``PERSON`` entity, matched without regard to case or
accents ("Ondřej Šťastný" finds "ondrej stastny"). Digits are matched with any
separators between them, so "+46701234567" also finds "+46 70-123 45 67".
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import phonenumbers

from tutela.scrub.entities import Entity, EntityType

__all__ = ["KnownPeople", "ManyPeople", "find_mentions", "fold"]

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
    body = _identifier_body(identifier)
    if body is None:
        return None
    if body[1]:
        return rf"(?<![0-9]){body[0]}(?![0-9])"
    return rf"(?<!\w){body[0]}(?!\w)"


def _identifier_body(identifier: str) -> tuple[str, bool] | None:
    """The pattern of an identifier in folded text, without the look-arounds that keep
    it from matching inside a longer word or number; and whether it is a number."""
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
        return rf"\+?{body}", True
    words = [re.escape(w) for w in folded.split()]
    return r"\s+".join(words), False


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


class ManyPeople:
    """Which of many people each text may mention: the prefilter of a batch erasure.

    Built from each person's identifiers (by a label, such as the request id), it
    answers for a sequence of texts, in one scan of them all, the labels of the
    people whose identifiers may occur in each. The answer never misses a text that
    :class:`KnownPeople` would find a mention in, so the caller runs the exact
    matcher of only those people on only those texts.

    Each identifier is reduced to one literal that any mention of it contains once
    the text is folded and stripped of spaces and of the separators people write
    between digits: a name's longest word, an e-mail address, a number's national
    digits. With Hyperscan all literals are found in one pass whatever their number;
    without it, RE2 (or Python's ``re``) tells which texts hold any literal at all.
    """

    _JOIN = "\x00"
    """Between two texts of a scanned chunk; no literal contains it."""
    _CHUNK = 1 << 20
    """Characters of text per scan call."""

    def __init__(self, people: Mapping[str, Iterable[str]]) -> None:
        self._literals: list[str] = []
        self._labels: list[str] = []
        # Identifiers with no literal at all (a name in Cyrillic) are matched on every
        # text, exactly and as a plain substring (as erasure's scrub_text finds them).
        rare: dict[str, list[str]] = {}
        for label, identifiers in people.items():
            for identifier in sorted({i for i in identifiers if i and i.strip()}):
                literal = _literal(identifier)
                if literal:
                    self._literals.append(literal)
                    self._labels.append(label)
                elif _identifier_body(identifier) is not None:
                    rare.setdefault(identifier, []).append(label)
        self._rare_labels = rare
        self._rare_folded = {i: _casefold(i) for i in rare}
        # Each mention is flagged with the identifier found, whose people are looked up.
        self._rare = KnownPeople(rare, labels={i: i for i in rare}) if rare else None
        self._hyperscan: Any = None
        self._any: Any = None
        if not self._literals:
            return
        try:
            import hyperscan
        except ImportError:  # pragma: no cover - where Hyperscan does not install
            hyperscan = None  # type: ignore[assignment]
        if hyperscan is not None:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(
                expressions=[re.escape(lit).encode("utf-8") for lit in self._literals],
                ids=list(range(len(self._literals))),
                elements=len(self._literals),
                flags=[0] * len(self._literals),
            )
            self._hyperscan = (db, hyperscan.Scratch(db))
            return
        alternation = "|".join(re.escape(lit) for lit in sorted(set(self._literals)))
        try:
            import re2  # type: ignore[import-untyped]

            self._any = re2.compile(alternation)
        except ImportError:
            self._any = re.compile(alternation)

    def candidates(self, texts: Sequence[str | None]) -> dict[int, set[str]]:
        """The texts that may mention someone, by index, each with those people's labels
        (texts that mention nobody, mostly all of them, are left out)."""
        out: dict[int, set[str]] = {}
        if self._rare is not None:
            for i, text in enumerate(texts):
                if text:
                    for entity in self._rare.find(text):
                        out.setdefault(i, set()).update(self._rare_labels[entity.flags[0]])
                    folded = _casefold(text)
                    for identifier, needle in self._rare_folded.items():
                        if needle in folded:
                            out.setdefault(i, set()).update(self._rare_labels[identifier])
        if not self._literals:
            return out
        start = 0
        while start < len(texts):
            end, size = start, 0
            while end < len(texts) and (end == start or size < self._CHUNK):
                size += len(texts[end] or "") + 1
                end += 1
            self._scan_chunk([t or "" for t in texts[start:end]], start, out)
            start = end
        return out

    def _scan_chunk(self, texts: list[str], offset: int, out: dict[int, set[str]]) -> None:
        joined = "\x00".join(texts)
        if joined.count("\x00") != len(texts) - 1:
            joined = "\x00".join(t.replace("\x00", "") for t in texts)
        data = _view(joined)
        labels = self._labels
        if self._hyperscan is None:
            for i, view in enumerate(data.decode("ascii").split("\x00")):
                if self._any.search(view):
                    for literal, label in zip(self._literals, labels, strict=True):
                        if literal in view:
                            out.setdefault(offset + i, set()).add(label)
            return
        db, scratch = self._hyperscan
        # Where each text ends in the view, to find the text a match ends in.
        ends = [m.start() for m in _NUL.finditer(data)]
        ends.append(len(data))

        def on_match(pid: int, _from: int, to: int, _flags: int, _context: object) -> None:
            out.setdefault(offset + bisect.bisect_left(ends, to), set()).add(labels[pid])

        db.scan(data, match_event_handler=on_match, scratch=scratch)


_NUL = re.compile(b"\x00")
# Letters Unicode does not decompose to their accent-free form (as fold() has them).
_EXTRA_LETTERS = tuple(_EXTRA.items())
# Whitespace and the separators people put between digits, gone from the view, so
# "070-123 45 67" holds "701234567" and "Anna  Berg" holds "annaberg".
_DROPPED = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f-./()"


def _view(text: str) -> bytes:
    """``text`` as the prefilter sees it: ASCII, lower case, accents, whitespace and
    number separators dropped. Unicode's compatibility decomposition does in C what
    fold() does per character (and turns no-break and other spaces into spaces);
    letters without an ASCII form are dropped, from the text and the literals alike,
    so whatever fold() matches still matches here."""
    if not text.isascii():
        for letter, plain in _EXTRA_LETTERS:
            if letter in text:
                text = text.replace(letter, plain)
        data = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    else:
        data = text.encode("ascii")
    return data.lower().translate(None, _DROPPED)


def _casefold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )


@functools.lru_cache(maxsize=1 << 16)
def _literal(identifier: str) -> str | None:
    """The literal every mention of ``identifier`` holds, in a text's :func:`_view`."""
    body = _identifier_body(identifier)
    if body is None:
        return None
    folded = fold(identifier.strip())
    if body[1]:
        digits = re.sub(r"[^0-9]", "", folded)
        if folded.startswith("+"):
            try:
                number = phonenumbers.parse(folded, None)
            except phonenumbers.NumberParseException:
                return digits
            if number.country_code and number.national_number:
                return str(number.national_number)
        return digits
    return _view(identifier).replace(b"\x00", b"").decode("ascii") or None
