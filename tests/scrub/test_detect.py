"""detect(): what is found in text, in five languages, and where."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutela.scrub import Entity, EntityType, detect, resolve
from tutela.scrub.engine import available_engines, scanner
from tutela.scrub.patterns import Kind

E = EntityType


@pytest.mark.parametrize(
    ("lang", "text", "value", "entity_type"),
    [
        ("en", "Write to ann.lee@example.co.uk.", "ann.lee@example.co.uk", E.EMAIL),  # dot after
        ("sv", "Ring mig på 070-123 45 67 i kväll", "070-123 45 67", E.PHONE),  # SE mobile
        ("sv", "Växel 08-123 456 78", "08-123 456 78", E.PHONE),  # Stockholm landline
        ("nl", "Bel 06-12345678 na vijf", "06-12345678", E.PHONE),  # NL mobile
        ("fr", "Appelez le 06 12 34 56 78", "06 12 34 56 78", E.PHONE),  # FR mobile in pairs
        ("cs", "Volejte 601 234 567", "601 234 567", E.PHONE),  # CZ mobile, no trunk prefix
        ("en", "Call 020 7946 0958", "020 7946 0958", E.PHONE),  # London
        ("en", "Call 212-555-0199", "212-555-0199", E.PHONE),  # New York
        ("en", "Call +46 70-123 45 67", "+46 70-123 45 67", E.PHONE),  # international form
        ("nl", "IBAN NL91 ABNA 0417 1643 00 graag", "NL91 ABNA 0417 1643 00", E.IBAN),  # spaced
        ("en", "to GB29NWBK60161331926819", "GB29NWBK60161331926819", E.IBAN),  # compact
        ("en", "card 4111-1111-1111-1111 exp", "4111-1111-1111-1111", E.PAYMENT_CARD),  # dashed
        ("en", "amex 3782 822463 10005", "3782 822463 10005", E.PAYMENT_CARD),  # 4-6-5 groups
        ("en", "from 192.168.1.20 today", "192.168.1.20", E.IP_ADDRESS),  # IPv4
        ("en", "from 2001:db8::8a2e:370:7334.", "2001:db8::8a2e:370:7334", E.IP_ADDRESS),  # v6
        ("sv", "personnummer 811228-9874", "811228-9874", E.NATIONAL_ID),  # SE
        ("sv", "samordningsnummer 701063-2391", "701063-2391", E.NATIONAL_ID),  # SE coordination
        ("nl", "mijn BSN is 123456782", "123456782", E.NATIONAL_ID),  # NL
        ("cs", "rodné číslo 736028/5163", "736028/5163", E.NATIONAL_ID),  # CZ, a woman's
        ("fr", "NIR 2 95 10 99 126 111 93", "2 95 10 99 126 111 93", E.NATIONAL_ID),  # FR
        ("sv", "Bolaget 556677-8899 AB", "556677-8899", E.ORG_ID),  # SE organisationsnummer
        ("fr", "SIREN 732 829 320", "732 829 320", E.ORG_ID),  # FR company
        ("fr", "SIRET 732 829 320 00074", "732 829 320 00074", E.ORG_ID),  # FR establishment
        ("nl", "btw NL000099998B57", "NL000099998B57", E.VAT_ID),  # NL BTW
        ("cs", "DIČ CZ25123891", "CZ25123891", E.VAT_ID),  # CZ DIČ
        ("en", "born on 3 March 1985", "3 March 1985", E.DATE_OF_BIRTH),  # EN words
        ("sv", "född 1985-03-12", "1985-03-12", E.DATE_OF_BIRTH),  # ISO date
        ("nl", "geboren op 12 maart 1985", "12 maart 1985", E.DATE_OF_BIRTH),  # NL words
        ("fr", "née le 1er mars 1985", "1er mars 1985", E.DATE_OF_BIRTH),  # FR ordinal
        ("cs", "narozena 12. března 1985", "12. března 1985", E.DATE_OF_BIRTH),  # CZ genitive
        ("cs", "narozen 12. 3. 1985", "12. 3. 1985", E.DATE_OF_BIRTH),  # CZ spaced numeric
        (
            "en",
            "key sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            E.SECRET,
        ),
        ("en", "Authorization: Bearer abcdefghijklmnop1234", "abcdefghijklmnop1234", E.SECRET),
        ("fr", "mot de passe : S3cret!x", "S3cret!x", E.SECRET),  # after a French context word
        ("sv", 'lösenord="Hemligt123"', "Hemligt123", E.SECRET),  # quoted, after Swedish word
        ("sv", "LÖSENORD: Sommar24!", "Sommar24!", E.SECRET),  # upper case beyond ASCII
        ("fr", "NÉE LE 3 FÉVRIER 1985.", "3 FÉVRIER 1985", E.DATE_OF_BIRTH),  # the same, month
        ("cs", "NAROZEN 12. BŘEZNA 1985", "12. BŘEZNA 1985", E.DATE_OF_BIRTH),
    ],
)
def test_finds(lang: str, text: str, value: str, entity_type: EntityType) -> None:
    found = [(e.type, text[e.start : e.end]) for e in detect(text, lang=lang)]
    assert (entity_type, value) in found


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "Order 1234567 shipped on 12.03.2024 for 1 250 000 EUR"),  # amounts, order numbers
        ("en", "Meeting at 10:30:00 in room 4.2.1"),  # times and room numbers
        ("en", "Version 1.2.3.4.5 released"),  # dotted version, not an address
        ("sv", "Ordernummer 123456782 är skickat"),  # passes the BSN test but is an order
        ("en", "The meeting is on 12 March 2024"),  # a date without birth context
        ("en", "Password: required"),  # prose after a context word
        ("en", "Card 4111 1111 1111 1112 declined"),  # Luhn fails
        ("nl", "IBAN NL91 ABNA 0417 1643 01"),  # mod 97 fails
        ("en", "isbn 978-3-16-148410-0"),  # a book number
    ],
)
def test_ignores(lang: str, text: str) -> None:
    assert detect(text, lang=lang) == []


def test_offsets_are_characters_not_bytes() -> None:
    text = "Žluťoučký kůň: jan.novak@example.cz a 601 234 567"
    found = detect(text, lang="cs")
    assert [text[e.start : e.end] for e in found] == ["jan.novak@example.cz", "601 234 567"]


def test_undecodable_bytes_do_not_break_offsets() -> None:
    # Text read with surrogateescape carries lone surrogates for bad bytes.
    text = b"\xff\xfe mail ann@example.com".decode("utf-8", "surrogateescape")
    found = detect(text)
    assert [text[e.start : e.end] for e in found] == ["ann@example.com"]


def test_entity_fields() -> None:
    text = "IBAN NL91ABNA0417164300"
    (entity,) = detect(text)
    assert entity.type is E.IBAN
    assert (entity.start, entity.end) == (5, 23)
    assert entity.validator == "iban.mod97"
    assert 0.9 <= entity.score <= 1.0
    assert entity.to_dict() == {"type": "IBAN", "start": 5, "end": 23, "score": entity.score}


def test_several_values_in_one_run_of_digits() -> None:
    text = "pnr 811228-9874 070-123 45 67"
    found = [(e.type, text[e.start : e.end]) for e in detect(text, lang="sv")]
    assert found == [(E.NATIONAL_ID, "811228-9874"), (E.PHONE, "070-123 45 67")]


def test_context_lowers_score() -> None:
    plain = detect("ring 070-123 45 67", lang="sv")
    order = detect("ordernummer 070-123 45 67", lang="sv", min_score=0)
    assert plain[0].score > order[0].score


def test_types_filter_and_min_score() -> None:
    text = "ann@example.com 192.168.1.20"
    assert [e.type for e in detect(text, types={E.EMAIL})] == [E.EMAIL]
    assert detect(text, min_score=1.01) == []


def test_url_flags_credentials() -> None:
    text = "see https://ann:pw@example.com/x."
    (entity,) = detect(text)
    assert entity.type is E.URL
    assert text[entity.start : entity.end] == "https://ann:pw@example.com/x"
    assert entity.flags == ("credentials",)


def test_plug_in_recognizer() -> None:
    from tutela.scrub import Entity

    def names(text: str, lang: str | None) -> list[Entity]:
        i = text.find("Ada")
        return [Entity(E.PERSON, i, i + 3, 0.7, "plugin")] if i >= 0 else []

    assert [e.validator for e in detect("hi Ada", recognizers=[names])] == ["plugin"]


def _resolved_one_by_one(entities: list[Entity]) -> list[Entity]:
    # The rule, spelled out: best first (score, then length, then the type's rank);
    # each one kept unless it overlaps one kept before; then in text order.
    priority = [E.PERSON, E.SECRET, E.IBAN, E.PAYMENT_CARD, E.NATIONAL_ID, E.EMAIL, E.VAT_ID]
    priority += [E.ORG_ID, E.PHONE, E.IP_ADDRESS, E.DATE_OF_BIRTH, E.URL]
    best_first = sorted(entities, key=lambda e: (-e.score, e.start - e.end, priority.index(e.type)))
    kept: list[Entity] = []
    for e in best_first:
        if all(e.end <= k.start or k.end <= e.start for k in kept):
            kept.append(e)
    return sorted(kept, key=lambda e: e.start)


_ENTITIES = st.lists(
    st.builds(
        lambda t, start, size, score: Entity(t, start, start + size, score, "test"),
        st.sampled_from(list(E)),
        st.integers(0, 60),
        st.integers(1, 12),
        st.sampled_from([0.3, 0.5, 0.8, 0.95]),
    ),
    max_size=8,
)


@given(_ENTITIES)
def test_resolve_keeps_the_best_of_overlapping_entities(entities: list[Entity]) -> None:
    assert resolve(entities) == _resolved_one_by_one(entities)


CORPUS = (
    "Mail ann.lee@example.co.uk. ring +46 70-123 45 67, pnr 811228-9874 "
    "https://u:p@x.com/a?token=abc). IP 10.0.0.1 och fe80::1 IBAN NL91 ABNA 0417 1643 00 "
    "född 12. března 1985 password: hunter22 Bearer abcdefghijklmnopqrstu é 1.2.3.4.5 "
    "kort 4111 1111 1111 1111, BSN 111222333, orgnr 556677-8899 VAT SE556677889901\n"
) * 3


@pytest.mark.parametrize("name", available_engines())
def test_every_engine_finds_the_same_candidates(name: str) -> None:
    assert scanner(name)(CORPUS) == scanner("re")(CORPUS)


_ALPHABET = "0123456789 .-/:+@()abcdefABCDEFNLSEhttps:/wéř\n\t_=xyz"


@pytest.mark.parametrize("name", [n for n in available_engines() if n != "re"])
def test_engines_agree_on_arbitrary_text(name: str) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    other = scanner(name)
    reference = scanner("re")

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=_ALPHABET, max_size=120))
    def check(text: str) -> None:
        assert other(text) == reference(text)

    check()


_FRAGMENTS = [
    *("password", "Lösenord", "token", "mot de passe", ": ", "=", " ", "\t", "\n", "'", '"'),
    *("ann", ".lee", "@", "example", ".com", ".co.uk", "fe80", "::", ":", "1", "db8", "é"),
    *("hunter2", "Sommar24!", "070", "-123 45 67", "NL91", " ABNA", "0417", "x", "Ž"),
    *("12. ", "března", "b?ezna", "?", " 1985", "€", "北京"),
    *("_", "db", "secret", "API_KEY", "api key", "client secret", "PASSWORD", "LÖSENORD"),
    *("Token", "auth-token", "passwd", "mdp", "BŘEZNA", "FÉVRIER", "Décembre", "3 "),
]


@pytest.mark.parametrize("name", [n for n in available_engines() if n != "re"])
def test_engines_agree_on_fragments(name: str) -> None:
    # Joined fragments reach the patterns whose start is found after the scan
    # (e-mail, IPv6, secrets after a context word) far more often than random text.
    from hypothesis import given, settings
    from hypothesis import strategies as st

    other = scanner(name)
    reference = scanner("re")

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.sampled_from(_FRAGMENTS), max_size=30).map("".join))
    def check(text: str) -> None:
        assert other(text) == reference(text)

    check()


def test_characters_beyond_latin1() -> None:
    # Hyperscan scans them as "?"; a month name that has such a character still
    # matches, and a literal "?" in its place does not.
    text = "narozen 12. března 1985, ne 12. b?ezna 1985; 北京 ann@example.com € 601 234 567"
    for name in available_engines():
        assert scanner(name)(text) == scanner("re")(text)
    found = [(e.type, text[e.start : e.end]) for e in detect(text, lang="cs")]
    assert found == [
        (E.DATE_OF_BIRTH, "12. března 1985"),
        (E.EMAIL, "ann@example.com"),
        (E.PHONE, "601 234 567"),
    ]


def test_detect_never_fails_on_arbitrary_text() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=200) | st.text(alphabet=_ALPHABET, max_size=200))
    def check(text: str) -> None:
        for entity in detect(text):
            assert 0 <= entity.start < entity.end <= len(text)

    check()


def test_detect_from_many_threads() -> None:
    # Hyperscan needs one scratch space per concurrent scan; each thread gets its own.
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"mail person{i}@example.com, ring 070-123 45 67" for i in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda t: detect(t, lang="sv"), texts))
    assert all([e.type for e in r] == [E.EMAIL, E.PHONE] for r in results)


@pytest.mark.parametrize("name", available_engines())
def test_every_engine_scans_lone_surrogates(name: str) -> None:
    # RE2 works on UTF-8, which has no lone surrogates: they are scanned as U+FFFD.
    text = b"\xff\xfe mail ann@example.com, \xed\xa0\x80 ring 070-123 45 67\xff".decode(
        "utf-8", "surrogateescape"
    )
    found = scanner(name)(text)
    assert found == scanner("re")(text)
    assert [text[a:b] for a, b in found[Kind.EMAIL]] == ["ann@example.com"]
