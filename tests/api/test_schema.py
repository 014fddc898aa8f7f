"""The app against its own OpenAPI schema: generated requests never get a 5xx, and every
response matches what the schema documents. Bounded, so it runs in the normal suite.

Each operation gets its own Hypothesis run over the session's ledger (SQLite and
PostgreSQL), authenticated with an admin key so requests get past the key check.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import EXAMPLE
from tutela import Tutela
from tutela.api import ApiSettings, create_app
from tutela.ledger.database import open_engine
from tutela.policy import load

MAX_EXAMPLES = int(os.environ.get("TUTELA_SCHEMA_EXAMPLES", "30"))


def _operations() -> list[str]:
    # The schema does not depend on the database, so a throwaway app lists the operations.
    app = create_app(Tutela(load(EXAMPLE), open_engine("sqlite://")), settings=ApiSettings())
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return sorted(op.ok().label for op in schema.get_all_operations())


@pytest.mark.slow
@pytest.mark.parametrize("label", _operations())
def test_operation_conforms(label: str, app: FastAPI, admin_headers: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    (operation,) = [op.ok() for op in schema.get_all_operations() if op.ok().label == label]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize="TUTELA_SCHEMA_EXAMPLES" not in os.environ,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            headers=admin_headers, checks=[not_a_server_error, response_schema_conformance]
        )

    run()
