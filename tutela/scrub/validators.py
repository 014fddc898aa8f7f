"""Checks that confirm a candidate is what it looks like.

Each validator takes the candidate's characters and returns the name of the rule
that confirmed it, or ``None``. VAT numbers are confirmed with python-stdnum. The
national and company numbers are checked here with the same rules as
python-stdnum's (check digits and embedded dates, in integer arithmetic on the
digits the scan found; ``tests/scrub/test_validators.py`` compares the two), and
so are payment cards, IBANs, IP addresses and URLs. The checks are only run on
candidates the combined scan found, never on all text.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import math
import re
import time
from collections.abc import Sequence
from importlib import resources
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
from stdnum.cz import dic as _cz_dic
from stdnum.eu import vat as _eu_vat
from stdnum.nl import btw as _nl_btw

__all__ = [
    "card_issuer",
    "clear_caches",
    "digits_of",
    "is_luhn",
    "parse_date",
    "phone_region_match",
    "plausible_birth_date",
    "url_flags",
    "valid_cz_dic",
    "valid_cz_rc",
    "valid_fr_nir",
    "valid_fr_siren",
    "valid_fr_siret",
    "valid_iban",
    "valid_ip",
    "valid_nl_bsn",
    "valid_se_orgnr",
    "valid_se_personnummer",
    "valid_vat",
]

_NON_DIGITS = re.compile(r"[^0-9]", re.ASCII)


def digits_of(value: str) -> str:
    """The ASCII digits of ``value``, in order."""
    # Numbers are mostly written with these separators; taking them out is quicker
    # than the expression, which handles everything else.
    digits = (
        value.replace(" ", "").replace("-", "").replace(".", "").replace("/", "").replace("(", "")
    )
    digits = digits.replace(")", "").replace("+", "")
    if digits.isdigit() and digits.isascii():
        return digits
    return _NON_DIGITS.sub("", value)


_DOUBLED = str.maketrans("0123456789", "0246813579")  # 2d, minus 9 when above 9


def is_luhn(digits: str) -> bool:
    """Luhn (mod 10) check over a string of ASCII digits."""
    # The sum of the digits is the sum of their bytes less 48 ("0") for each digit.
    data = (digits[-1::-2] + digits[-2::-2].translate(_DOUBLED)).encode("ascii")
    return (sum(data) - 48 * len(data)) % 10 == 0


def _ascii_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _eleven_test(digits: str) -> bool:
    # The Dutch BSN check: weights 9..2 and -1 on the last digit.
    d = [ord(ch) - 48 for ch in digits]
    total = 9 * d[0] + 8 * d[1] + 7 * d[2] + 6 * d[3] + 5 * d[4] + 4 * d[5] + 3 * d[6] + 2 * d[7]
    return (total - d[8]) % 11 == 0


# Issuer identification number ranges of the card schemes in use, as
# (first prefix, last prefix, allowed lengths). Prefixes of one range share a length.
_CARD_RANGES: tuple[tuple[str, str, tuple[int, ...], str], ...] = (
    ("4", "4", (13, 16, 19), "visa"),
    ("51", "55", (16,), "mastercard"),
    ("2221", "2720", (16,), "mastercard"),
    ("34", "34", (15,), "amex"),
    ("37", "37", (15,), "amex"),
    ("300", "305", (14, 16, 17, 18, 19), "diners"),
    ("36", "36", (14, 15, 16, 17, 18, 19), "diners"),
    ("38", "39", (14, 15, 16, 17, 18, 19), "diners"),
    ("6011", "6011", (16, 17, 18, 19), "discover"),
    ("644", "649", (16, 17, 18, 19), "discover"),
    ("65", "65", (16, 17, 18, 19), "discover"),
    ("622126", "622925", (16, 17, 18, 19), "discover"),
    ("3528", "3589", (16, 17, 18, 19), "jcb"),
    ("62", "62", (16, 17, 18, 19), "unionpay"),
    ("81", "81", (16, 17, 18, 19), "unionpay"),
    ("2200", "2204", (16, 17, 18, 19), "mir"),
    ("50", "50", (12, 13, 14, 15, 16, 17, 18, 19), "maestro"),
    ("56", "69", (12, 13, 14, 15, 16, 17, 18, 19), "maestro"),
    ("60", "60", (16,), "rupay"),
    ("508", "508", (16,), "rupay"),
    ("82", "82", (16,), "rupay"),
    ("9792", "9792", (16,), "troy"),
    ("506099", "506198", (16, 18, 19), "verve"),
    ("650002", "650027", (16, 18, 19), "verve"),
    ("636", "636", (16, 17, 18, 19), "interpayment"),
    ("1", "1", (15,), "uatp"),
)


# The ranges a number can fall in by its first digit, in the same order.
_CARD_RANGES_BY_FIRST_DIGIT = {
    d: tuple(r for r in _CARD_RANGES if r[0][0] <= d <= r[1][0]) for d in "0123456789"
}


def card_issuer(digits: str) -> str | None:
    """The card scheme whose issuer range and length fit ``digits``, if Luhn holds."""
    n = len(digits)
    if n < 12 or n > 19 or not is_luhn(digits):
        return None
    for low, high, lengths, scheme in _CARD_RANGES_BY_FIRST_DIGIT.get(digits[0], ()):
        if n in lengths and low <= digits[: len(low)] <= high:
            return scheme
    return None


def _bban_formats() -> dict[str, re.Pattern[str]]:
    # The SWIFT IBAN registry as python-stdnum ships it ("NL ... bban="4!a10!n""),
    # read once: stdnum's own lookup costs tens of microseconds per IBAN.
    kinds = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}
    formats: dict[str, re.Pattern[str]] = {}
    data = resources.files("stdnum").joinpath("iban.dat").read_text("utf-8")
    for line in data.splitlines():
        m = re.match(r'([A-Z]{2}) .*bban="([^"]+)"', line)
        if m:
            parts = re.findall(r"([1-9][0-9]*)!([nac])", m.group(2))
            formats[m.group(1)] = re.compile("".join(f"{kinds[k]}{{{n}}}" for n, k in parts))
    return formats


_BBAN = _bban_formats()


# Letters count as two digits in the mod 97 check: A = 10 ... Z = 35.
_IBAN_DIGITS = str.maketrans(
    {
        **{ch: str(int(ch, 36)) for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
        **{ch: str(int(ch, 36)) for ch in "abcdefghijklmnopqrstuvwxyz"},
    }
)


_LETTER_VALUE = {ch: str(int(ch, 36)) for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def valid_iban(compact: str) -> bool:
    """An IBAN without spaces: its country's length and structure, and mod 97."""
    bban = _BBAN.get(compact[:2])
    if bban is None or not compact[2:4].isdigit() or not bban.fullmatch(compact, 4):
        return False
    account = compact[4:]
    if account.isdigit():  # the country's letters are then the only ones
        rearranged = account + _LETTER_VALUE[compact[0]] + _LETTER_VALUE[compact[1]] + compact[2:4]
    else:
        rearranged = (account + compact[:4]).translate(_IBAN_DIGITS)
    return int(rearranged) % 97 == 1


# Country prefixes python-stdnum's EU VAT check knows (Greece writes EL, the One Stop
# Shop EU, Northern Ireland XI): anything else fails it, so it is not asked.
_VAT_PREFIXES = frozenset({*(c.upper() for c in _eu_vat.MEMBER_STATES), "EL", "EU", "IM"})

# Validators are pure, and the same values recur across texts (a company's switchboard,
# its VAT number in every invoice mail): their answers are kept, a bounded number of them.
_CACHE_SIZE = 16_384


def clear_caches() -> None:
    """Forget the validators' remembered answers (benchmarks measure a cold start)."""
    valid_vat.cache_clear()
    _phone_region_match.cache_clear()


@functools.lru_cache(maxsize=_CACHE_SIZE)
def valid_vat(compact: str) -> str | None:
    """The validator name if ``compact`` is a valid EU VAT number (country prefixed)."""
    country = compact[:2].upper()
    if country not in _VAT_PREFIXES:
        return None
    if country == "NL":
        return "nl.btw" if _nl_btw.is_valid(compact) else None
    if country == "CZ":
        return "cz.dic" if _cz_dic.is_valid(compact) else None
    return "eu.vat" if _eu_vat.is_valid(compact) else None


def valid_cz_dic(compact: str) -> bool:
    """Czech DIČ (tax number), with or without the CZ prefix."""
    return bool(_cz_dic.is_valid(compact))


def valid_se_personnummer(value: str) -> str | None:
    """``se.personnummer`` or ``se.samordningsnummer`` if ``value`` is one.

    A samordningsnummer (coordination number) is a personnummer whose day of
    birth has 60 added. Ten digits name the century by the separator: ``-`` for
    the last hundred years, ``+`` for a person aged a hundred or more.
    """
    digits = digits_of(value)
    n = len(digits)
    if n != 10 and n != 12:
        return None
    body = digits[-10:]
    if not is_luhn(body):
        return None
    day = int(body[4:6])
    kind = "se.personnummer"
    if day > 60:
        day -= 60
        kind = "se.samordningsnummer"
    month = int(body[2:4])
    if n == 12:
        year = int(digits[:4])
    else:
        this_year = _this_year()
        century = this_year // 100
        if int(body[:2]) > this_year % 100:
            century -= 1
        if "+" in value:
            century -= 1
        year = century * 100 + int(body[:2])
    return kind if _is_date(year, month, day) else None


def valid_se_orgnr(digits: str) -> bool:
    """Swedish organisationsnummer (third digit 2 or more, Luhn)."""
    return len(digits) == 10 and _ascii_digits(digits) and digits[2] >= "2" and is_luhn(digits)


def valid_nl_bsn(digits: str) -> bool:
    """Dutch burgerservicenummer (eleven test; not all zeros)."""
    return (
        len(digits) == 9
        and _ascii_digits(digits)
        and _eleven_test(digits)
        and digits != "000000000"
    )


def valid_cz_rc(digits: str) -> bool:
    """Czech rodné číslo (birth number: date, and mod 11 for ten digits).

    Women have 50 added to the month, and since 2004 20 may be added when a day's
    serial numbers run out. Nine digits were issued until 1953, ten after.
    """
    n = len(digits)
    if not _ascii_digits(digits):
        return False
    if n == 10:
        if int(digits[:9]) % 11 % 10 != ord(digits[9]) - 48:
            return False
    elif n != 9:
        return False
    year = 1900 + int(digits[:2])
    if n == 9:
        if year >= 1980:
            year -= 100
        if year > 1953:
            return False
    elif year < 1954:
        year += 100
    return _is_date(year, int(digits[2:4]) % 50 % 20, int(digits[4:6]))


def valid_fr_nir(digits: str) -> bool:
    """French NIR (numéro de sécurité sociale) with its two-digit key.

    Digits, but for the department of someone born in Corsica: 2A or 2B, counted
    as 19 and 18 for the key.
    """
    if len(digits) != 15 or not digits.isascii():
        return False
    if not digits[:5].isdigit() or not digits[7:].isdigit():
        return False
    department = digits[5:7]
    if department == "2A":
        department = "19"
    elif department == "2B":
        department = "18"
    elif not department.isdigit():
        return False
    return 97 - int(digits[:5] + department + digits[7:13]) % 97 == int(digits[13:])


def valid_fr_siren(digits: str) -> bool:
    """French SIREN company number (Luhn)."""
    return len(digits) == 9 and _ascii_digits(digits) and is_luhn(digits)


def valid_fr_siret(digits: str) -> bool:
    """French SIRET establishment number: Luhn over it and over its SIREN.

    La Poste's establishments (SIREN 356 000 000) have a digit sum that is a
    multiple of 5 instead; they are asked to pass Luhn too.
    """
    if len(digits) != 14 or not _ascii_digits(digits):
        return False
    if not is_luhn(digits) or not is_luhn(digits[:9]):
        return False
    if digits.startswith("356000000") and digits != "35600000000048":
        return sum(map(int, digits)) % 5 == 0
    return True


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_date(year: int, month: int, day: int) -> bool:
    """Whether the day exists (years 1 to 9999, as :class:`datetime.date` has them)."""
    if not 1 <= month <= 12 or day < 1 or not 1 <= year <= 9999:
        return False
    if day <= _DAYS_IN_MONTH[month]:
        return True
    return month == 2 and day == 29 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def valid_ip(value: str) -> str | None:
    """``"ipv4"`` or ``"ipv6"`` if ``value`` is an IP address, else ``None``."""
    if ":" not in value:
        # Dotted quads are checked here: the ipaddress module is several times slower.
        parts = value.split(".")
        ok = len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)
        return "ipv4" if ok else None
    if not value.strip(_IPV6_CHARS):
        return "ipv6" if _ipv6_ok(value) else None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return "ipv4" if address.version == 4 else "ipv6"


_IPV6_CHARS = "0123456789abcdefABCDEF:."
_HEX = frozenset("0123456789abcdefABCDEF")


def _ipv6_ok(value: str) -> bool:
    """Whether :class:`ipaddress.IPv6Address` takes ``value`` (hex digits, ``:`` and ``.``).

    The same rules, without building the address: three to eight groups of one to
    four hex digits, at most one ``::`` standing for at least one group, and
    optionally a dotted quad (two groups) at the end.
    """
    parts = value.split(":")
    if len(parts) < 3:
        return False
    if "." in parts[-1]:
        quad = parts.pop().split(".")
        if len(quad) != 4 or not all(_octet_ok(octet) for octet in quad):
            return False
        parts += ["0", "0"]
    if len(parts) > 9:
        return False
    skip = None
    for i in range(1, len(parts) - 1):
        if not parts[i]:
            if skip is not None:
                return False  # more than one "::"
            skip = i
    if skip is not None:
        high = skip
        low = len(parts) - skip - 1
        if not parts[0]:
            high -= 1
            if high:
                return False  # a leading ":" that is not "::"
        if not parts[-1]:
            low -= 1
            if low:
                return False  # a trailing ":" that is not "::"
        if 8 - (high + low) < 1:
            return False
        groups = parts[1 if not parts[0] else 0 : len(parts) - 1 if not parts[-1] else len(parts)]
        groups = [g for g in groups if g]
    else:
        if len(parts) != 8 or not parts[0] or not parts[-1]:
            return False
        groups = parts
    return all(len(g) <= 4 and _HEX.issuperset(g) for g in groups)


def _octet_ok(octet: str) -> bool:
    # ipaddress takes one to three digits, no leading zero, at most 255.
    if not octet or len(octet) > 3 or not octet.isdigit() or not octet.isascii():
        return False
    return (octet == "0" or octet[0] != "0") and int(octet) <= 255


def phone_region_match(value: str, regions: Sequence[str]) -> str | None:
    """The region in which ``value`` is a valid phone number, trying ``regions`` in order.

    Numbers written with ``+`` are parsed without a region and their own country
    is returned.
    """
    return _phone_region_match(value, tuple(regions))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _phone_region_match(value: str, regions: tuple[str, ...]) -> str | None:
    # phonenumbers.parse is the costliest validator; a number seen before is not parsed again.
    stripped = value.lstrip("(")
    if stripped.startswith("+"):
        try:
            number = phonenumbers.parse(stripped, None)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.is_valid_number(number) and number.country_code:
            return phonenumbers.region_code_for_country_code(number.country_code)
        return None
    digits = len(digits_of(value))
    international = value.startswith("00")
    for region in regions:
        low, high = _NATIONAL_DIGITS.get(region, (4, 17))
        if not international and not low <= digits <= high:
            continue  # cheaper than parsing a number that cannot be one
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(number, region):
            return region
        # Places that share the country code (Jersey with GB, Canada with US) count
        # too; the full check is slower, so it runs only where that can happen.
        if region in _SHARED_CODE and phonenumbers.is_valid_number(number):
            return region
    return None


# Digits of a national number written with its trunk prefix, per region.
_NATIONAL_DIGITS = {
    "SE": (7, 10),
    "NL": (10, 10),
    "FR": (10, 10),
    "CZ": (9, 9),
    "GB": (9, 11),
    "US": (10, 11),
}
_SHARED_CODE = frozenset({"GB", "US"})


_TOKEN_KEYS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "key",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pwd",
        "sig",
        "signature",
        "auth",
        "session",
        "sessionid",
        "sid",
        "code",
        "x-amz-signature",
        "x-amz-credential",
    }
)


def _entropy(value: str) -> float:
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _token_like(value: str) -> bool:
    # Long, varied values look like keys; short words and numbers do not.
    return len(value) >= 20 and _entropy(value) >= 3.5


def url_flags(url: str) -> tuple[str, ...] | None:
    """Flags for a URL (``credentials``, ``token``), or ``None`` if it does not parse."""
    try:
        parts = urlsplit(url)
        netloc_ok = bool(parts.netloc) or url.lower().startswith("www.")
        if not netloc_ok:
            return None
        flags: list[str] = []
        if parts.password:
            flags.append("credentials")
        for key, value in parse_qsl(parts.query, keep_blank_values=False):
            if key.lower() in _TOKEN_KEYS or _token_like(value):
                flags.append("token")
                break
    except ValueError:
        return None
    return tuple(flags)


def _this_year() -> int:
    # date.today() costs microseconds; the year is read again once a minute at most.
    now = time.monotonic()
    if now - _YEAR_CACHE[1] > 60:
        _YEAR_CACHE[:] = [datetime.date.today().year, now]
    return int(_YEAR_CACHE[0])


_YEAR_CACHE: list[float] = [0, -1e9]


def plausible_birth_date(day: int, month: int, year: int) -> bool:
    """Whether :func:`parse_date` finds a date in the parts (without making one)."""
    if year < 100:
        year += 2000 if 2000 + year <= _this_year() else 1900
    return 1900 <= year <= _this_year() and _is_date(year, month, day)


def parse_date(day: int, month: int, year: int) -> datetime.date | None:
    """The date if the parts make a plausible birth date (1900 to this year)."""
    this_year = _this_year()
    if year < 100:
        # Two-digit years: a birth date is in the past, so pick the last century
        # when this one would put it in the future.
        year += 2000 if 2000 + year <= this_year else 1900
    if year < 1900 or year > this_year:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None
