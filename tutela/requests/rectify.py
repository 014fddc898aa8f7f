"""Rectification (Art. 16): corrections checked against the declared fields before anything runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tutela.errors import RequestError
from tutela.policy.model import DatasetField, Policy

__all__ = ["check_corrections", "find_field"]


def find_field(policy: Policy, name: str) -> tuple[str, str, DatasetField]:
    """Resolve ``collection.field`` (or ``dataset.collection.field``) to its declaration."""
    parts = name.split(".")
    candidates = []
    for dataset in policy.datasets:
        for collection in dataset.collections:
            for fld in collection.fields:
                if (len(parts) == 2 and parts == [collection.name, fld.name]) or (
                    len(parts) == 3 and parts == [dataset.name, collection.name, fld.name]
                ):
                    candidates.append((dataset.name, collection.name, fld))
    if not candidates:
        raise RequestError(f"no declared field {name!r} to correct")
    if len(candidates) > 1:
        raise RequestError(f"{name!r} is ambiguous; write dataset.collection.field")
    return candidates[0]


def _convert(fld: DatasetField, value: Any, name: str) -> Any:
    kind = fld.type or "string"
    wrong = RequestError(f"{name}: expected {kind}, got {type(value).__name__} {value!r}")
    if value is None:
        return None
    if kind in ("string", "text"):
        if not isinstance(value, str):
            raise wrong
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise wrong
        return value
    if kind in ("date", "datetime"):
        if not isinstance(value, str):
            raise wrong
        try:
            parsed = (
                dt.date.fromisoformat(value) if kind == "date" else dt.datetime.fromisoformat(value)
            )
        except ValueError:
            raise wrong from None
        return parsed.isoformat()
    return value  # json: any JSON value


def check_corrections(policy: Policy, corrections: Mapping[str, Any]) -> dict[str, Any]:
    """Every correction names a declared, personal, correctable field and has its type.

    Keys and references are not corrections: they identify rows rather than
    describe the person.
    """
    out: dict[str, Any] = {}
    for name, value in corrections.items():
        dataset, collection, fld = find_field(policy, name)
        if fld.primary_key or fld.references is not None:
            raise RequestError(f"{name} is a key or a reference and cannot be corrected")
        if not fld.personal:
            raise RequestError(f"{name} holds no personal data declared in the policy")
        out[f"{dataset}.{collection}.{fld.name}"] = _convert(fld, value, name)
    return out
