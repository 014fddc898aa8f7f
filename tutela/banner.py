"""The cookie banner's rules: what it asks, what Global Privacy Control turns off, when
it asks again, and how an anonymous visitor's choices reach the person at sign-in.

The pure part derives everything from the policy:

- **categories**: the purposes the banner asks about. A purpose is one when its
  consent is given through ``cookie_banner``, or when it rests on consent, its
  data use lies under ``analytics``, ``marketing``, ``functional`` or
  ``personalize``, it is not sent on a message channel (email, SMS...), and the
  policy does not name other ways its consent is given;
- **always on**: strictly necessary purposes (``essential: true``), shown but
  never switchable;
- **objectable**: purposes of the same kinds of data use resting on legitimate
  interest: they run unless the visitor objects (Art. 21), and the banner is
  where the right to object is brought to the visitor's attention (Art. 21(4));
- **GPC**: where ``promises.global_privacy_control`` is ``honoured``, the purposes
  that are a sale, sharing or targeted advertising are refused (or objected to) when
  the browser sends the signal, without asking;
- **asking again**: choices given under a version before a material change to a
  category (or a material version that names no purposes) are asked for again;
- **the cookie**: session-only when ``promises.cookies`` is ``session_only``, none
  at all when it is ``none``, otherwise at most 13 months (CNIL guidance).

The shell part records a visitor's choices in the ledger under a subject whose
only identity is ``custom:visitor`` and merges that subject into the person when
the product links the visitor at sign-in.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tutela.errors import InputError, LedgerError, SubjectNotFound
from tutela.ledger.store import ConsentEntry
from tutela.policy.model import CookiePromise, Policy, Purpose, SignalStance
from tutela.policy.taxonomy import Taxonomy, builtin

if TYPE_CHECKING:
    from tutela.engine import SubjectRef, Tutela

__all__ = [
    "BANNER_DATA_USES",
    "COOKIE_MAX_AGE",
    "COOKIE_NAME",
    "TEXTS",
    "VISITOR_KIND",
    "BannerConfig",
    "Category",
    "Linked",
    "Recorded",
    "banner_config",
    "check_choices",
    "check_objections",
    "choose_language",
    "cookie_max_age",
    "gpc_document",
    "gpc_purposes",
    "is_banner_purpose",
    "is_objectable",
    "is_visitor_id",
    "link_visitor",
    "needs_new_question",
    "new_visitor_id",
    "record_visitor_choices",
]

BANNER_DATA_USES = ("analytics", "marketing", "functional", "personalize")
"""Top-level data uses whose consent purposes the banner asks about."""

VISITOR_KIND = "custom:visitor"
"""The identity kind an anonymous visitor's subject is known by."""

COOKIE_NAME = "tutela_consent"

COOKIE_MAX_AGE = 390 * 24 * 3600
"""Seconds a persistent consent cookie lives: under 13 months (CNIL: at most 13 months)."""

_VISITOR_ID = re.compile(r"^v_[0-9a-f]{32}$")
_MESSAGE_CHANNELS = frozenset({"email", "sms", "push", "in_app", "post", "phone"})

TEXTS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": {
            "title": "Your privacy choices",
            "intro": "We use cookies and similar technology for the purposes below. "
            "Choose which ones you allow; you can change your mind at any time.",
            "accept_all": "Accept all",
            "reject_all": "Reject all",
            "save": "Save choices",
            "always_on": "Always on",
            "gpc": "Off: your browser sends Global Privacy Control",
            "changed": "Our privacy policy changed. Please choose again.",
            "object": "These run on our legitimate interest; untick one to object to it.",
        },
        "nl": {
            "title": "Uw privacykeuzes",
            "intro": "We gebruiken cookies en vergelijkbare technieken voor de doelen hieronder. "
            "Kies wat u toestaat; u kunt dit altijd wijzigen.",
            "accept_all": "Alles accepteren",
            "reject_all": "Alles weigeren",
            "save": "Keuzes opslaan",
            "always_on": "Altijd aan",
            "gpc": "Uit: uw browser verstuurt Global Privacy Control",
            "changed": "Ons privacybeleid is gewijzigd. Kies opnieuw.",
            "object": "Deze gebeuren op grond van ons gerechtvaardigd belang; vink "
            "er een uit om bezwaar te maken.",
        },
        "sv": {
            "title": "Dina integritetsval",
            "intro": "Vi använder kakor och liknande teknik för ändamålen nedan. "
            "Välj vad du tillåter; du kan ändra dig när som helst.",
            "accept_all": "Godkänn alla",
            "reject_all": "Neka alla",
            "save": "Spara val",
            "always_on": "Alltid på",
            "gpc": "Av: din webbläsare skickar Global Privacy Control",
            "changed": "Vår integritetspolicy har ändrats. Välj igen.",
            "object": "Dessa sker med stöd av vårt berättigade intresse; avmarkera "
            "en för att invända mot den.",
        },
        "fr": {
            "title": "Vos choix de confidentialité",
            "intro": "Nous utilisons des cookies et des technologies similaires pour les "
            "finalités ci-dessous. Choisissez ce que vous acceptez ; vous pouvez changer "
            "d'avis à tout moment.",
            "accept_all": "Tout accepter",
            "reject_all": "Tout refuser",
            "save": "Enregistrer mes choix",
            "always_on": "Toujours actif",
            "gpc": "Désactivé : votre navigateur envoie Global Privacy Control",
            "changed": "Notre politique de confidentialité a changé. Merci de choisir à nouveau.",
            "object": "Ces traitements reposent sur notre intérêt légitime ; "
            "décochez-en un pour vous y opposer.",
        },
        "cs": {
            "title": "Vaše volby soukromí",
            "intro": "Soubory cookie a podobné technologie používáme k níže uvedeným účelům. "
            "Vyberte, co povolíte; rozhodnutí můžete kdykoli změnit.",
            "accept_all": "Přijmout vše",
            "reject_all": "Odmítnout vše",
            "save": "Uložit volby",
            "always_on": "Vždy zapnuto",
            "gpc": "Vypnuto: váš prohlížeč posílá Global Privacy Control",
            "changed": "Naše zásady ochrany soukromí se změnily. Vyberte prosím znovu.",
            "object": "Tyto účely zakládáme na oprávněném zájmu; zrušením "
            "zaškrtnutí proti nim vznesete námitku.",
        },
        "de": {
            "title": "Ihre Datenschutzeinstellungen",
            "intro": "Wir verwenden Cookies und ähnliche Technologien für die folgenden Zwecke. "
            "Wählen Sie, was Sie erlauben; Sie können Ihre Wahl jederzeit ändern.",
            "accept_all": "Alle akzeptieren",
            "reject_all": "Alle ablehnen",
            "save": "Auswahl speichern",
            "always_on": "Immer aktiv",
            "gpc": "Aus: Ihr Browser sendet Global Privacy Control",
            "changed": "Unsere Datenschutzerklärung hat sich geändert. Bitte wählen Sie erneut.",
            "object": "Diese beruhen auf unserem berechtigten Interesse; entfernen "
            "Sie ein Häkchen, um zu widersprechen.",
        },
    }
)
"""The banner's own words, by language. Purpose names come from the policy as written."""


# ---------------------------------------------------------------- pure rules


@dataclass(frozen=True, slots=True)
class Category:
    """One purpose as the banner shows it."""

    purpose: str
    label: str
    description: str
    always_on: bool = False
    gpc: bool = False
    """Global Privacy Control turns it off (the policy honours GPC and it is a sale,
    sharing or targeted advertising)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "purpose": self.purpose,
            "label": self.label,
            "description": self.description,
            "always_on": self.always_on,
            "gpc": self.gpc,
        }


@dataclass(frozen=True, slots=True)
class BannerConfig:
    """Everything the script needs to show the banner and apply the choices."""

    version: str | None
    language: str
    texts: Mapping[str, str]
    categories: tuple[Category, ...]
    always_on: tuple[Category, ...]
    gpc_honoured: bool
    gpc_signal: bool
    gpc_purposes: tuple[str, ...]
    ask_again: bool
    objectable: tuple[Category, ...] = ()
    """Purposes on legitimate interest the visitor may object to."""
    cookie_name: str = COOKIE_NAME
    cookie_max_age: int | None = COOKIE_MAX_AGE
    """Seconds; ``None`` for a session cookie, ``0`` for no cookie at all."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON the script reads from ``GET /v1/banner/config``."""
        return {
            "version": self.version,
            "language": self.language,
            "texts": dict(self.texts),
            "categories": [c.to_dict() for c in self.categories],
            "always_on": [c.to_dict() for c in self.always_on],
            "objectable": [c.to_dict() for c in self.objectable],
            "gpc": {
                "honoured": self.gpc_honoured,
                "signal": self.gpc_signal,
                "purposes": list(self.gpc_purposes),
            },
            "ask_again": self.ask_again,
            "cookie": {"name": self.cookie_name, "max_age": self.cookie_max_age},
        }


def is_banner_purpose(purpose: Purpose) -> bool:
    """Whether the banner asks for consent to this purpose (see the module's rules)."""
    if purpose.essential:
        return False
    if purpose.consent is not None and "cookie_banner" in purpose.consent.given_through:
        return True
    if purpose.legal_basis not in ("consent", "explicit_consent"):
        return False
    if purpose.consent is not None:  # the policy says how its consent is given: not here
        return False
    if purpose.channel in _MESSAGE_CHANNELS:
        return False
    top = (purpose.data_use or "").split(".", 1)[0]
    return top in BANNER_DATA_USES


def is_objectable(purpose: Purpose) -> bool:
    """Whether the banner offers an objection to this purpose: a use of the banner's
    kinds on legitimate interest, not strictly necessary, not sent as messages."""
    if purpose.essential or purpose.legal_basis != "legitimate_interest":
        return False
    if purpose.channel in _MESSAGE_CHANNELS:
        return False
    top = (purpose.data_use or "").split(".", 1)[0]
    return top in BANNER_DATA_USES


def gpc_purposes(policy: Policy, taxonomy: Taxonomy | None = None) -> tuple[str, ...]:
    """Purposes Global Privacy Control turns off; none where the policy ignores GPC."""
    if policy.promises.global_privacy_control is not SignalStance.honoured:
        return ()
    tax = taxonomy or builtin()
    return tuple(
        name
        for name, purpose in policy.purposes.items()
        if not purpose.essential and purpose.is_sale_or_sharing(tax)
    )


def _order(policy: Policy) -> dict[str, tuple[dt.date, str]]:
    return {v.id: (v.effective, v.id) for v in policy.versions}


def needs_new_question(policy: Policy, since: str | None) -> bool:
    """Whether choices given under version ``since`` must be asked for again: a
    material version after it changed a banner category or named no purposes.
    An unknown (or missing) ``since`` asks again when the policy has versions."""
    current = policy.version
    if current is None:
        return False
    order = _order(policy)
    if since is None or since not in order:
        return True
    asked = {name for name, p in policy.purposes.items() if is_banner_purpose(p)}
    newest = order[current]
    for version in policy.versions:
        key = order[version.id]
        if not (order[since] < key <= newest) or not version.material:
            continue
        if not version.changed_purposes or asked.intersection(version.changed_purposes):
            return True
    return False


def cookie_max_age(policy: Policy) -> int | None:
    """The consent cookie's lifetime in seconds: ``None`` for a session cookie, ``0``
    when the policy promises no cookies, otherwise under 13 months."""
    promise = policy.promises.cookies
    if promise is CookiePromise.none:
        return 0
    if promise is CookiePromise.session_only:
        return None
    return COOKIE_MAX_AGE


def choose_language(policy: Policy, accept_language: str | None = None) -> str:
    """The banner's language: the first of the visitor's languages the policy speaks and
    the banner has words for; else the policy's first such language; else English."""
    spoken = [lang for lang in policy.organisation.languages if lang in TEXTS]
    wanted: list[tuple[float, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        wanted.append((quality - index * 1e-6, tag.strip().lower()[:2]))
    for quality, lang in sorted(wanted, reverse=True):
        if quality > 0 and lang in spoken:
            return lang
    return spoken[0] if spoken else "en"


def _category(name: str, purpose: Purpose, gpc_off: frozenset[str]) -> Category:
    label = purpose.name or name.replace("_", " ").capitalize()
    return Category(
        purpose=name,
        label=label,
        description=purpose.description,
        always_on=purpose.essential,
        gpc=name in gpc_off,
    )


def banner_config(
    policy: Policy,
    *,
    gpc: bool = False,
    since: str | None = None,
    accept_language: str | None = None,
    taxonomy: Taxonomy | None = None,
) -> BannerConfig:
    """The banner's configuration for one visitor: ``gpc`` is the browser's signal,
    ``since`` the version the visitor's stored choices were given under."""
    off = frozenset(gpc_purposes(policy, taxonomy))
    language = choose_language(policy, accept_language)
    return BannerConfig(
        version=policy.version,
        language=language,
        texts=TEXTS[language],
        categories=tuple(
            _category(n, p, off) for n, p in policy.purposes.items() if is_banner_purpose(p)
        ),
        always_on=tuple(_category(n, p, off) for n, p in policy.purposes.items() if p.essential),
        objectable=tuple(
            _category(n, p, off) for n, p in policy.purposes.items() if is_objectable(p)
        ),
        gpc_honoured=policy.promises.global_privacy_control is SignalStance.honoured,
        gpc_signal=gpc,
        gpc_purposes=tuple(sorted(off)),
        ask_again=needs_new_question(policy, since) if since is not None else False,
        cookie_max_age=cookie_max_age(policy),
    )


def check_choices(
    policy: Policy,
    choices: Mapping[str, bool],
    *,
    gpc: bool = False,
    taxonomy: Taxonomy | None = None,
) -> dict[str, bool]:
    """The choices to record, or :class:`InputError` naming what the banner does not ask.

    Only banner categories may be chosen. With the GPC signal, where the policy
    honours it, what GPC turns off is recorded as refused whatever was sent.
    """
    if not choices:
        raise InputError("choose at least one purpose")
    _only(policy, choices, is_banner_purpose, "the banner does not ask about")
    off = set(gpc_purposes(policy, taxonomy)) if gpc else set()
    return {name: bool(granted) and name not in off for name, granted in choices.items()}


def _only(
    policy: Policy, names: Mapping[str, bool], offered: Callable[[Purpose], bool], refusal: str
) -> None:
    # InputError naming (a few of) the purposes that ``offered`` does not accept.
    unknown = sorted(
        n for n in names if n not in policy.purposes or not offered(policy.purposes[n])
    )
    if unknown:
        raise InputError(f"{refusal} {', '.join(repr(n[:64]) for n in unknown[:5])}")


def check_objections(
    policy: Policy,
    objections: Mapping[str, bool],
    *,
    gpc: bool = False,
    taxonomy: Taxonomy | None = None,
) -> dict[str, bool]:
    """The objections to record (purpose to objected), or :class:`InputError` naming a
    purpose the banner offers no objection to. With the GPC signal, where the policy
    honours it, what GPC turns off is recorded as objected to whatever was sent."""
    _only(policy, objections, is_objectable, "the banner offers no objection to")
    off = set(gpc_purposes(policy, taxonomy)) if gpc else set()
    return {name: bool(objected) or name in off for name, objected in objections.items()}


def new_visitor_id() -> str:
    """A random, opaque visitor id (128 bits)."""
    return f"v_{secrets.token_hex(16)}"


def is_visitor_id(value: object) -> bool:
    """Whether ``value`` has the shape of a visitor id."""
    return isinstance(value, str) and bool(_VISITOR_ID.match(value))


def gpc_document(policy: Policy) -> dict[str, Any]:
    """``/.well-known/gpc.json``: ``gpc`` is true when the policy honours GPC;
    ``lastUpdate`` is the effective date of the policy version in force."""
    document: dict[str, Any] = {
        "gpc": policy.promises.global_privacy_control is SignalStance.honoured
    }
    current = policy.version
    for version in policy.versions:
        if version.id == current:
            document["lastUpdate"] = version.effective.isoformat()
    return document


# ---------------------------------------------------------------- the ledger


@dataclass(frozen=True, slots=True)
class Recorded:
    """Choices recorded for a visitor: under which visitor id and version, as what."""

    visitor_id: str
    policy_version: str | None
    choices: Mapping[str, bool]
    objections: Mapping[str, bool] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Linked:
    """What linking a visitor did: ``merged`` its choices into the person, or only
    attached the visitor id (the visitor had chosen nothing yet)."""

    subject: str
    merged: bool


def _is_anonymous(identities: list[tuple[str, str]]) -> bool:
    return all(kind == VISITOR_KIND for kind, _ in identities)


def record_visitor_choices(
    tutela: Tutela,
    visitor_id: str | None,
    choices: Mapping[str, bool],
    *,
    gpc: bool = False,
    objections: Mapping[str, bool] | None = None,
) -> Recorded:
    """Record a visitor's banner choices and objections in one transaction, under the
    policy's current version. A missing or unknown visitor id gets a fresh one (a
    visitor cannot name its own id); a visitor linked to a person records for that
    person. Nothing is written unless every choice and objection is one the banner
    offers."""
    policy, taxonomy = tutela.policy, tutela.taxonomy
    objected = check_objections(policy, objections or {}, gpc=gpc, taxonomy=taxonomy)
    if choices or not objected:
        checked = check_choices(policy, choices, gpc=gpc, taxonomy=taxonomy)
    else:
        checked = {}
    known = (
        tutela.ledger.lookup(VISITOR_KIND, visitor_id)
        if visitor_id is not None and is_visitor_id(visitor_id)
        else None
    )
    if known is None or visitor_id is None:
        visitor_id = new_visitor_id()
    version = policy.version
    entries = [
        ConsentEntry(
            purpose=name,
            granted=granted,
            policy_version=version,
            channel="cookie_banner",
            source="web",
        )
        for name, granted in sorted(checked.items())
    ]
    try:
        tutela.ledger.record_choices((VISITOR_KIND, visitor_id), entries, objected)
    except LedgerError:
        # Only an erased or merged-away subject gets here; say nothing about it.
        raise LedgerError("the choices could not be recorded") from None
    return Recorded(visitor_id, version, MappingProxyType(checked), MappingProxyType(objected))


def link_visitor(tutela: Tutela, visitor_id: str, subject: SubjectRef | str) -> Linked:
    """The visitor signed in as ``subject``: merge the visitor's choices into the person
    (the later choice wins per purpose) and keep the visitor id on the person, so the
    banner's later choices are theirs. A visitor id already linked to someone else is
    refused: a shared browser must not join two people."""
    if not is_visitor_id(visitor_id):
        raise InputError("not a visitor id")
    person = tutela.resolve(subject)
    if person is None:
        raise SubjectNotFound("no such subject")
    visitor = tutela.ledger.lookup(VISITOR_KIND, visitor_id)
    if visitor == person:
        return Linked(person, merged=False)
    if visitor is None:
        tutela.ledger.add_identity(person, VISITOR_KIND, visitor_id)
        return Linked(person, merged=False)
    if not _is_anonymous(tutela.ledger.identities(visitor)):
        raise LedgerError("this visitor id is linked to another person; issue a new one")
    tutela.ledger.merge(person, visitor)
    return Linked(person, merged=True)
