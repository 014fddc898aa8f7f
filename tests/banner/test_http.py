"""The banner's routes over a real (SQLite) ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import ROOT
from tutela import Tutela
from tutela.api.banner import MAX_CONSENT_BYTES, RateLimiter
from tutela.banner import VISITOR_KIND
from tutela.decide import Signals


def post_choices(client: TestClient, body: dict[str, Any], **headers: str) -> Response:
    # As the script sends it: JSON in a text/plain body, so browsers skip the preflight.
    return client.post(
        "/v1/banner/consents",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", **headers},
    )


def test_script_is_served_cacheable(client: TestClient) -> None:
    answer = client.get("/banner.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/javascript")
    assert "max-age" in answer.headers["cache-control"]
    assert answer.content == (ROOT / "tutela" / "web" / "banner.js").read_bytes()
    again = client.get("/banner.js", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and not again.content


def test_config_is_public(client: TestClient) -> None:
    answer = client.get("/v1/banner/config")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    config = answer.json()
    assert {c["purpose"] for c in config["categories"]} == {"analytics", "advertising"}
    assert [c["purpose"] for c in config["always_on"]] == ["provide_service"]
    assert config["gpc"]["signal"] is False and config["version"] == "2025-01"
    assert client.get("/v1/banner/config", params={"since": "2024-01"}).json()["ask_again"]


def test_config_with_gpc_marks_advertising_off(client: TestClient) -> None:
    config = client.get("/v1/banner/config", headers={"Sec-GPC": "1"}).json()
    assert config["gpc"] == {"honoured": True, "signal": True, "purposes": ["advertising"]}
    off = {c["purpose"] for c in config["categories"] if c["gpc"]}
    assert off == {"advertising"}


def test_consent_is_recorded_under_the_visitor(client: TestClient, tutela: Tutela) -> None:
    answer = post_choices(client, {"choices": {"analytics": True, "advertising": False}})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    visitor = body["visitor_id"]
    assert body["policy_version"] == "2025-01"
    subject = tutela.ledger.lookup(VISITOR_KIND, visitor)
    assert subject is not None
    assert tutela.ledger.identities(subject) == [(VISITOR_KIND, visitor)]
    state = tutela.ledger.state(subject)
    assert state.consents["analytics"].granted and not state.consents["advertising"].granted
    assert state.consents["analytics"].policy_version == "2025-01"
    assert tutela.decide(subject, "analytics").allowed
    consent = next(e for e in tutela.ledger.history(subject) if e.kind == "consent")
    assert consent.payload["source"] == "web"
    assert consent.payload["channel"] == "cookie_banner"

    # The same visitor changes their mind: recorded for the same subject.
    again = post_choices(client, {"visitor_id": visitor, "choices": {"analytics": False}})
    assert again.json()["visitor_id"] == visitor
    assert not tutela.decide(subject, "analytics").allowed


def test_an_unknown_visitor_id_gets_a_fresh_one(client: TestClient, tutela: Tutela) -> None:
    made_up = "v_" + "0" * 32
    answer = post_choices(client, {"visitor_id": made_up, "choices": {"analytics": True}})
    assert answer.status_code == 201
    assert answer.json()["visitor_id"] != made_up
    assert tutela.ledger.lookup(VISITOR_KIND, made_up) is None


def test_bad_purposes_are_refused_and_nothing_written(client: TestClient, tutela: Tutela) -> None:
    before = tutela.ledger.count_subjects()
    for choices in (
        {"analytics": True, "newsletter": True},  # not asked by the banner
        {"provide_service": False},  # strictly necessary
        {"no_such_purpose": True},
        {},
    ):
        answer = post_choices(client, {"choices": choices})
        assert 400 <= answer.status_code < 500, answer.text
    for body in ({"choices": {"analytics": "yes please"}}, {"choices": [], "x": 1}):
        assert post_choices(client, body).status_code == 422
    assert client.post("/v1/banner/consents", content=b"not json").status_code == 422
    assert tutela.ledger.count_subjects() == before


def test_outdated_banner_is_refused(client: TestClient, tutela: Tutela) -> None:
    before = tutela.ledger.count_subjects()
    answer = post_choices(client, {"choices": {"analytics": True}, "policy_version": "2024-01"})
    assert answer.status_code == 409
    assert tutela.ledger.count_subjects() == before


def test_size_limit(client: TestClient, tutela: Tutela) -> None:
    before = tutela.ledger.count_subjects()
    padding = "x" * MAX_CONSENT_BYTES
    answer = post_choices(client, {"choices": {"analytics": True}, "visitor_id": padding})
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"
    assert tutela.ledger.count_subjects() == before


def test_rate_limited_per_address(client: TestClient) -> None:
    now = [0.0]
    client.app.state.banner_limiter = RateLimiter(rate=1.0, burst=3, clock=lambda: now[0])  # type: ignore[attr-defined]
    codes = [post_choices(client, {"choices": {"analytics": True}}).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    now[0] += 1.0
    assert post_choices(client, {"choices": {"analytics": True}}).status_code == 201


def test_rate_limiter_forgets_the_idlest() -> None:
    limiter = RateLimiter(rate=0.0, burst=1, max_clients=2, clock=lambda: 0.0)
    assert limiter.allow("a") and limiter.allow("b") and not limiter.allow("a")
    assert limiter.allow("c")  # "b" is forgotten now, as the idlest
    assert limiter.allow("b")


def test_linking_merges_into_the_person(
    client: TestClient, tutela: Tutela, make_token: Callable[..., str]
) -> None:
    visitor = post_choices(client, {"choices": {"analytics": True, "advertising": True}}).json()[
        "visitor_id"
    ]
    anonymous = tutela.ledger.lookup(VISITOR_KIND, visitor)
    person = tutela.ledger.create_subject([("email", "anna@example.se")])
    assert not tutela.decide(person, "analytics").allowed

    # Linking needs a key with subjects:write.
    body = {"visitor_id": visitor, "subject": {"email": "anna@example.se"}}
    assert client.post("/v1/banner/link", json=body).status_code == 401
    weak = make_token("subjects:read")
    answer = client.post("/v1/banner/link", json=body, headers={"Authorization": f"Bearer {weak}"})
    assert answer.status_code == 403

    auth = {"Authorization": f"Bearer {make_token('subjects:write')}"}
    answer = client.post("/v1/banner/link", json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"subject": person, "merged": True}
    assert tutela.decide(person, "analytics").allowed
    assert tutela.decide(person, "advertising").allowed
    assert tutela.ledger.lookup(VISITOR_KIND, visitor) == person
    assert anonymous != person

    # With GPC, advertising is denied for the person, analytics is not.
    gpc = Signals.from_headers({"Sec-GPC": "1"})
    decision = tutela.decide(person, "advertising", signals=gpc)
    assert not decision.allowed and "gpc_opt_out" in [r.value for r in decision.reasons]
    assert tutela.decide(person, "analytics", signals=gpc).allowed

    # Later banner choices of the same browser are the person's.
    post_choices(client, {"visitor_id": visitor, "choices": {"analytics": False}})
    assert not tutela.decide(person, "analytics").allowed

    # Linking again is a no-op; linking the same browser to someone else is refused.
    assert client.post("/v1/banner/link", json=body, headers=auth).json()["merged"] is False
    tutela.ledger.create_subject([("email", "bo@example.se")])
    other = {"visitor_id": visitor, "subject": {"email": "bo@example.se"}}
    assert client.post("/v1/banner/link", json=other, headers=auth).status_code == 409


def test_gpc_header_records_advertising_refused(client: TestClient, tutela: Tutela) -> None:
    answer = post_choices(
        client, {"choices": {"analytics": True, "advertising": True}}, **{"Sec-GPC": "1"}
    )
    assert answer.json()["choices"] == {"analytics": True, "advertising": False}
    subject = tutela.ledger.lookup(VISITOR_KIND, answer.json()["visitor_id"])
    assert subject is not None
    assert not tutela.decide(subject, "advertising").allowed
    assert tutela.decide(subject, "analytics").allowed


def test_linking_a_visitor_without_choices_attaches_the_id(
    client: TestClient, tutela: Tutela, make_token: Callable[..., str]
) -> None:
    person = tutela.ledger.create_subject([("user_id", "42")])
    visitor = "v_" + "a" * 32
    auth = {"Authorization": f"Bearer {make_token('subjects:write')}"}
    body = {"visitor_id": visitor, "subject": {"user_id": "42"}}
    answer = client.post("/v1/banner/link", json=body, headers=auth)
    assert answer.json() == {"subject": person, "merged": False}
    post_choices(client, {"visitor_id": visitor, "choices": {"analytics": True}})
    assert tutela.decide(person, "analytics").allowed
    missing = {"visitor_id": visitor, "subject": {"user_id": "nobody"}}
    assert client.post("/v1/banner/link", json=missing, headers=auth).status_code == 404
    bad = {"visitor_id": "not-an-id", "subject": {"user_id": "42"}}
    assert client.post("/v1/banner/link", json=bad, headers=auth).status_code == 400


def test_gpc_json(client: TestClient) -> None:
    answer = client.get("/.well-known/gpc.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {"gpc": True, "lastUpdate": "2025-01-01"}
