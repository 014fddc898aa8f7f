"""The ledger's tables (SQLAlchemy Core). Migrations in ``migrations/`` create exactly these.

Events are append-only and chained per stream (one stream per subject, one per
organisation, one for the system); every other table holds current state,
materialised from the events in the same transaction that appends them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "api_keys",
    "channel_prefs",
    "consents",
    "events",
    "identities",
    "imports",
    "metadata",
    "objections",
    "org_admins",
    "org_disabled_purposes",
    "organisations",
    "policy_versions",
    "processor_attempts",
    "processor_tasks",
    "requests",
    "sign_in_codes",
    "sign_in_issues",
    "streams",
    "subjects",
    "verification_codes",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL and MySQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
Id = BigInteger().with_variant(Integer(), "sqlite")

organisations = Table(
    "organisations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(40), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

subjects = Table(
    "subjects",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(40), nullable=False, unique=True),
    Column("status", String(16), nullable=False, default="active"),
    Column("birth_date", Date, nullable=True),
    Column("country", String(2), nullable=True),
    Column("restricted", Boolean, nullable=False, default=False),
    Column("restriction_reason", Text, nullable=True),
    Column("organisation_id", Id, ForeignKey("organisations.id"), nullable=True),
    Column("managed", Boolean, nullable=False, default=False),
    Column("merged_into", Id, ForeignKey("subjects.id"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_subjects_organisation_id", "organisation_id"),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("value", String(320), nullable=False),
    UniqueConstraint("kind", "value"),
    Index("ix_identities_subject_id", "subject_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("stream", String(48), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("subject_id", Id, nullable=True),
    Column("kind", String(48), nullable=False),
    Column("payload", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream", "seq"),
    Index("ix_events_subject_id", "subject_id"),
)

streams = Table(
    "streams",
    metadata,
    # The head of each event stream; appending locks this row, so concurrent
    # writers to one stream queue up instead of forking the chain.
    Column("name", String(48), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("subject_id", Id, ForeignKey("subjects.id"), primary_key=True),
    Column("purpose", String(100), primary_key=True),
    Column("granted", Boolean, nullable=False),
    Column("policy_version", String(64), nullable=True),
    Column("event_id", Id, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The audience query scans one purpose's grants.
    Index("ix_consents_purpose_granted", "purpose", "granted", "subject_id"),
)

channel_prefs = Table(
    "channel_prefs",
    metadata,
    Column("subject_id", Id, ForeignKey("subjects.id"), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("opted_out", Boolean, nullable=False),
    Column("event_id", Id, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

objections = Table(
    "objections",
    metadata,
    Column("subject_id", Id, ForeignKey("subjects.id"), primary_key=True),
    Column("purpose", String(100), primary_key=True),
    Column("event_id", Id, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

org_admins = Table(
    "org_admins",
    metadata,
    Column("organisation_id", Id, ForeignKey("organisations.id"), primary_key=True),
    Column("subject_id", Id, ForeignKey("subjects.id"), primary_key=True),
)

org_disabled_purposes = Table(
    "org_disabled_purposes",
    metadata,
    Column("organisation_id", Id, ForeignKey("organisations.id"), primary_key=True),
    Column("purpose", String(100), primary_key=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False, unique=True),
    Column("effective", Date, nullable=False),
    Column("material", Boolean, nullable=False),
    Column("changed_purposes", JSON, nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_hash", String(64), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("lines_done", Integer, nullable=False, default=0),
    Column("imported", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("finished", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


requests = Table(
    "requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(40), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    # Null when the identity given matches nobody: the request still runs to
    # "no data found" so the answer reveals nothing.
    Column("subject_id", Id, ForeignKey("subjects.id"), nullable=True),
    Column("identity_kind", String(32), nullable=False),
    Column("identity_hash", String(64), nullable=False),
    Column("jurisdiction", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("language", String(8), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("acknowledge_by", Date, nullable=True),
    Column("extended", Boolean, nullable=False, default=False),
    Column("extension_reason", Text, nullable=True),
    Column("verified", Boolean, nullable=False, default=False),
    Column("organisation_id", Id, ForeignKey("organisations.id"), nullable=True),
    Column("details", JSON, nullable=False),
    Column("reason", Text, nullable=True),
    Column("result", JSON, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_requests_state_due_on", "state", "due_on"),
    Index("ix_requests_subject_id", "subject_id"),
)

verification_codes = Table(
    "verification_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("request_id", Id, ForeignKey("requests.id"), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("identity_hash", String(64), nullable=False),
    Column("address_hash", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_verification_codes_identity_hash", "identity_hash", "created_at"),
    Index("ix_verification_codes_address_hash", "address_hash", "created_at"),
)

# A request's steps outside the company: one per recipient that receives requests,
# by signed webhook or as a manual task a person confirms.
processor_tasks = Table(
    "processor_tasks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(40), nullable=False, unique=True),
    Column("request_id", Id, ForeignKey("requests.id"), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("type", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    # The same key on every delivery of the request to this recipient: a retry is
    # never taken for a second request.
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_by", String(200), nullable=True),
    Column("note", Text, nullable=True),
    Column("error", Text, nullable=True),
    UniqueConstraint("request_id", "recipient"),
    Index("ix_processor_tasks_status", "status"),
)

# Every delivery attempt of a webhook, with what came back.
processor_attempts = Table(
    "processor_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", Id, ForeignKey("processor_tasks.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_processor_attempts_task_id", "task_id"),
)


sign_in_codes = Table(
    "sign_in_codes",
    metadata,
    # One live code per address; only keyed hashes of the address and the code.
    Column("address_hash", String(64), primary_key=True),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("tries", Integer, nullable=False, default=0),
)

sign_in_issues = Table(
    "sign_in_issues",
    metadata,
    # When codes were asked for, per keyed hash of an address or an IP: the rate limits.
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_sign_in_issues_key_hash_at", "key_hash", "at"),
)
