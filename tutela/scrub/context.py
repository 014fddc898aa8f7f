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
from functools import cache

from tutela.scrub.entities import EntityType
from tutela.scrub.people import fold

__all__ = ["LANGUAGES", "NEGATIVE", "POSITIVE", "adjust", "has_context"]

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


def _fold(text: str) -> str:
    return text.lower() if text.isascii() else fold(text)


@cache
def _words(table_id: int, entity_type: EntityType) -> re.Pattern[str] | None:
    table = POSITIVE if table_id == 0 else NEGATIVE
    per_lang = table.get(entity_type)
    if not per_lang:
        return None
    words = sorted({w for code in per_lang for w in per_lang[code]}, key=len)
    alternation = "|".join(re.escape(w) for w in reversed(words))
    # Words stand alone: "bel" must not fire inside "label".
    return re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z])", re.ASCII)


def _window(text: str, start: int, end: int) -> str:
    return _fold(text[max(0, start - _BEFORE) : start] + " " + text[end : end + _AFTER])


def has_context(text: str, start: int, end: int, entity_type: EntityType, lang: str | None) -> bool:
    """Whether a raising context word for ``entity_type`` is near ``text[start:end]``."""
    words = _words(0, entity_type)
    return bool(words and words.search(_window(text, start, end)))


def adjust(
    text: str, start: int, end: int, entity_type: EntityType, lang: str | None, score: float
) -> float:
    """``score`` raised by nearby positive words and lowered by negative ones."""
    window = _window(text, start, end)
    positive = _words(0, entity_type)
    if positive and positive.search(window):
        score += 0.3
    negative = _words(1, entity_type)
    if negative and negative.search(window):
        score -= 0.35
    return min(1.0, max(0.0, score))
