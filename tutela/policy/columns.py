"""Guessing from a column's name alone whether it holds personal data, in five languages.

Product schemas are written in English, Swedish, Dutch, French and Czech
(often mixed). Names are split into words (``snake_case``, ``camelCase``,
``kebab-case``), stripped of accents and matched against word lists; the
result is the taxonomy category a person would most likely declare.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

__all__ = ["COLUMN_WORDS", "classify_column", "words_of"]

# Category -> names (as word sequences, accent-free, lower case). A name matches
# when its words contain one of these sequences. Short generic words ("name",
# "tel") are listed as whole sequences so "username" and "hotel" do not match.
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "user.contact.email": (
        "email",
        "e mail",
        "mail",
        "email address",
        "emailadress",
        "epost",
        "e post",
        "epostadress",
        "mejl",
        "emailadres",
        "e mailadres",
        "mailadres",
        "courriel",
        "adresse email",
        "adresse mail",
        "adresse electronique",
        "mel",
        "e mailova adresa",
    ),
    "user.contact.phone_number": (
        "phone",
        "phone number",
        "phonenumber",
        "telephone",
        "tel",
        "mobile",
        "cell",
        "cellphone",
        "msisdn",
        "telefon",
        "telefonnummer",
        "mobil",
        "mobilnummer",
        "mobiltelefon",
        "telefoon",
        "telefoonnummer",
        "mobiel",
        "gsm",
        "portable",
        "numero de telephone",
        "telefonni cislo",
        "cislo telefonu",
        "mobilni telefon",
    ),
    "user.device.ip_address": (
        "ip",
        "ip address",
        "ipaddress",
        "ip addr",
        "remote addr",
        "client ip",
        "ip adress",
        "ipadress",
        "ip adres",
        "ipadres",
        "adresse ip",
        "ip adresa",
    ),
    "user.name": (
        "name",
        "full name",
        "fullname",
        "first name",
        "firstname",
        "last name",
        "lastname",
        "surname",
        "given name",
        "family name",
        "display name",
        "displayname",
        "middle name",
        "namn",
        "fornamn",
        "efternamn",
        "mellannamn",
        "naam",
        "voornaam",
        "achternaam",
        "tussenvoegsel",
        "volledige naam",
        "nom",
        "prenom",
        "nom de famille",
        "nom complet",
        "jmeno",
        "prijmeni",
        "cele jmeno",
        "krestni jmeno",
    ),
    "user.contact.address": (
        "address",
        "street",
        "street address",
        "address line",
        "postal address",
        "zip",
        "zipcode",
        "zip code",
        "postcode",
        "postal code",
        "adress",
        "gatuadress",
        "postadress",
        "postnummer",
        "postort",
        "adres",
        "straat",
        "straatnaam",
        "huisnummer",
        "woonplaats",
        "adresse",
        "rue",
        "code postal",
        "adresse postale",
        "adresa",
        "ulice",
        "psc",
        "bydliste",
    ),
    "user.demographic.date_of_birth": (
        "birth date",
        "birthdate",
        "date of birth",
        "dob",
        "birthday",
        "born",
        "born on",
        "fodelsedatum",
        "fodelsedag",
        "geboortedatum",
        "geboren",
        "date de naissance",
        "date naissance",
        "naissance",
        "datum narozeni",
        "narozeni",
    ),
    "user.government_id.national_identification_number": (
        "ssn",
        "social security number",
        "national id",
        "national identification number",
        "personal number",
        "personnummer",
        "personnr",
        "samordningsnummer",
        "bsn",
        "burgerservicenummer",
        "nir",
        "numero de securite sociale",
        "insee",
        "rodne cislo",
        "rodnecislo",
        "rc",
    ),
    "user.financial.bank_account": (
        "iban",
        "bank account",
        "account number",
        "bic",
        "kontonummer",
        "bankkonto",
        "bankgiro",
        "rekeningnummer",
        "bankrekening",
        "rib",
        "compte bancaire",
        "cislo uctu",
        "bankovni ucet",
    ),
    "user.payment.card_number": (
        "card number",
        "cardnumber",
        "pan",
        "credit card",
        "cc number",
        "kortnummer",
        "kaartnummer",
        "numero de carte",
        "cislo karty",
    ),
    "user.authorization.credentials": (
        "password",
        "password hash",
        "passwd",
        "pwd",
        "secret",
        "api key",
        "api token",
        "token",
        "access token",
        "refresh token",
        "losenord",
        "wachtwoord",
        "mot de passe",
        "heslo",
    ),
    "user.location.precise": (
        "latitude",
        "longitude",
        "lat",
        "lng",
        "lon",
        "geo",
        "geolocation",
        "coordinates",
        "gps",
        "position",
        "breddgrad",
        "langdgrad",
        "breedtegraad",
        "lengtegraad",
        "zemepisna sirka",
        "zemepisna delka",
    ),
    "user.demographic.gender": (
        "gender",
        "sex",
        "kon",
        "geslacht",
        "sexe",
        "genre",
        "pohlavi",
    ),
    "user.device.cookie_id": (
        "cookie",
        "cookie id",
        "device id",
        "deviceid",
        "advertising id",
        "idfa",
        "gaid",
        "user agent",
        "useragent",
    ),
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def words_of(name: str) -> tuple[str, ...]:
    """``"customerEmail_Address"`` -> ``("customer", "email", "address")``, accents removed."""
    spaced = _CAMEL.sub(" ", name)
    plain = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode().lower()
    return tuple(w for w in _SPLIT.split(plain) if w)


@cache
def _patterns() -> tuple[tuple[tuple[str, ...], str], ...]:
    # Longest sequences first, so "ip address" wins over "address".
    items = [
        (tuple(phrase.split()), category)
        for category, phrases in COLUMN_WORDS.items()
        for phrase in phrases
    ]
    items.sort(key=lambda item: -len(item[0]))
    return tuple(items)


def classify_column(name: str) -> str | None:
    """The category a column named ``name`` most likely holds, or ``None``."""
    words = words_of(name)
    if not words:
        return None
    joined = "".join(words)
    for phrase, category in _patterns():
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if words[i : i + n] == phrase:
                return category
        if n > 1 and "".join(phrase) == joined:
            return category
    return None
