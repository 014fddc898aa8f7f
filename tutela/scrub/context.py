"""Context words: what the words around a candidate say about it.

A nine-digit number next to "BSN" is a citizen number; next to "order" it is
probably not. For each entity type there are words per language that raise the
score and words that lower it. They are looked for, case- and accent-insensitively,
in a short window before the candidate (and a shorter one after it).

The lists are kept per language so each can be reviewed by its speakers, but
every language's words apply to every text: people name a foreign identifier
by its own name ("BSN" in a Swedish ticket), and a text's declared language is
often wrong. ``lang`` is accepted so callers need not change if that changes.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left

from tutela.scrub import engine
from tutela.scrub.entities import EntityType
from tutela.scrub.patterns import word_tree as _trie
from tutela.scrub.people import fold

__all__ = [
    "LANGUAGES",
    "NEGATIVE",
    "POSITIVE",
    "adjust",
    "adjusted",
    "has_context",
    "raises",
    "score_bounds",
    "words_near",
    "words_near_each",
]

LANGUAGES = ("en", "sv", "nl", "fr", "cs")
"""Languages with context words, month names and column-name words."""

_BEFORE = 48
_AFTER = 24

E = EntityType

# Words are written folded: lower case, without accents.
POSITIVE: dict[EntityType, dict[str, tuple[str, ...]]] = {
    E.PHONE: {
        "en": ("phone", "tel", "mobile", "cell", "call", "ring", "text me", "whatsapp", "fax"),
        "sv": ("telefon", "tfn", "mobil", "ring", "nummer", "sms"),
        "nl": ("telefoon", "tel", "mobiel", "bel", "nummer", "gsm"),
        "fr": ("telephone", "tel", "portable", "mobile", "appel", "numero"),
        "cs": ("telefon", "tel", "mobil", "cislo", "volejte", "zavolejte"),
    },
    E.NATIONAL_ID: {
        "en": ("ssn", "national id", "identity number", "social security", "id number"),
        "sv": ("personnummer", "pnr", "samordningsnummer", "personnr"),
        "nl": ("bsn", "burgerservicenummer", "sofinummer", "sofi"),
        "fr": ("nir", "securite sociale", "numero de secu", "insee", "secu"),
        "cs": ("rodne cislo", "r.c.", "rc", "rodneho cisla"),
    },
    E.ORG_ID: {
        "en": ("company number", "registration number", "company", "org"),
        "sv": ("organisationsnummer", "orgnr", "org.nr", "foretag", "bolag"),
        "nl": ("kvk", "kamer van koophandel", "bedrijf"),
        "fr": ("siren", "siret", "entreprise", "societe", "rcs"),
        "cs": ("ico", "firma", "spolecnost"),
    },
    E.VAT_ID: {
        "en": ("vat", "tax number", "vat number"),
        "sv": ("momsnummer", "momsreg", "vat"),
        "nl": ("btw", "btw-nummer", "btw-id", "omzetbelasting"),
        "fr": ("tva", "numero de tva", "tva intracommunautaire"),
        "cs": ("dic", "danove identifikacni", "dph"),
    },
    E.IBAN: {
        "en": ("iban", "account", "bank", "transfer"),
        "sv": ("iban", "konto", "bankkonto"),
        "nl": ("iban", "rekening", "rekeningnummer", "bank"),
        "fr": ("iban", "compte", "rib", "virement"),
        "cs": ("iban", "ucet", "uctu", "banka"),
    },
    E.PAYMENT_CARD: {
        "en": ("card", "visa", "mastercard", "amex", "credit", "debit", "cc"),
        "sv": ("kort", "kortnummer", "kreditkort", "bankkort"),
        "nl": ("kaart", "creditcard", "pinpas", "kaartnummer"),
        "fr": ("carte", "cb", "carte bancaire", "carte de credit"),
        "cs": ("karta", "karty", "kartu", "platebni"),
    },
    E.DATE_OF_BIRTH: {
        "en": ("born", "birth", "dob", "d.o.b", "birthday", "date of birth"),
        "sv": ("fodd", "fodelsedatum", "fodelsedag", "foddes"),
        "nl": ("geboren", "geboortedatum", "geb.", "verjaardag"),
        "fr": ("ne le", "nee le", "ne(e)", "naissance", "date de naissance", "anniversaire"),
        "cs": ("narozen", "narozena", "narozeni", "datum narozeni", "nar."),
    },
    E.IP_ADDRESS: {
        "en": ("ip", "address", "host", "server", "client"),
        "sv": ("ip", "adress"),
        "nl": ("ip", "adres"),
        "fr": ("ip", "adresse"),
        "cs": ("ip", "adresa"),
    },
}

NEGATIVE: dict[EntityType, dict[str, tuple[str, ...]]] = {
    E.PHONE: {
        "en": ("order", "invoice", "tracking", "version", "isbn", "ref", "serial", "amount"),
        "sv": ("order", "faktura", "ordernummer", "kollinummer", "belopp", "kr"),
        "nl": ("bestelling", "factuur", "ordernummer", "bedrag", "eur"),
        "fr": ("commande", "facture", "montant", "eur"),
        "cs": ("objednavka", "objednavky", "faktura", "castka", "kc"),
    },
    E.IP_ADDRESS: {
        "en": ("version", "release", "v.", "build"),
        "sv": ("version",),
        "nl": ("versie",),
        "fr": ("version",),
        "cs": ("verze",),
    },
}
for _type in (E.NATIONAL_ID, E.ORG_ID, E.PAYMENT_CARD):
    NEGATIVE[_type] = NEGATIVE[E.PHONE]


def _fold_table(encoding: str) -> bytes:
    # Byte of ``encoding`` -> the byte of its folded character in Latin-1. Only ASCII
    # matters to the words (which are ASCII), so anything else becomes 0x80.
    table = bytearray(range(256))
    for byte in range(256):
        try:
            folded = fold(bytes([byte]).decode(encoding))
        except UnicodeDecodeError:
            continue  # a byte the encoding leaves undefined never comes out of encode
        table[byte] = ord(folded) if folded.isascii() else 0x80
    return bytes(table)


# Latin-1 covers Swedish, Dutch and French text, Windows-1250 Czech; folding through
# a byte table is several times faster than ``fold``'s per-character lookup.
_TABLES = (("latin-1", _fold_table("latin-1")), ("cp1250", _fold_table("cp1250")))


def _fold(text: str) -> str:
    """``text`` folded as far as the words can tell: its ASCII characters as ``fold``
    gives them, every other character as some character outside ASCII."""
    if text.isascii():
        return text.lower()
    for encoding, table in _TABLES:
        data = text.encode(encoding, "replace")
        if data.count(b"?") == text.count("?"):  # nothing had to be replaced
            return data.translate(table).decode("latin-1")
    return fold(text)


def _folded_bytes(text: str) -> bytes:
    """:func:`_fold` as Latin-1 bytes (anything beyond as "?", which no word has)."""
    if text.isascii():
        return text.lower().encode("ascii")
    for encoding, table in _TABLES:
        data = text.encode(encoding, "replace")
        if data.count(b"?") == text.count("?"):
            return data.translate(table)
    return fold(text).encode("latin-1", "replace")


def _words_of(
    table: dict[EntityType, dict[str, tuple[str, ...]]],
) -> dict[EntityType, frozenset[str]]:
    return {
        t: frozenset(w for words in per_lang.values() for w in words)
        for t, per_lang in table.items()
    }


_RAISING = _words_of(POSITIVE)
_LOWERING = _words_of(NEGATIVE)
_ALL_WORDS = sorted(set().union(*_RAISING.values(), *_LOWERING.values()), key=len, reverse=True)
assert all(w.isascii() and w[0].isalpha() for w in _ALL_WORDS)


# Words stand alone: "bel" must not fire inside "label". A match is the longest word
# standing alone at its place; the shorter ones there are its prefixes. A search
# looks for the character before the word (which ``re`` skips to quickly); a word at
# the start of the window has none.
_TRIE = _trie(_ALL_WORDS)
_WORD_AFTER_BREAK = re.compile(rf"[^a-z0-9]({_TRIE})(?![a-z])", re.ASCII)
_WORD_AT_START = re.compile(rf"({_TRIE})(?![a-z])", re.ASCII)
_NONE: frozenset[str] = frozenset()
_PREFIXES = {w: tuple(p for p in _ALL_WORDS if p != w and w.startswith(p)) for w in _ALL_WORDS}
# The shorter words at the start of a word that stand alone there too: the character
# after them is the word's own, so this is known in advance ("btw" in "btw-id").
_ALONE_PREFIXES = {
    w: tuple(p for p in prefixes if not "a" <= w[len(p)] <= "z")
    for w, prefixes in _PREFIXES.items()
}
# Words with a break inside, after which another word may start ("carte de credit").
_WITH_BREAKS = frozenset(w for w in _ALL_WORDS if re.search("[^a-z0-9][a-z]", w))
_findall = _WORD_AFTER_BREAK.findall


def _window(text: str, start: int, end: int) -> str:
    return _fold(text[max(0, start - _BEFORE) : start] + " " + text[end : end + _AFTER])


def words_near(text: str, start: int, end: int) -> frozenset[str]:
    """The context words (of every type) standing near ``text[start:end]``."""
    window = _window(text, start, end)
    first = _WORD_AT_START.match(window)
    found = _findall(window) if first is None else [first[1], *_findall(window, first.end(1))]
    if not found:
        return _NONE
    if not _WITH_BREAKS.isdisjoint(found):
        return _words_in(window)
    if len(found) == 1 and not _ALONE_PREFIXES[found[0]]:
        return frozenset(found)
    words = set(found)
    for word in found:
        words.update(_ALONE_PREFIXES[word])
    return frozenset(words)


def _words_in(window: str) -> frozenset[str]:
    # Word by word, also from every place inside a word found.
    search = _WORD_AFTER_BREAK.search
    m = _WORD_AT_START.match(window) or search(window)
    found: list[str] = []
    while m is not None:
        word = m.group(1)
        found.append(word)
        found.extend(_ALONE_PREFIXES[word])
        m = search(window, m.start(1))
    return frozenset(found)


def words_near_each(text: str, spans: list[tuple[int, int]]) -> list[frozenset[str]]:
    """:func:`words_near` of each span, found in one pass where Hyperscan is there.

    The windows are folded together, one line each, and one Hyperscan database of
    the words, each between a break and a character that is no letter, reports
    every place a word stands alone; a line's ends are breaks, as a window's are.
    """
    finder = _batch_finder()
    if finder is None or len(spans) < 2:
        return [words_near(text, start, end) for start, end in spans]
    return finder.find(text, spans)


class _BatchFinder:
    def __init__(self) -> None:
        import hyperscan

        self._hyperscan = hyperscan
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[f"[^a-z0-9]{re.escape(w)}[^a-z]".encode() for w in _ALL_WORDS],
            ids=list(range(len(_ALL_WORDS))),
            elements=len(_ALL_WORDS),
            flags=[0] * len(_ALL_WORDS),
        )
        self._local = threading.local()

    def find(self, text: str, spans: list[tuple[int, int]]) -> list[frozenset[str]]:
        parts = ["\n"]
        add = parts.append
        # Where each window ends in the joined lines: a word ends in the first window
        # whose end is not before the word's.
        ends = []
        at = 0
        size = len(text)
        for start, end in spans:
            before = start - _BEFORE if start > _BEFORE else 0
            after = end + _AFTER if end + _AFTER < size else size
            add(text[before:start])
            add(" ")
            add(text[end:after])
            add("\n")
            at += start - before + after - end + 2
            ends.append(at)
        data = _folded_bytes("".join(parts))
        hits: list[tuple[int, int]] = []
        append = hits.append

        def on_match(word: int, start: int, end: int, flags: int, context: object) -> None:
            append((word, end))

        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hyperscan.Scratch(self._db)
        self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        if not hits:
            return [_NONE] * len(spans)
        found: list[list[str]] = [[] for _ in spans]
        words = _ALL_WORDS
        for word, end in hits:
            found[bisect_left(ends, end - 1)].append(words[word])
        return [frozenset(w) if w else _NONE for w in found]


def _make_finder() -> _BatchFinder | None:
    if engine.ENGINE != "hyperscan":
        return None
    try:
        return _BatchFinder()
    except Exception:  # no Hyperscan for this machine after all: one window at a time
        return None


# Compiled with the combined scan's database, when the module is imported.
_FINDER = _make_finder()


def _batch_finder() -> _BatchFinder | None:
    """The Hyperscan finder; ``None`` without Hyperscan."""
    return _FINDER


def raises(words: frozenset[str], entity_type: EntityType) -> bool:
    """Whether ``words`` (from :func:`words_near`) hold a raising word for the type."""
    raising = _RAISING.get(entity_type)
    return raising is not None and not words.isdisjoint(raising)


def adjusted(words: frozenset[str], entity_type: EntityType, score: float) -> float:
    """``score`` raised by the positive words among ``words`` and lowered by the negative."""
    raising = _RAISING.get(entity_type)
    if raising is not None and not words.isdisjoint(raising):
        score += 0.3
    lowering = _LOWERING.get(entity_type)
    if lowering is not None and not words.isdisjoint(lowering):
        score -= 0.35
    return min(1.0, max(0.0, score))


def score_bounds(entity_type: EntityType, score: float) -> tuple[float, float]:
    """The lowest and the highest :func:`adjusted` can make ``score``, whatever the words."""
    return (
        adjusted(_LOWERING.get(entity_type, _NONE), entity_type, score),
        adjusted(_RAISING.get(entity_type, _NONE), entity_type, score),
    )


def has_context(text: str, start: int, end: int, entity_type: EntityType, lang: str | None) -> bool:
    """Whether a raising context word for ``entity_type`` is near ``text[start:end]``."""
    return raises(words_near(text, start, end), entity_type)


def adjust(
    text: str, start: int, end: int, entity_type: EntityType, lang: str | None, score: float
) -> float:
    """``score`` raised by nearby positive words and lowered by negative ones."""
    return adjusted(words_near(text, start, end), entity_type, score)
