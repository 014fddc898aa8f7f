"""Shared fixtures: a small, clean policy to vary in tests, and helpers to load it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

BASE_POLICY: dict[str, Any] = {
    "tutela": 1,
    "organisation": {
        "name": "Exempel AB",
        "country": "SE",
        "contact": {"email": "privacy@exempel.se"},
        "languages": ["sv", "en"],
    },
    "jurisdictions": ["eu-gdpr"],
    "user_countries": ["SE"],
    "promises": {
        "minimum_age": 16,
        "sells_personal_data": False,
        "international_transfers": "allowed",
        "do_not_track": "ignored",
        "global_privacy_control": "honoured",
        "cookies": "persistent",
    },
    "purposes": {
        "provide_service": {
            "legal_basis": "contract",
            "data_use": "essential.service",
            "categories": ["user.contact.email", "user.name", "user.content"],
        },
        "newsletter": {
            "legal_basis": "consent",
            "data_use": "marketing.communications.email",
            "channel": "email",
            "categories": ["user.contact.email"],
            "consent": {
                "given_through": ["privacy_center"],
                "withdrawn_through": ["privacy_center", "email_link"],
            },
        },
    },
    "retention": [
        {
            "categories": ["user.contact", "user.name", "user.content"],
            "trigger": "while_account_active",
            "duration": "P90D",
            "action": "delete",
        }
    ],
    "recipients": [
        {
            "name": "Hosting AB",
            "role": "processor",
            "service": "hosting",
            "countries": ["SE"],
            "purposes": ["provide_service"],
            # It hosts the company's own databases, which requests reach directly.
            "requests": "none",
        }
    ],
    "rights": {"erasure": "self_service"},
    "datasets": [
        {
            "name": "app",
            "connection": "APP_DATABASE_URL",
            "collections": [
                {
                    "name": "users",
                    "fields": [
                        {"name": "id", "primary_key": True, "identity": "user_id"},
                        {
                            "name": "email",
                            "identity": "email",
                            "categories": ["user.contact.email"],
                        },
                        {"name": "display_name", "categories": ["user.name"]},
                    ],
                },
                {
                    "name": "comments",
                    "erase": "mask",
                    "fields": [
                        {"name": "id", "primary_key": True},
                        {"name": "author_id", "references": "users.id", "erase": "null"},
                        {
                            "name": "body",
                            "categories": ["user.content"],
                            "erase": "scrub_subject",
                            "free_text": True,
                        },
                    ],
                },
            ],
        }
    ],
    "versions": [{"id": "2024-01", "effective": "2024-01-01"}],
}


def base_policy() -> dict[str, Any]:
    """A fresh deep copy of the clean base policy, to change in one test."""
    return copy.deepcopy(BASE_POLICY)


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[[Any], Path]:
    """Write a dict (as YAML) or text to ``policy.yaml`` in a temporary folder."""

    def write(content: Any, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
        return path

    return write
