"""Context words: the fast search finds what a plain search for each word finds."""

from __future__ import annotations

import random
import re

from tutela.scrub import context as c
from tutela.scrub.people import fold

_PIECES = [
    *c._ALL_WORDS,
    *("x", "1", "telefonnummer", "ab", ".", "5tel", "Tel", "IBAN", "ÚČET", "číslo"),
    *("né le", "Ø", "ß", "\u2019", "€", "北京", "\udcff"),
]


def _reference(text: str, start: int, end: int) -> frozenset[str]:
    window = fold(text[max(0, start - 48) : start] + " " + text[end : end + 24])
    return frozenset(
        w for w in c._ALL_WORDS if re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z])", window)
    )


def test_words_near_matches_a_plain_search() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 14)))
        text = "".join(ch if rng.random() > 0.06 else rng.choice("ab .1-(É") for ch in text)
        start = rng.randrange(len(text) + 1)
        end = rng.randrange(start, len(text) + 1)
        assert c.words_near(text, start, end) == _reference(text, start, end), (text, start)


def test_fold_keeps_what_the_words_can_see() -> None:
    # Byte-table folding gives ASCII where ``fold`` does, and the same ASCII.
    chars = [chr(i) for i in range(0x20, 0x250)] + ["\u2019", "€", "œ", "İ", "\u0301"]
    for ch in chars:
        ours, theirs = c._fold(ch), fold(ch)
        assert ours.isascii() == theirs.isascii(), ch
        if theirs.isascii():
            assert ours == theirs, ch


def test_words_near_each_is_words_near_of_each() -> None:
    rng = random.Random(9)
    for _ in range(1000):
        text = " ".join(rng.choice([*_PIECES, "\n"]) for _ in range(rng.randint(1, 40)))
        spans = []
        for _ in range(rng.randint(1, 6)):
            start = rng.randrange(len(text) + 1)
            spans.append((start, rng.randrange(start, len(text) + 1)))
        expected = [c.words_near(text, start, end) for start, end in spans]
        assert c.words_near_each(text, spans) == expected, (text, spans)
