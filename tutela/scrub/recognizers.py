"""From candidates to entities: one recogniser per candidate family.

A recogniser looks at a candidate span, runs the validators that could confirm
it, scores what they confirm (base score, language, separators, context words)
and returns every reading it finds; :mod:`tutela.scrub.detector` then keeps the
best of overlapping readings. Candidates that hold several values separated by
spaces ("19850312-1234 070-123 45 67") are split on whitespace and the longest
valid runs of words are kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from tutela.scrub import validators as v
from tutela.scrub.context import adjusted, raises, score_bounds, words_near, words_near_each
from tutela.scrub.entities import EntityType
from tutela.scrub.patterns import Kind

__all__ = ["RECOGNISERS", "Ctx", "Reading", "regions_for"]

E = EntityType

Reading = tuple[EntityType, int, int, float, str, tuple[str, ...]]
"""One reading of a span: type, start, end, score, validator and flags, as in
:class:`~tutela.scrub.entities.Entity` (which only the kept readings become)."""

_REGIONS_BY_LANG: dict[str, tuple[str, ...]] = {
    "sv": ("SE",),
    "nl": ("NL",),
    "fr": ("FR",),
    "cs": ("CZ",),
    "en": ("GB", "US"),
}
_ALL_REGIONS = ("SE", "NL", "FR", "CZ", "GB", "US")
_MAX_WINDOW_TOKENS = 8
_NO_FLAGS: tuple[str, ...] = ()


def regions_for(lang: str | None, region: str | None) -> tuple[str, ...]:
    """Phone regions to try: the country hint, else the language's, else all six."""
    if region:
        return (region.upper(),)
    if lang and lang in _REGIONS_BY_LANG:
        return _REGIONS_BY_LANG[lang]
    return _ALL_REGIONS


class Ctx:
    """What every recogniser needs besides the span: the text, language and regions.

    It also keeps the context words found around each span, which several
    readings of the same span share. One ``Ctx`` serves one call of ``detect``.

    With ``min_score`` given, a reading whose score waits on context words comes
    back with that score unadjusted and :data:`PENDING` (or :data:`PENDING_DATE`)
    as its flags, when nothing before the end of the scan depends on it; ``detect``
    then finds the words around all of them at once and calls :func:`settle`.
    """

    __slots__ = ("_near", "lang", "min_score", "pending", "regions", "text")

    def __init__(
        self,
        text: str,
        lang: str | None,
        regions: tuple[str, ...],
        min_score: float | None = None,
    ) -> None:
        self.text = text
        self.lang = lang
        self.regions = regions
        self.min_score = min_score
        self.pending = 0
        self._near: dict[tuple[int, int], frozenset[str]] = {}

    def near(self, start: int, end: int) -> frozenset[str]:
        """The context words around ``text[start:end]`` (see :func:`words_near`)."""
        key = (start, end)
        words = self._near.get(key)
        if words is None:
            words = self._near[key] = words_near(self.text, start, end)
        return words


PENDING: tuple[str, ...] = ("(context words pending)",)
PENDING_DATE: tuple[str, ...] = ("(birth words pending)",)

# Readings of these types decide whether their characters are claimed from numbers
# (detector), so their score is needed at once, unless it is on the same side of
# the bar whatever the words (an IBAN's 0.95 has no lowering words).
_CLAIMING_TYPES = frozenset({E.IBAN, E.VAT_ID})


def _reading(
    ctx: Ctx, t: EntityType, start: int, end: int, score: float, validator: str
) -> Reading:
    min_score = ctx.min_score
    if min_score is not None and (t not in _CLAIMING_TYPES or _decided(t, score, min_score)):
        ctx.pending += 1
        return (t, start, end, score, validator, PENDING)
    return (t, start, end, adjusted(ctx.near(start, end), t, score), validator, _NO_FLAGS)


@functools.cache
def _decided(t: EntityType, score: float, min_score: float) -> bool:
    lowest, highest = score_bounds(t, score)
    return lowest >= min_score or highest < min_score


def settle(ctx: Ctx, readings: list[Reading]) -> None:
    """Give the pending readings their scores, all their windows searched at once."""
    waiting = []
    spans: dict[tuple[int, int], int] = {}
    for i, r in enumerate(readings):
        if r[5] is PENDING or r[5] is PENDING_DATE:
            waiting.append(i)
            spans.setdefault((r[1], r[2]), len(spans))
    near = words_near_each(ctx.text, list(spans))
    for i in waiting:
        t, start, end, score, validator, flags = readings[i]
        words = near[spans[start, end]]
        if flags is PENDING:
            if words:
                score = adjusted(words, t, score)
            readings[i] = (t, start, end, score, validator, _NO_FLAGS)
        elif words and raises(words, E.DATE_OF_BIRTH):
            readings[i] = (t, start, end, 0.85, "date+context", _NO_FLAGS)
        else:
            readings[i] = (t, start, end, 0.3, "date", _NO_FLAGS)
    ctx.pending = 0


def _split_runs(
    ctx: Ctx,
    start: int,
    end: int,
    classify: Callable[[Ctx, int, int], list[Reading]],
    may_start: Callable[[str], bool] = lambda _: True,
    min_digits: int = 0,
) -> list[Reading]:
    """Readings of the whole span, or else of its longest valid runs of words.

    Runs with fewer than ``min_digits`` digits are not tried: no validator of
    the family accepts them.
    """
    found = classify(ctx, start, end)
    text = ctx.text
    if found or text.find(" ", start, end) < 0:
        # The patterns' only white space is the space: one word, nothing to split.
        return found
    if min_digits and len(v.digits_of(text[start:end])) <= min_digits:
        # Every word of a number has a digit, so a shorter run has fewer than all.
        return []
    tokens = [(m.start(), m.end()) for m in _TOKENS.finditer(text, start, end)]
    n = len(tokens)
    if n < 2:
        return []
    digits = [len(v.digits_of(text[a:b])) for a, b in tokens]
    out: list[Reading] = []
    taken = [False] * n
    for size in range(min(n - 1, _MAX_WINDOW_TOKENS), 0, -1):
        for i in range(n - size + 1):
            if sum(digits[i : i + size]) < min_digits or any(taken[i : i + size]):
                continue
            a, b = tokens[i][0], tokens[i + size - 1][1]
            if not may_start(text[a:b]):
                continue
            found = classify(ctx, a, b)
            if found:
                out.extend(found)
                for k in range(i, i + size):
                    taken[k] = True
    return out


_TOKENS = re.compile(r"\S+", re.ASCII)


# --- numbers: phones, cards, national and company numbers -----------------------------

_PNR = re.compile(r"(?:[0-9]{2})?[0-9]{6}[-+]?[0-9]{4}", re.ASCII)
_ORGNR = re.compile(r"(?:16)?[0-9]{6}-?[0-9]{4}", re.ASCII)
_RC = re.compile(r"[0-9]{6}/?[0-9]{3,4}", re.ASCII)
_NINE = re.compile(r"[0-9]{9}|[0-9]{3}[ .][0-9]{3}[ .][0-9]{3}|[0-9]{4}[ .][0-9]{2}[ .][0-9]{3}")
_NANP = re.compile(
    r"(?:\+?1[ .\-]?)?(?:\([0-9]{3}\) ?|[0-9]{3}[.\-])[0-9]{3}[.\-][0-9]{4}", re.ASCII
)
_CARD_SEPS = re.compile(r"[0-9]+(?:[ \-][0-9]+)*", re.ASCII)


def _phone_plausible(value: str, digits: str, regions: Sequence[str]) -> bool:
    # Only numbers written the way people write phone numbers are parsed: with a
    # country code or trunk prefix, or in the shape of a US or Czech number.
    first = value[0]
    if first in "+(" or digits[0] == "0":
        return True
    if "US" in regions and len(digits) == 10 and digits[0] in "23456789":
        return True
    return "CZ" in regions and len(digits) == 9 and digits[0] in "234567"


def _classify_number(ctx: Ctx, start: int, end: int) -> list[Reading]:
    text = ctx.text
    if (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
        # Part of a longer word such as a VAT number or a product code.
        return []
    value = text[start:end]
    digits = v.digits_of(value)
    n = len(digits)
    lang = ctx.lang
    out: list[Reading] = []

    if 12 <= n <= 19 and _CARD_SEPS.fullmatch(value):
        scheme = v.card_issuer(digits)
        if scheme:
            out.append(_reading(ctx, E.PAYMENT_CARD, start, end, 0.85, f"luhn.{scheme}"))
    if n in (10, 12) and _PNR.fullmatch(value):
        kind = v.valid_se_personnummer(value)
        if kind:
            score = 0.6 if ("-" in value or "+" in value) else 0.5
            score += 0.15 if lang == "sv" else 0.0
            out.append(_reading(ctx, E.NATIONAL_ID, start, end, score, kind))
    if n in (10, 12) and _ORGNR.fullmatch(value) and v.valid_se_orgnr(digits[-10:]):
        score = (0.55 if "-" in value else 0.45) + (0.15 if lang == "sv" else 0.0)
        out.append(_reading(ctx, E.ORG_ID, start, end, score, "se.orgnr"))
    if n in (9, 10) and _RC.fullmatch(value) and v.valid_cz_rc(digits):
        score = 0.6 if "/" in value else 0.45
        score -= 0.15 if n == 9 else 0.0  # no check digit before 1954
        score += 0.15 if lang == "cs" else 0.0
        out.append(_reading(ctx, E.NATIONAL_ID, start, end, score, "cz.rc"))
    if n == 9 and _NINE.fullmatch(value):
        if v.valid_nl_bsn(digits):
            score = 0.45 + (0.2 if lang == "nl" else 0.0)
            out.append(_reading(ctx, E.NATIONAL_ID, start, end, score, "nl.bsn"))
        if v.valid_fr_siren(digits):
            score = 0.4 + (0.2 if lang == "fr" else 0.0)
            out.append(_reading(ctx, E.ORG_ID, start, end, score, "fr.siren"))
    if n == 14 and v.valid_fr_siret(digits):
        score = 0.6 + (0.15 if lang == "fr" else 0.0)
        out.append(_reading(ctx, E.ORG_ID, start, end, score, "fr.siret"))
    if n == 14 and ("2A" in value or "2B" in value):
        compact = value.replace(" ", "")
        if len(compact) == 15 and v.valid_fr_nir(compact):
            score = 0.8 + (0.1 if lang == "fr" else 0.0)
            out.append(_reading(ctx, E.NATIONAL_ID, start, end, score, "fr.nir"))
    if n == 15 and digits[0] in "12378" and v.valid_fr_nir(digits):
        score = 0.8 + (0.1 if lang == "fr" else 0.0)
        out.append(_reading(ctx, E.NATIONAL_ID, start, end, score, "fr.nir"))
    if 7 <= n <= 17 and (not out or value[0] in "+0"):
        phone_start = start - 1 if start > 0 and text[start - 1] == "(" else start
        phone_value = text[phone_start:end]
        if _phone_plausible(phone_value, digits, ctx.regions):
            regions = ctx.regions
            if "US" in regions and regions[0] != "US" and _NANP.fullmatch(phone_value):
                # Written the North American way: try the US before other regions.
                regions = ("US", *(r for r in regions if r != "US"))
            region = v.phone_region_match(phone_value, regions)
            if region:
                score = 0.8 if phone_value[0] == "+" else 0.65
                out.append(
                    _reading(ctx, E.PHONE, phone_start, end, score, f"phonenumbers.{region}")
                )
    return out


def _numbers(ctx: Ctx, start: int, end: int) -> list[Reading]:
    # Seven digits: the shortest phone number; every other family needs more.
    return _split_runs(ctx, start, end, _classify_number, min_digits=7)


# --- codes: IBAN and VAT numbers --------------------------------------------------------

_CODE_START = re.compile(r"[A-Z]{2}(?:[0-9]|$|[A-Z][0-9])", re.ASCII)


def _classify_code(ctx: Ctx, start: int, end: int) -> list[Reading]:
    text = ctx.text
    if start > 0 and text[start - 1].isalnum():
        return []
    compact = text[start:end].replace(" ", "").replace(".", "").replace("-", "")
    # Letters and digits only (the pattern's), so "not all letters" is "some digit".
    if len(compact) < 3 or compact[2:6].isalpha():
        return []
    if v.valid_iban(compact):
        return [_reading(ctx, E.IBAN, start, end, 0.95, "iban.mod97")]
    if len(compact) <= 16:
        name = v.valid_vat(compact)
        if name:
            return [_reading(ctx, E.VAT_ID, start, end, 0.8, name)]
    return []


def _codes(ctx: Ctx, start: int, end: int) -> list[Reading]:
    return _split_runs(ctx, start, end, _classify_code, lambda w: bool(_CODE_START.match(w)))


# --- e-mail, URL, IP ---------------------------------------------------------------------


def _email(ctx: Ctx, start: int, end: int) -> list[Reading]:
    value = ctx.text[start:end]
    local, _, domain = value.partition("@")
    local = local.lstrip(".")
    start = end - len(domain) - 1 - len(local)
    tld = domain.rsplit(".", 1)[-1]
    if not local or ".." in value or not tld.isalpha() or len(tld) < 2:
        return []
    return [(E.EMAIL, start, end, 0.95, "email.syntax", _NO_FLAGS)]


_URL_TRAILING = ".,;:!?'\"]}>"


def _url(ctx: Ctx, start: int, end: int) -> list[Reading]:
    value = ctx.text[start:end]
    while value and (value[-1] in _URL_TRAILING or (value[-1] == ")" and "(" not in value)):
        value = value[:-1]
    flags = v.url_flags(value)
    if flags is None:
        return []
    score = 0.99 if flags else 0.5
    return [(E.URL, start, start + len(value), score, "url.syntax", flags)]


def _ipv4(ctx: Ctx, start: int, end: int) -> list[Reading]:
    text = ctx.text
    if start > 0 and text[start - 1] in "0123456789.":
        return []
    if end + 1 < len(text) and text[end] == "." and text[end + 1].isdigit():
        return []  # 1.2.3.4.5 is a version or an outline number, not an address
    # The pattern's shape (four runs of one to three digits) is a dotted quad's, so
    # what ``valid_ip`` would still check is that no part is above 255.
    a, b, c, d = text[start:end].split(".")
    if int(a) > 255 or int(b) > 255 or int(c) > 255 or int(d) > 255:
        return []
    return [_reading(ctx, E.IP_ADDRESS, start, end, 0.75, "ipv4")]


def _ipv6(ctx: Ctx, start: int, end: int) -> list[Reading]:
    text = ctx.text
    while end > start and text[end - 1] == ".":
        end -= 1
    if text[start] == ":" and text[start : start + 2] != "::":
        start += 1
    value = text[start:end]
    if value.count(":") < 2 or (start > 0 and text[start - 1].isalnum()):
        return []
    if v.valid_ip(value) != "ipv6":
        return []
    return [_reading(ctx, E.IP_ADDRESS, start, end, 0.8, "ipv6")]


# --- dates of birth ----------------------------------------------------------------------

_MONTH_NUMBERS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan januari janvier ledna",
        "february feb februari fevrier février unora února",
        "march mar mars maart brezna března",
        "april apr avril dubna",
        "may mai maj mei kvetna května",
        "june jun juni juin cervna června",
        "july jul juli juillet cervence července",
        "august aug augusti augustus aout août srpna",
        "september sep sept septembre zari září",
        "october oct oktober octobre rijna října",
        "november nov novembre listopadu",
        "december dec decembre décembre prosince",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTH_NUMBERS[_name] = _number

_NUMERIC_DATE = re.compile(r"([0-9]{1,4})[./\-] ?([0-9]{1,2})[./\-] ?([0-9]{2,4})", re.ASCII)
_WORD = re.compile(r"[^\W\d_]+")
_INTS = re.compile(r"[0-9]+", re.ASCII)


def _date(ctx: Ctx, start: int, end: int) -> list[Reading]:
    text = ctx.text
    if (start > 0 and text[start - 1].isdigit()) or (end < len(text) and text[end].isdigit()):
        return []
    value = text[start:end]
    plausible = v.plausible_birth_date
    found = False
    m = _NUMERIC_DATE.fullmatch(value)
    if m:
        first, second, third = m.groups()
        a, b, c = int(first), int(second), int(third)
        if len(first) == 4:
            found = plausible(c, b, a)
        elif len(first) <= 2:
            found = plausible(a, b, c) or (ctx.lang in (None, "en") and plausible(b, a, c))
    else:
        month = None
        for word in _WORD.findall(value):
            month = _MONTH_NUMBERS.get(word.lower())
            if month:
                break
        if month:
            ints = _INTS.findall(value)
            if len(ints) >= 2:
                found = plausible(int(ints[0]), month, int(ints[-1]))
    if not found:
        return []
    if ctx.min_score is not None:
        ctx.pending += 1
        return [(E.DATE_OF_BIRTH, start, end, 0.3, "date", PENDING_DATE)]
    if raises(ctx.near(start, end), E.DATE_OF_BIRTH):
        return [(E.DATE_OF_BIRTH, start, end, 0.85, "date+context", _NO_FLAGS)]
    return [(E.DATE_OF_BIRTH, start, end, 0.3, "date", _NO_FLAGS)]


# --- secrets -----------------------------------------------------------------------------

# "!" stays: passwords often end with one, and over-scrubbing is the safe side.
_SECRET_TRAILING = ".,;:?)'\"]}>"


def _secret_token(ctx: Ctx, start: int, end: int) -> list[Reading]:
    text = ctx.text
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        return []
    if text[start] in "Bb" and text[start : start + 6].lower() == "bearer":
        start += 6
        while text[start] == " ":
            start += 1
    while end > start and text[end - 1] in ".":
        end -= 1
    return [(E.SECRET, start, end, 0.9, "secret.shape", _NO_FLAGS)]


def _secret_context(ctx: Ctx, start: int, end: int) -> list[Reading]:
    text = ctx.text
    i = start
    while text[i] not in ":=":
        i += 1
    i += 1
    while text[i] in " \t\"'":
        i += 1
    while end > i and text[end - 1] in _SECRET_TRAILING:
        end -= 1
    value = text[i:end]
    # A plain lower-case word after "password:" is usually prose ("Password: required").
    if len(value) < 4 or (value.isalpha() and value.islower()):
        return []
    return [(E.SECRET, i, end, 0.8, "secret.context", _NO_FLAGS)]


RECOGNISERS: dict[Kind, Callable[[Ctx, int, int], list[Reading]]] = {
    Kind.EMAIL: _email,
    Kind.URL: _url,
    Kind.IPV4: _ipv4,
    Kind.IPV6: _ipv6,
    Kind.CODE: _codes,
    Kind.NUMBER: _numbers,
    Kind.DATE: _date,
    Kind.SECRET_TOKEN: _secret_token,
    Kind.SECRET_CONTEXT: _secret_context,
}
"""The recogniser of each candidate family."""
