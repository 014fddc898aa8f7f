"""Benchmark: load and lint a generated policy with 2,000 collections and 20,000 fields.

Prints one JSON record per line: {"name", "value", "unit", "cores"}.
Goal: check_20k_fields_s under 2 s.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tutela.policy import read
from tutela.policy.lint import lint

COLLECTIONS = 2_000
FIELDS_PER_COLLECTION = 10
CATEGORIES = [
    "user.contact.email",
    "user.name",
    "user.content",
    "user.device.ip_address",
    "user.behavior",
    "user.account",
]


def generate() -> dict[str, Any]:
    """A policy whose size is dominated by its datasets, as in a large product."""
    datasets = []
    per_dataset = 100
    for d in range(COLLECTIONS // per_dataset):
        collections: list[dict[str, Any]] = [
            {
                "name": "users",
                "fields": [
                    {"name": "id", "primary_key": True, "identity": "user_id"},
                    {"name": "email", "identity": "email", "categories": ["user.contact.email"]},
                ]
                + [
                    {"name": f"attr_{k}", "categories": [CATEGORIES[k % len(CATEGORIES)]]}
                    for k in range(FIELDS_PER_COLLECTION - 2)
                ],
            }
        ]
        for c in range(1, per_dataset):
            fields: list[dict[str, Any]] = [
                {"name": "id", "primary_key": True},
                {"name": "user_id", "references": "users.id"},
            ]
            for k in range(FIELDS_PER_COLLECTION - 2):
                name = (
                    f"column_{k}" if k % 4 else f"phone_number_{k}"
                )  # every fourth looks personal
                field: dict[str, Any] = {"name": name, "type": "string"}
                if k % 4:
                    field["categories"] = [CATEGORIES[(c + k) % len(CATEGORIES)]]
                fields.append(field)
            collections.append({"name": f"table_{c}", "erase": "delete", "fields": fields})
        datasets.append(
            {"name": f"db_{d}", "connection": f"DB_{d}_URL", "collections": collections}
        )
    return {
        "tutela": 1,
        "organisation": {"name": "Bench AB", "country": "SE", "contact": {"email": "p@b.se"}},
        "jurisdictions": ["eu-gdpr"],
        "purposes": {
            "provide_service": {"legal_basis": "contract", "categories": CATEGORIES},
        },
        "retention": [
            {"categories": ["user"], "trigger": "while_account_active", "duration": "P30D"}
        ],
        "datasets": datasets,
    }


def main() -> None:
    cores = os.cpu_count() or 1
    data = generate()
    fields = sum(len(c["fields"]) for d in data["datasets"] for c in d["collections"])
    collections = sum(len(d["collections"]) for d in data["datasets"])
    assert collections == COLLECTIONS and fields == COLLECTIONS * FIELDS_PER_COLLECTION
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, width=200), encoding="utf-8")
        size_mb = path.stat().st_size / 1e6
        loads, lints, totals = [], [], []
        findings = 0
        for _ in range(5):
            t0 = time.perf_counter()
            document = read(path)
            t1 = time.perf_counter()
            findings = len(lint(document))
            t2 = time.perf_counter()
            loads.append(t1 - t0)
            lints.append(t2 - t1)
            totals.append(t2 - t0)
    records = [
        ("check_20k_fields_s", statistics.median(totals), "s"),
        ("load_20k_fields_s", statistics.median(loads), "s"),
        ("lint_20k_fields_s", statistics.median(lints), "s"),
        ("policy_20k_fields_mb", size_mb, "MB"),
        ("findings_20k_fields", findings, "findings"),
    ]
    for name, value, unit in records:
        print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, "cores": cores}))


if __name__ == "__main__":
    main()
