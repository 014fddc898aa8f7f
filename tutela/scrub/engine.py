"""The combined scan: every candidate pattern over the text in one pass.

Three back-ends share the patterns in :mod:`tutela.scrub.patterns`:

- ``hyperscan``: all patterns in one database, one pass over the UTF-8 bytes;
- ``re2``: Google RE2, one linear-time pass per pattern;
- ``re``: the standard library, one pass per pattern.

The fastest one that imports and compiles is chosen when this module is imported;
``TUTELA_SCRUB_ENGINE`` (``hyperscan``, ``re2`` or ``re``) forces a choice, which
is how the tests check that all back-ends find the same candidates. Whatever the
back-end, :func:`scan` returns, per candidate family, non-overlapping
``(start, end)`` character offsets, leftmost first and longest at each start.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from tutela.scrub.patterns import PATTERNS, SECRET_WORD_LEADS, Kind, Pattern

__all__ = ["ENGINE", "Candidates", "available_engines", "scan"]

Candidates = list[list[tuple[int, int]]]
"""Per :class:`Kind` (by index), the candidate spans in text order."""


def _reduce(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Leftmost, then longest, non-overlapping spans: what a regex ``finditer`` yields."""
    spans.sort(key=lambda s: (s[0], -s[1]))
    out: list[tuple[int, int]] = []
    last_end = -1
    for start, end in spans:
        if start >= last_end:
            out.append((start, end))
            last_end = end
    return out


class _Backend(Protocol):
    name: str

    def scan(self, text: str) -> Candidates: ...


# Lone surrogates: what text decoded with ``surrogateescape`` holds for bytes that are
# not UTF-8. RE2 works on UTF-8, which cannot encode them.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, one character for one,
    so offsets hold; no pattern matches either except through a negated class."""
    return _SURROGATE.sub("\ufffd", text)


class _ReBackend:
    """One ``finditer`` per pattern, with Python's ``re`` or with RE2."""

    def __init__(self, name: str, compile_: Callable[[str], Any], patterns: Sequence[Pattern]):
        self.name = name
        self._compiled = [(p.kind, compile_(p.regex)) for p in patterns]
        self._utf8_only = name == "re2"

    def scan(self, text: str) -> Candidates:
        if self._utf8_only and not text.isascii() and _SURROGATE.search(text):
            text = _without_surrogates(text)
        padded = text + "\n"
        per_kind: Candidates = [[] for _ in Kind]
        for kind, regex in self._compiled:
            # The last character of every match is the terminator; it is not part
            # of the candidate.
            per_kind[kind].extend((m.start(), m.end() - 1) for m in regex.finditer(padded))
        return [_reduce(spans) if len(spans) > 1 else spans for spans in per_kind]


_LOCAL_PART = re.compile(r"[A-Za-z0-9._%+\-]*", re.ASCII)


def _email_window(text: str, end: int) -> int:
    # Up to 80 characters before the "@"; or from the local part before it, when no
    # "@" precedes that: a match holds nothing but local-part characters, "@" and
    # dots before its last character, so none from before can reach into the local
    # part, and ``finditer`` finds the same matches from there.
    at = text.rfind("@", 0, end)
    window = max(0, at - 80)
    if at <= window:
        return window
    run = _LOCAL_PART.match(text[at - 1 : window - 1 if window else None : -1])
    start = at - (run.end() if run else 0)
    if start > window and text[start - 1] != "@":
        return start
    return window


def _after_last_space(text: str, end: int, before: int) -> int:
    # The searches for a tab and a newline only go back as far as they can matter.
    space = text.rfind(" ", 0, end - 1)
    space = max(space, text.rfind("\t", space + 1, end - 1))
    return max(0, text.rfind("\n", max(0, space - before), end - 1), space - before)


_LEADS = tuple(lead.encode("latin-1") for lead in SECRET_WORD_LEADS)
_UNDERSCORE = ord("_")


def _secret_starts(data: bytes, window: int, end: int) -> list[int]:
    # Where a secret after a context word can start: at a context word's literal
    # start, or at a "_" before one. Looking for the few literals is far cheaper
    # than trying the case-insensitive pattern (some twenty words) at every place.
    lowered = data[window:end].lower()
    found: set[int] = set()
    for lead in _LEADS:
        i = lowered.find(lead)
        while i >= 0:
            found.add(window + i)
            if i and lowered[i - 1] == _UNDERSCORE:
                found.add(window + i - 1)
            i = lowered.find(lead, i + 1)
    return sorted(found)


# Where to look for the start of a match whose end Hyperscan reported without
# start-of-match tracking. Tracking the start costs Hyperscan most on patterns
# with an unbounded repeat before their anchor (the local part of an e-mail, hex
# groups, the value after "password:"); for those the start is found afterwards
# by running the same pattern over a short window that ends at the reported end.
_WINDOW_START: dict[Kind, Callable[[str, int], int]] = {
    Kind.EMAIL: lambda text, end: _email_window(text, end),
    Kind.IPV6: lambda text, end: max(0, end - 64),
    Kind.SECRET_CONTEXT: lambda text, end: _after_last_space(text, end, 48),
}
# For some of those, the only places in the window where a match can start.
_STARTS: dict[Kind, Callable[[bytes, int, int], list[int]]] = {
    Kind.SECRET_CONTEXT: _secret_starts,
}


# The Hyperscan backend scans the text encoded as Latin-1, one byte per character,
# so the offsets it reports are character offsets. Characters beyond Latin-1 (and
# lone surrogates) are scanned as "?": no pattern matches them except through a
# negated class, which "?" matches as well, or through a literal in a pattern, which
# is compiled with "?" in its place. A match of such a pattern that covers a "?" is
# confirmed on the text itself, as are the matches of a pattern's looser Hyperscan
# expression (:attr:`Pattern.hyperscan`).
_BEYOND_LATIN1 = re.compile(r"[^\x00-\xff]")


def _latin1(regex: str) -> bytes:
    return _BEYOND_LATIN1.sub(r"\\?", regex).encode("latin-1")


class _HyperscanBackend:
    """All patterns in one Hyperscan block-mode database.

    Start-of-match tracking is on for the patterns where it is cheap; for the
    others (:data:`_WINDOW_START`) the start is recovered with Python's ``re``.
    """

    name = "hyperscan"
    _hyperscan: Any  # the module, imported when the back-end is made

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        import hyperscan

        self._kinds = [int(p.kind) for p in patterns]
        self._late_start = {
            i: re.compile(p.regex, re.ASCII)
            for i, p in enumerate(patterns)
            if p.kind in _WINDOW_START
        }
        expressions = [p.hyperscan or p.regex for p in patterns]
        # Pattern id -> (the pattern ending where the text ends, how far before the
        # Hyperscan match it may start, whether every match is confirmed or only
        # those that cover a "?").
        self._confirm = {
            i: (_ending_at_end(p.regex), p.reach, p.hyperscan is not None)
            for i, (p, expression) in enumerate(zip(patterns, expressions, strict=True))
            if i not in self._late_start
            and (p.hyperscan is not None or _BEYOND_LATIN1.search(expression))
        }
        self._special = tuple(sorted({*self._late_start, *self._confirm}))
        self._window_start = {pid: _WINDOW_START[patterns[pid].kind] for pid in self._late_start}
        self._starts = {
            pid: _STARTS[patterns[pid].kind]
            for pid in self._late_start
            if patterns[pid].kind in _STARTS
        }
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[_latin1(e) for e in expressions],
            ids=list(range(len(patterns))),
            elements=len(patterns),
            flags=[
                0 if i in self._late_start else hyperscan.HS_FLAG_SOM_LEFTMOST
                for i in range(len(patterns))
            ],
        )
        self._hyperscan = hyperscan
        # A scratch space may be used by one scan at a time: one per thread.
        self._local = threading.local()

    def _scratch(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._hyperscan.Scratch(self._db)
            self._local.scratch = scratch
        return scratch

    def scan(self, text: str) -> Candidates:
        padded = text + "\n"
        data = padded.encode("latin-1", "replace")
        # Each family's matches as (start, -end), end without the terminator, so that a
        # plain sort puts them leftmost first and longest first; each pattern's go
        # straight to its family's list. The matches of the patterns whose start is
        # found or confirmed afterwards wait apart, in lists of their own.
        found: list[list[tuple[int, int]]] = [[] for _ in _KINDS]
        sinks = [found[kind] for kind in self._kinds]
        special = self._special
        for pid in special:
            sinks[pid] = []

        def on_match(pid: int, start: int, end: int, flags: int, context: object) -> None:
            sinks[pid].append((start, 1 - end))

        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
        kinds = self._kinds
        for pid in special:
            matches = sinks[pid]
            if matches:
                self._settle(pid, matches, padded, data, found[kinds[pid]])
        return [
            _leftmost_longest(spans)
            if len(spans) > 1
            else [(spans[0][0], -spans[0][1])]
            if spans
            else spans
            for spans in found
        ]

    def _settle(
        self,
        pid: int,
        matches: list[tuple[int, int]],
        padded: str,
        data: bytes,
        out: list[tuple[int, int]],
    ) -> None:
        """Find or confirm the starts of a pattern's matches; add those that hold to ``out``."""
        late = self._late_start.get(pid)
        if late is not None:
            window_start = self._window_start[pid]
            starts = self._starts.get(pid)
            for _, negative_end in matches:
                end = 1 - negative_end
                window = window_start(padded, end)
                if starts is None:
                    start = _find_start(late, window, padded, end)
                else:
                    start = _first_start(late, starts(data, window, end), padded, end)
                if start is not None:
                    out.append((start, negative_end))
            return
        regex, reach, always = self._confirm[pid]
        for start, negative_end in matches:
            end = 1 - negative_end
            if always or data.find(b"?", start, end) >= 0:
                m = regex.search(padded, max(0, start - reach), end)
                if m is None:
                    continue
                start = m.start()
            out.append((start, negative_end))


def _leftmost_longest(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(start, -end)`` pairs to non-overlapping ``(start, end)``, as ``_reduce`` picks them."""
    if len(spans) < 2:
        return [(start, -negative_end) for start, negative_end in spans]
    spans.sort()
    out: list[tuple[int, int]] = []
    last_end = -1
    for start, negative_end in spans:
        if start >= last_end:
            last_end = -negative_end
            out.append((start, last_end))
    return out


_KINDS = tuple(Kind)
_FLAGS = re.compile(r"\(\?[a-zA-Z]+\)")


def _ending_at_end(regex: str) -> re.Pattern[str]:
    """``regex`` matching only where the searched text ends (``endpos`` in a search)."""
    flags = _FLAGS.match(regex)
    head = flags.group() if flags else ""
    return re.compile(f"{head}(?:{regex[len(head) :]})\\Z", re.ASCII)


def _find_start(regex: re.Pattern[str], window_start: int, padded: str, end: int) -> int | None:
    """Start of the leftmost match of ``regex`` after ``window_start`` that ends at ``end``."""
    for m in regex.finditer(padded, window_start, end):
        if m.end() == end:
            return m.start()
    return None


def _first_start(regex: re.Pattern[str], starts: list[int], padded: str, end: int) -> int | None:
    """:func:`_find_start`, trying only ``starts`` (ascending), where a match can start.

    The matches are taken as ``finditer`` takes them: one ending elsewhere hides
    the places inside it.
    """
    after = 0
    for start in starts:
        if start < after:
            continue
        m = regex.match(padded, start, end)
        if m is not None:
            if m.end() == end:
                return start
            after = m.end()
    return None


def _make(name: str) -> _Backend:
    if name == "hyperscan":
        return _HyperscanBackend(PATTERNS)
    if name == "re2":
        import re2  # type: ignore[import-untyped]

        return _ReBackend("re2", re2.compile, PATTERNS)
    if name == "re":
        return _ReBackend("re", lambda p: re.compile(p, re.ASCII), PATTERNS)
    raise ValueError(f"unknown regex engine {name!r}; use hyperscan, re2 or re")


def available_engines() -> list[str]:
    """The back-ends that import and compile here, fastest first."""
    names = []
    for name in ("hyperscan", "re2", "re"):
        try:
            _make(name)
        except Exception:
            continue
        names.append(name)
    return names


def _choose() -> _Backend:
    forced = os.environ.get("TUTELA_SCRUB_ENGINE", "").strip().lower()
    if forced:
        return _make(forced)
    for name in ("hyperscan", "re2"):
        try:
            return _make(name)
        except Exception:
            # Not installed, or no wheel for this CPU: fall through to the next.
            continue
    return _make("re")


_BACKEND = _choose()
ENGINE: str = _BACKEND.name
"""Name of the regex back-end chosen at import: ``hyperscan``, ``re2`` or ``re``."""


def scan(text: str) -> Candidates:
    """Candidate spans of every family, found in one combined scan of ``text``."""
    return _BACKEND.scan(text)


def scanner(name: str) -> Callable[[str], Candidates]:
    """The ``scan`` function of a named back-end (for tests and benchmarks)."""
    return _make(name).scan
