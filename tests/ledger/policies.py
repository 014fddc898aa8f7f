"""A policy that exercises every decision rule: consent with a material change, contract,
legitimate interest with marketing, a legal obligation, storage, signals and channels."""

from __future__ import annotations

from typing import Any

from tests.conftest import base_policy
from tutela.policy import Policy, loads


def rules_policy_data() -> dict[str, Any]:
    data = base_policy()
    data["promises"]["minimum_age"] = 13
    data["promises"]["global_privacy_control"] = "honoured"
    data["user_countries"] = ["SE", "NL", "FR"]
    data["purposes"] = {
        "provide_service": {
            "legal_basis": "contract",
            "data_use": "essential.service",
            "categories": ["user.contact", "user.name", "user.content"],
        },
        "newsletter": {
            "legal_basis": "consent",
            "channel": "email",
            "data_use": "marketing.communications.email",
            "categories": ["user.contact.email"],
            "consent": {"given_through": ["privacy_center"], "withdrawn_through": ["email_link"]},
        },
        "product_news": {
            "legal_basis": "legitimate_interest",
            "channel": "email",
            "data_use": "marketing.communications.email",
            "categories": ["user.contact.email"],
            "opt_out": ["email_link"],
        },
        "ads": {
            "legal_basis": "legitimate_interest",
            "targeted_advertising": True,
            "data_use": "marketing.advertising.third_party.targeted",
            "categories": ["user.device"],
            "opt_out": ["privacy_center"],
        },
        "analytics": {
            "legal_basis": "legitimate_interest",
            "administrator_can_disable": True,
            "data_use": "analytics.reporting",
            "categories": ["user.behavior"],
        },
        "bookkeeping": {
            "legal_basis": "legal_obligation",
            "data_use": "essential.legal_obligation",
            "categories": ["user.financial"],
        },
        "service_mail": {
            "legal_basis": "contract",
            "channel": "email",
            "marketing": False,
            "data_use": "essential.service.notifications",
            "categories": ["user.contact.email"],
        },
    }
    data["retention"] = [
        {"categories": ["user"], "trigger": "while_account_active", "duration": "P90D"}
    ]
    data["recipients"] = []
    data["versions"] = [
        {"id": "v1", "effective": "2024-01-01"},
        {
            "id": "v2",
            "effective": "2024-06-01",
            "material": True,
            "changed_purposes": ["newsletter"],
        },
        {"id": "v3", "effective": "2025-01-01"},
    ]
    return data


def rules_policy() -> Policy:
    import yaml

    return loads(yaml.safe_dump(rules_policy_data(), sort_keys=False), "rules.yaml")
