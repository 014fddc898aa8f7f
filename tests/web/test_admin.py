"""The admin console: staff and organisation administrators sign in by code, roles are
enforced, requests are decided with reasons, every view of a person is recorded, and
the reports (Art. 30 records, data map, metrics) say what the policy says."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.requests.conftest import SECRET, Inbox
from tests.web.conftest import ANNA, BERIT, center_app, center_policy, code_in, csrf_of
from tutela import Tutela
from tutela.api import create_app
from tutela.api.settings import ApiSettings
from tutela.ledger import tables as t
from tutela.requests.model import RequestState
from tutela.requests.service import Requests
from tutela.web.admin import Role, parse_staff

CECILIA = "cecilia@acme.example"  # administers Acme, whose member Anna is
STAFF = "dpo@exempel.se:admin,ops@exempel.se:operator,look@exempel.se:viewer,ok@exempel.se:approver"


@pytest.fixture
def setup(tutela: Tutela, env: Inbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Acme (Anna, administered by Cecilia) and Bolag (Berit), each with an erasure waiting."""
    monkeypatch.setenv("TUTELA_STAFF", STAFF)
    ledger = tutela.ledger
    acme, bolag = ledger.create_organisation("Acme"), ledger.create_organisation("Bolag")
    anna = tutela.resolve({"email": ANNA}) or ""
    berit = tutela.resolve({"email": BERIT}) or ""
    cecilia = ledger.create_subject([("email", CECILIA)])
    ledger.set_membership(anna, acme, managed=True)
    ledger.set_membership(berit, bolag, managed=True)
    ledger.add_administrator(acme, cecilia)
    requests = Requests(tutela)
    mine = requests.create("erasure", ("email", ANNA), source="product")
    theirs = requests.create("erasure", ("email", BERIT), source="product")
    assert mine.state is theirs.state is RequestState.awaiting_administrator
    return {"anna": anna, "mine": mine.id, "theirs": theirs.id, "acme": acme}


@pytest.fixture
def console(tutela: Tutela, setup: dict[str, str]) -> Iterator[TestClient]:
    """A browser-like client of the whole app over HTTPS."""
    with TestClient(center_app(tutela), base_url="https://testserver") as client:
        yield client


def admin_sign_in(client: TestClient, inbox: Inbox, email: str) -> None:
    """Sign in to the console by a mailed code."""
    page = client.get("/admin/login")
    sent = client.post("/admin/login", data={"csrf": csrf_of(page.text), "email": email})
    assert sent.status_code == 200, sent.text
    answer = client.post(
        "/admin/login/code",
        data={"csrf": csrf_of(sent.text), "email": email, "code": code_in(inbox)},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/"


def post(client: TestClient, url: str, **data: str) -> int:
    """POST a console form with the session's CSRF token; the status code."""
    token = csrf_of(client.get("/admin/").text)
    return client.post(url, data={"csrf": token, **data}, follow_redirects=False).status_code


def test_staff_list_is_parsed() -> None:
    assert parse_staff(" a@x.se:admin, b@x.se:viewer ,") == {
        "a@x.se": Role.admin,
        "b@x.se": Role.viewer,
    }
    with pytest.raises(ValueError, match="not address:role"):
        parse_staff("a@x.se:owner")


def test_only_staff_and_administrators_get_a_code(console: TestClient, env: Inbox) -> None:
    page = console.get("/admin/login")
    answer = console.post("/admin/login", data={"csrf": csrf_of(page.text), "email": BERIT})
    # The same page as for staff, and no mail: nobody learns who is staff.
    assert answer.status_code == 200 and "Enter your code" in answer.text
    assert env.messages == []
    assert console.get("/admin/", follow_redirects=False).headers["location"] == "/admin/login"
    admin_sign_in(console, env, CECILIA)
    # The console's cookie is its own, and the privacy center's does not sign in here.
    cookie = next(c for c in console.cookies.jar if c.name == "tutela_admin")
    assert cookie.path == "/admin" and cookie.secure
    assert console.get("/admin/").headers["content-security-policy"].startswith("default-src")


def test_queue_is_ordered_by_due_date_and_marks_overdue(
    console: TestClient, env: Inbox, tutela: Tutela, setup: dict[str, str]
) -> None:
    with tutela.engine.begin() as conn:
        conn.execute(
            update(t.requests)
            .where(t.requests.c.public_id == setup["theirs"])
            .values(due_on=dt.date.today() - dt.timedelta(days=3))
        )
    admin_sign_in(console, env, "look@exempel.se")
    page = console.get("/admin/").text
    ids = re.findall(r'href="/admin/requests/(req_[a-z0-9]+)"', page)
    assert ids == [setup["theirs"], setup["mine"]]
    assert page.count('class="overdue"') == 1 and "overdue</strong>" in page


def test_roles_are_enforced(console: TestClient, env: Inbox, setup: dict[str, str]) -> None:
    admin_sign_in(console, env, "look@exempel.se")  # a viewer reads, and that is all
    assert console.get(f"/admin/requests/{setup['mine']}").status_code == 200
    assert console.get("/admin/records").status_code == 200
    for forbidden in ("/admin/subjects", "/admin/audit", "/admin/tasks"):
        assert console.get(forbidden).status_code == 403, forbidden
    assert post(console, f"/admin/requests/{setup['mine']}/approve") == 403
    assert post(console, f"/admin/requests/{setup['mine']}/extend", reason="busy") == 403

    admin_sign_in(console, env, "ops@exempel.se")  # an operator extends, does not decide
    assert post(console, f"/admin/requests/{setup['mine']}/approve") == 403
    assert console.get("/admin/audit").status_code == 403
    assert post(console, f"/admin/requests/{setup['mine']}/extend", reason="many systems") == 303


def test_an_administrator_sees_only_their_organisation(
    console: TestClient, env: Inbox, tutela: Tutela, setup: dict[str, str]
) -> None:
    admin_sign_in(console, env, CECILIA)
    page = console.get("/admin/").text
    assert setup["mine"] in page and setup["theirs"] not in page
    # Another organisation's request answers like one that does not exist, and stays put.
    assert console.get(f"/admin/requests/{setup['theirs']}").status_code == 404
    assert post(console, f"/admin/requests/{setup['theirs']}/approve") == 404
    assert post(console, f"/admin/requests/{setup['theirs']}/deny", reason="no") == 404
    theirs = Requests(tutela).get(setup["theirs"])
    assert theirs.state is RequestState.awaiting_administrator
    # Reports on the whole company and lookups are staff's.
    for forbidden in ("/admin/records", "/admin/metrics", "/admin/subjects", "/admin/map"):
        assert console.get(forbidden).status_code == 403, forbidden


def test_approve_deny_and_extend_with_reasons(
    console: TestClient, env: Inbox, tutela: Tutela, setup: dict[str, str]
) -> None:
    admin_sign_in(console, env, "dpo@exempel.se")
    requests = Requests(tutela)
    assert post(console, f"/admin/requests/{setup['theirs']}/deny", reason=" ") == 409
    assert post(console, f"/admin/requests/{setup['theirs']}/deny", reason="team records") == 303
    denied = requests.get(setup["theirs"])
    assert denied.state is RequestState.denied and denied.reason == "team records"

    assert post(console, f"/admin/requests/{setup['mine']}/extend", reason="many systems") == 303
    assert requests.get(setup["mine"]).extension_reason == "many systems"
    assert post(console, f"/admin/requests/{setup['mine']}/extend", reason="again") == 409

    # Approved and, with requests run inline, carried out: Anna is erased from the product.
    assert post(console, f"/admin/requests/{setup['mine']}/approve") == 303
    done = requests.get(setup["mine"])
    assert done.state is RequestState.completed
    page = console.get(f"/admin/requests/{setup['mine']}").text
    assert "dpo@exempel.se" in page and "request.extended" in page and "users" in page
    trail = requests.trail(setup["mine"])
    assert {"awaiting_administrator", "approved"} <= {e.get("from") for e in trail}


def test_forms_need_the_csrf_token(
    console: TestClient, env: Inbox, tutela: Tutela, setup: dict[str, str]
) -> None:
    admin_sign_in(console, env, "dpo@exempel.se")
    url = f"/admin/requests/{setup['mine']}/approve"
    assert console.post(url, data={"csrf": "forged"}).status_code == 403
    assert console.post(url, data={}).status_code == 403
    assert Requests(tutela).get(setup["mine"]).state is RequestState.awaiting_administrator


def test_looking_up_a_person_is_recorded(
    console: TestClient, env: Inbox, tutela: Tutela, setup: dict[str, str]
) -> None:
    admin_sign_in(console, env, "ok@exempel.se")
    page = console.get("/admin/subjects", params={"q": ANNA})
    assert page.status_code == 200 and setup["anna"] in page.text and "membership" in page.text
    console.get(f"/admin/requests/{setup['mine']}")
    with tutela.engine.connect() as conn:
        rows = conn.execute(
            select(t.events.c.kind, t.events.c.payload)
            .where(t.events.c.stream == "staff-views")
            .order_by(t.events.c.seq)
        ).all()
    seen = [json.loads(r.payload) for r in rows]
    assert seen == [
        {"staff": "ok@exempel.se", "subject": setup["anna"], "what": "subject lookup"},
        {"staff": "ok@exempel.se", "subject": setup["anna"], "what": f"request {setup['mine']}"},
    ]
    assert {r.kind for r in rows} == {"staff.viewed"}
    # Nobody found: nothing to record.
    assert "Nobody found" in console.get("/admin/subjects", params={"q": "x@y.z"}).text


def test_audit_page_verifies_the_chain(console: TestClient, env: Inbox, tutela: Tutela) -> None:
    admin_sign_in(console, env, "dpo@exempel.se")
    assert "The chain is intact." in console.get("/admin/audit").text
    with tutela.engine.begin() as conn:
        first = conn.execute(select(t.events.c.id).order_by(t.events.c.id)).scalar()
        conn.execute(update(t.events).where(t.events.c.id == first).values(payload='{"x":1}'))
    page = console.get("/admin/audit").text
    assert "The chain is broken in 1 streams." in page


def test_records_of_processing_as_csv(console: TestClient, env: Inbox) -> None:
    admin_sign_in(console, env, "look@exempel.se")
    answer = console.get("/admin/records.csv")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:3] == ["purpose", "description", "legal_basis"]
    by_purpose = {row[0]: row for row in rows[1:] if len(row) > 2}
    service = by_purpose["provide_service"]
    assert service[2] == "contract"
    assert "user.contact.email" in service[4] and "Hosting AB (processor)" in service[5]
    assert "P90D while_account_active, then delete" in service[8]
    assert ["controller", "Exempel AB"] in rows and ["contact", "privacy@exempel.se"] in rows
    assert "Records of processing" in console.get("/admin/records").text


def test_data_map_is_svg_with_every_node(console: TestClient, env: Inbox) -> None:
    admin_sign_in(console, env, "look@exempel.se")
    svg = console.get("/admin/map.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    for name in ("app", "provide_service", "newsletter", "Hosting AB", ">SE<"):
        assert name in svg.text, name
    assert "<script" not in svg.text and "<line" in svg.text
    assert "<svg" in console.get("/admin/map").text


def test_metrics(console: TestClient, env: Inbox, tutela: Tutela, setup: dict[str, str]) -> None:
    requests = Requests(tutela)
    requests.deny(setup["theirs"], "no", actor="dpo")
    access = requests.create("access", ("email", ANNA), source="product")
    with tutela.engine.begin() as conn:
        conn.execute(
            update(t.requests)
            .where(t.requests.c.public_id == setup["mine"])
            .values(due_on=dt.date.today() - dt.timedelta(days=1))
        )
    requests.transition(access.id, RequestState.running)
    requests.transition(access.id, RequestState.completed)
    admin_sign_in(console, env, "look@exempel.se")
    page = console.get("/admin/metrics").text
    assert '<dd id="total">3</dd>' in page and '<dd id="overdue">1</dd>' in page
    assert '<dd id="median">0.0</dd>' in page
    assert '<td data-type="erasure">2</td>' in page and '<td data-state="denied">1</td>' in page


def test_policy_archive_shows_versions_and_their_differences(tmp_path: Path, env: Inbox) -> None:
    data = center_policy().model_dump(mode="json", exclude_none=True)
    data["versions"] = [
        {"id": "2024-01", "effective": "2024-01-01", "notices": {"en": "notices/2024-01.txt"}},
        {
            "id": "2025-06",
            "effective": "2025-06-01",
            "summary": "Newsletters by post",
            "notices": {"en": "notices/2025-06.txt"},
        },
    ]
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices/2024-01.txt").write_text("We hold your email.\nWe mail news.\n")
    (tmp_path / "notices/2025-06.txt").write_text("We hold your email.\nWe post news.\n")
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with Tutela.open(path, f"sqlite:///{tmp_path / 'l.sqlite3'}", upgrade=True) as tutela:
        settings = ApiSettings(secret_key=SECRET, policy_file=str(path))
        with TestClient(create_app(tutela, settings=settings), base_url="https://testserver") as c:
            page = c.get("/privacy/policy")
            assert page.status_code == 200
            assert "2025-06-01" in page.text and "Newsletters by post" in page.text
            diff = c.get("/privacy/policy", params={"old": "2024-01", "new": "2025-06"}).text
            assert "-We mail news." in diff and "+We post news." in diff
            same = c.get("/privacy/policy", params={"old": "2024-01", "new": "2024-01"}).text
            assert "The two versions say the same." in same


def test_retention_page_shows_the_plan_and_the_latest_sweeps(
    console: TestClient, env: Inbox, tutela: Tutela
) -> None:
    tutela.ledger.record_sweep(
        {
            "dataset": "app",
            "collection": "web_hits",
            "rows": 3,
            "deleted": True,
            "fields": [],
            "before": "2025-02-28T00:00:00+00:00",
            "rules": ["devices"],
        }
    )
    admin_sign_in(console, env, "look@exempel.se")
    page = console.get("/admin/retention").text
    assert "app.web_hits" in page and "3 rows deleted" in page and "devices" in page
    # The base policy's account rule waits for a record of when accounts close.
    assert "no accounts collection (primary key an identity) records when it closed" in page
    assert "No timed retention period applies" in page
    # An organisation's administrator sees no company-wide reports.
    admin_sign_in(console, env, CECILIA)
    refused = console.get("/admin/retention")
    assert refused.status_code == 403 and "app.web_hits" not in refused.text
