"""The policy file as typed, immutable values.

The model only checks what a single value can tell about itself (types, enums,
formats). Whether names refer to things that exist (a purpose naming an
unknown category, a reference to a missing collection) needs the whole file
and the taxonomy, and is checked by :mod:`tutela.policy.references`.

Lists become tuples and every model is frozen, so a loaded policy can be
shared between threads and cached without defensive copies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from tutela.policy.taxonomy import Taxonomy, Term

__all__ = [
    "Action",
    "Address",
    "Backups",
    "Collection",
    "Consent",
    "Contact",
    "CookiePromise",
    "Dataset",
    "DatasetField",
    "Duration",
    "EraseStrategy",
    "ErasureRoute",
    "Identity",
    "LegalHold",
    "Organisation",
    "Policy",
    "PolicyVersion",
    "Promises",
    "Purpose",
    "Recipient",
    "RecipientRole",
    "RecipientService",
    "RetentionRule",
    "Rights",
    "SignalStance",
    "TaxonomyExtension",
    "TermExtension",
    "Transfers",
    "Trigger",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- small types

_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


def _check_duration(value: str) -> str:
    if not _ISO_DURATION.match(value):
        raise ValueError(f"{value!r} is not an ISO-8601 duration such as P30D, P7Y or PT8H")
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]
"""An ISO-8601 duration (``P90D``, ``P7Y``, ``PT12H``), kept as written."""


def duration_parts(value: str) -> dict[str, int]:
    """The numbers of an ISO-8601 duration by unit: ``y``, ``mo``, ``w``, ``d``, ``h``,
    ``mi``, ``s`` (0 where absent)."""
    m = _ISO_DURATION.match(value)
    if m is None:
        raise ValueError(f"{value!r} is not an ISO-8601 duration")
    return {k: int(v) if v else 0 for k, v in m.groupdict().items()}


def duration_days(value: str) -> float:
    """Approximate length of an ISO-8601 duration in days (a year is 365, a month 30)."""
    n = duration_parts(value)
    return (
        n["y"] * 365
        + n["mo"] * 30
        + n["w"] * 7
        + n["d"]
        + n["h"] / 24
        + n["mi"] / 1440
        + n["s"] / 86400
    )


_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _check_country(value: str) -> str:
    value = value.upper()
    if not _COUNTRY.match(value):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as SE or NL")
    return value


CountryCode = Annotated[str, AfterValidator(_check_country)]

_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


def _check_key(value: str) -> str:
    if not _KEY.match(value):
        raise ValueError(
            f"{value!r} is not a taxonomy key: lower-case words joined by dots, "
            "like user.contact.email"
        )
    return value


TaxonomyKey = Annotated[str, AfterValidator(_check_key)]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"{value!r} is not a name: letters, digits, '_' and '-', not starting with a digit"
        )
    return value


Name = Annotated[str, AfterValidator(_check_name)]

_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _check_env(value: str) -> str:
    if not _ENV.match(value):
        # The value is not repeated: it may be a URL with a password in it.
        raise ValueError(
            "not an environment variable name; write the name of a variable "
            "(like APP_DATABASE_URL) that holds the URL, never the URL or a secret itself"
        )
    return value


EnvVar = Annotated[str, AfterValidator(_check_env)]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


Email = Annotated[str, AfterValidator(_check_email)]


def _freeze_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


def _plain_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


# ---------------------------------------------------------------- organisation


class Address(_Frozen):
    """A postal address as written on the notice."""

    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: CountryCode | None = None
    text: str | None = Field(None, description="The whole address as one line, when not split.")

    def one_line(self) -> str:
        """The address on one line: its ``text``, else street, postal code and city, country."""
        if self.text:
            return self.text
        town = " ".join(p for p in (self.postal_code, self.city) if p)
        return ", ".join(p for p in (self.street, town, self.country) if p)


class Contact(_Frozen):
    """Who to write to: a person or role with email, postal address, phone or web form."""

    name: str | None = None
    email: Email | None = None
    phone: str | None = None
    url: str | None = None
    address: Address | None = None
    country: CountryCode | None = None


class Organisation(_Frozen):
    """The controller: who the policy speaks for."""

    name: str
    legal_name: str | None = None
    registration_number: str | None = None
    country: CountryCode = Field(description="Home country; decides which area transfers leave.")
    contact: Contact
    dpo: Contact | None = Field(None, description="Data protection officer (GDPR Art. 37-39).")
    representative: Contact | None = Field(None, description="EU/UK representative (Art. 27).")
    languages: tuple[Annotated[str, Field(pattern=r"^[a-z]{2}$")], ...] = Field(
        default=("en",), min_length=1, description="Languages of the notices, ISO 639-1."
    )
    group: tuple[str, ...] = Field((), description="Affiliates the data is shared within.")


# ---------------------------------------------------------------- promises


class Transfers(StrEnum):
    """Whether personal data may leave the home country's area (the EEA for EU companies)."""

    never = "never"
    allowed = "allowed"


class SignalStance(StrEnum):
    """What the company does with a browser privacy signal."""

    ignored = "ignored"
    honoured = "honoured"


class CookiePromise(StrEnum):
    """Which cookies the company says it sets."""

    none = "none"
    session_only = "session_only"
    persistent = "persistent"


class Promises(_Frozen):
    """Statements the notice makes that the engine can hold the company to."""

    minimum_age: int = Field(16, ge=0, le=99)
    sells_personal_data: bool = False
    shares_for_advertising: bool | None = Field(
        None,
        description="Gives data to advertisers or for cross-context behavioural ads; "
        "unset when the notice does not say.",
    )
    international_transfers: Transfers = Transfers.allowed
    external_data_services: bool = Field(
        True, description="Uses external data-service providers (processors) at all."
    )
    do_not_track: SignalStance = SignalStance.ignored
    global_privacy_control: SignalStance = SignalStance.honoured
    cookies: CookiePromise = CookiePromise.persistent
    session_lifetime: Duration | None = None
    relogin_interval: Duration | None = Field(
        None, description="After this long a signed-in person must sign in again."
    )
    automated_decisions: bool = Field(
        False, description="Makes decisions with legal effect by automated means only (Art. 22)."
    )
    hashes_or_scrubs_analytics: bool = Field(
        False, description="Analytics content is hashed, filtered or scrubbed of identifiers."
    )


# ---------------------------------------------------------------- taxonomy extension


class TermExtension(_Frozen):
    """A key the company adds under an existing parent of the built-in taxonomy."""

    key: TaxonomyKey
    name: str
    description: str = ""
    dpv: str | None = Field(None, description="DPV concept; inherited from the parent if absent.")
    sensitive: (
        Literal[
            "special_category",
            "national_id",
            "payment_card",
            "precise_location",
            "children",
            "criminal",
        ]
        | None
    ) = None


class TaxonomyExtension(_Frozen):
    """Company-specific keys; each must sit under a key that exists."""

    data_categories: tuple[TermExtension, ...] = ()
    data_uses: tuple[TermExtension, ...] = ()
    data_subjects: tuple[TermExtension, ...] = ()


# ---------------------------------------------------------------- purposes

LegalBasis = Literal[
    "consent",
    "explicit_consent",
    "contract",
    "legitimate_interest",
    "legal_obligation",
    "vital_interest",
    "public_task",
]
Channel = Literal["email", "sms", "push", "in_app", "ads", "post", "phone"]
ConsentMethod = Literal[
    "privacy_center",
    "cookie_banner",
    "signup_form",
    "account_settings",
    "email_link",
    "api",
    "in_app",
    "administrator",
    "support",
    "written",
    "browser_settings",
]


class Consent(_Frozen):
    """How consent for a purpose is given and withdrawn (Art. 7: as easy to withdraw as give)."""

    given_through: tuple[ConsentMethod, ...] = Field(min_length=1)
    withdrawn_through: tuple[ConsentMethod, ...] = Field(min_length=1)
    notice: str | None = Field(None, description="The consent text shown, or a path to it.")


class Purpose(_Frozen):
    """Why data is processed, on which legal basis, and which categories it may use."""

    name: str | None = None
    description: str = ""
    data_use: TaxonomyKey | None = Field(None, description="The taxonomy purpose (data use) key.")
    legal_basis: LegalBasis
    categories: tuple[TaxonomyKey, ...] = Field(min_length=1)
    data_subjects: tuple[TaxonomyKey, ...] = ()
    channel: Channel | None = Field(None, description="Marketing channel, if direct marketing.")
    marketing: bool | None = Field(
        None,
        description="Direct marketing. Unset: inferred (a channel or a marketing data use "
        "means marketing). Set false for transactional messages sent on a channel.",
    )
    sale: bool = False
    sharing: bool = Field(False, description="Shared with third parties for their own use.")
    targeted_advertising: bool = False
    research: bool = False
    security: bool = False
    sensitive_allowed: bool = Field(
        False, description="May use sensitive (Art. 9/10) categories; needs explicit consent."
    )
    essential: bool = Field(False, description="Strictly necessary: no consent can switch it off.")
    consent: Consent | None = None
    opt_out: tuple[ConsentMethod, ...] = Field(
        (), description="Ways to object; direct marketing on legitimate interest needs one."
    )
    administrator_can_disable: bool = Field(
        False, description="An organisation administrator may switch it off for members."
    )
    sources: tuple[str, ...] = Field((), description="Where the data comes from if not the person.")

    def _use(self, taxonomy: Taxonomy) -> Term | None:
        return taxonomy.get("data_use", self.data_use) if self.data_use else None

    def is_marketing(self, taxonomy: Taxonomy) -> bool:
        """Direct marketing or advertising, by the flags or by the taxonomy data use.

        An explicit ``marketing`` flag wins over what the data use implies.
        """
        if self.marketing is not None:
            return self.marketing or self.targeted_advertising
        if self.is_direct_marketing or self.targeted_advertising:
            return True
        term = self._use(taxonomy)
        return bool(term and (term.marketing or term.targeted_advertising))

    def is_advertising(self, taxonomy: Taxonomy) -> bool:
        """Targeted advertising, by flag, the ads channel or the taxonomy data use."""
        if self.targeted_advertising or self.channel == "ads":
            return True
        term = self._use(taxonomy)
        return bool(term and term.targeted_advertising)

    def is_sale_or_sharing(self, taxonomy: Taxonomy) -> bool:
        """A sale, sharing with third parties, or targeted advertising: what GPC opts out of."""
        if self.sale or self.sharing or self.is_advertising(taxonomy):
            return True
        term = self._use(taxonomy)
        return bool(term and term.sale)

    @property
    def is_direct_marketing(self) -> bool:
        """Flagged as marketing, or (unless flagged otherwise) sent on a channel."""
        if self.marketing is not None:
            return self.marketing
        return self.channel is not None


# ---------------------------------------------------------------- retention


class Trigger(StrEnum):
    """What starts the retention clock."""

    since_collected = "since_collected"
    while_account_active = "while_account_active"
    after_account_closure = "after_account_closure"
    since_last_activity = "since_last_activity"
    until_deleted_by_user = "until_deleted_by_user"
    while_administrator_requires = "while_administrator_requires"
    until_consent_withdrawn = "until_consent_withdrawn"


class Action(StrEnum):
    """What happens when retention ends."""

    delete = "delete"
    anonymize = "anonymize"


class LegalHold(_Frozen):
    """A law that obliges the company to keep data, and for how long."""

    law: str
    duration: Duration
    reference: str | None = Field(None, description="Article or section, or a link.")


class RetentionRule(_Frozen):
    """How long data of some categories (or of a collection) is kept, and what ends it."""

    name: str | None = None
    categories: tuple[TaxonomyKey, ...] = ()
    dataset: str | None = None
    collection: str | None = None
    trigger: Trigger
    duration: Duration | None = Field(
        None, description="How long after the trigger; absent means the trigger alone ends it."
    )
    action: Action = Action.delete
    legal_hold: LegalHold | None = None
    data_subjects: tuple[TaxonomyKey, ...] = Field(
        (), description="Limits the rule to these kinds of people (e.g. managed accounts)."
    )
    criteria: str | None = Field(
        None,
        description="How the period is decided, when the notice gives criteria rather than "
        "a number (Art. 13(2)(a)); ``duration`` then holds the period applied.",
    )

    @model_validator(mode="after")
    def _covers_something(self) -> RetentionRule:
        if not self.categories and self.collection is None:
            raise ValueError("a retention rule needs categories or a dataset and collection")
        if self.collection is not None and self.dataset is None:
            raise ValueError("a retention rule naming a collection must also name its dataset")
        return self


# ---------------------------------------------------------------- recipients


class RecipientRole(StrEnum):
    """Why a recipient gets data."""

    processor = "processor"
    sub_processor = "sub_processor"
    partner = "partner"
    third_party_app = "third_party_app"
    affiliate = "affiliate"
    authority = "authority"
    other_users = "other_users"
    buyer = "buyer"
    """Buys personal data: a sale (CCPA 1798.140(ad))."""
    successor = "successor"
    """Acquires the business in a merger or acquisition; not a sale (CCPA 1798.140(ad)(2)(C))."""
    advertiser = "advertiser"
    other = "other"


class RecipientService(StrEnum):
    """What the recipient does, where that matters to a rule (cookies, ads)."""

    hosting = "hosting"
    payment = "payment"
    email = "email"
    support = "support"
    analytics = "analytics"
    advertising = "advertising"
    social_media = "social_media"
    security = "security"
    communication = "communication"
    legal = "legal"
    other = "other"


TransferMechanismKey = Literal[
    "adequacy", "eu_us_dpf", "scc", "bcr", "derogation", "privacy_shield", "none"
]


class Recipient(_Frozen):
    """Someone outside the company (or another part of it) who receives personal data."""

    name: str
    role: RecipientRole
    service: RecipientService | None = None
    countries: tuple[CountryCode, ...] = Field(
        min_length=1, validation_alias=AliasChoices("countries", "country")
    )
    transfer_mechanisms: tuple[TransferMechanismKey, ...] = ()
    categories: tuple[TaxonomyKey, ...] = ()
    purposes: tuple[Name, ...] = ()
    notify_before_transfer: tuple[Channel, ...] = Field(
        (), description="How people are told before their data passes to this recipient."
    )
    sets_persistent_identifiers: bool = Field(
        False, description="Sets cookies or device identifiers that outlive the session."
    )
    requests: Literal["webhook", "manual", "none"] = Field(
        "manual", description="How data subject requests reach this recipient."
    )

    @field_validator("countries", mode="before")
    @classmethod
    def _one_country(cls, value: Any) -> Any:
        # ``country: US`` is what people write for a single country.
        return (value,) if isinstance(value, str) else value


# ---------------------------------------------------------------- rights


class ErasureRoute(StrEnum):
    """How a person's erasure request is carried out."""

    self_service = "self_service"
    via_administrator = "via_administrator"
    on_request = "on_request"


class Rights(_Frozen):
    """The rights the notice grants and how they are exercised."""

    access: ErasureRoute = Field(
        ErasureRoute.on_request,
        description="How a person gets a copy: self service, via their organisation's "
        "administrator, or on request.",
    )
    erasure: ErasureRoute = ErasureRoute.on_request
    portability: tuple[TaxonomyKey, ...] = Field(
        (), description="Categories the portable copy (Art. 20) covers."
    )
    complaint_authority: Contact | None = Field(
        None, description="The data-protection authority people may complain to (Art. 77)."
    )
    contact: Contact | None = Field(None, description="Where requests go, if not the DPO.")
    channels: tuple[ConsentMethod, ...] = ("privacy_center",)


# ---------------------------------------------------------------- datasets


class Identity(StrEnum):
    """Which kind of identifier a field holds, so a request can find the person."""

    email = "email"
    phone = "phone"
    user_id = "user_id"
    custom = "custom"


_FIELD_ERASE = ("delete_row", "null", "pseudonymize", "scrub_subject", "keep")
EraseStrategy = (
    Literal["delete_row", "null", "pseudonymize", "scrub_subject", "keep"] | Mapping[str, Any]
)


def _check_erase(value: Any) -> Any:
    if isinstance(value, str):
        if value not in _FIELD_ERASE:
            raise ValueError(
                f"{value!r} is not an erase strategy; use one of "
                f"{', '.join(_FIELD_ERASE)} or {{replace: VALUE}}"
            )
        return value
    if isinstance(value, Mapping):
        if set(value) != {"replace"}:
            raise ValueError("an erase mapping takes exactly one key, replace: VALUE")
        return MappingProxyType(dict(value))
    raise ValueError("erase is a strategy name or {replace: VALUE}")


FieldErase = Annotated[
    Any,
    AfterValidator(_check_erase),
    PlainSerializer(lambda v: v if isinstance(v, str) else dict(v)),
]

Timestamp = Literal["created", "updated", "last_activity", "closed", "deleted"]


class DatasetField(_Frozen):
    """One column (or key) of a collection."""

    name: str
    categories: tuple[TaxonomyKey, ...] = ()
    identity: Identity | None = None
    primary_key: bool = False
    references: str | None = Field(
        None, description="collection.field in the same dataset, or dataset.collection.field."
    )
    follow: bool = Field(
        True,
        description="Requests follow this reference to find the person's rows. Set false for "
        "links that only give context (a comment's card), keep true for links that say whose "
        "the row is (a comment's author).",
    )
    erase: FieldErase | None = None
    timestamp: Timestamp | None = Field(None, description="Which clock this column records.")
    type: (
        Literal[
            "string", "text", "integer", "number", "boolean", "date", "datetime", "json", "binary"
        ]
        | None
    ) = None
    free_text: bool = Field(False, description="Holds text people write; may mention others.")

    @property
    def personal(self) -> bool:
        """Declared as holding personal data (a ``user`` category or an identity)."""
        return self.identity is not None or any(
            c == "user" or c.startswith("user.") for c in self.categories
        )


class Collection(_Frozen):
    """A table (or a key pattern) of a dataset."""

    name: str
    description: str = ""
    erase: Literal["delete", "mask", "keep"] = Field(
        "delete",
        description="What erasure does to the person's rows: delete them, mask fields, keep.",
    )
    key_pattern: str | None = Field(
        None, description="Redis: a key pattern like session:{user_id}:*"
    )
    fields: tuple[DatasetField, ...] = Field(min_length=1)

    @property
    def personal(self) -> bool:
        """Holds at least one personal field."""
        return any(f.personal for f in self.fields)


class Dataset(_Frozen):
    """A database of the product, reached through a URL held in an environment variable."""

    name: Name
    description: str = ""
    type: Literal["sql", "redis"] = "sql"
    connection: EnvVar
    countries: tuple[CountryCode, ...] = Field(
        (), description="Where it is stored; the home country if empty."
    )
    transfer_mechanisms: tuple[TransferMechanismKey, ...] = Field(
        (), description="Safeguards for storage outside the home area."
    )
    collections: tuple[Collection, ...] = Field(min_length=1)


# ---------------------------------------------------------------- versions


class PolicyVersion(_Frozen):
    """A published version of the notice."""

    id: str
    effective: dt.date
    notices: Annotated[
        Mapping[str, str], AfterValidator(_freeze_mapping), PlainSerializer(_plain_dict)
    ] = Field(
        default_factory=dict, description="Language code to notice file, relative to the policy."
    )
    material: bool = False
    changed_purposes: tuple[Name, ...] = Field(
        (), description="Purposes whose change is material: consents to them become stale."
    )
    summary: str = ""
    notified_through: tuple[Channel | Literal["website", "in_app_banner"], ...] = Field(
        (), description="How people are told about this version."
    )


class Backups(_Frozen):
    """What happens to personal data in backups after it is deleted from live systems."""

    retention: Duration = Field(description="How long backups keep deleted data.")
    isolated: bool = Field(
        True, description="Backups are beyond use until they expire (not restored into service)."
    )


# ---------------------------------------------------------------- the policy


Jurisdiction = Literal["eu-gdpr", "uk-gdpr", "ch-fadp", "us-ca-ccpa", "us-co-cpa", "us-va-vcdpa"]


class Policy(_Frozen):
    """A whole policy file, validated. Obtain one with :func:`tutela.policy.load`."""

    tutela: Literal[1] = Field(description="Version of the policy-file format.")
    organisation: Organisation
    jurisdictions: tuple[Jurisdiction, ...] = Field(min_length=1)
    user_countries: tuple[CountryCode, ...] = Field(
        (), description="Countries whose residents use the service."
    )
    promises: Promises = Promises()
    taxonomy: TaxonomyExtension = TaxonomyExtension()
    data_subjects: tuple[TaxonomyKey, ...] = ()
    purposes: Annotated[
        Mapping[str, Purpose], AfterValidator(_freeze_mapping), PlainSerializer(_plain_dict)
    ] = Field(min_length=1)
    retention: tuple[RetentionRule, ...] = ()
    recipients: tuple[Recipient, ...] = ()
    rights: Rights = Rights()
    datasets: tuple[Dataset, ...] = ()
    versions: tuple[PolicyVersion, ...] = ()
    backups: Backups | None = None
    security_measures: tuple[str, ...] = Field(
        (), description="Technical and organisational measures (Art. 30(1)(g), Art. 32)."
    )

    @field_validator("purposes", mode="after")
    @classmethod
    def _purpose_names(cls, value: Mapping[str, Purpose]) -> Mapping[str, Purpose]:
        for name in value:
            _check_name(name)
        return value

    @property
    def version(self) -> str | None:
        """The id of the newest version in effect today (effective date not in the future);
        if every version lies in the future, the earliest of them."""
        if not self.versions:
            return None
        today = dt.date.today()
        current = [v for v in self.versions if v.effective <= today]
        if current:
            return max(current, key=lambda v: (v.effective, v.id)).id
        return min(self.versions, key=lambda v: (v.effective, v.id)).id

    def categories_in_use(self) -> frozenset[str]:
        """Every category a purpose, recipient or dataset field names."""
        found: set[str] = set()
        for purpose in self.purposes.values():
            found.update(purpose.categories)
        for recipient in self.recipients:
            found.update(recipient.categories)
        for dataset in self.datasets:
            for collection in dataset.collections:
                for field in collection.fields:
                    found.update(field.categories)
        return frozenset(found)
