"""Request and response bodies, named by role: ``...Create``, ``...Update``, ``...Public``.

Lengths are bounded here to match the ledger's columns, so an over-long value
is a 422 with a message rather than a database error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from tutela.ledger.identities import IdentityError, normalise

__all__ = [
    "BULK_LIMIT",
    "ID_PATTERN",
    "BulkDecisionPublic",
    "BulkDecisionRequest",
    "BulkDecisionResult",
    "ChangeRecorded",
    "ChannelUpdate",
    "ConsentCreate",
    "ConsentEventPublic",
    "ConsentImport",
    "ConsentImportItem",
    "ConsentImportPublic",
    "ConsentPage",
    "ConsentStatePublic",
    "DecisionPublic",
    "DecisionRequest",
    "HealthPublic",
    "IdentityCreate",
    "IdentityPublic",
    "ImportRejection",
    "ObjectionUpdate",
    "PreferencesPublic",
    "RestrictionUpdate",
    "SignalsIn",
    "SubjectCreate",
    "SubjectListItem",
    "SubjectPage",
    "SubjectPublic",
    "SubjectRef",
    "SubjectUpdate",
    "UnsubscribeLinkCreate",
    "UnsubscribeLinkPublic",
    "utc",
]

BULK_LIMIT = 10_000
"""Most items a bulk body may carry; the app's settings may lower it."""

ChannelName = Literal["email", "sms", "push", "in_app", "post", "phone"]
Source = Literal["web", "api", "import", "admin", "email_link", "system"]
Status = Literal["active", "deactivated", "erased"]
Purpose = str
_PURPOSE = Field(min_length=1, max_length=100, examples=["marketing_email"])
_COUNTRY = Field(None, pattern=r"^[A-Za-z]{2}$", examples=["NL"])
ID_PATTERN = r"^[A-Za-z0-9_]+$"
"""What public ids look like (``sub_4f3c...``); anything else cannot name a subject."""
_SUBJECT_ID = Field(
    min_length=1, max_length=40, pattern=ID_PATTERN, examples=["sub_4f3c0d1e2a9b8c7d6e5f"]
)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """``moment`` with its time zone: SQLite hands back naive datetimes, all stored in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold NUL; no identifier or purpose name has one.
        if _has_nul(data):
            raise ValueError("text may not contain NUL characters")
        return data


# ---------------------------------------------------------------- subjects


class SubjectRef(_Body):
    """One person, named by exactly one of: their subject id, email, phone or user id."""

    id: str | None = Field(None, min_length=1, max_length=40, pattern=ID_PATTERN)
    email: str | None = Field(None, min_length=1, max_length=320)
    phone: str | None = Field(None, min_length=1, max_length=40)
    user_id: str | None = Field(None, min_length=1, max_length=320)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "anna@example.nl"}, {"id": "sub_4f3c0d1e"}]},
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SubjectRef:
        if len(self.as_mapping()) != 1:
            raise ValueError("name the subject by exactly one of: id, email, phone, user_id")
        return self

    def as_mapping(self) -> dict[str, str]:
        """The one field that is set, as the engine's ``{"kind": "value"}`` reference."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class IdentityCreate(_Body):
    """An identifier a person is known by."""

    kind: str = Field(
        pattern=r"^(email|phone|user_id|custom:[a-z0-9_]{1,25})$",
        examples=["email"],
        description="email, phone (E.164, or with `region`), user_id, or custom:NAME",
    )
    value: str = Field(min_length=1, max_length=320, examples=["anna@example.nl"])


class IdentityPublic(BaseModel):
    """An identifier as the ledger holds it (normalised)."""

    kind: str
    value: str


class SubjectCreate(_Body):
    """A person to register."""

    identities: list[IdentityCreate] = Field(default_factory=list, max_length=20)
    birth_date: dt.date | None = Field(None, examples=["1990-04-01"])
    country: str | None = _COUNTRY
    region: str | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="Country to read phone numbers in."
    )
    organisation: str | None = Field(
        None, max_length=40, pattern=ID_PATTERN, description="An organisation id."
    )
    managed: bool = False

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "identities": [
                        {"kind": "email", "value": "anna@example.nl"},
                        {"kind": "user_id", "value": "42"},
                    ],
                    "country": "NL",
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _distinct(self) -> SubjectCreate:
        # Two spellings of one identifier ("Anna@x.nl", "anna@x.nl") are one identifier.
        seen: set[tuple[str, str]] = set()
        for identity in self.identities:
            try:
                key = normalise(identity.kind, identity.value, region=self.region or self.country)
            except IdentityError:
                continue  # reported, with its reason, when the ledger normalises it
            if key in seen:
                raise ValueError(f"the same {identity.kind} is given twice")
            seen.add(key)
        return self


class SubjectUpdate(_Body):
    """Facts to change; absent fields stay as they are."""

    birth_date: dt.date | None = None
    country: str | None = _COUNTRY
    status: Status | None = Field(None, examples=["deactivated"])


class ConsentStatePublic(BaseModel):
    """The current consent of one purpose."""

    granted: bool
    policy_version: str | None
    event_id: str
    at: dt.datetime | None


class SubjectPublic(BaseModel):
    """A person as the ledger knows them now."""

    id: str = Field(examples=["sub_4f3c0d1e2a9b8c7d6e5f"])
    status: Status
    birth_date: dt.date | None
    country: str | None
    restricted: bool
    identities: list[IdentityPublic]
    consents: dict[str, ConsentStatePublic]
    objections: list[str]
    channel_opt_outs: list[str]


class SubjectListItem(BaseModel):
    """One subject in a list."""

    id: str


class SubjectPage(BaseModel):
    """One page of subjects; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[SubjectListItem]
    next_cursor: str | None


# ---------------------------------------------------------------- consents


class ConsentCreate(_Body):
    """A grant or a withdrawal, with what Art. 7(1) asks to be provable."""

    purpose: Purpose = _PURPOSE
    granted: bool
    policy_version: str | None = Field(
        None, max_length=64, description="Default: the policy's current version."
    )
    channel: str | None = Field(None, max_length=40, examples=["privacy_center"])
    notice_hash: str | None = Field(None, max_length=128)
    source: Source = "api"
    ip: str | None = Field(None, max_length=64, description="Stored only as a keyed hash.")
    user_agent: str | None = Field(None, max_length=2000)
    at: AwareDatetime | None = Field(None, description="Default: now.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"purpose": "support_expert_sharing", "granted": True, "source": "web"}]
        },
    )


class ConsentEventPublic(BaseModel):
    """One recorded grant or withdrawal."""

    event_id: str = Field(examples=["evt_17"])
    purpose: str
    granted: bool
    policy_version: str | None
    channel: str | None
    notice_hash: str | None
    source: str
    at: dt.datetime


class ConsentPage(BaseModel):
    """One page of a subject's consent history, oldest first."""

    items: list[ConsentEventPublic]
    next_cursor: str | None


class ConsentImportItem(_Body):
    """A consent recorded elsewhere before, with its original time."""

    subject: SubjectRef
    purpose: Purpose = _PURPOSE
    granted: bool
    at: AwareDatetime
    policy_version: str | None = Field(None, max_length=64)
    channel: str | None = Field(None, max_length=40)
    notice_hash: str | None = Field(None, max_length=128)


class ConsentImport(_Body):
    """Consents to import; each item succeeds or is rejected on its own."""

    items: list[ConsentImportItem] = Field(min_length=1, max_length=BULK_LIMIT)
    create_subjects: bool = Field(
        False, description="Register people named by an unknown email, phone or user id."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "subject": {"email": "anna@example.nl"},
                            "purpose": "support_expert_sharing",
                            "granted": True,
                            "at": "2023-05-01T10:00:00Z",
                            "policy_version": "2018-05-25",
                        }
                    ],
                    "create_subjects": True,
                }
            ]
        },
    )


class ImportRejection(BaseModel):
    """An item that was not imported, by its position in the request."""

    index: int
    code: str
    message: str


class ConsentImportPublic(BaseModel):
    """What an import did."""

    imported: int
    created_subjects: int
    rejected: list[ImportRejection]


# ---------------------------------------------------------------- decisions


class SignalsIn(_Body):
    """Browser signals, when they cannot be forwarded as headers."""

    gpc: bool = False
    dnt: bool = False


class DecisionRequest(_Body):
    """May ``purpose`` use ``categories`` of this person now?"""

    subject: SubjectRef
    purpose: Purpose = _PURPOSE
    categories: list[str] = Field(default_factory=list, max_length=100)
    signals: SignalsIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": {"email": "anna@example.nl"},
                    "purpose": "marketing_email",
                    "categories": ["user.contact.email"],
                }
            ]
        },
    )


class DecisionPublic(BaseModel):
    """The answer, every reason as a stable code, and the consent event it rests on."""

    allowed: bool
    purpose: str
    legal_basis: str | None = Field(examples=["consent"])
    reasons: list[str] = Field(examples=[["consent_granted"]])
    policy_version: str | None
    evidence: str | None = Field(None, examples=["evt_17"])


class BulkDecisionRequest(_Body):
    """One purpose, many people: decided as one set-based query."""

    purpose: Purpose = _PURPOSE
    categories: list[str] = Field(default_factory=list, max_length=100)
    subjects: list[SubjectRef] = Field(min_length=1, max_length=BULK_LIMIT)
    signals: SignalsIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "purpose": "marketing_email",
                    "subjects": [{"email": "anna@example.nl"}, {"id": "sub_4f3c0d1e"}],
                }
            ]
        },
    )


class BulkDecisionResult(BaseModel):
    """The answer for one subject of a bulk call, in request order."""

    subject: dict[str, str]
    id: str | None = Field(description="The subject id, or null for nobody known.")
    allowed: bool


class BulkDecisionPublic(BaseModel):
    """Answers for every subject asked about."""

    purpose: str
    policy_version: str | None
    allowed_count: int
    results: list[BulkDecisionResult]


# ---------------------------------------------------------------- preferences


class ChannelUpdate(_Body):
    """Opt a marketing channel out, or back in."""

    channel: ChannelName
    opted_out: bool

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"channel": "email", "opted_out": True}]}
    )


class ObjectionUpdate(_Body):
    """Object to a purpose (Art. 21), or withdraw the objection. ``direct_marketing``
    objects to every marketing purpose."""

    purpose: Purpose = _PURPOSE
    active: bool = True


class RestrictionUpdate(_Body):
    """Start or lift a restriction of processing (Art. 18)."""

    active: bool
    reason: str = Field(min_length=1, max_length=2000, examples=["accuracy contested"])


class PreferencesPublic(BaseModel):
    """A person's marketing channels, objections and restriction."""

    channel_opt_outs: list[str]
    objections: list[str]
    restricted: bool


class ChangeRecorded(BaseModel):
    """The event a change was recorded as."""

    event_id: str = Field(examples=["evt_18"])


# ---------------------------------------------------------------- unsubscribe links


class UnsubscribeLinkCreate(_Body):
    """A one-click unsubscribe link to put in a message's ``List-Unsubscribe`` header."""

    subject: str = _SUBJECT_ID
    channel: ChannelName = "email"
    lifetime_days: int | None = Field(None, ge=1, le=3650)


class UnsubscribeLinkPublic(BaseModel):
    """The link, and the two headers a message should carry (RFC 8058)."""

    url: str
    token: str
    expires_at: dt.datetime
    headers: dict[str, str]


# ---------------------------------------------------------------- health


class HealthPublic(BaseModel):
    """Whether the API and its database answer."""

    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]
    policy_version: str | None
