"""The built-in taxonomy: data categories, data uses, data subjects, legal bases,
transfer mechanisms, countries and jurisdictions.

The facts live in YAML files beside this module (``tutela/policy/data/``); each
file says where its facts come from. Keys are dotted in the style of fideslang
(``user.contact.email``): a key covers every key below it. Every term maps to a
concept of the W3C Data Privacy Vocabulary (DPV).

The module is pure: it reads only its own package data, once (:func:`builtin`
is cached), and every object it returns is immutable. A policy file adds its own
keys with :meth:`Taxonomy.extended`, which returns a new taxonomy.

>>> tax = builtin()
>>> tax.sensitivity("user.location.precise")
'precise_location'
>>> tax.covers("user.contact", "user.contact.email")
True
>>> tax.suggest("data_category", "user.email")
'user.contact.email'
"""

from __future__ import annotations

import calendar
import difflib
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar, cast, get_args

import yaml

from tutela.errors import TaxonomyError

__all__ = [
    "CHANNELS",
    "KINDS",
    "SENSITIVITIES",
    "Country",
    "Jurisdiction",
    "Kind",
    "Period",
    "Taxonomy",
    "TaxonomyError",
    "Term",
    "TransferMechanism",
    "builtin",
]

Kind = Literal["data_category", "data_use", "data_subject", "legal_basis", "transfer_mechanism"]
KINDS: Final[tuple[Kind, ...]] = cast("tuple[Kind, ...]", get_args(Kind))

#: Values of :attr:`Term.sensitive`; see ``data/data_categories.yaml`` for the law behind each.
SENSITIVITIES: Final = frozenset(
    {"special_category", "national_id", "payment_card", "precise_location", "children", "criminal"}
)
#: Values of :attr:`Term.channel` (marketing channels a preference or opt-out applies to).
CHANNELS: Final = frozenset({"email", "sms", "push", "in_app", "ads"})

_KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\Z")
_DPV = re.compile(r"(?:dpv|pd|eu-gdpr):[A-Za-z][A-Za-z0-9-]*\Z")
_COUNTRY = re.compile(r"[A-Z]{2}\Z")
_SUBDIVISION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}\Z")

_FILES: Final[dict[Kind, str]] = {
    "data_category": "data_categories.yaml",
    "data_use": "data_uses.yaml",
    "data_subject": "data_subjects.yaml",
    "legal_basis": "legal_bases.yaml",
    "transfer_mechanism": "transfer_mechanisms.yaml",
}
_LABELS: Final[dict[Kind, str]] = {
    "data_category": "data category",
    "data_use": "data use",
    "data_subject": "data subject",
    "legal_basis": "legal basis",
    "transfer_mechanism": "transfer mechanism",
}


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Term:
    """One key of the taxonomy: a data category, data use, data subject or legal basis."""

    kind: Kind
    key: str
    name: str
    description: str
    dpv: str
    sensitive: str | None = None
    marketing: bool = False
    channel: str | None = None
    sale: bool = False
    targeted_advertising: bool = False
    custom: bool = False
    #: Why ``dpv`` is a broader concept than the key, when it is.
    dpv_note: str | None = None
    #: The legal provision the term stands for, such as ``GDPR Art. 6(1)(a)``.
    article: str | None = None

    @property
    def parent(self) -> str | None:
        """The key one level up (``user.contact`` for ``user.contact.email``); None at the top."""
        head, dot, _ = self.key.rpartition(".")
        return head if dot else None


@dataclass(frozen=True, slots=True)
class TransferMechanism(Term):
    """A ground for transferring personal data abroad (GDPR Chapter V), valid for a time."""

    #: First day the mechanism can be relied on.
    valid_from: date | None = None
    #: First day it can no longer be relied on (the day of the judgment or repeal).
    valid_until: date | None = None
    invalidated_by: str | None = None
    #: The only destination country (ISO alpha-2) the mechanism covers, if limited to one.
    requires_destination: str | None = None

    def valid_on(self, day: date) -> bool:
        """Whether a transfer on ``day`` may rely on this mechanism."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day < self.valid_until


@dataclass(frozen=True, slots=True)
class Country:
    """A country or territory by ISO 3166-1 alpha-2 code, with its data-protection facts."""

    code: str
    name: str
    eu: bool = False
    eea: bool = False
    #: Covered by an EU adequacy decision (GDPR Art. 45). False for the United States,
    #: where only organisations certified under the Data Privacy Framework are covered.
    adequacy: bool = False
    #: GDPR Art. 8(1) as set nationally; None where neither the GDPR nor the UK GDPR applies.
    age_of_digital_consent: int | None = None
    #: The scope of a partial adequacy decision.
    adequacy_note: str | None = None


PeriodUnit = Literal["calendar_days", "business_days", "months"]


@dataclass(frozen=True, slots=True)
class Period:
    """A legal time limit: a number of calendar days, business days or months."""

    amount: int
    unit: PeriodUnit

    def after(self, start: date) -> date:
        """The last day of the period that starts on ``start`` (the day of receipt).

        Months end on the same date of the later month, or on its last day when it
        is shorter (Regulation (EEC, Euratom) No 1182/71, Art. 3(2)(c)). Business
        days skip Saturdays and Sundays; public holidays are not known here, so the
        result is never later than the true deadline.
        """
        if self.unit == "calendar_days":
            return start + timedelta(days=self.amount)
        if self.unit == "months":
            month0 = start.month - 1 + self.amount
            year, month = start.year + month0 // 12, month0 % 12 + 1
            return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
        day, left = start, self.amount
        while left:
            day += timedelta(days=1)
            if day.weekday() < 5:
                left -= 1
        return day

    def __str__(self) -> str:
        words = {
            "calendar_days": "calendar day",
            "business_days": "business day",
            "months": "month",
        }
        word = words[self.unit]
        return f"{self.amount} {word}{'' if self.amount == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """A data-protection law and where it applies, with the facts the engine enforces."""

    key: str
    name: str
    law: str
    #: ISO 3166-1 alpha-2 codes of the countries the law covers (in full or in part).
    countries: frozenset[str]
    #: ISO 3166-2 codes when the law covers only part of a country (``US-CA``).
    subdivisions: frozenset[str]
    in_force: date
    #: Time to answer a data subject request, counted from receipt.
    response: Period
    #: One further extension allowed where the request is complex or numerous.
    extension: Period | None
    #: Time to acknowledge receipt of a request.
    acknowledge: Period | None
    #: Time to act on an opt-out of sale, sharing or targeted advertising.
    opt_out: Period | None
    #: Global Privacy Control (``Sec-GPC: 1``) must be honoured as an opt-out.
    gpc_binding: bool
    #: Age below which a parent must consent for information society services.
    default_age_of_digital_consent: int | None
    #: Age below which selling or sharing needs opt-in consent (CCPA 1798.120(c)).
    minor_opt_in_age: int | None
    authority: str
    authority_url: str
    #: Where the deadlines come from.
    source: str

    def due(self, received: date, extended: bool = False) -> date:
        """The last day to answer a request received on ``received``."""
        if not extended or self.extension is None:
            return self.response.after(received)
        if self.extension.unit == self.response.unit:
            total = Period(self.response.amount + self.extension.amount, self.response.unit)
            return total.after(received)
        return self.extension.after(self.response.after(received))


# ---------------------------------------------------------------- the taxonomy


class Taxonomy:
    """The built-in terms and facts, plus any keys a policy file added.

    Immutable: :meth:`extended` returns a new taxonomy. Mappings keep file order,
    parents before children.
    """

    __slots__ = ("_countries", "_jurisdictions", "_terms", "_transfer")

    def __init__(
        self,
        terms: Mapping[Kind, Mapping[str, Term]],
        countries: Mapping[str, Country],
        jurisdictions: Mapping[str, Jurisdiction],
    ) -> None:
        """Build from terms per kind; prefer :func:`builtin` and :meth:`extended`."""
        self._terms: dict[Kind, Mapping[str, Term]] = {
            kind: MappingProxyType(dict(terms.get(kind, {}))) for kind in KINDS
        }
        self._transfer: Mapping[str, TransferMechanism] = MappingProxyType(
            {
                k: t
                for k, t in self._terms["transfer_mechanism"].items()
                if isinstance(t, TransferMechanism)
            }
        )
        self._countries: Mapping[str, Country] = MappingProxyType(dict(countries))
        self._jurisdictions: Mapping[str, Jurisdiction] = MappingProxyType(dict(jurisdictions))

    @property
    def transfer_mechanisms(self) -> Mapping[str, TransferMechanism]:
        """Transfer mechanisms by key."""
        return self._transfer

    @property
    def countries(self) -> Mapping[str, Country]:
        """Every ISO 3166-1 country by upper-case alpha-2 code."""
        return self._countries

    @property
    def jurisdictions(self) -> Mapping[str, Jurisdiction]:
        """Jurisdictions by key (``eu-gdpr``, ``us-ca-ccpa``...)."""
        return self._jurisdictions

    def terms(self, kind: Kind) -> Mapping[str, Term]:
        """Every term of one kind, by key."""
        return self._terms[kind]

    def get(self, kind: Kind, key: str) -> Term | None:
        """The term with this key, or None."""
        return self._terms[kind].get(key)

    def has(self, kind: Kind, key: str) -> bool:
        """Whether the key exists for this kind."""
        return key in self._terms[kind]

    def sensitivity(self, key: str) -> str | None:
        """The sensitivity of a data category: its own marking or its nearest ancestor's.

        A parent is not sensitive because one of its children is: ``user.location``
        is not, ``user.location.precise`` is.
        """
        categories = self._terms["data_category"]
        for candidate in _self_and_ancestors(key):
            term = categories.get(candidate)
            if term is not None and term.sensitive:
                return term.sensitive
        return None

    @staticmethod
    def covers(general: str, specific: str) -> bool:
        """Whether ``specific`` is ``general`` or below it (``user`` covers ``user.name``)."""
        return specific == general or specific.startswith(general + ".")

    def ancestors(self, key: str) -> tuple[str, ...]:
        """The keys above ``key``, nearest first (whether or not they exist)."""
        return tuple(_self_and_ancestors(key))[1:]

    def descendants(self, kind: Kind, key: str) -> tuple[Term, ...]:
        """Every term strictly below ``key``, in file order."""
        prefix = key + "."
        return tuple(t for k, t in self._terms[kind].items() if k.startswith(prefix))

    def suggest(self, kind: Kind, key: str) -> str | None:
        """The existing key closest to ``key``, for a "did you mean" hint; None if none is close.

        A key with the same last word wins (``user.email`` -> ``user.contact.email``),
        then one sharing a word with it, then the closest spelling.
        """
        keys = list(self._terms[kind])
        if not key or not keys:
            return None
        if key in self._terms[kind]:
            return key
        leaf = key.rpartition(".")[2]
        same_leaf = [k for k in keys if k.rpartition(".")[2] == leaf]
        if same_leaf:
            return max(same_leaf, key=lambda k: difflib.SequenceMatcher(None, key, k).ratio())
        # Next, keys whose last word shares a word with it (``user.phone`` ->
        # ``user.contact.phone_number``), most shared words first.
        words = set(leaf.split("_")) - {""}
        scored = [(len(words & set(k.rpartition(".")[2].split("_"))), k) for k in keys]
        best = max(n for n, _ in scored)
        if best:
            return max(
                (k for n, k in scored if n == best),
                key=lambda k: difflib.SequenceMatcher(None, key, k).ratio(),
            )
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
        if close:
            return close[0]
        leaves: dict[str, str] = {}
        for k in keys:  # file order puts the shallowest key with a given last word first
            leaves.setdefault(k.rpartition(".")[2], k)
        close = difflib.get_close_matches(leaf, list(leaves), n=1, cutoff=0.75)
        return leaves[close[0]] if close else None

    def extended(self, additions: Iterable[Term]) -> Taxonomy:
        """A new taxonomy with keys a policy file adds, each marked ``custom``.

        Each key must be new and sit under a key that exists, either already or
        earlier in ``additions`` (parents are taken before children). A data use
        inherits its parent's marketing, channel, sale and targeted-advertising
        flags; a missing DPV concept is the parent's.

        Raises:
            TaxonomyError: on a malformed key, an existing key or a missing parent.
        """
        terms = {kind: dict(self._terms[kind]) for kind in KINDS}
        for term in sorted(additions, key=lambda t: t.key.count(".")):
            label = _LABELS[term.kind]
            found = terms[term.kind]
            if not _KEY.match(term.key):
                raise TaxonomyError(
                    f"{term.key!r} is not a valid key: lower-case words "
                    "(letters, digits, _) joined by dots"
                )
            if term.key in found:
                origin = "added twice" if found[term.key].custom else "built in"
                raise TaxonomyError(f"{label} {term.key!r} already exists ({origin})")
            parent_key = term.parent
            if parent_key is None:
                raise TaxonomyError(
                    f"new {label} {term.key!r} must sit under an existing {label}, "
                    f"such as {next(iter(found), '?')}.{term.key}"
                )
            parent = found.get(parent_key)
            if parent is None:
                raise TaxonomyError(
                    f"{label} {term.key!r} is under {parent_key!r}, which is not a {label}"
                )
            added = replace(
                term,
                custom=True,
                dpv=term.dpv or parent.dpv,
                marketing=term.marketing or parent.marketing,
                channel=term.channel or parent.channel,
                sale=term.sale or parent.sale,
                targeted_advertising=term.targeted_advertising or parent.targeted_advertising,
            )
            if term.kind == "transfer_mechanism" and not isinstance(added, TransferMechanism):
                added = TransferMechanism(**{f.name: getattr(added, f.name) for f in fields(Term)})
            found[term.key] = added
        return Taxonomy(terms, self._countries, self._jurisdictions)

    def age_of_digital_consent(self, country: str) -> int:
        """The age of digital consent in ``country`` (GDPR Art. 8), or the default 16."""
        found = self._countries.get(country.upper())
        if found is None or found.age_of_digital_consent is None:
            return 16
        return found.age_of_digital_consent

    def validate(self) -> list[str]:
        """Every inconsistency in the data, as messages; empty when all is well."""
        return list(_problems(self))


def _self_and_ancestors(key: str) -> Iterator[str]:
    while key:
        yield key
        key = key.rpartition(".")[0]


# ---------------------------------------------------------------- loading


@functools.cache
def builtin() -> Taxonomy:
    """The built-in taxonomy, read from the package data once."""
    terms: dict[Kind, dict[str, Term]] = {}
    for kind, name in _FILES.items():
        found: dict[str, Term] = {}
        for i, entry in enumerate(_read(name)):
            term = _term(kind, entry, f"{name}[{i}]")
            if term.key in found:
                raise TaxonomyError(f"{name}: duplicate key {term.key!r}")
            found[term.key] = term
        terms[kind] = found
    countries: dict[str, Country] = {}
    for i, entry in enumerate(_read("countries.yaml")):
        country = _country(entry, f"countries.yaml[{i}]")
        if country.code in countries:
            raise TaxonomyError(f"countries.yaml: duplicate code {country.code!r}")
        countries[country.code] = country
    jurisdictions: dict[str, Jurisdiction] = {}
    for i, entry in enumerate(_read("jurisdictions.yaml")):
        jurisdiction = _jurisdiction(entry, f"jurisdictions.yaml[{i}]", countries)
        if jurisdiction.key in jurisdictions:
            raise TaxonomyError(f"jurisdictions.yaml: duplicate key {jurisdiction.key!r}")
        jurisdictions[jurisdiction.key] = jurisdiction
    return Taxonomy(terms, countries, jurisdictions)


_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(name: str) -> list[dict[str, Any]]:
    text = resources.files("tutela").joinpath("policy", "data", name).read_text("utf-8")
    data = yaml.load(text, Loader=_Loader)
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise TaxonomyError(f"{name}: expected a list of mappings")
    return cast("list[dict[str, Any]]", data)


T = TypeVar("T")


def _field(entry: Mapping[str, Any], name: str, where: str, typ: type[T], default: T) -> T:
    value = entry.get(name, default)
    if not isinstance(value, typ):
        raise TaxonomyError(f"{where}: {name} must be {typ.__name__}, not {value!r}")
    return value


def _text(entry: Mapping[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(f"{where}: {name} is required text, not {value!r}")
    return value.strip()


def _optional(entry: Mapping[str, Any], name: str, where: str) -> str | None:
    value = entry.get(name)
    if value is not None and not isinstance(value, str):
        raise TaxonomyError(f"{where}: {name} must be text, not {value!r}")
    return value


def _day(entry: Mapping[str, Any], name: str, where: str) -> date | None:
    value = entry.get(name)
    if value is not None and not isinstance(value, date):
        raise TaxonomyError(f"{where}: {name} must be a date (YYYY-MM-DD), not {value!r}")
    return value


def _no_extra(entry: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    extra = sorted(set(entry) - set(allowed))
    if extra:
        raise TaxonomyError(f"{where}: unknown field(s) {', '.join(map(str, extra))}")


_TERM_FIELDS = frozenset(f.name for f in fields(Term)) - {"kind", "custom"}
_TM_FIELDS = _TERM_FIELDS | {"valid_from", "valid_until", "invalidated_by", "requires_destination"}


def _term(kind: Kind, entry: Mapping[str, Any], where: str) -> Term:
    allowed = _TM_FIELDS if kind == "transfer_mechanism" else _TERM_FIELDS
    _no_extra(entry, allowed, where)
    common: dict[str, Any] = {
        "kind": kind,
        "key": _text(entry, "key", where),
        "name": _text(entry, "name", where),
        "description": _text(entry, "description", where),
        "dpv": _text(entry, "dpv", where),
        "sensitive": _optional(entry, "sensitive", where),
        "marketing": _field(entry, "marketing", where, bool, False),
        "channel": _optional(entry, "channel", where),
        "sale": _field(entry, "sale", where, bool, False),
        "targeted_advertising": _field(entry, "targeted_advertising", where, bool, False),
        "dpv_note": _optional(entry, "dpv_note", where),
        "article": _optional(entry, "article", where),
    }
    if kind != "transfer_mechanism":
        return Term(**common)
    return TransferMechanism(
        **common,
        valid_from=_day(entry, "valid_from", where),
        valid_until=_day(entry, "valid_until", where),
        invalidated_by=_optional(entry, "invalidated_by", where),
        requires_destination=_optional(entry, "requires_destination", where),
    )


def _country(entry: Mapping[str, Any], where: str) -> Country:
    _no_extra(entry, (f.name for f in fields(Country)), where)
    age = entry.get("age_of_digital_consent")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        raise TaxonomyError(f"{where}: age_of_digital_consent must be a whole number")
    return Country(
        code=_text(entry, "code", where),
        name=_text(entry, "name", where),
        eu=_field(entry, "eu", where, bool, False),
        eea=_field(entry, "eea", where, bool, False),
        adequacy=_field(entry, "adequacy", where, bool, False),
        age_of_digital_consent=age,
        adequacy_note=_optional(entry, "adequacy_note", where),
    )


_UNITS: Final[frozenset[str]] = frozenset(get_args(PeriodUnit))


def _period(entry: Mapping[str, Any], name: str, where: str) -> Period | None:
    value = entry.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"amount", "unit"}:
        raise TaxonomyError(f"{where}: {name} must be {{amount: N, unit: U}}, not {value!r}")
    amount, unit = value["amount"], value["unit"]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise TaxonomyError(f"{where}: {name}.amount must be a positive whole number")
    if unit not in _UNITS:
        raise TaxonomyError(f"{where}: {name}.unit must be one of {', '.join(sorted(_UNITS))}")
    return Period(amount, cast("PeriodUnit", unit))


def _jurisdiction(
    entry: Mapping[str, Any], where: str, countries: Mapping[str, Country]
) -> Jurisdiction:
    _no_extra(entry, [*(f.name for f in fields(Jurisdiction)), "region"], where)
    # `region` names a group of countries by a flag of the countries file (eu, eea).
    region = _optional(entry, "region", where)
    codes = set(_field(entry, "countries", where, list, []))
    if region is not None:
        if region not in ("eu", "eea"):
            raise TaxonomyError(f"{where}: region must be eu or eea, not {region!r}")
        codes |= {c.code for c in countries.values() if getattr(c, region)}
    in_force = _day(entry, "in_force", where)
    response = _period(entry, "response", where)
    if in_force is None or response is None:
        raise TaxonomyError(f"{where}: in_force and response are required")
    age = entry.get("default_age_of_digital_consent")
    minor = entry.get("minor_opt_in_age")
    for name, value in (("default_age_of_digital_consent", age), ("minor_opt_in_age", minor)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TaxonomyError(f"{where}: {name} must be a whole number")
    return Jurisdiction(
        key=_text(entry, "key", where),
        name=_text(entry, "name", where),
        law=_text(entry, "law", where),
        countries=frozenset(str(c) for c in codes),
        subdivisions=frozenset(str(s) for s in _field(entry, "subdivisions", where, list, [])),
        in_force=in_force,
        response=response,
        extension=_period(entry, "extension", where),
        acknowledge=_period(entry, "acknowledge", where),
        opt_out=_period(entry, "opt_out", where),
        gpc_binding=_field(entry, "gpc_binding", where, bool, False),
        default_age_of_digital_consent=age,
        minor_opt_in_age=minor,
        authority=_text(entry, "authority", where),
        authority_url=_text(entry, "authority_url", where),
        source=_text(entry, "source", where),
    )


# ---------------------------------------------------------------- consistency


def _problems(tax: Taxonomy) -> Iterator[str]:
    """Checks too slow or too picky for every load; the test suite runs them."""
    for kind in KINDS:
        label = _LABELS[kind]
        for key, term in tax.terms(kind).items():
            at = f"{label} {key!r}"
            if not _KEY.match(key):
                yield f"{at}: malformed key"
            if term.parent is not None and not tax.has(kind, term.parent):
                yield f"{at}: parent {term.parent!r} does not exist"
            if not _DPV.match(term.dpv):
                yield f"{at}: dpv {term.dpv!r} is not a dpv:, pd: or eu-gdpr: concept"
            if term.sensitive is not None and term.sensitive not in SENSITIVITIES:
                yield f"{at}: unknown sensitivity {term.sensitive!r}"
            if term.sensitive is not None and kind not in ("data_category", "data_subject"):
                yield f"{at}: only data categories and subjects are sensitive"
            parent = tax.get(kind, term.parent) if term.parent else None
            if parent is not None and parent.sensitive and term.sensitive:
                yield f"{at}: sensitivity is already inherited from {parent.key!r}"
            flags = term.marketing or term.sale or term.targeted_advertising or term.channel
            if flags and kind != "data_use":
                yield f"{at}: marketing, channel, sale and targeting flags are for data uses"
            if term.channel is not None and term.channel not in CHANNELS:
                yield f"{at}: unknown channel {term.channel!r}"
            if term.channel is not None and not term.marketing:
                yield f"{at}: a channel is only meaningful for marketing"
            if parent is not None:
                lost = [
                    flag
                    for flag in ("marketing", "sale", "targeted_advertising")
                    if getattr(parent, flag) and not getattr(term, flag)
                ]
                if parent.channel and term.channel != parent.channel:
                    lost.append("channel")
                if lost:
                    yield f"{at}: drops {', '.join(lost)} of its parent {parent.key!r}"
    for code, country in tax.countries.items():
        at = f"country {code!r}"
        if not _COUNTRY.match(code):
            yield f"{at}: not an upper-case ISO 3166-1 alpha-2 code"
        if country.eu and not country.eea:
            yield f"{at}: every EU member is in the EEA"
        age = country.age_of_digital_consent
        if age is not None and not 13 <= age <= 16:
            yield f"{at}: GDPR Art. 8(1) allows ages 13 to 16, not {age}"
        if country.eea and age is None:
            yield f"{at}: an EEA country needs its age of digital consent"
        if country.eea and country.adequacy:
            yield f"{at}: EEA countries need no adequacy decision"
    for key, mechanism in tax.transfer_mechanisms.items():
        at = f"transfer mechanism {key!r}"
        if mechanism.requires_destination and mechanism.requires_destination not in tax.countries:
            yield f"{at}: unknown destination {mechanism.requires_destination!r}"
        if (
            mechanism.valid_from is not None
            and mechanism.valid_until is not None
            and mechanism.valid_until <= mechanism.valid_from
        ):
            yield f"{at}: valid_until is not after valid_from"
        if mechanism.invalidated_by and mechanism.valid_until is None:
            yield f"{at}: invalidated_by without valid_until"
    for key, jurisdiction in tax.jurisdictions.items():
        at = f"jurisdiction {key!r}"
        if not jurisdiction.countries:
            yield f"{at}: covers no country"
        for code in sorted(jurisdiction.countries - set(tax.countries)):
            yield f"{at}: unknown country {code!r}"
        for sub in sorted(jurisdiction.subdivisions):
            if not _SUBDIVISION.match(sub) or sub[:2] not in jurisdiction.countries:
                yield f"{at}: subdivision {sub!r} is not ISO 3166-2 in its countries"
