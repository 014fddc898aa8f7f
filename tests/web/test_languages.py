"""The privacy center speaks five languages: every message is translated in every catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from tests.requests.conftest import Inbox
from tests.web.conftest import csrf_of, sign_in
from tutela.web.i18n import LANGUAGES, LOCALE_DIR, negotiate

WEB = Path(__file__).resolve().parents[2] / "tutela" / "web"


def _messages() -> set[str]:
    # The same extraction as `pybabel extract -F tutela/web/babel.cfg -k N_ tutela/web`.
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "N_": None}
    return {
        str(message)
        for _, _, message, _, _ in extract_from_dir(str(WEB), method_map, keywords=keywords)
        if isinstance(message, str)
    }


def test_the_source_has_messages() -> None:
    assert len(_messages()) > 50


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    translated = {
        str(m.id) for m in catalog if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }
    missing = sorted(_messages() - translated)
    assert not missing, f"untranslated in {language}: {missing}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        ("de-DE,de;q=0.9,cs;q=0.5", "cs"),  # German is not offered; Czech is next
        ("nl;q=0.2,fr;q=0.9", "fr"),  # quality wins over order
        ("xx, fr;q=0", "en"),  # q=0 means "not this"
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_accept_language_chooses_the_page_language(client: TestClient) -> None:
    page = client.get("/privacy/login", headers={"Accept-Language": "sv"})
    assert '<html lang="sv">' in page.text
    assert "Logga in" in page.text


def test_switch_language(client: TestClient, env: Inbox) -> None:
    sign_in(client, env)
    token = csrf_of(client.get("/privacy/").text)
    client.post("/privacy/language", data={"csrf": token, "language": "cs", "next": "/privacy/"})
    page = client.get("/privacy/choices")
    assert '<html lang="cs">' in page.text
    assert "Moje volby" in page.text
    # The switch never sends anyone outside the privacy center.
    answer = client.post(
        "/privacy/language",
        data={"csrf": csrf_of(page.text), "language": "fr", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/privacy/"


def test_code_mail_in_the_session_language(client: TestClient, env: Inbox) -> None:
    page = client.get("/privacy/login", headers={"Accept-Language": "nl"})
    client.post(
        "/privacy/login",
        data={"csrf": csrf_of(page.text), "email": "anna@example.se"},
        headers={"Accept-Language": "nl"},
    )
    assert env.messages[-1]["Subject"].startswith("Uw inlogcode")
