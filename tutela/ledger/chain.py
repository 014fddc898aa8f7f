"""The hash chain over events: each event's hash covers its content and the hash before it.

Changing, removing or reordering an event breaks every hash after it in its
stream, which ``verify`` finds and names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "Broken", "canonical", "event_hash", "verify_stream"]

GENESIS = "0" * 64
"""The previous hash of a stream's first event."""


def canonical(payload: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always hashes the same."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _when(at: dt.datetime) -> str:
    if at.tzinfo is None:  # SQLite returns naive datetimes; they are stored as UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    prev_hash: str, stream: str, seq: int, kind: str, payload: str, at: dt.datetime
) -> str:
    """SHA-256 over the previous hash and the event's canonical content."""
    body = canonical([prev_hash, stream, seq, kind, payload, _when(at)])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Broken:
    """The first event of a stream that does not match the chain, and why."""

    event_id: int
    stream: str
    seq: int
    problem: str


def verify_stream(
    rows: Iterable[tuple[int, str, int, str, str, dt.datetime, str, str]],
) -> Broken | None:
    """Check one stream's rows (id, stream, seq, kind, payload, at, prev_hash, hash) in
    seq order; return the first broken event or ``None``."""
    expected_prev = GENESIS
    expected_seq = 1
    for event_id, stream, seq, kind, payload, at, prev_hash, digest in rows:
        if seq != expected_seq:
            return Broken(event_id, stream, seq, f"sequence gap: expected {expected_seq}")
        if prev_hash != expected_prev:
            return Broken(event_id, stream, seq, "previous hash does not match the event before")
        if event_hash(prev_hash, stream, seq, kind, payload, at) != digest:
            return Broken(event_id, stream, seq, "content does not match its hash")
        expected_prev = digest
        expected_seq += 1
    return None
