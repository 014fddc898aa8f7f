"""The ledger on SQLite and PostgreSQL: subjects, identities, choices, merges, the chain."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text

from tests.ledger.conftest import EXAMPLE
from tutela import Tutela
from tutela.decide import AccountStatus, Reason
from tutela.errors import LedgerError, TutelaError
from tutela.ledger.identities import IdentityError, normalise
from tutela.ledger.replay import replay
from tutela.ledger.schema import current_revision, ensure_current, head_revision


def test_schema_is_current_after_upgrade(tutela: Tutela) -> None:
    assert current_revision(tutela.engine) == head_revision()
    ensure_current(tutela.engine)


def test_open_refuses_an_empty_database(database_url: str) -> None:
    with pytest.raises(LedgerError, match="tutela db upgrade"):
        Tutela.open(policy=EXAMPLE, database=database_url)


def test_subject_identities_normalised_and_unique(tutela: Tutela) -> None:
    ledger = tutela.ledger
    anna = ledger.create_subject(
        [("email", " Anna.Svensson@Example.SE "), ("phone", "070-123 45 67")], country="se"
    )
    assert ledger.lookup("email", "anna.svensson@example.se") == anna
    assert ledger.lookup("phone", "+46 70 123 45 67") == anna
    assert ledger.lookup("email", "someone@else.se") is None
    assert ("phone", "+46701234567") in ledger.identities(anna)
    with pytest.raises(LedgerError, match="already belongs"):
        ledger.create_subject([("email", "ANNA.SVENSSON@example.se")])
    with pytest.raises(IdentityError):
        ledger.create_subject([("email", "not-an-email")])
    assert ledger.state(anna).country == "SE"


@pytest.mark.parametrize(
    ("kind", "value", "region", "expected"),
    [
        ("email", "Ö@Exämple.se", None, "ö@xn--exmple-cua.se"),  # IDNA domain, casefolded local
        ("phone", "06 12345678", "NL", "+31612345678"),  # Dutch mobile, national format
        ("phone", "+420 601 123 456", None, "+420601123456"),  # Czech, international
        ("user_id", " 42 ", None, "42"),
        ("custom:crm", "C-1", None, "C-1"),
    ],
)
def test_normalise(kind: str, value: str, region: str | None, expected: str) -> None:
    assert normalise(kind, value, region=region)[1] == expected


def test_unknown_subject_is_a_clear_error(tutela: Tutela) -> None:
    with pytest.raises(LedgerError, match="no subject"):
        tutela.ledger.record_consent("sub_missing", "testimonials", True, policy_version="x")
    with pytest.raises(LedgerError, match="unknown purpose"):
        sid = tutela.ledger.create_subject([("email", "p@example.nl")])
        tutela.ledger.record_consent(sid, "newsletter", True, policy_version="x")
    assert tutela.resolve({"email": "nobody@example.com"}) is None
    decision = tutela.decide({"email": "nobody@example.com"}, "provide_service")
    assert not decision.allowed and decision.reasons == (Reason.subject_unknown,)


def test_consent_history_and_state(tutela: Tutela) -> None:
    ledger = tutela.ledger
    sid = ledger.create_subject([("email", "bo@example.nl")])
    first = ledger.record_consent(
        sid,
        "testimonials",
        True,
        policy_version="2018-05-25",
        source="web",
        ip="192.0.2.1",
        user_agent="Firefox",
        notice_hash="ab" * 32,
    )
    second = ledger.record_consent(sid, "testimonials", False, policy_version="2018-05-25")
    assert second > first
    state = ledger.state(sid)
    assert state.consents["testimonials"].granted is False
    assert state.consents["testimonials"].event_id == f"evt_{second}"
    history = ledger.history(sid)
    assert [e.kind for e in history] == ["subject.created", "consent", "consent"]
    assert history[1].payload["notice_hash"] == "ab" * 32
    # No secret key is configured here, so the IP address is not kept at all.
    assert history[1].payload["ip_hash"] is None
    assert "192.0.2.1" not in json.dumps([e.payload for e in history])
    decision = tutela.decide({"id": sid}, "testimonials")
    assert not decision.allowed and decision.evidence == f"evt_{second}"


def test_ip_is_stored_only_as_keyed_hash(tutela: Tutela) -> None:
    from tutela.ledger.store import Ledger

    ledger = Ledger(tutela.engine, ip_key=b"k" * 32)
    sid = ledger.create_subject([("email", "ip@example.nl")])
    ledger.record_consent(sid, "testimonials", True, policy_version="2018-05-25", ip="192.0.2.1")
    stored = ledger.history(sid)[1].payload["ip_hash"]
    assert stored and len(stored) == 64 and "192.0.2.1" not in stored


def test_choices_reach_decisions(tutela: Tutela) -> None:
    ledger = tutela.ledger
    sid = ledger.create_subject([("email", "cy@example.nl")], country="NL")
    assert tutela.decide({"id": sid}, "marketing_email").allowed
    ledger.set_channel(sid, "email", True)
    assert Reason.channel_opted_out in tutela.decide({"id": sid}, "marketing_email").reasons
    ledger.set_channel(sid, "email", False)
    ledger.set_objection(sid, "direct_marketing")
    assert not tutela.decide({"id": sid}, "marketing_email").allowed
    ledger.set_objection(sid, "direct_marketing", active=False)
    assert tutela.decide({"id": sid}, "marketing_email").allowed
    ledger.set_restriction(sid, True, "accuracy contested (Art. 18(1)(a))")
    assert not tutela.decide({"id": sid}, "provide_service").allowed
    assert tutela.decide({"id": sid}, "fiscal_records").allowed
    ledger.set_restriction(sid, False, "accuracy verified")
    ledger.update_subject(sid, birth_date=dt.date.today().replace(year=dt.date.today().year - 14))
    assert Reason.subject_child in tutela.decide({"id": sid}, "provide_service").reasons
    ledger.update_subject(sid, status=AccountStatus.erased)
    assert Reason.subject_erased in tutela.decide({"id": sid}, "fiscal_records").reasons
    with pytest.raises(LedgerError, match="erased"):
        ledger.update_subject(sid, status=AccountStatus.active)


def test_organisation_switches_purposes_off(tutela: Tutela) -> None:
    ledger = tutela.ledger
    org = ledger.create_organisation("Acme")
    member = ledger.create_subject([("email", "m@acme.example")], organisation=org, managed=True)
    admin = ledger.create_subject([("email", "admin@acme.example")], organisation=org)
    ledger.add_administrator(org, admin)
    ledger.set_organisation_purpose(org, "power_ups", enabled=False)
    assert Reason.organisation_disabled in tutela.decide({"id": member}, "power_ups").reasons
    # Only purposes the policy lets administrators switch off can be switched off.
    ledger.set_organisation_purpose(org, "provide_service", enabled=False)
    assert tutela.decide({"id": member}, "provide_service").allowed
    ledger.set_organisation_purpose(org, "power_ups", enabled=True)
    assert tutela.decide({"id": member}, "power_ups").allowed
    with pytest.raises(LedgerError, match="no organisation"):
        ledger.set_membership(member, "org_missing")


def test_merge_two_subjects(tutela: Tutela) -> None:
    ledger = tutela.ledger
    keep = ledger.create_subject([("email", "dana@example.nl")])
    absorb = ledger.create_subject([("phone", "+31612345678")], country="NL")
    ledger.record_consent(absorb, "testimonials", True, policy_version="2018-05-25")
    ledger.set_objection(absorb, "analytics")
    ledger.merge(keep, absorb)
    assert ledger.lookup("phone", "+31612345678") == keep
    state = ledger.state(keep)
    assert state.consents["testimonials"].granted and "analytics" in state.objections
    assert state.country == "NL"
    with pytest.raises(LedgerError, match="merged into"):
        ledger.state(absorb)
    assert tutela.resolve({"id": absorb}) is None
    with pytest.raises(LedgerError):
        ledger.merge(keep, keep)


def test_replay_equals_materialised_state(tutela: Tutela) -> None:
    ledger = tutela.ledger
    org = ledger.create_organisation("Org")
    a = ledger.create_subject([("email", "a@x.example")], organisation=org)
    b = ledger.create_subject([("email", "b@x.example")], birth_date=dt.date(2000, 1, 2))
    ledger.record_consent(a, "testimonials", True, policy_version="2018-05-25")
    ledger.record_consent(b, "testimonials", False, policy_version="2018-05-25")
    ledger.set_channel(b, "sms", True)
    ledger.set_restriction(b, True, "objection pending")
    ledger.set_organisation_purpose(org, "analytics", enabled=False)
    ledger.merge(a, b)
    # Streams that hold no one's state are passed over: staff views, published versions.
    ledger.record_view("dpo@x.example", a, "overview")
    tutela.publish()
    replayed = replay(tutela.engine)
    assert set(replayed) == {a}
    assert replayed[a] == ledger.state(a)


def test_audit_chain_verifies_and_names_tampering(tutela: Tutela) -> None:
    ledger = tutela.ledger
    sid = ledger.create_subject([("email", "e@example.nl")])
    for granted in (True, False, True):
        ledger.record_consent(sid, "testimonials", granted, policy_version="2018-05-25")
    assert list(ledger.verify()) == []
    target = ledger.history(sid)[2]
    with tutela.engine.begin() as conn:
        conn.execute(
            text("UPDATE events SET payload = :p WHERE id = :id"),
            {"p": json.dumps({"purpose": "testimonials", "granted": True}), "id": target.id},
        )
    (broken,) = list(ledger.verify())
    assert broken.event_id == target.id and "hash" in broken.problem


def test_deleted_last_event_is_noticed(tutela: Tutela) -> None:
    ledger = tutela.ledger
    sid = ledger.create_subject([("email", "f@example.nl")])
    ledger.record_consent(sid, "testimonials", True, policy_version="2018-05-25")
    last = ledger.history(sid)[-1]
    with tutela.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE id = :id"), {"id": last.id})
    (broken,) = list(ledger.verify())
    assert "missing" in broken.problem


def test_publish_versions(tutela: Tutela) -> None:
    published = tutela.publish()
    assert published.version == "2018-05-25"
    assert tutela.publish().policy_hash == published.policy_hash  # idempotent
    assert [v.version for v in tutela.published()] == ["2018-05-25"]
    with pytest.raises(TutelaError, match="no version"):
        tutela.publish("1999-01-01")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "a\x00b@example.se"),  # NUL byte: PostgreSQL would refuse it mid-query
        ("user_id", "x" * 321),  # longer than any identifier column
        ("custom:" + "n" * 40, "1"),  # identity kind name too long to store
        ("passport", "X1"),  # unknown kind
    ],
)
def test_bad_identifiers_are_refused_before_the_database(kind: str, value: str) -> None:
    with pytest.raises(IdentityError):
        normalise(kind, value)


def test_people_created_by_an_import_replay_like_any_other(tutela: Tutela) -> None:
    from tutela.ledger.store import ConsentEntry

    (result,) = tutela.ledger.record_consents(
        [
            ConsentEntry(
                purpose="testimonials",
                granted=True,
                policy_version="2018-05-25",
                identities=(("email", "imported@example.nl"),),
            )
        ]
    )
    assert isinstance(result, int)
    subject = tutela.ledger.lookup("email", "imported@example.nl")
    assert subject is not None
    assert replay(tutela.engine)[subject] == tutela.ledger.state(subject)
