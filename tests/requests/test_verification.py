"""Verification by a one-time code mailed through a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.requests.conftest import Inbox
from tutela import Tutela
from tutela.errors import RequestError
from tutela.ledger import tables as t
from tutela.requests import Requests, RequestState
from tutela.requests.mail import Mailer
from tutela.requests.verification import CheckOutcome, TooManyCodes, Verifier

KNOWN = "anna@example.se"
UNKNOWN = "nobody@example.se"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def verifier(tutela: Tutela, smtp: Inbox, **kwargs: object) -> Verifier:
    return Verifier(tutela, Mailer(smtp.url, "privacy@exempel.se"), **kwargs)  # type: ignore[arg-type]


def code_of(message: Message) -> str:
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(r"^\s+(\d{6})\s*$", body.decode(), re.MULTILINE)
    assert found, body
    return found.group(1)


def new_request(tutela: Tutela, email: str = KNOWN, language: str | None = None) -> str:
    request = Requests(tutela).create(
        "access", ("email", email), source="privacy_center", language=language
    )
    assert request.state is RequestState.verifying
    return request.id


@pytest.fixture(autouse=True)
def _known(tutela: Tutela) -> None:
    tutela.ledger.create_subject([("email", KNOWN), ("user_id", "1")])


def test_the_code_arrives_by_mail_and_is_stored_only_hashed(
    tutela: Tutela, smtp: Inbox, secret_key: str
) -> None:
    request_id = new_request(tutela)
    sent = verifier(tutela, smtp).send_code(request_id, address_ip="203.0.113.9")
    assert sent.request_id == request_id
    assert len(smtp.messages) == 1 and smtp.recipients[0] == [KNOWN]
    message = smtp.messages[0]
    assert message["From"] == "privacy@exempel.se"
    code = code_of(message)
    assert code in message["Subject"]
    # Neither the code nor the requesting address is anywhere in the ledger.
    with tutela.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                dumped = repr(tuple(row))
                assert code not in dumped, table.name
                assert "203.0.113.9" not in dumped, table.name
        stored = conn.execute(select(t.verification_codes)).one()
    assert len(stored.code_hash) == 64 and stored.attempts == 0 and not stored.used


def test_the_right_code_verifies_and_routes_the_request(
    tutela: Tutela, smtp: Inbox, secret_key: str
) -> None:
    request_id = new_request(tutela)
    v = verifier(tutela, smtp)
    v.send_code(request_id)
    code = code_of(smtp.messages[-1])
    wrong = "000000" if code != "000000" else "111111"
    first = v.check_code(request_id, wrong)
    assert first.outcome is CheckOutcome.wrong and first.attempts_left == 4
    result = v.check_code(request_id, f" {code[:3]} {code[3:]} ")
    assert result.ok and result.request is not None
    assert result.request.state is RequestState.approved and result.request.verified
    kinds = [e["kind"] for e in Requests(tutela).trail(request_id)]
    assert "request.code_sent" in kinds and kinds.count("request.code_checked") == 2
    with pytest.raises(RequestError):
        v.check_code(request_id, code)  # no longer waiting for verification


def test_a_code_expires_after_fifteen_minutes(tutela: Tutela, smtp: Inbox, secret_key: str) -> None:
    clock = Clock()
    v = verifier(tutela, smtp, clock=clock)
    request_id = new_request(tutela)
    sent = v.send_code(request_id)
    assert sent.expires_at == clock.now + dt.timedelta(minutes=15)
    code = code_of(smtp.messages[-1])
    clock.now += dt.timedelta(minutes=15, seconds=1)
    assert v.check_code(request_id, code).outcome is CheckOutcome.expired
    assert Requests(tutela).get(request_id).state is RequestState.verifying


def test_five_tries_then_the_code_is_dead(tutela: Tutela, smtp: Inbox, secret_key: str) -> None:
    v = verifier(tutela, smtp)
    request_id = new_request(tutela)
    v.send_code(request_id)
    code = code_of(smtp.messages[-1])
    wrong = "000000" if code != "000000" else "111111"
    lefts = [v.check_code(request_id, wrong).attempts_left for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]
    assert v.check_code(request_id, code).outcome is CheckOutcome.exhausted
    # A new code works again, and the old one does not.
    v.send_code(request_id)
    fresh = code_of(smtp.messages[-1])
    if fresh != code:
        assert v.check_code(request_id, code).outcome is CheckOutcome.wrong
    assert v.check_code(request_id, fresh).ok


def test_rate_limit_per_identity(tutela: Tutela, smtp: Inbox, secret_key: str) -> None:
    v = verifier(tutela, smtp)
    ids = [new_request(tutela) for _ in range(2)]
    for i in range(5):
        v.send_code(ids[i % 2])
    with pytest.raises(TooManyCodes) as refused:
        v.send_code(ids[0])  # a new request for the same identity counts too
    assert 0 < refused.value.retry_after <= 3601
    assert len(smtp.messages) == 5


def test_rate_limit_per_address(tutela: Tutela, smtp: Inbox, secret_key: str) -> None:
    v = verifier(tutela, smtp, per_address=3)
    for n in range(3):
        v.send_code(new_request(tutela, f"person{n}@example.se"), address_ip="198.51.100.7")
    with pytest.raises(TooManyCodes):
        v.send_code(new_request(tutela, "person9@example.se"), address_ip="198.51.100.7")
    # Another address is not held back.
    v.send_code(new_request(tutela, "person9@example.se"), address_ip="198.51.100.8")


def test_the_same_answer_whether_or_not_the_person_is_known(
    tutela: Tutela, smtp: Inbox, secret_key: str
) -> None:
    v = verifier(tutela, smtp)
    known, unknown = new_request(tutela, KNOWN), new_request(tutela, UNKNOWN)
    assert Requests(tutela).get(unknown).subject is None
    a, b = v.send_code(known), v.send_code(unknown)
    assert a.message == b.message
    assert [r for rs in smtp.recipients for r in rs] == [KNOWN, UNKNOWN]
    first, second = smtp.messages
    assert first["Subject"].replace(code_of(first), "") == second["Subject"].replace(
        code_of(second), ""
    )
    wrong_a = v.check_code(known, "abc")
    wrong_b = v.check_code(unknown, "abc")
    assert (wrong_a.outcome, wrong_a.attempts_left) == (wrong_b.outcome, wrong_b.attempts_left)
    done_a = v.check_code(known, code_of(first))
    done_b = v.check_code(unknown, code_of(second))
    assert done_a.request is not None and done_b.request is not None
    assert done_a.request.state is done_b.request.state is RequestState.approved


def test_the_mail_speaks_the_request_language(tutela: Tutela, smtp: Inbox, secret_key: str) -> None:
    v = verifier(tutela, smtp)
    v.send_code(new_request(tutela, language="sv"))
    v.send_code(new_request(tutela, UNKNOWN, language="xx"))
    swedish, fallback = smtp.messages
    assert swedish["Subject"].startswith("Din verifieringskod")
    assert swedish["Content-Language"] == "sv"
    assert "Exempel AB" in str(swedish.get_payload(decode=True), "utf-8")
    assert fallback["Subject"].startswith("Your verification code")


def test_refuses_without_a_secret_key(
    tutela: Tutela, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TUTELA_SECRET_KEY", raising=False)
    with pytest.raises(RequestError, match="TUTELA_SECRET_KEY"):
        verifier(tutela, smtp)


def test_only_requests_waiting_for_verification_get_codes(
    tutela: Tutela, smtp: Inbox, secret_key: str
) -> None:
    v = verifier(tutela, smtp)
    from_product = Requests(tutela).create("access", ("email", KNOWN), source="product")
    with pytest.raises(RequestError, match="not waiting"):
        v.send_code(from_product.id)
    by_user_id = Requests(tutela).create("access", ("user_id", "1"), source="privacy_center")
    with pytest.raises(RequestError, match="by email"):
        v.send_code(by_user_id.id)
    assert smtp.messages == []


def test_mailer_from_environment(monkeypatch: pytest.MonkeyPatch, smtp: Inbox) -> None:
    from tutela.errors import ConnectorError

    monkeypatch.delenv("TUTELA_SMTP_URL", raising=False)
    with pytest.raises(ConnectorError):
        Mailer.from_env()
    monkeypatch.setenv("TUTELA_SMTP_URL", smtp.url)
    monkeypatch.setenv("TUTELA_MAIL_FROM", "privacy@exempel.se")
    Mailer.from_env().send("someone@example.se", "Hello", "Body")
    assert smtp.messages[0]["Subject"] == "Hello"
    with pytest.raises(ConnectorError, match="smtp"):
        Mailer("http://example.se", "a@b.se")


def test_file_outbox_for_development(tmp_path: Path) -> None:
    from email import message_from_bytes

    from tutela.requests.mail import Mailer

    outbox = tmp_path / "mail"
    Mailer(f"file://{outbox}", "privacy@example.se").send("a@example.se", "Code", "123456")
    (written,) = list(outbox.glob("*.eml"))
    message = message_from_bytes(written.read_bytes())
    assert message["To"] == "a@example.se" and "123456" in message.get_payload()
