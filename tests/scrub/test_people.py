"""Mentions of known people, case- and accent-insensitive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutela.scrub import EntityType, KnownPeople, detect, find_mentions, redact
from tutela.scrub.people import ManyPeople, fold


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


# ---------------------------------------------------------------- many people at once

PEOPLE = {
    "r1": ["Ondřej Šťastný", "ondrej.stastny@example.cz", "+420601123456"],
    "r2": ["Åsa Öberg", "+46701234567"],
    "r3": ["Jørgen Łukasz", "j@x.io"],
    "r4": ["Li"],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ring ONDREJ  STASTNY om fakturan", {"r1"}),
        ("mail ondrej.stastny@EXAMPLE.cz now", {"r1"}),
        ("volejte 601 123 456", {"r1"}),
        ("ring 070-123 45 67", {"r2"}),
        ("asa\u00a0oberg skrev", {"r2"}),
        ("hej jorgen lukasz och åsa öberg", {"r2", "r3"}),
        ("met Li today", {"r4"}),
        ("nobody here, 46 70 12", set()),
        ("", set()),
    ],
)
def test_many_people_names_who_each_text_may_mention(text: str, expected: set[str]) -> None:
    assert ManyPeople(PEOPLE).candidates([text]).get(0, set()) == expected


def test_many_people_scans_texts_in_chunks_and_keeps_them_apart() -> None:
    texts = ["filler " * 50] * 5_000 + ["Åsa", "Öberg"] + [None, "call +46 70 123 45 67"]
    found = ManyPeople(PEOPLE).candidates(texts)
    assert found == {len(texts) - 1: {"r2"}}


_WORDS = st.text(alphabet="aåäeéěoøöuüsšzžcčnňilł", min_size=2, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(st.lists(_WORDS, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=5),
    filler=st.text(max_size=40),
    upper=st.booleans(),
    spaces=st.sampled_from([" ", "  ", "\n", "\u00a0", "\t"]),
)
def test_many_people_never_misses_what_the_exact_matcher_finds(
    names: list[str], filler: str, upper: bool, spaces: str
) -> None:
    people = {f"p{i}": [name] for i, name in enumerate(names)}
    written = names[0].replace(" ", spaces)
    text = f"{filler} {written.upper() if upper else written} {filler}"
    found = ManyPeople(people).candidates([text]).get(0, set())
    for label, identifiers in people.items():
        if KnownPeople(identifiers).find(text):
            assert label in found, (identifiers, text)
