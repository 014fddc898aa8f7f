"""What each example policy promises to tell people is really shown: on the access
package's readable page, on the privacy center's "what we hold and why", and in the
Art. 30 records. Every expected value is read from the policy (and its taxonomy)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tutela import Tutela
from tutela.api import create_app
from tutela.api.settings import ApiSettings
from tutela.center import sign_login_link, what_we_hold
from tutela.policy import Document, read
from tutela.policy.model import Contact, Recipient
from tutela.policy.taxonomy import Taxonomy
from tutela.records import records_csv, records_of_processing
from tutela.requests.package import PackageSummary, render_index

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = ("leetcom", "intensive-code", "clever-leap", "james-pro", "kitameraki")
SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(params=NAMES)
def example(request: pytest.FixtureRequest) -> Document:
    """An example policy with the taxonomy it was checked against (its own terms added)."""
    return read(EXAMPLES / str(request.param) / "policy.yaml")


def _e(text: str) -> str:
    """``text`` as Jinja's autoescape writes it."""
    return str(escape(text))


def _part(html: str, start: str, end: str) -> str:
    """The part of ``html`` from ``start`` to the next ``end``; fails if ``start`` is absent."""
    assert start in html, f"not shown: {start}"
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def _readable(taxonomy: Taxonomy, recipient: Recipient) -> tuple[str, str]:
    """The recipient's countries and transfer mechanisms by name, as the center lists them."""
    countries = ", ".join(taxonomy.countries[c].name for c in recipient.countries)
    mechanisms = ", ".join(
        taxonomy.transfer_mechanisms[m].name for m in recipient.transfer_mechanisms
    )
    return countries, mechanisms


def _assert_authority(html: str, authority: Contact | None) -> None:
    """The complaint authority's name, with its web address, e-mail, phone and postal
    address where it has them."""
    assert authority is not None and authority.name
    shown = _part(html, _e(authority.name), "</p>")
    if authority.url:
        assert f'<a href="{_e(authority.url)}">{_e(authority.url)}</a>' in shown
    if authority.email:
        assert _e(authority.email) in shown
    if authority.phone:
        assert _e(authority.phone) in shown
    if authority.address:
        assert _e(authority.address.one_line()) in shown


def _assert_retention_criteria(html: str, example: Document) -> None:
    """How each retention period is decided, where the policy says."""
    for rule in example.policy.retention:
        if rule.criteria:
            assert _e(rule.criteria) in html, rule.criteria


def _package_page(example: Document) -> str:
    policy = example.policy
    summary = PackageSummary(Path("package.zip"))
    subject = {"email": "anna@example.org"}
    language = policy.organisation.languages[0]
    return render_index(policy, example.taxonomy, subject, summary, language=language)


def _overview_page(example: Document, tmp_path: Path) -> str:
    """The privacy center's overview, signed in by a product's link as a known person."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    with Tutela.open(example.file, url, upgrade=True) as tutela:
        subject = tutela.ledger.create_subject([("email", "anna@example.org")])
        token = sign_login_link(SECRET, subject, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
        app = create_app(tutela, settings=ApiSettings(secret_key=SECRET))
        with TestClient(app, base_url="https://testserver") as client:
            page = client.get(
                "/privacy/login/link", params={"token": token}, headers={"accept-language": "en"}
            )
    assert page.status_code == 200 and page.url.path == "/privacy/"
    return str(page.text)


def test_access_package_page_shows_recipients_sources_and_authority(example: Document) -> None:
    policy = example.policy
    page = _package_page(example)
    assert policy.recipients
    for recipient in policy.recipients:
        row = _part(page, f"<tr><th>{_e(recipient.name)}<", "</tr>")
        assert f"<td>{recipient.role}</td>" in row
        countries, mechanisms = _readable(example.taxonomy, recipient)
        assert f": {_e(countries)}</td>" in row
        if mechanisms:
            assert f": {_e(mechanisms)}</td>" in row
    for purpose in policy.purposes.values():
        if purpose.sources:
            assert f"<br>{_e(', '.join(purpose.sources))}</td>" in page
    _assert_retention_criteria(page, example)
    _assert_authority(page, policy.rights.complaint_authority)


def test_what_we_hold_is_what_the_policy_says(example: Document) -> None:
    policy, taxonomy = example.policy, example.taxonomy
    holdings = what_we_hold(policy, taxonomy, None)
    assert holdings.recipients and holdings.retention
    assert [r.name for r in holdings.recipients] == [r.name for r in policy.recipients]
    for held, recipient in zip(holdings.recipients, policy.recipients, strict=True):
        assert [c.key for c in held.countries] == list(recipient.countries)
        assert [m.key for m in held.transfer_mechanisms] == list(recipient.transfer_mechanisms)
        names = (
            ", ".join(c.name for c in held.countries),
            ", ".join(m.name for m in held.transfer_mechanisms),
        )
        assert names == _readable(taxonomy, recipient)
        assert all(c.name != c.key for c in held.countries)
    assert {p.key: p.sources for p in holdings.purposes} == {
        key: purpose.sources for key, purpose in policy.purposes.items()
    }
    assert [
        (tuple(c.key for c in r.categories), r.trigger, r.duration, r.action, r.criteria)
        for r in holdings.retention
    ] == [
        (rule.categories, rule.trigger.value, rule.duration, rule.action.value, rule.criteria)
        for rule in policy.retention
    ]
    assert [r.collection for r in holdings.retention] == [
        f"{rule.dataset}.{rule.collection}" if rule.collection else None
        for rule in policy.retention
    ]
    assert holdings.complaint_authority == policy.rights.complaint_authority


def test_privacy_center_overview_shows_recipients_sources_and_authority(
    example: Document, tmp_path: Path
) -> None:
    policy = example.policy
    page = _overview_page(example, tmp_path)
    recipients = _part(page, 'id="h-recipients"', "</section>")
    assert policy.recipients
    for recipient in policy.recipients:
        row = _part(recipients, f'<th scope="row">{_e(recipient.name)}<', "</tr>")
        countries, mechanisms = _readable(example.taxonomy, recipient)
        assert f"<td>{_e(countries)}</td>" in row
        if mechanisms:
            assert f"<td>{_e(mechanisms)}</td>" in row
    purposes = _part(page, 'id="h-purposes"', "</section>")
    for purpose in policy.purposes.values():
        if purpose.sources:
            assert f"<td>{_e(', '.join(purpose.sources))}</td>" in purposes
    retention = _part(page, 'id="h-retention"', "</section>")
    _assert_retention_criteria(retention, example)
    assert "All data" not in retention  # a rule on a collection names the collection
    _assert_authority(_part(page, 'id="h-rights"', "</section>"), policy.rights.complaint_authority)


def test_records_of_processing_list_security_recipients_and_transfers(example: Document) -> None:
    policy, taxonomy = example.policy, example.taxonomy
    records = records_of_processing(policy, taxonomy)
    home = taxonomy.countries[policy.organisation.country]
    assert [row.purpose for row in records.rows] == list(policy.purposes)
    for row in records.rows:
        given = [r for r in policy.recipients if row.purpose in r.purposes]
        third = {
            c
            for r in given
            for c in r.countries
            if c != home.code and not (home.eea and taxonomy.countries[c].eea)
        }
        assert row.security_measures == policy.security_measures
        assert row.recipients == tuple(f"{r.name} ({r.role})" for r in given)
        assert row.third_countries == tuple(sorted(third))
        assert set(row.safeguards) == {
            f"{r.name}: {m}"
            for r in given
            if third & set(r.countries)
            for m in r.transfer_mechanisms
        }
    # Every retention rule is someone's erasure time limit, a rule on a collection too.
    limits = {limit for row in records.rows for limit in row.erasure_time_limits}
    for rule in policy.retention:
        what = ", ".join(rule.categories) or f"{rule.dataset}.{rule.collection}"
        assert any(limit.startswith(f"{what}: ") for limit in limits), what
    lines = list(csv.reader(io.StringIO(records_csv(records))))
    column = lines[0].index("security_measures")
    body = lines[1 : 1 + len(records.rows)]
    assert [line[column] for line in body] == ["; ".join(policy.security_measures)] * len(body)
    assert lines[1 + len(records.rows)] == []


def test_the_examples_hold_every_kind_of_item_checked() -> None:
    """Guards the checks above against passing on empty lists."""
    policies = [read(EXAMPLES / name / "policy.yaml").policy for name in NAMES]
    recipients = [r for p in policies for r in p.recipients]
    authorities = [p.rights.complaint_authority for p in policies]
    assert all(p.recipients and p.retention for p in policies)
    assert any(r.transfer_mechanisms for r in recipients)
    assert any(s for p in policies for purpose in p.purposes.values() for s in purpose.sources)
    assert any(p.security_measures for p in policies)
    assert all(a is not None for a in authorities)
    assert any(a.url for a in authorities if a) and any(a.email for a in authorities if a)
    assert any(a.phone for a in authorities if a) and any(a.address for a in authorities if a)
    assert any(rule.criteria for p in policies for rule in p.retention)
    assert any(rule.collection for p in policies for rule in p.retention)
    assert any("'" in (a.name or "") for a in authorities if a)  # escaping is exercised
