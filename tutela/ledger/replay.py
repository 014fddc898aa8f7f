"""Rebuilding every subject's state from the event log alone.

The ledger keeps current state in tables for speed; this module derives the
same state from the events, independently of that code. ``tutela audit``
and the tests compare the two: any difference is a bug or tampering.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from tutela.decide import AccountStatus, ConsentRecord, SubjectState
from tutela.ledger import tables as t
from tutela.ledger.database import read

__all__ = ["Replayed", "replay", "replay_events"]


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass
class Replayed:
    """A subject's state as the events say it is."""

    public_id: str
    status: str = "active"
    birth_date: dt.date | None = None
    country: str | None = None
    restricted: bool = False
    organisation: str | None = None
    merged: bool = False
    consents: dict[str, tuple[ConsentRecord, dt.datetime]] = field(default_factory=dict)
    channels: dict[str, tuple[bool, dt.datetime]] = field(default_factory=dict)
    objections: set[str] = field(default_factory=set)

    def state(self, disabled: Mapping[str, set[str]]) -> SubjectState:
        """As the :class:`SubjectState` a decision reads."""
        return SubjectState(
            subject_id=self.public_id,
            status=AccountStatus(self.status),
            birth_date=self.birth_date,
            country=self.country,
            restricted=self.restricted,
            consents={k: record for k, (record, _) in self.consents.items()},
            objections=frozenset(self.objections),
            channel_opt_outs=frozenset(k for k, (out, _) in self.channels.items() if out),
            organisation_disabled=frozenset(disabled.get(self.organisation or "", set())),
        )


def replay_events(
    events: Iterable[tuple[int, str, str, Mapping[str, Any], dt.datetime]],
) -> dict[str, SubjectState]:
    """Apply (id, stream, kind, payload, at) events in id order; return each live
    (not merged-away) subject's state by public id."""
    by_stream: dict[str, Replayed] = {}
    by_public: dict[str, Replayed] = {}
    disabled: dict[str, set[str]] = {}
    for event_id, stream, kind, payload, at in events:
        at = _aware(at)
        if stream.startswith("organisation:"):
            if kind == "purpose.setting":
                off = disabled.setdefault(payload["organisation"], set())
                if payload["enabled"]:
                    off.discard(payload["purpose"])
                else:
                    off.add(payload["purpose"])
            continue
        if not stream.startswith("subject:"):
            # The system's and staff's streams (published versions, views of personal
            # data) record what happened, not anyone's state.
            continue
        if kind == "subject.created":
            subject = Replayed(
                public_id=payload["public_id"],
                birth_date=_date(payload.get("birth_date")),
                country=payload.get("country"),
                organisation=payload.get("organisation"),
            )
            by_stream[stream] = by_public[subject.public_id] = subject
            continue
        subject = by_stream[stream]
        if kind == "subject.updated":
            if "birth_date" in payload:
                subject.birth_date = _date(payload["birth_date"])
            if "country" in payload:
                subject.country = payload["country"]
            if "status" in payload:
                subject.status = payload["status"]
        elif kind == "consent":
            record = ConsentRecord(
                granted=bool(payload["granted"]),
                policy_version=payload.get("policy_version"),
                event_id=f"evt_{event_id}",
                at=at,
            )
            subject.consents[payload["purpose"]] = (record, at)
        elif kind == "channel":
            subject.channels[payload["channel"]] = (bool(payload["opted_out"]), at)
        elif kind == "objection":
            if payload["active"]:
                subject.objections.add(payload["purpose"])
            else:
                subject.objections.discard(payload["purpose"])
        elif kind == "restriction":
            subject.restricted = bool(payload["active"])
        elif kind == "membership":
            subject.organisation = payload.get("organisation")
        elif kind == "subject.merged":
            _absorb(subject, by_public[payload["from"]])
        elif kind == "subject.merged_away":
            subject.merged = True
            subject.status = "deactivated"
    return {p: s.state(disabled) for p, s in by_public.items() if not s.merged}


def _absorb(into: Replayed, gone: Replayed) -> None:
    # The same rules as Ledger.merge: the later choice wins, objections and
    # restrictions of either person stay, missing facts are filled in.
    for name, (record, at) in gone.consents.items():
        mine = into.consents.get(name)
        if mine is None or mine[1] < at:
            into.consents[name] = (record, at)
    for name, (out, at) in gone.channels.items():
        current = into.channels.get(name)
        if current is None or current[1] < at:
            into.channels[name] = (out, at)
    into.objections |= gone.objections
    into.restricted = into.restricted or gone.restricted
    into.birth_date = into.birth_date or gone.birth_date
    into.country = into.country or gone.country
    into.organisation = into.organisation or gone.organisation
    gone.consents, gone.channels, gone.objections = {}, {}, set()


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def replay(engine: Engine) -> dict[str, SubjectState]:
    """Replay the whole event log of a ledger database."""
    with read(engine) as conn:
        rows = conn.execute(
            select(
                t.events.c.id, t.events.c.stream, t.events.c.kind, t.events.c.payload, t.events.c.at
            ).order_by(t.events.c.id)
        )
        return replay_events((r.id, r.stream, r.kind, json.loads(r.payload), r.at) for r in rows)
