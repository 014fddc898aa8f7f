"""Retention sweeps planned from the policy alone: which rule governs each field, when its
period ends, and whether rows go or only fields are cleared."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, base_policy
from tutela.plan import plan_erasure
from tutela.plan.retention import SweepStep, plan_sweep, subtract
from tutela.policy import Policy, load, loads

NOW = dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC)

F = dict[str, Any]


def _field(name: str, *categories: str, **more: Any) -> F:
    return {"name": name, "categories": list(categories), **more}


SHOP_COLLECTIONS: list[F] = [
    {
        "name": "web_hits",
        "fields": [
            {"name": "id", "primary_key": True},
            {"name": "user_id", "references": "users.id"},
            _field("cookie", "user.device.cookie_id"),
            _field("ip", "user.device.ip_address", erase={"replace": "0.0.0.0"}),
            {"name": "seen_at", "timestamp": "created", "type": "datetime"},
        ],
    },
    {
        "name": "visits",
        "fields": [
            {"name": "id", "primary_key": True},
            {"name": "user_id", "references": "users.id"},
            _field("visitor_name", "user.name"),
            _field("ip", "user.device.ip_address", erase={"replace": "0.0.0.0"}),
            {"name": "seen_at", "timestamp": "created", "type": "datetime"},
        ],
    },
    {
        "name": "invoices",
        "fields": [
            {"name": "id", "primary_key": True},
            {"name": "user_id", "references": "users.id"},
            _field("billing_name", "user.name", "user.financial.invoice"),
            _field("amount", "user.financial.invoice", type="integer"),
            {"name": "issued_at", "timestamp": "created", "type": "datetime"},
        ],
    },
    {
        "name": "newsletter",
        "fields": [
            {"name": "id", "primary_key": True},
            _field("address", "user.contact.email", identity="email"),
            _field("topics", "user.privacy_preferences"),
            {"name": "last_opened_at", "timestamp": "last_activity", "type": "datetime"},
        ],
    },
    {
        "name": "notes",
        "fields": [
            {"name": "id", "primary_key": True},
            {"name": "user_id", "references": "users.id"},
            _field("cookie", "user.device.cookie_id"),
        ],
    },
]

SHOP_RETENTION: list[F] = [
    {"name": "devices", "categories": ["user.device"], "trigger": "since_collected",
     "duration": "P13M", "action": "delete"},
    {"name": "fiscal", "categories": ["user.financial.invoice"], "trigger": "since_collected",
     "duration": "P5Y", "action": "delete",
     "legal_hold": {"law": "Bokföringslagen 7 kap. 2 §", "duration": "P7Y"}},
    {"name": "marketing", "categories": ["user.privacy_preferences"],
     "trigger": "since_last_activity", "duration": "P2Y", "action": "anonymize"},
]  # fmt: skip


def shop_data() -> dict[str, Any]:
    """The base policy with collections that exercise every case; its users record
    when their account closed."""
    data = base_policy()
    data["retention"].extend(SHOP_RETENTION)
    collections = data["datasets"][0]["collections"]
    collections[0]["fields"].append(
        {"name": "closed_at", "timestamp": "closed", "type": "datetime"}
    )
    collections.extend(SHOP_COLLECTIONS)
    return data


def shop_policy() -> Policy:
    """:func:`shop_data` loaded."""
    return loads(yaml.safe_dump(shop_data(), sort_keys=False), "shop.yaml")


def _steps(policy: Policy) -> dict[str, SweepStep]:
    return {s.collection: s for s in plan_sweep(policy, NOW).steps}


def test_a_collection_wholly_past_its_period_loses_its_rows() -> None:
    hits = _steps(shop_policy())["web_hits"]
    assert hits.delete_rows and hits.clear == ()
    assert (hits.clock, hits.rules) == ("seen_at", ("devices",))
    assert hits.cutoff == dt.datetime(2025, 2, 28, 12, 0, tzinfo=dt.UTC)  # 13 months back


def test_fields_a_longer_rule_keeps_stay_and_the_rest_are_cleared() -> None:
    visits = _steps(shop_policy())["visits"]
    # The visitor's name is account data (kept while the account is active): only the
    # address goes, to its replacement value.
    assert not visits.delete_rows
    assert visits.clear == (("ip", "0.0.0.0"),)


def test_the_most_specific_rule_governs_and_a_legal_hold_lengthens_it() -> None:
    invoices = _steps(shop_policy())["invoices"]
    # billing_name is user.name (account data) and user.financial.invoice: the invoice
    # rule is the more specific; its five years become the law's seven.
    assert invoices.delete_rows
    assert invoices.cutoff == dt.datetime(2019, 3, 31, 12, 0, tzinfo=dt.UTC)
    assert invoices.rules == ("fiscal",)


def test_anonymize_clears_fields_by_the_last_activity_clock() -> None:
    newsletter = _steps(shop_policy())["newsletter"]
    assert (newsletter.clock, newsletter.delete_rows) == ("last_opened_at", False)
    assert newsletter.clear == (("topics", None),)
    assert newsletter.cutoff == dt.datetime(2024, 3, 31, 12, 0, tzinfo=dt.UTC)


def test_what_cannot_be_swept_says_why() -> None:
    plan = plan_sweep(shop_policy(), NOW)
    assert "notes" not in {s.collection for s in plan.steps}
    reasons = {(k.rule, k.why) for k in plan.kept}
    assert ("devices", "app.notes has no created timestamp field") in reasons
    # Without a record of when accounts closed, an account-lifetime rule is kept.
    data = shop_data()
    data["datasets"][0]["collections"][0]["fields"].pop()
    unclosed = plan_sweep(loads(yaml.safe_dump(data, sort_keys=False), "shop.yaml"), NOW)
    assert unclosed.account_ends == ()
    assert any("while_account_active" not in k.why and "closed" in k.why for k in unclosed.kept)


def test_accounts_closed_longer_than_their_period_are_found() -> None:
    plan = plan_sweep(shop_policy(), NOW)
    (end,) = plan.account_ends
    # The users collection is the accounts one: its primary key is an identity.
    assert (end.collection, end.closed, end.identity, end.kind) == (
        "users",
        "closed_at",
        "email",
        "email",
    )
    assert end.cutoff == dt.datetime(2025, 12, 31, 12, 0, tzinfo=dt.UTC)  # 90 days back
    assert end.rules == ("user.contact, user.name, user.content",)


def test_two_rules_of_equal_weight_sweep_only_if_both_are_timed() -> None:
    data = shop_data()
    data["retention"].append(
        {"name": "profiling", "categories": ["user.device"], "trigger": "until_deleted_by_user"}
    )
    policy = loads(yaml.safe_dump(data, sort_keys=False), "shop.yaml")
    steps = _steps(policy)
    assert "web_hits" not in steps and "visits" not in steps
    assert "invoices" in steps


@pytest.mark.parametrize(
    ("moment", "duration", "expected"),
    [
        (dt.datetime(2026, 3, 31), "P1M", dt.datetime(2026, 2, 28)),
        (dt.datetime(2024, 2, 29), "P1Y", dt.datetime(2023, 2, 28)),
        (dt.datetime(2026, 1, 15), "P13M", dt.datetime(2024, 12, 15)),
        (dt.datetime(2026, 1, 15, 6), "P1DT12H", dt.datetime(2026, 1, 13, 18)),
        (dt.datetime(2026, 1, 15), "P2W", dt.datetime(2026, 1, 1)),
    ],
)
def test_periods_count_back_on_the_calendar(
    moment: dt.datetime, duration: str, expected: dt.datetime
) -> None:
    assert subtract(moment, duration) == expected


@pytest.mark.parametrize(
    "name", ["leetcom", "intensive-code", "clever-leap", "james-pro", "kitameraki"]
)
def test_every_example_plans_a_sweep_with_reasons(name: str) -> None:
    policy = load(Path(EXAMPLES) / name / "policy.yaml")
    plan = plan_sweep(policy, NOW)
    timed = [r for r in policy.retention if r.trigger.value.startswith("since_")]
    # Every step carries out a timed rule; every other rule is accounted for.
    assert plan.steps and all(set(s.rules) <= {r.name for r in timed} for s in plan.steps)
    untimed = {r.name for r in policy.retention} - {r.name for r in timed}
    ending = {rule for end in plan.account_ends for rule in end.rules}
    assert untimed <= {k.rule for k in plan.kept} | ending


def test_usage_outlives_the_account_without_who_it_was() -> None:
    # Kitameraki keeps usage for improvement with identifiers removed: 90 days after an
    # account closes the sweep starts its erasure, and erasure masks the usage events
    # (the person's link nulled, the event kept) instead of deleting them.
    policy = load(Path(EXAMPLES) / "kitameraki" / "policy.yaml")
    (end,) = plan_sweep(policy, NOW).account_ends
    assert (end.collection, end.closed) == ("users", "deactivated_at")
    assert "usage-anonymised" in end.rules
    usage = next(s for s in plan_erasure(policy).steps if s.read.node == ("tenant", "usage_events"))
    assert usage.action == "mask"
    assert {(f.field, f.strategy) for f in usage.fields} >= {("user_id", "null")}
    assert "event" not in {f.field for f in usage.fields if f.strategy != "keep"}
