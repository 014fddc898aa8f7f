"""The candidate patterns of the combined scan.

A pattern finds *candidates*, not entities: one pattern for "a run of digits
with separators" feeds the phone, card, national-number and company-number
validators alike, so the text is scanned once whatever the number of types.

Every pattern is written in the common subset of Hyperscan, RE2 and Python's
``re`` (no look-around, no back-references) and ends with exactly one
*terminator* character that cannot continue the candidate. The terminator keeps
Hyperscan from reporting every intermediate end of a match, and the scanned text
always gets a trailing newline so a candidate at the very end still has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from itertools import product
from typing import Any

__all__ = ["PATTERNS", "SECRET_WORD_LEADS", "Kind", "Pattern", "word_tree"]


class Kind(IntEnum):
    """Families of candidates; each family has one recogniser."""

    EMAIL = 0
    URL = 1
    IPV4 = 2
    IPV6 = 3
    CODE = 4  # two capital letters, then digits and letters: IBAN, VAT numbers
    NUMBER = 5  # digits with separators: phones, cards, national and company numbers
    DATE = 6
    SECRET_TOKEN = 7  # API keys and tokens recognisable by their shape
    SECRET_CONTEXT = 8  # a value after "password:", "api_key=" and the like


@dataclass(frozen=True, slots=True)
class Pattern:
    """One expression of the combined scan and the candidate family it feeds.

    ``hyperscan`` is a looser expression for Hyperscan to look for instead, where
    that is much cheaper for it; each of its matches is then confirmed with
    ``regex`` by Python's ``re``. Every match of ``regex`` must be a match of
    ``hyperscan`` with the same end, starting at most ``reach`` characters after it
    (for the families whose start is found after the scan, see
    :mod:`tutela.scrub.engine`, only the ends count).
    """

    kind: Kind
    regex: str
    hyperscan: str | None = None
    reach: int = 0


def word_tree(words: Iterable[str]) -> str:
    """An expression matching ``words``, written as a tree of their letters.

    Python's ``re`` tries the alternatives of ``a|b|c`` one by one at every
    position; as a tree it tries one branch per letter, which is several times
    faster over a hundred words. Longer words come first where one word is the
    start of another.
    """
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return body
        return f"(?:{body})?" if len(branches) == 1 else body + "?"

    return emit(root)


# Month names as written in dates, by language (French and Czech also without
# accents, Czech in the genitive as in "12. března 1985").
_MONTH_NAMES = {
    "en": "january february march april may june july august september october november"
    " december jan feb mar apr jun jul aug sep sept oct nov dec",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "fr": "janvier février fevrier mars avril mai juin juillet août aout septembre octobre"
    " novembre décembre decembre",
    "cs": "ledna února unora března brezna dubna května kvetna června cervna července cervence"
    " srpna září zari října rijna listopadu prosince",
}


def _cased(word: str) -> list[str]:
    """``word`` with its letters beyond ASCII in either case ("février", "fÉvrier").

    Case-insensitive matching folds only ASCII letters in Hyperscan (on Latin-1
    bytes) and in Python's ``re`` (with ``re.ASCII``), but every letter in RE2; the
    other cases spelled out make all three find "3 FÉVRIER 1985".
    """
    choices = [
        (ch, ch.upper()) if ch.islower() and not ch.isascii() and len(ch.upper()) == 1 else (ch,)
        for ch in word
    ]
    return ["".join(letters) for letters in product(*choices)]


# Longest first, so that the leftmost alternative is also the longest one and every
# engine picks the same match.
_MONTHS = sorted(
    {c for names in _MONTH_NAMES.values() for m in names.split() for c in _cased(m)},
    key=lambda m: (-len(m), m),
)
# As a tree of letters: the same month names, which Python's ``re`` (the fallback,
# and the check of Hyperscan's looser matches) tries one branch per letter.
_MONTH = "(?:" + word_tree(_MONTHS) + ")"
# For Hyperscan, any word of a month name's length: finding some seventy month names,
# short ones among them, costs it more than the rest of the scan. Characters beyond
# Latin-1 reach it as "?" (see :mod:`tutela.scrub.engine`).
_LONGEST_MONTH = max(len(m) for m in _MONTHS)
_ANY_MONTH = rf"[A-Za-z\xc0-\xff?]{{{min(len(m) for m in _MONTHS)},{_LONGEST_MONTH}}}"

_SECRET_WORDS = "|".join(
    cased
    for word in (
        *("password", "passwd", "passwort", "pwd", "passcode", "lösenord", "losenord"),
        *("wachtwoord", "mot de passe", "mdp", "heslo", "api[_ -]?key", "secret"),
        *("client[_ -]?secret", "access[_ -]?token", "auth[_ -]?token", "token"),
    )
    for cased in _cased(word)
)
SECRET_WORD_LEADS: tuple[str, ...] = tuple(
    sorted({w.split("[")[0] for w in _SECRET_WORDS.split("|")})
)
"""The literal start of each context word of a secret ("api" of "api[_ -]?key"), in lower
case but for the letters beyond ASCII (see :func:`_cased`): every match of the
secret-after-a-word pattern starts at one, or at a "_" before one."""

PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        Kind.EMAIL,
        r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+[^A-Za-z0-9\-]",
        # The same ends, found from the "@" on: the local part is costly for Hyperscan.
        hyperscan=r"@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+[^A-Za-z0-9\-]",
    ),
    Pattern(Kind.URL, r"(?i)(?:https?|ftp)://[^\s<>\"'`]+[\s<>\"'`]"),
    Pattern(Kind.URL, r"(?i)www\.[A-Za-z0-9\-]+\.[^\s<>\"'`]+[\s<>\"'`]"),
    Pattern(Kind.IPV4, r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}[^0-9]"),
    Pattern(Kind.IPV6, r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*[^0-9A-Fa-f:.]"),
    Pattern(Kind.CODE, r"[A-Z]{2} ?[0-9A-Z]{2}(?:[ .\-]?[0-9A-Z]){4,32}[^0-9A-Za-z]"),
    Pattern(Kind.NUMBER, r"\+?[0-9](?:[ .\-/()]{0,2}[0-9]){5,}[^0-9]"),
    # A French NIR of someone born in Corsica has department 2A or 2B.
    Pattern(Kind.NUMBER, r"[12378] ?[0-9]{2} ?[0-9]{2} ?2[AB] ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}[^0-9]"),
    Pattern(Kind.DATE, r"[0-9]{1,4}[./\-] ?[0-9]{1,2}[./\-] ?[0-9]{2,4}[^0-9]"),
    Pattern(
        Kind.DATE,
        rf"(?i)[0-9]{{1,2}}(?:er|st|nd|rd|th)?\.? ?{_MONTH}\.?,? ?[0-9]{{4}}[^0-9]",
        hyperscan=rf"(?i)[0-9]{{1,2}}(?:er|st|nd|rd|th)?\.? ?{_ANY_MONTH}\.?,? ?[0-9]{{4}}[^0-9]",
    ),
    # Leading word boundaries keep month names and keywords from matching inside
    # words, and let the ``re`` fallback skip most positions quickly.
    Pattern(
        Kind.DATE,
        rf"(?i)\b{_MONTH}\.? [0-9]{{1,2}}(?:st|nd|rd|th)?,? [0-9]{{4}}[^0-9]",
        # From the month's last letter: a word before the day is costly for Hyperscan too.
        hyperscan=r"(?i)[A-Za-z\xc0-\xff?]\.? [0-9]{1,2}(?:st|nd|rd|th)?,? [0-9]{4}[^0-9]",
        reach=_LONGEST_MONTH - 1,
    ),
    Pattern(
        Kind.SECRET_TOKEN,
        r"\b(?:(?:sk|pk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"
        r"|gh[pousr]_[0-9A-Za-z]{36,}"
        r"|github_pat_[0-9A-Za-z_]{22,}"
        r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
        r"|AIza[0-9A-Za-z_\-]{35}"
        r"|xox[abposr]-[0-9A-Za-z\-]{10,}"
        r"|glpat-[0-9A-Za-z_\-]{20,}"
        r"|eyJ[0-9A-Za-z_\-]{5,}\.[0-9A-Za-z_\-]{5,}\.[0-9A-Za-z_\-]{10,}"
        r"|[Bb]earer +[0-9A-Za-z\-._~+/]{16,}=*)"
        r"[^0-9A-Za-z_\-]",
    ),
    Pattern(
        Kind.SECRET_CONTEXT,
        # "_" too, for configuration keys such as db_password=...
        rf"(?i)(?:\b|_)(?:{_SECRET_WORDS})[\"']?[ \t]{{0,3}}[:=][ \t]{{0,3}}[^\s]{{4,}}\s",
    ),
)
