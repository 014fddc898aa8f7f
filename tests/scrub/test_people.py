"""Mentions of known people, case- and accent-insensitive."""

from __future__ import annotations

import pytest

from tutela.scrub import EntityType, KnownPeople, detect, find_mentions, redact
from tutela.scrub.people import fold


@pytest.mark.parametrize(
    ("identifier", "text", "mention"),
    [
        ("Ondřej Šťastný", "psal ondrej stastny včera", "ondrej stastny"),  # accents dropped
        ("ondrej stastny", "Podpis: ONDŘEJ ŠŤASTNÝ", "ONDŘEJ ŠŤASTNÝ"),  # and the other way
        ("Ann Lee", "from ann   lee, today", "ann   lee"),  # any white space between words
        ("ann@example.com", "cc ANN@example.com", "ANN@example.com"),  # e-mail, any case
        ("+46701234567", "ring 070-123 45 67", "070-123 45 67"),  # E.164 finds national form
        ("+46701234567", "ring +46 70 123 45 67", "+46 70 123 45 67"),  # and spaced E.164
        ("Søren Kierkegaard", "by soren kierkegaard", "soren kierkegaard"),  # ø is o
    ],
)
def test_find_mentions(identifier: str, text: str, mention: str) -> None:
    found = find_mentions(text, [identifier])
    assert [text[e.start : e.end] for e in found] == [mention]
    assert found[0].type is EntityType.PERSON


@pytest.mark.parametrize(
    ("identifier", "text"),
    [
        ("Ann", "Annika came"),  # only whole words
        ("+46701234567", "ring 0701234568"),  # other number
        ("Lee", "the leeway"),  # inside a word
    ],
)
def test_no_mention(identifier: str, text: str) -> None:
    assert find_mentions(text, [identifier]) == []


def test_fold_keeps_length() -> None:
    text = "Ďábelské ÆØÅ ßtraße İstanbul"
    assert len(fold(text)) == len(text)


def test_known_people_in_detect_and_redact() -> None:
    known = KnownPeople(["Ann Lee", "ann@example.com"], labels={"Ann Lee": "subject-42"})
    text = "Ann Lee (ann@example.com) wrote"
    found = detect(text, known=known)
    assert [(e.type, e.flags) for e in found] == [
        (EntityType.PERSON, ("subject-42",)),
        (EntityType.PERSON, ()),
    ]
    assert redact(text, known=known) == "<PERSON> (<PERSON>) wrote"
