"""Telling people about a new version of the policy by e-mail (``tutela policy announce``).

The privacy center announces a material version at the top of every page
(:func:`tutela.center.announcement`). Where the policy says a version is also
announced by e-mail (``notified_through: [email]``), :func:`announce_by_email` sends
each person the ledger knows by an e-mail address one message, in their language,
with the version's summary and a link to what changed.

Each message sent is recorded in the person's stream, so running it again sends
nobody a second message; a crash between sending a message and recording it can
send that one message twice, never skip anyone. It is a message about the service,
not marketing: marketing opt-outs do not apply. Erased and merged-away subjects get
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tutela.errors import ConnectorError, LedgerError
from tutela.policy.model import Policy, PolicyVersion
from tutela.requests.verification import MailSender

if TYPE_CHECKING:
    from tutela.engine import Tutela

__all__ = ["AnnounceReport", "announce_by_email", "announcement_mail", "notice_key"]

# The language of a person's country, where the policy speaks it.
_LANGUAGE_OF: Mapping[str, str] = {
    "SE": "sv",
    "FI": "sv",
    "NL": "nl",
    "BE": "nl",
    "FR": "fr",
    "LU": "fr",
    "CZ": "cs",
    "SK": "cs",
    "GB": "en",
    "IE": "en",
    "US": "en",
}

_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "subject_upcoming": "{org}: our privacy policy changes on {date}",
        "subject_past": "{org}: our privacy policy changed on {date}",
        "intro_upcoming": "We are changing our privacy policy. "
        "The new version applies from {date}.",
        "intro_past": "We have changed our privacy policy. The new version applies since {date}.",
        "summary": "What changes:",
        "link": "Read the policy and what changed:",
        "why": "You receive this message about our service because we hold an account "
        "or other data of yours. It is not marketing.",
    },
    "sv": {
        "subject_upcoming": "{org}: vår integritetspolicy ändras den {date}",
        "subject_past": "{org}: vår integritetspolicy ändrades den {date}",
        "intro_upcoming": "Vi ändrar vår integritetspolicy. Den nya versionen gäller från {date}.",
        "intro_past": "Vi har ändrat vår integritetspolicy. Den nya versionen gäller sedan {date}.",
        "summary": "Det här ändras:",
        "link": "Läs policyn och vad som ändrats:",
        "why": "Du får det här meddelandet om vår tjänst eftersom vi har ett konto eller "
        "andra uppgifter om dig. Det är ingen marknadsföring.",
    },
    "nl": {
        "subject_upcoming": "{org}: ons privacybeleid wijzigt op {date}",
        "subject_past": "{org}: ons privacybeleid is gewijzigd op {date}",
        "intro_upcoming": "We wijzigen ons privacybeleid. De nieuwe versie geldt vanaf {date}.",
        "intro_past": "We hebben ons privacybeleid gewijzigd. De nieuwe versie geldt sinds {date}.",
        "summary": "Wat er verandert:",
        "link": "Lees het beleid en wat er veranderd is:",
        "why": "U ontvangt dit bericht over onze dienst omdat wij een account of andere "
        "gegevens van u bewaren. Het is geen marketing.",
    },
    "fr": {
        "subject_upcoming": "{org} : notre politique de confidentialité change le {date}",
        "subject_past": "{org} : notre politique de confidentialité a changé le {date}",
        "intro_upcoming": "Nous modifions notre politique de confidentialité. "
        "La nouvelle version s'applique à partir du {date}.",
        "intro_past": "Nous avons modifié notre politique de confidentialité. "
        "La nouvelle version s'applique depuis le {date}.",
        "summary": "Ce qui change :",
        "link": "Lire la politique et ce qui a changé :",
        "why": "Vous recevez ce message sur notre service parce que nous détenons un compte "
        "ou d'autres données vous concernant. Ce n'est pas de la prospection.",
    },
    "cs": {
        "subject_upcoming": "{org}: naše zásady ochrany osobních údajů se mění {date}",
        "subject_past": "{org}: naše zásady ochrany osobních údajů se změnily {date}",
        "intro_upcoming": "Měníme naše zásady ochrany osobních údajů. Nová verze platí od {date}.",
        "intro_past": "Změnili jsme naše zásady ochrany osobních údajů. "
        "Nová verze platí od {date}.",
        "summary": "Co se mění:",
        "link": "Přečtěte si zásady a co se změnilo:",
        "why": "Tuto zprávu o naší službě dostáváte, protože o vás vedeme účet nebo jiné "
        "údaje. Nejde o obchodní sdělení.",
    },
}


def notice_key(version: str) -> str:
    """The key under which the announcement of a version is recorded as sent."""
    return f"policy-version:{version}"


def _version(policy: Policy, version: str) -> PolicyVersion:
    found = {v.id: v for v in policy.versions}.get(version)
    if found is None:
        raise LedgerError(f"the policy has no version {version!r}; declare it under versions:")
    if "email" not in found.notified_through:
        through = ", ".join(found.notified_through) or "nothing"
        raise LedgerError(
            f"version {version!r} is not announced by e-mail (notified_through: {through}); "
            "add email to its notified_through to send this"
        )
    return found


def _language(policy: Policy, country: str | None) -> str:
    spoken = [lang for lang in policy.organisation.languages if lang in _TEXTS]
    wanted = _LANGUAGE_OF.get((country or "").upper())
    if wanted in spoken:
        return str(wanted)
    return spoken[0] if spoken else "en"


def announcement_mail(
    policy: Policy, version: str, language: str, center_url: str, today: dt.date
) -> tuple[str, str]:
    """The subject and body of a version's announcement in ``language``."""
    spec = _version(policy, version)
    words = _TEXTS.get(language, _TEXTS["en"])
    when = "upcoming" if spec.effective > today else "past"
    date = spec.effective.isoformat()
    org = policy.organisation.name
    ordered = sorted(policy.versions, key=lambda v: (v.effective, v.id))
    index = ordered.index(spec)
    query = (
        "?" + urlencode({"old": ordered[index - 1].id, "new": spec.id, "language": language})
        if index
        else ""
    )
    lines = [words[f"intro_{when}"].format(date=date), ""]
    if spec.summary:
        lines += [words["summary"], spec.summary, ""]
    lines += [words["link"], f"{center_url.rstrip('/')}/privacy/policy{query}", "", words["why"]]
    return words[f"subject_{when}"].format(org=org, date=date), "\n".join(lines) + "\n"


@dataclass
class AnnounceReport:
    """What one run of :func:`announce_by_email` did."""

    version: str
    sent: int = 0
    already: int = 0
    """People the announcement had reached before this run."""
    failed: list[str] = field(default_factory=list)
    """Subjects whose message the mail server refused (their ids, never addresses)."""
    dry_run: bool = False


def announce_by_email(
    tutela: Tutela,
    version: str,
    mailer: MailSender,
    *,
    center_url: str,
    dry_run: bool = False,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> AnnounceReport:
    """Mail a version's announcement to everyone the ledger can reach by e-mail who has
    not had it yet; with ``dry_run``, only count them. ``progress`` is called with the
    number of people handled so far."""
    policy = tutela.policy
    _version(policy, version)  # refuse before anything is sent
    key = notice_key(version)
    day = today or dt.date.today()
    done = tutela.ledger.notified(key)
    report = AnnounceReport(version, dry_run=dry_run)
    mails: dict[str, tuple[str, str]] = {}
    for handled, person in enumerate(tutela.ledger.reachable_by_email(), start=1):
        if person.subject in done:
            report.already += 1
        elif dry_run:
            report.sent += 1
        else:
            language = _language(policy, person.country)
            if language not in mails:
                mails[language] = announcement_mail(policy, version, language, center_url, day)
            subject, body = mails[language]
            try:
                mailer.send(person.email, subject, body, language=language)
            except ConnectorError:
                report.failed.append(person.subject)
            else:
                tutela.ledger.record_notice(person.subject, key, "email")
                report.sent += 1
        if progress is not None:
            progress(handled)
    return report
