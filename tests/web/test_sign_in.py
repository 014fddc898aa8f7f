"""Signing in to the privacy center: by mailed code, by signed link; sessions and cookies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.requests.conftest import SECRET, Inbox
from tests.web.conftest import ANNA, center_app, code_in, csrf_of, sign_in
from tutela import Tutela
from tutela.center import sign_login_link
from tutela.web.session import COOKIE_NAME


def test_sign_in_by_code(client: TestClient, env: Inbox) -> None:
    sign_in(client, env)
    assert env.recipients[-1] == [ANNA]
    page = client.get("/privacy/")
    assert page.status_code == 200
    assert "What we hold and why" in page.text


def test_a_code_works_once(client: TestClient, env: Inbox) -> None:
    sign_in(client, env)
    token = csrf_of(client.get("/privacy/").text)
    again = client.post(
        "/privacy/login/code", data={"csrf": token, "email": ANNA, "code": code_in(env)}
    )
    assert again.status_code == 400


def test_a_wrong_code_five_times_kills_the_code(client: TestClient, env: Inbox) -> None:
    page = client.get("/privacy/login")
    sent = client.post("/privacy/login", data={"csrf": csrf_of(page.text), "email": ANNA})
    token, code = csrf_of(sent.text), code_in(env)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        answer = client.post(
            "/privacy/login/code", data={"csrf": token, "email": ANNA, "code": wrong}
        )
        assert answer.status_code == 400
    # The right code no longer works after five wrong tries.
    late = client.post("/privacy/login/code", data={"csrf": token, "email": ANNA, "code": code})
    assert late.status_code == 400


def test_unknown_address_gets_the_same_answer(client: TestClient, env: Inbox) -> None:
    token = csrf_of(client.get("/privacy/login").text)
    known = client.post("/privacy/login", data={"csrf": token, "email": ANNA})
    unknown = client.post("/privacy/login", data={"csrf": token, "email": "nobody@example.se"})
    assert known.status_code == unknown.status_code == 200
    # The pages differ only in the address echoed back into the form.
    assert known.text.replace(ANNA, "X") == unknown.text.replace("nobody@example.se", "X")


def test_unknown_person_sees_the_policy_and_no_data(client: TestClient, env: Inbox) -> None:
    sign_in(client, env, "nobody@example.se")
    page = client.get("/privacy/")
    assert "We hold no personal data linked to this address" in page.text
    assert "nothing to request" in client.get("/privacy/requests").text


def test_sign_in_codes_are_rate_limited(client: TestClient, env: Inbox) -> None:
    token = csrf_of(client.get("/privacy/login").text)
    answers = [
        client.post("/privacy/login", data={"csrf": token, "email": ANNA}).status_code
        for _ in range(6)
    ]
    assert answers == [200] * 5 + [429]
    assert len(env.messages) == 5


def test_sign_in_by_signed_link(client: TestClient, tutela: Tutela) -> None:
    subject = tutela.resolve({"email": ANNA})
    assert subject
    token = sign_login_link(SECRET, subject, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    answer = client.get(f"/privacy/login/link?token={token}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/privacy/"
    assert "What we hold and why" in client.get("/privacy/").text


def test_forged_or_expired_links_are_refused(client: TestClient, tutela: Tutela) -> None:
    subject = tutela.resolve({"email": ANNA})
    assert subject
    past = sign_login_link(SECRET, subject, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    forged = sign_login_link("another-secret-0123456789", subject, dt.datetime(2999, 1, 1))
    for token in (past, forged, "nonsense"):
        answer = client.get(f"/privacy/login/link?token={token}", follow_redirects=False)
        assert answer.status_code == 403
    assert client.get("/privacy/", follow_redirects=False).status_code == 303


def test_pages_need_a_sign_in(client: TestClient) -> None:
    for path in ("/privacy/", "/privacy/choices", "/privacy/requests"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/privacy/login"


def test_forms_without_the_session_token_are_refused(client: TestClient, env: Inbox) -> None:
    client.get("/privacy/login")
    assert client.post("/privacy/login", data={"email": ANNA}).status_code == 403
    assert client.post("/privacy/login", data={"csrf": "x", "email": ANNA}).status_code == 403
    sign_in(client, env)
    # A token from another browser's session does not work in this one.
    with TestClient(client.app, base_url="https://testserver") as other:
        foreign = csrf_of(other.get("/privacy/login").text)
    answer = client.post(
        "/privacy/choices",
        data={"csrf": foreign, "kind": "consent", "name": "newsletter", "on": "1"},
    )
    assert answer.status_code == 403
    assert env.messages  # nothing else was needed to refuse


def test_cookie_flags_and_security_headers(client: TestClient) -> None:
    answer = client.get("/privacy/login")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    lowered = cookie.lower()
    assert "secure" in lowered and "httponly" in lowered and "samesite=lax" in lowered
    assert "max-age" in lowered  # this policy allows persistent cookies
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert client.get("/privacy/static/htmx.min.js").headers["content-security-policy"]


def test_session_only_cookie_and_relogin(
    make_tutela: Callable[..., Tutela], env: Inbox, monkeypatch: object
) -> None:
    tutela = make_tutela(cookies="session_only", relogin_interval="P1D")
    app = center_app(tutela)
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/privacy/login")
        cookie = page.headers["set-cookie"].lower()
        assert "max-age" not in cookie and "expires" not in cookie
        sign_in(client, env)
        assert client.get("/privacy/", follow_redirects=False).status_code == 200
        # A day and a second later the sign-in no longer counts.
        codec = app.state.web.codec
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1, seconds=1)
        codec._clock = lambda: later
        answer = client.get("/privacy/", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/privacy/login"
        # Every cookie set along the way was a session cookie.
        for header in answer.headers.get_list("set-cookie"):
            assert "max-age" not in header.lower()


def test_sign_out(client: TestClient, env: Inbox) -> None:
    sign_in(client, env)
    token = csrf_of(client.get("/privacy/").text)
    answer = client.post("/privacy/logout", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert client.get("/privacy/", follow_redirects=False).status_code == 303
