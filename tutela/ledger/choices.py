"""A subject's choices: consents and their withdrawal, marketing channels, objections
and restrictions of processing, one at a time or in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, and_, delete, insert, select, update

from tutela.errors import LedgerError
from tutela.ledger import tables as t
from tutela.ledger.base import CHANNELS, SOURCES, aware, subject_stream, utc_now
from tutela.ledger.database import retrying
from tutela.ledger.identities import normalise
from tutela.ledger.subjects import Subjects

__all__ = ["Choices", "ConsentEntry"]


class Choices(Subjects):
    """Recording what people choose; every choice is an event and current state.

    It stands on :class:`~tutela.ledger.subjects.Subjects` because a bulk import
    creates the people it does not find."""

    def record_consent(
        self,
        public_id: str,
        purpose: str,
        granted: bool,
        *,
        policy_version: str | None,
        channel: str | None = None,
        notice_hash: str | None = None,
        source: str = "api",
        ip: str | None = None,
        user_agent: str | None = None,
        at: dt.datetime | None = None,
    ) -> int:
        """Append a grant or withdrawal (Art. 7(1): who, what, when, which notice, how)."""
        if source not in SOURCES:
            raise LedgerError(f"unknown consent source {source!r}; use one of {', '.join(SOURCES)}")
        self._check_purpose(purpose)
        payload = {
            "purpose": purpose,
            "granted": bool(granted),
            "policy_version": policy_version,
            "channel": channel,
            "notice_hash": notice_hash,
            "source": source,
            "ip_hash": self._hash_ip(ip),
            "user_agent": (user_agent or None) and user_agent[:400],
        }

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id, lock=True)
            if row.status == "erased":
                raise LedgerError("consent cannot be recorded for an erased subject")
            when = at or utc_now()
            event_id = self._append(
                conn, subject_stream(row.id), "consent", payload, subject_id=row.id, at=when
            )
            self._upsert(
                conn,
                t.consents,
                {"subject_id": row.id, "purpose": purpose},
                {
                    "granted": bool(granted),
                    "policy_version": policy_version,
                    "event_id": event_id,
                    "updated_at": when,
                },
            )
            return event_id

        return retrying(self.engine, work)

    def set_channel(
        self, public_id: str, channel: str, opted_out: bool, *, source: str = "api"
    ) -> int:
        """Opt a marketing channel out (or back in)."""
        if channel not in CHANNELS:
            raise LedgerError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id, lock=True)
            now = utc_now()
            event_id = self._append(
                conn,
                subject_stream(row.id),
                "channel",
                {"channel": channel, "opted_out": bool(opted_out), "source": source},
                subject_id=row.id,
                at=now,
            )
            self._upsert(
                conn,
                t.channel_prefs,
                {"subject_id": row.id, "channel": channel},
                {"opted_out": bool(opted_out), "event_id": event_id, "updated_at": now},
            )
            return event_id

        return retrying(self.engine, work)

    def set_objection(
        self, public_id: str, purpose: str, active: bool = True, *, source: str = "api"
    ) -> int:
        """Object to a purpose (Art. 21), or withdraw the objection. ``direct_marketing``
        objects to every marketing purpose."""
        if purpose != "direct_marketing":
            self._check_purpose(purpose)

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id, lock=True)
            return self._objection_in(conn, row.id, purpose, active, source)

        return retrying(self.engine, work)

    def _objection_in(
        self, conn: Connection, subject_id: int, purpose: str, active: bool, source: str
    ) -> int:
        now = utc_now()
        event_id = self._append(
            conn,
            subject_stream(subject_id),
            "objection",
            {"purpose": purpose, "active": bool(active), "source": source},
            subject_id=subject_id,
            at=now,
        )
        key = and_(t.objections.c.subject_id == subject_id, t.objections.c.purpose == purpose)
        conn.execute(delete(t.objections).where(key))
        if active:
            conn.execute(
                insert(t.objections).values(
                    subject_id=subject_id, purpose=purpose, event_id=event_id, updated_at=now
                )
            )
        return event_id

    def record_choices(
        self,
        identity: tuple[str, str],
        consents: Sequence[ConsentEntry],
        objections: Mapping[str, bool],
        *,
        source: str = "web",
    ) -> str:
        """One person's consents and objections in one transaction, the person found by
        ``identity`` (and created from it when nobody has it); returns the subject id.
        Refused as a whole (:class:`LedgerError`) for an erased or merged-away subject."""
        pair = normalise(*identity)
        for purpose in objections:
            self._check_purpose(purpose)

        def work(conn: Connection) -> str:
            public_id = self._owner(conn, [pair]) or self._create_in(conn, [pair])
            for entry in consents:
                self._consent_entry(conn, replace(entry, subject=public_id), [pair])
            if objections:
                row = self._subject_row(conn, public_id, lock=True)
                if row.status == "erased":
                    raise LedgerError("an objection cannot be recorded for an erased subject")
                for purpose, active in sorted(objections.items()):
                    self._objection_in(conn, row.id, purpose, active, source)
            return public_id

        return retrying(self.engine, work)

    def set_restriction(self, public_id: str, active: bool, reason: str) -> int:
        """Start or lift a restriction of processing (Art. 18), with its reason."""

        def work(conn: Connection) -> int:
            row = self._subject_row(conn, public_id, lock=True)
            event_id = self._append(
                conn,
                subject_stream(row.id),
                "restriction",
                {"active": bool(active), "reason": reason},
                subject_id=row.id,
            )
            conn.execute(
                update(t.subjects)
                .where(t.subjects.c.id == row.id)
                .values(
                    restricted=bool(active),
                    restriction_reason=reason if active else None,
                    updated_at=utc_now(),
                )
            )
            return event_id

        return retrying(self.engine, work)

    def record_consents(
        self,
        entries: Sequence[ConsentEntry],
        *,
        region: str | None = None,
        also: Callable[[Connection, list[int | str]], None] | None = None,
    ) -> list[int | str]:
        """Record many grants and withdrawals in one transaction; bulk imports use it.

        Each entry names its person by a subject id or by identities; a person
        not yet in the ledger is created from the identities (``region`` reads
        phone numbers written without a country code). Each result is the event
        id, or, for an entry that cannot be recorded (unknown or erased subject,
        identifiers of two different people, a bad identifier), the reason; those
        entries are skipped and the others kept. Where the person's current
        choice for the purpose is newer than the entry, the entry joins the
        history and the current choice stands: the later choice wins, whatever
        the order of the input. ``also(conn, results)`` runs in the same
        transaction, so a caller can record its progress with the consents.
        """
        normal: list[list[tuple[str, str]] | str] = []
        for entry in entries:
            try:
                normal.append([normalise(k, v, region=region) for k, v in entry.identities])
            except ValueError as exc:  # IdentityError: not an email, not a phone number
                normal.append(str(exc))

        def work(conn: Connection) -> list[int | str]:
            results: list[int | str] = []
            for entry, pairs in zip(entries, normal, strict=True):
                if isinstance(pairs, str):
                    results.append(pairs)
                    continue
                try:
                    results.append(self._consent_entry(conn, entry, pairs))
                except LedgerError as exc:
                    results.append(str(exc))
            if also is not None:
                also(conn, results)
            return results

        return retrying(self.engine, work)

    def _consent_entry(
        self, conn: Connection, entry: ConsentEntry, pairs: list[tuple[str, str]]
    ) -> int:
        # Every check happens before the first write of an entry, so a refused
        # entry leaves nothing behind and the batch's transaction carries on.
        if entry.source not in SOURCES:
            raise LedgerError(f"unknown consent source {entry.source!r}")
        public_id = entry.subject or self._owner(conn, pairs)
        if public_id is None:
            if not pairs:
                raise LedgerError("no subject id and no identifier to create the subject from")
            public_id = self._create_in(conn, pairs)
        row = self._subject_row(conn, public_id, lock=True)
        if row.status == "erased":
            raise LedgerError("consent cannot be recorded for an erased subject")
        when = (entry.at or utc_now()).astimezone(dt.UTC)
        payload = {
            "purpose": entry.purpose,
            "granted": bool(entry.granted),
            "policy_version": entry.policy_version,
            "channel": entry.channel,
            "notice_hash": None,
            "source": entry.source,
            "ip_hash": None,
            "user_agent": None,
        }
        event_id = self._append(
            conn, subject_stream(row.id), "consent", payload, subject_id=row.id, at=when
        )
        key = and_(t.consents.c.subject_id == row.id, t.consents.c.purpose == entry.purpose)
        current = conn.execute(select(t.consents.c.updated_at).where(key)).first()
        values = {
            "granted": bool(entry.granted),
            "policy_version": entry.policy_version,
            "event_id": event_id,
            "updated_at": when,
        }
        if current is None:
            conn.execute(
                insert(t.consents).values(subject_id=row.id, purpose=entry.purpose, **values)
            )
        elif aware(current.updated_at) <= when:
            conn.execute(update(t.consents).where(key).values(**values))
        return event_id


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One grant or withdrawal for :meth:`Ledger.record_consents`.

    ``subject`` is a public subject id; without it, ``identities`` ((kind,
    value) pairs) find the person, or create them when nobody matches.
    """

    purpose: str
    granted: bool
    policy_version: str | None
    subject: str | None = None
    identities: tuple[tuple[str, str], ...] = ()
    channel: str | None = None
    source: str = "import"
    at: dt.datetime | None = None
