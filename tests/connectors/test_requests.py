"""Requests end to end: intake, routing, deadlines, the audit trail, and running them against
a product database on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import Engine, create_engine, text

from tests.conftest import ROOT
from tests.connectors.test_sql import KEY, seed, shop_policy
from tutela import Tutela
from tutela.errors import RequestError
from tutela.policy import Policy
from tutela.requests import Requests, RequestState, RequestType, Runner


@pytest.fixture
def setup(product_url: str, tmp_path: Path) -> Iterator[tuple[Tutela, Runner, Engine]]:
    policy = shop_policy()
    product = create_engine(product_url)
    seed(product, policy)
    with Tutela.open(
        policy=policy, database=f"sqlite:///{tmp_path / 'ledger.sqlite3'}", upgrade=True
    ) as tutela:
        tutela.ledger.create_subject([("email", "anna@example.se"), ("user_id", "1")])
        runner = Runner(
            tutela, connections={"app": product}, packages=tmp_path / "packages", pseudonym_key=KEY
        )
        yield tutela, runner, product
    product.dispose()


def test_access_package(setup: tuple[Tutela, Runner, Engine]) -> None:
    tutela, runner, _ = setup
    requests = Requests(tutela)
    request = requests.create(RequestType.access, ("email", "anna@example.se"), source="product")
    assert request.state is RequestState.approved
    done = runner.run(request.id)
    assert done.state is RequestState.completed
    assert done.result is not None and done.result["rows"] == {
        "app.users": 1,
        "app.posts": 1,
        "app.comments": 1,
        "app.invoices": 1,
    }
    assert "identity" not in done.details  # dropped once the request ended
    with zipfile.ZipFile(done.result["package"]) as archive:
        names = set(archive.namelist())
        assert {"data.json", "index.html", "app.users.csv", "app.invoices.csv"} <= names
        data = json.loads(archive.read("data.json"))
        # The documented schema holds for what we write.
        schema = json.loads((ROOT / "docs" / "access-package.schema.json").read_text())
        jsonschema.validate(data, schema)
        users = data["collections"]["app.users"]
        assert users["rows"] == [{"id": 1, "email": "ANNA@EXAMPLE.SE", "name": "Anna Söderberg"}]
        assert users["fields"]["email"]["categories"] == ["user.contact.email"]
        page = archive.read("index.html").decode()
        assert "Dina uppgifter hos Exempel AB" in page  # the policy's first language, Swedish
        csv_text = archive.read("app.invoices.csv").decode()
        assert "SE4550000000058398257466" in csv_text


def test_unknown_identity_completes_with_no_data(setup: tuple[Tutela, Runner, Engine]) -> None:
    tutela, runner, _ = setup
    request = Requests(tutela).create("access", ("email", "ghost@example.se"), source="product")
    assert request.subject is None
    done = runner.run(request.id)
    assert done.state is RequestState.completed and done.result is not None
    assert done.result["found"] is False
    with zipfile.ZipFile(done.result["package"]) as archive:
        data = json.loads(archive.read("data.json"))
    assert all(c["count"] == 0 for c in data["collections"].values())


def test_erasure_request(setup: tuple[Tutela, Runner, Engine]) -> None:
    tutela, runner, product = setup
    requests = Requests(tutela)
    request = requests.create("erasure", ("email", "anna@example.se"), source="product")
    done = runner.run(request.id)
    assert done.state is RequestState.completed and done.result is not None
    by_name = {c["collection"]: c for c in done.result["collections"]}
    assert by_name["users"]["rows_deleted"] == 1
    assert by_name["invoices"]["rows_kept"] == 1
    assert "Bokföringslagen" in by_name["invoices"]["kept_because"]
    state = tutela.ledger.state(done.subject or "")
    assert state.status.value == "erased" and state.restricted
    with product.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE id = 1")).scalar() == 0
    trail = [e["kind"] for e in requests.trail(request.id)]
    assert trail == ["request.received", "request.state", "request.state", "request.state"]
    assert list(tutela.ledger.verify()) == []


def test_rectification_checks_types_before_writing(setup: tuple[Tutela, Runner, Engine]) -> None:
    tutela, runner, product = setup
    requests = Requests(tutela)
    with pytest.raises(RequestError, match="expected string"):
        requests.create(
            "rectification",
            ("email", "anna@example.se"),
            source="product",
            details={"corrections": {"users.name": 42}},
        )
    with pytest.raises(RequestError, match="key or a reference"):
        requests.create(
            "rectification",
            ("email", "anna@example.se"),
            source="product",
            details={"corrections": {"posts.author_id": 2}},
        )
    assert requests.list() == []  # nothing was written
    request = requests.create(
        "rectification",
        ("email", "anna@example.se"),
        source="product",
        details={"corrections": {"users.name": "Anna Berg"}},
    )
    runner.run(request.id)
    with product.connect() as conn:
        assert conn.execute(text("SELECT name FROM users WHERE id = 1")).scalar() == "Anna Berg"
        assert conn.execute(text("SELECT name FROM users WHERE id = 2")).scalar() == "Bo Ek"


def test_ledger_requests(setup: tuple[Tutela, Runner, Engine]) -> None:
    tutela, runner, _ = setup
    requests = Requests(tutela)
    anna = ("email", "anna@example.se")
    runner.run(
        requests.create(
            "restriction", anna, source="product", details={"action": "start", "reason": "accuracy"}
        ).id
    )
    subject = tutela.resolve({"email": "anna@example.se"}) or ""
    assert tutela.ledger.state(subject).restricted
    runner.run(
        requests.create(
            "objection", anna, source="product", details={"purposes": ["direct_marketing"]}
        ).id
    )
    assert "direct_marketing" in tutela.ledger.state(subject).objections
    runner.run(
        requests.create(
            "consent_withdrawal", anna, source="product", details={"purposes": ["newsletter"]}
        ).id
    )
    assert tutela.ledger.state(subject).consents["newsletter"].granted is False
    with pytest.raises(RequestError, match="does not rest on consent"):
        requests.create(
            "consent_withdrawal", anna, source="product", details={"purposes": ["provide_service"]}
        )


def test_unverified_requests_wait_and_deadlines(setup: tuple[Tutela, Runner, Engine]) -> None:
    tutela, runner, _ = setup
    requests = Requests(tutela)
    received = dt.datetime(2026, 1, 31, 10, tzinfo=dt.UTC)
    request = requests.create(
        "access", ("email", "anna@example.se"), source="privacy_center", received_at=received
    )
    assert request.state is RequestState.verifying and request.due_on == dt.date(2026, 2, 28)
    with pytest.raises(RequestError, match="not approved"):
        runner.run(request.id)
    with pytest.raises(RequestError, match="within the first period"):
        requests.extend(request.id, "numerous requests", actor="dpo", today=dt.date(2026, 3, 1))
    longer = requests.extend(
        request.id, "numerous requests", actor="dpo", today=dt.date(2026, 2, 20)
    )
    assert longer.due_on == dt.date(2026, 4, 30) and longer.extension_reason == "numerous requests"
    with pytest.raises(RequestError, match="already extended"):
        requests.extend(request.id, "again", actor="dpo", today=dt.date(2026, 2, 21))
    verified = requests.mark_verified(request.id)
    assert verified.state is RequestState.approved
    with pytest.raises(RequestError, match="cannot become"):
        requests.transition(request.id, RequestState.completed)
    denied = requests.create("erasure", ("email", "bo@example.se"), source="product")
    with pytest.raises(RequestError, match="needs a reason"):
        requests.deny(denied.id, " ", actor="dpo")


def test_managed_accounts_wait_for_their_administrator(
    setup: tuple[Tutela, Runner, Engine],
) -> None:
    tutela, _, _ = setup
    ledger = tutela.ledger
    org = ledger.create_organisation("Acme")
    ledger.create_subject([("email", "member@acme.example")], organisation=org, managed=True)
    requests = Requests(tutela)
    request = requests.create("erasure", ("email", "member@acme.example"), source="product")
    assert request.state is RequestState.awaiting_administrator
    assert [r.id for r in requests.list(organisation=org)] == [request.id]
    denied = requests.deny(request.id, "the account holds team records", actor="admin@acme")
    assert denied.state is RequestState.denied and denied.reason


def test_old_packages_are_purged(tmp_path: Path) -> None:
    import os

    from tutela.requests.downloads import purge_packages

    old, new = tmp_path / "req_old.zip", tmp_path / "req_new.zip"
    for path in (old, new):
        path.write_bytes(b"PK")
    os.utime(old, (1_000_000, 1_000_000))
    assert purge_packages(tmp_path, days=30) == [old]
    assert not old.exists() and new.exists()


def test_learning_of_a_child_starts_erasure(setup: tuple[Tutela, Runner, Engine]) -> None:
    tutela, _, _ = setup
    requests = Requests(tutela)
    subject = tutela.resolve({"email": "anna@example.se"}) or ""
    today = dt.date(2026, 6, 1)
    tutela.ledger.update_subject(subject, birth_date=dt.date(1990, 1, 1))
    assert requests.erase_if_child(subject, today=today) is None  # an adult
    tutela.ledger.update_subject(subject, birth_date=dt.date(2014, 1, 1))  # twelve
    started = requests.erase_if_child(subject, today=today)
    assert started is not None and started.type is RequestType.erasure
    assert started.state is RequestState.approved and started.subject == subject
    assert requests.erase_if_child(subject, today=today) is None  # one is enough


@contextmanager
def _acme(tmp_path: Path, **rights: str) -> Iterator[tuple[Tutela, str]]:
    """The shop's policy with ``rights`` changed; a member of the organisation Acme (whose
    id comes second) and someone in no organisation."""
    data = shop_policy().model_dump(mode="json", exclude_none=True)
    data["rights"].update(rights)
    policy = Policy.model_validate(data)
    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    with Tutela.open(policy=policy, database=url, upgrade=True) as tutela:
        org = tutela.ledger.create_organisation("Acme")
        tutela.ledger.create_subject([("email", "m@acme.example")], organisation=org)
        tutela.ledger.create_subject([("email", "solo@example.se")])
        yield tutela, org


def test_erasure_through_the_administrator(tmp_path: Path) -> None:
    """Where the policy routes erasure through the administrator (Kitameraki), a member's
    erasure waits for the organisation's administrator even if the account is not managed."""
    with _acme(tmp_path, erasure="via_administrator") as (tutela, _):
        requests = Requests(tutela)
        member = requests.create("erasure", ("email", "m@acme.example"), source="product")
        assert member.state is RequestState.awaiting_administrator
        approved = requests.approve(member.id, actor="admin@acme.example")
        assert approved.state is RequestState.approved
        # Someone in no organisation has no administrator to wait for.
        solo = requests.create("erasure", ("email", "solo@example.se"), source="product")
        assert solo.state is RequestState.approved
        # A copy of the data goes straight to the person: the policy routes only erasure.
        copy = requests.create("access", ("email", "m@acme.example"), source="product")
        assert copy.state is RequestState.approved


def test_access_through_the_administrator(tmp_path: Path) -> None:
    """Where the policy routes access through the administrator (Kitameraki's "administrator
    first"), a member's copy of the data, access or portability, waits for the
    organisation's administrator; someone in no organisation gets it at once."""
    with _acme(tmp_path, access="via_administrator") as (tutela, org):
        requests = Requests(tutela)
        for kind in ("access", "portability"):
            member = requests.create(kind, ("email", "m@acme.example"), source="product")
            assert member.state is RequestState.awaiting_administrator, kind
            assert member.id in [r.id for r in requests.list(organisation=org)]
            solo = requests.create(kind, ("email", "solo@example.se"), source="product")
            assert solo.state is RequestState.approved, kind
        approved = requests.approve(member.id, actor="admin@acme.example")
        assert approved.state is RequestState.approved
        # Erasure follows its own route (on request here), so it does not wait.
        erasure = requests.create("erasure", ("email", "m@acme.example"), source="product")
        assert erasure.state is RequestState.approved
