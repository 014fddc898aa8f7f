"""``Tutela``: the object a program opens. It joins a policy, the ledger and (later) connectors.

>>> from tutela import Tutela
>>> tutela = Tutela.open(policy="examples/james-pro/policy.yaml", database="sqlite:///t.db",
...                      upgrade=True)                                    # doctest: +SKIP
>>> subject = tutela.ledger.create_subject([("email", "anna@example.se")])  # doctest: +SKIP
>>> tutela.decide({"id": subject}, "provide_service").allowed             # doctest: +SKIP
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, insert, select

from tutela.decide import Decision, Signals, SubjectState, decide
from tutela.errors import LedgerError
from tutela.ledger import tables as t
from tutela.ledger.audience import filter_allowed
from tutela.ledger.database import DEFAULT_URL, open_engine, read, retrying
from tutela.ledger.schema import ensure_current
from tutela.ledger.schema import upgrade as migrate
from tutela.ledger.store import Ledger
from tutela.policy import read as read_policy
from tutela.policy.model import Policy
from tutela.policy.taxonomy import Taxonomy, builtin

__all__ = ["PublishedVersion", "SubjectRef", "Tutela"]

SubjectRef = Mapping[str, str]
"""How callers name a person: ``{"id": "sub_..."}`` or one identity such as
``{"email": "anna@example.se"}``, ``{"phone": "+46..."}``, ``{"user_id": "42"}``."""


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    """A policy version recorded in the ledger."""

    version: str
    effective: dt.date
    material: bool
    changed_purposes: tuple[str, ...]
    policy_hash: str
    published_at: dt.datetime


class Tutela:
    """A policy and its ledger, opened together."""

    def __init__(self, policy: Policy, engine: Engine, *, taxonomy: Taxonomy | None = None) -> None:
        self.policy = policy
        self.engine = engine
        self.ledger = Ledger(engine, purposes=frozenset(policy.purposes))
        self.taxonomy = taxonomy or builtin()

    @classmethod
    def open(
        cls,
        policy: str | Path | Policy,
        database: str | None = None,
        *,
        upgrade: bool = False,
    ) -> Tutela:
        """Open a policy (a path or a loaded :class:`Policy`) and a ledger database URL
        (a SQLite file by default). With ``upgrade`` the schema is migrated first;
        otherwise an outdated schema is refused with the command to run."""
        taxonomy: Taxonomy | None = None
        if isinstance(policy, Policy):
            loaded = policy
        else:
            # Read with positions kept aside: the document's taxonomy includes the keys
            # the policy file added, which pages and packages must name properly.
            document = read_policy(policy)
            loaded, taxonomy = document.policy, document.taxonomy
        engine = open_engine(database or DEFAULT_URL)
        if upgrade:
            migrate(engine)
        ensure_current(engine)
        return cls(loaded, engine, taxonomy=taxonomy)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Tutela:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ subjects

    def resolve(self, subject: SubjectRef | str) -> str | None:
        """The public id a reference names, or ``None`` if nobody matches."""
        state = self.state(subject)
        return state.subject_id if state else None

    def state(self, subject: SubjectRef | str) -> SubjectState | None:
        """The subject's materialised state, or ``None`` if unknown."""
        if isinstance(subject, str):
            return self.ledger.state_for("id", subject)
        if len(subject) != 1:
            raise LedgerError("name a subject by exactly one of: id, email, phone, user_id")
        ((kind, value),) = subject.items()
        return self.ledger.state_for(kind, value)

    # ------------------------------------------------------------ decisions

    def decide(
        self,
        subject: SubjectRef | str,
        purpose: str,
        categories: Iterable[str] = (),
        signals: Signals = Signals(),
    ) -> Decision:
        """May ``purpose`` use ``categories`` of this person now? Unknown people are denied."""
        return decide(
            self.policy,
            self.state(subject),
            purpose,
            tuple(categories),
            signals,
            taxonomy=self.taxonomy,
        )

    def filter_allowed(
        self,
        purpose: str,
        subjects: Iterable[str] | None = None,
        categories: Iterable[str] = (),
        signals: Signals = Signals(),
    ) -> Iterator[str]:
        """Stream the public ids ``purpose`` may use, among ``subjects`` or everyone."""
        return filter_allowed(
            self.engine,
            self.policy,
            purpose,
            subjects,
            categories,
            signals,
            taxonomy=self.taxonomy,
        )

    # ------------------------------------------------------------ policy versions

    def publish(self, version: str | None = None) -> PublishedVersion:
        """Record a version of the policy (the newest by default) as published.

        Publishing the same version twice with the same content is a no-op;
        with different content it is refused: a published version is immutable.
        """
        versions = {v.id: v for v in self.policy.versions}
        chosen = version or self.policy.version
        if chosen is None or chosen not in versions:
            raise LedgerError(
                f"the policy has no version {chosen!r}; declare it under versions:"
                if chosen
                else "the policy declares no versions to publish"
            )
        spec = versions[chosen]
        digest = hashlib.sha256(
            json.dumps(self.policy.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()

        def work(conn: Any) -> PublishedVersion:
            row = conn.execute(
                select(t.policy_versions).where(t.policy_versions.c.version == chosen)
            ).first()
            if row is not None:
                if row.policy_hash != digest:
                    raise LedgerError(
                        f"version {chosen!r} was already published with different content; "
                        "give the changed policy a new version id"
                    )
                return _published(row)
            now = dt.datetime.now(dt.UTC)
            conn.execute(
                insert(t.policy_versions).values(
                    version=chosen,
                    effective=spec.effective,
                    material=spec.material,
                    changed_purposes=list(spec.changed_purposes),
                    policy_hash=digest,
                    published_at=now,
                )
            )
            self.ledger._append(
                conn,
                "system",
                "policy.published",
                {"version": chosen, "policy_hash": digest, "material": spec.material},
            )
            return PublishedVersion(
                chosen, spec.effective, spec.material, spec.changed_purposes, digest, now
            )

        return retrying(self.engine, work)

    def published(self) -> list[PublishedVersion]:
        """Every published version, oldest first."""
        with read(self.engine) as conn:
            rows = conn.execute(select(t.policy_versions).order_by(t.policy_versions.c.id))
            return [_published(r) for r in rows]


def _published(row: Any) -> PublishedVersion:
    return PublishedVersion(
        row.version,
        row.effective,
        bool(row.material),
        tuple(row.changed_purposes),
        row.policy_hash,
        row.published_at,
    )
