"""docs/http-api.md documents every route the app serves."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import ROOT


def test_every_route_is_documented(client: TestClient) -> None:
    page = (ROOT / "docs" / "http-api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `(GET|POST|PATCH|PUT|DELETE) (\S+)`", page, re.M))
    schema = client.get("/openapi.json").json()
    served = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    assert served == documented
