"""One-click unsubscribe (RFC 8058): a valid link opts out; anything else changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import SECRET
from tutela import Tutela
from tutela.api import ApiSettings, create_app
from tutela.ledger import links

H = dict[str, str]
Maker = Callable[..., tuple[str, str]]
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def make_link(client: TestClient, headers: H, subject_id: str, channel: str = "email") -> str:
    response = client.post(
        "/v1/unsubscribe-links", json={"subject": subject_id, "channel": channel}, headers=headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert body["headers"]["List-Unsubscribe"] == f"<{body['url']}>"
    return str(body["url"]).removeprefix("http://testserver")


def marketing_allowed(client: TestClient, headers: H, subject_id: str) -> bool:
    body = {"subject": {"id": subject_id}, "purpose": "marketing_email"}
    return bool(client.post("/v1/decisions", json=body, headers=headers).json()["allowed"])


def test_get_changes_nothing_post_opts_out(
    client: TestClient, admin_headers: H, tutela: Tutela, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    url = make_link(client, admin_headers, subject_id)
    events = len(tutela.ledger.history(subject_id))

    page = client.get(url)
    assert page.status_code == 200
    assert "List-Unsubscribe" in page.text and "method=post" in page.text
    assert len(tutela.ledger.history(subject_id)) == events
    assert marketing_allowed(client, admin_headers, subject_id)

    done = client.post(url, data=ONE_CLICK)  # no API key: the signature is the authority
    assert done.status_code == 200
    last = tutela.ledger.history(subject_id)[-1]
    assert (last.kind, last.payload["channel"], last.payload["opted_out"]) == (
        "channel",
        "email",
        True,
    )
    assert last.payload["source"] == "email_link"
    assert not marketing_allowed(client, admin_headers, subject_id)


def test_multipart_one_click(
    client: TestClient, admin_headers: H, tutela: Tutela, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    url = make_link(client, admin_headers, subject_id, "sms")
    response = client.post(url, files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert "sms" in tutela.ledger.state(subject_id).channel_opt_outs


def tampered(token: str) -> list[str]:
    """Ways to get a link wrong: altered content, altered signature, forged, garbage."""
    body, mac = token.split(".")
    other_subject = links.sign("another-key", "sub_someoneelse", "email", dt.datetime(2100, 1, 1))
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    return [
        f"{flipped}.{mac}",
        f"{body}.{mac[:-2]}{'A' if mac[-2] != 'A' else 'B'}{mac[-1]}",
        other_subject,
        f"{body}.",
        "not-a-token",
        f"{body}.{mac}.{mac}",
    ]


@pytest.mark.parametrize("case", range(6))
def test_altered_or_forged_links_change_nothing(
    case: int, client: TestClient, admin_headers: H, tutela: Tutela, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    url = make_link(client, admin_headers, subject_id)
    token = url.rsplit("/", 1)[1]
    before = tutela.ledger.history(subject_id)
    bad = tampered(token)[case]
    assert client.get(f"/v1/unsubscribe/{bad}").status_code == 403
    response = client.post(f"/v1/unsubscribe/{bad}", data=ONE_CLICK)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_link"
    assert tutela.ledger.history(subject_id) == before


def test_link_for_another_subject_with_a_forged_signature(
    client: TestClient, admin_headers: H, tutela: Tutela, new_subject: Maker
) -> None:
    victim, _ = new_subject()
    forged = links.sign("guessed-default-key", victim, "email", dt.datetime(2100, 1, 1))
    before = tutela.ledger.history(victim)
    assert client.post(f"/v1/unsubscribe/{forged}", data=ONE_CLICK).status_code == 403
    assert tutela.ledger.history(victim) == before


def test_expired_link_changes_nothing(
    client: TestClient, admin_headers: H, tutela: Tutela, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    expired = links.sign(SECRET, subject_id, "email", dt.datetime.now(dt.UTC) - dt.timedelta(1))
    before = tutela.ledger.history(subject_id)
    response = client.post(f"/v1/unsubscribe/{expired}", data=ONE_CLICK)
    assert response.status_code == 403
    assert "expired" in response.json()["error"]["message"]
    assert tutela.ledger.history(subject_id) == before


def test_post_without_the_one_click_body_changes_nothing(
    client: TestClient, admin_headers: H, tutela: Tutela, new_subject: Maker
) -> None:
    subject_id, _ = new_subject()
    url = make_link(client, admin_headers, subject_id)
    before = tutela.ledger.history(subject_id)
    assert client.post(url).status_code == 400
    assert client.post(url, data={"List-Unsubscribe": "Yes"}).status_code == 400
    assert tutela.ledger.history(subject_id) == before


def test_no_secret_key_means_503(tutela: Tutela, admin_headers: H, new_subject: Maker) -> None:
    subject_id, _ = new_subject()
    client = TestClient(create_app(tutela, settings=ApiSettings(secret_key=None)))
    token = links.sign(SECRET, subject_id, "email", dt.datetime(2100, 1, 1))
    before = tutela.ledger.history(subject_id)
    assert client.get(f"/v1/unsubscribe/{token}").status_code == 503
    assert client.post(f"/v1/unsubscribe/{token}", data=ONE_CLICK).status_code == 503
    response = client.post(
        "/v1/unsubscribe-links", json={"subject": subject_id}, headers=admin_headers
    )
    assert response.status_code == 503
    assert tutela.ledger.history(subject_id) == before


def test_link_for_unknown_subject_is_404(client: TestClient, admin_headers: H) -> None:
    response = client.post(
        "/v1/unsubscribe-links", json={"subject": "sub_nobody"}, headers=admin_headers
    )
    assert response.status_code == 404


def test_signer_round_trip_and_key_separation() -> None:
    when = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    token = links.sign("k1", "sub_a", "email", when)
    link = links.verify("k1", token)
    assert (link.subject, link.channel, link.expires) == ("sub_a", "email", when)
    with pytest.raises(links.LinkError):
        links.verify("k2", token)
    with pytest.raises(links.LinkError):
        links.verify("", token)
    with pytest.raises(links.LinkError):
        links.verify("k1", token, now=when)
