"""Telling people about a new policy version by e-mail: each person once, in their
language, with a link to what changed; a re-run sends nobody a second message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import base_policy
from tests.requests.conftest import Inbox, smtp
from tutela import Tutela
from tutela.announcements import announce_by_email, announcement_mail, notice_key
from tutela.cli import app
from tutela.errors import ConnectorError, LedgerError
from tutela.requests.mail import Mailer

__all__ = ["smtp"]

TODAY = dt.date.today()
CENTER = "https://privacy.exempel.se"


def _policy_file(tmp_path: Path, notified_through: list[str]) -> Path:
    data: dict[str, Any] = base_policy()
    data["organisation"]["languages"] = ["sv", "nl", "en"]
    data["versions"] = [
        {"id": "2024-01", "effective": "2024-01-01"},
        {
            "id": "2027-01",
            "effective": (TODAY + dt.timedelta(days=30)).isoformat(),
            "material": True,
            "summary": "Nyhetsbrev skickas med post.",
            "notified_through": notified_through,
        },
    ]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture
def tutela(tmp_path: Path, ledger_url: str) -> Iterator[Tutela]:
    """Anna (Sweden) and Jan (the Netherlands) by e-mail, Ola by phone only, and Eva,
    who was erased."""
    policy = _policy_file(tmp_path, ["email", "website"])
    with Tutela.open(policy, ledger_url, upgrade=True) as opened:
        ledger = opened.ledger
        ledger.create_subject([("email", "anna@exempel.se")], country="SE")
        ledger.create_subject([("email", "jan@voorbeeld.nl"), ("user_id", "7")], country="NL")
        ledger.create_subject([("phone", "+46701234567")], country="SE")
        eva = ledger.create_subject([("email", "eva@exempel.se")], country="SE")
        ledger.update_subject(eva, status="erased")
        yield opened


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def test_everyone_reachable_is_told_once_in_their_language(tutela: Tutela, smtp: Inbox) -> None:
    mailer = Mailer(smtp.url, "privacy@exempel.se")
    report = announce_by_email(tutela, "2027-01", mailer, center_url=CENTER)
    assert (report.sent, report.already, report.failed) == (2, 0, [])
    assert smtp.recipients == [["anna@exempel.se"], ["jan@voorbeeld.nl"]]
    swedish, dutch = smtp.messages
    date = (TODAY + dt.timedelta(days=30)).isoformat()
    assert _subject(swedish) == f"Exempel AB: vår integritetspolicy ändras den {date}"
    assert swedish["Content-Language"] == "sv"
    body = _body(swedish)
    assert "Nyhetsbrev skickas med post." in body
    assert f"{CENTER}/privacy/policy?old=2024-01&new=2027-01&language=sv" in body
    assert "ingen marknadsföring" in body
    assert _subject(dutch) == f"Exempel AB: ons privacybeleid wijzigt op {date}"
    # Nobody is told twice: the second run finds both recorded.
    again = announce_by_email(tutela, "2027-01", mailer, center_url=CENTER)
    assert (again.sent, again.already) == (0, 2)
    assert len(smtp.messages) == 2
    anna = tutela.resolve({"email": "anna@exempel.se"})
    assert anna is not None
    assert [e.kind for e in tutela.ledger.history(anna)][-1] == "notice.sent"
    assert tutela.ledger.notified(notice_key("2027-01")) == {
        anna,
        tutela.resolve({"email": "jan@voorbeeld.nl"}),
    }
    assert list(tutela.ledger.verify()) == []


def test_a_dry_run_counts_and_sends_nothing(tutela: Tutela, smtp: Inbox) -> None:
    mailer = Mailer(smtp.url, "privacy@exempel.se")
    report = announce_by_email(tutela, "2027-01", mailer, center_url=CENTER, dry_run=True)
    assert (report.sent, report.already, report.dry_run) == (2, 0, True)
    assert smtp.messages == []
    assert tutela.ledger.notified(notice_key("2027-01")) == frozenset()


class _Refusing:
    """A mail server that refuses one address."""

    def __init__(self, inner: Mailer, refused: str) -> None:
        self.inner, self.refused = inner, refused

    def send(self, to: str, subject: str, body: str, *, language: str | None = None) -> None:
        if to == self.refused:
            raise ConnectorError("550 mailbox unavailable")
        self.inner.send(to, subject, body, language=language)


def test_a_refused_message_is_tried_again_next_time(tutela: Tutela, smtp: Inbox) -> None:
    mailer = Mailer(smtp.url, "privacy@exempel.se")
    refusing = _Refusing(mailer, "jan@voorbeeld.nl")
    first = announce_by_email(tutela, "2027-01", refusing, center_url=CENTER)
    jan = tutela.resolve({"email": "jan@voorbeeld.nl"})
    assert (first.sent, first.failed) == (1, [jan])
    second = announce_by_email(tutela, "2027-01", mailer, center_url=CENTER)
    assert (second.sent, second.already) == (1, 1)
    assert smtp.recipients == [["anna@exempel.se"], ["jan@voorbeeld.nl"]]


def test_only_a_version_announced_by_email_is_mailed(tmp_path: Path, smtp: Inbox) -> None:
    policy = _policy_file(tmp_path, ["website"])
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    with Tutela.open(policy, url, upgrade=True) as tutela:
        tutela.ledger.create_subject([("email", "anna@exempel.se")])
        mailer = Mailer(smtp.url, "privacy@exempel.se")
        with pytest.raises(LedgerError, match="not announced by e-mail"):
            announce_by_email(tutela, "2027-01", mailer, center_url=CENTER)
        with pytest.raises(LedgerError, match="no version 'nope'"):
            announce_by_email(tutela, "nope", mailer, center_url=CENTER)
    assert smtp.messages == []


def test_a_version_in_effect_is_told_in_the_past_tense(tutela: Tutela) -> None:
    effective = TODAY + dt.timedelta(days=30)
    subject, body = announcement_mail(
        tutela.policy, "2027-01", "en", CENTER, effective + dt.timedelta(days=1)
    )
    assert subject == f"Exempel AB: our privacy policy changed on {effective.isoformat()}"
    assert "The new version applies since" in body


def test_the_command(tutela: Tutela, smtp: Inbox, tmp_path: Path, ledger_url: str) -> None:
    env = {
        "TUTELA_POLICY": str(tmp_path / "policy.yaml"),
        "TUTELA_DATABASE_URL": ledger_url,
        "TUTELA_SMTP_URL": smtp.url,
        "TUTELA_MAIL_FROM": "privacy@exempel.se",
        "TUTELA_CENTER_URL": CENTER,
    }
    runner = CliRunner(env=env)
    dry = runner.invoke(app, ["policy", "announce", "2027-01", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would send 2, already told 0" in dry.output and smtp.messages == []
    sent = runner.invoke(app, ["policy", "announce", "2027-01"])
    assert sent.exit_code == 0, sent.output
    assert "sent 2, already told 0, refused by the mail server 0" in sent.output
    assert len(smtp.messages) == 2
    unknown = runner.invoke(app, ["policy", "announce", "nope"])
    assert unknown.exit_code == 2 and "no version 'nope'" in unknown.output
