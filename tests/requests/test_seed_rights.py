"""Two promises of the seed policies, carried out for real.

Portability (Art. 20): James PRO and Leetcom promise a portable copy of "basic account
information" and what the person keeps under their sole control, which their policies
encode as ``rights.portability``. A portability request is run end to end beside an
access request of the same person, and the two packages are compared: the portable one
holds every field whose categories ``rights.portability`` covers, with the same values,
and none of the other personal fields access returns.

Vital interest (Art. 6(1)(d)): Clever Leap discloses data "where anyone's physical
safety is threatened" (purpose ``physical_safety``). The decision rests on vital
interest, survives a restriction of processing and an objection, and is still denied
for an erased person, an unknown one, or categories outside the purpose.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, create_engine, insert

from tests.conftest import EXAMPLES
from tests.connectors.conftest import product_url  # noqa: F401 - the fixture
from tests.demo.test_james_pro import (  # noqa: F401 - the fixtures
    DONE,
    KEY,
    REDIS_URL,
    _chosen,
    policy,
    prefix,
    sample,
)
from tutela import Tutela
from tutela.connectors.schema import dataset_metadata
from tutela.decide import (
    DIRECT_MARKETING,
    AccountStatus,
    Reason,
    Signals,
    SubjectState,
    decide,
)
from tutela.demo import GroundTruth
from tutela.policy import Policy, loads, read
from tutela.policy.taxonomy import Taxonomy
from tutela.requests import Request, Requests, Runner

Field = tuple[str, str]
"""A field of a package: (dataset.collection, field)."""

# ---------------------------------------------------------------- portability


def _package(done: Request) -> dict[str, Any]:
    """The data.json of a finished request's package; each CSV's header is checked to
    name the same fields as data.json, so the two parts of the package agree."""
    assert done.state in DONE and done.result is not None
    with zipfile.ZipFile(done.result["package"]) as archive:
        data: dict[str, Any] = json.loads(archive.read("data.json"))
        for name, collection in data["collections"].items():
            text = archive.read(f"{name}.csv").decode("utf-8")
            header = next(csv.reader(io.StringIO(text)))
            assert header == list(collection["fields"]), name
    return data


def _run(tutela: Tutela, runner: Runner, kind: str, email: str) -> dict[str, Any]:
    """Run an access or portability request from the product; its package's data.json."""
    request = Requests(tutela).create(kind, ("email", email), source="product")
    return _package(runner.run(request.id))


def _row_key(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def _compare(
    access: dict[str, Any], portable: dict[str, Any], covered: tuple[str, ...]
) -> tuple[set[Field], set[Field]]:
    """Check the portable package against the access package of the same person.

    Every collection of the access package is looked at: its fields whose categories
    ``covered`` reaches must be exactly the portable collection's fields, with the same
    rows projected onto them; a collection with no such field must be left out. Returns
    (portable fields, withheld personal fields), each holding a value in some row.
    """

    def portable_field(categories: list[str]) -> bool:
        return any(Taxonomy.covers(general, c) for general in covered for c in categories)

    kept: set[Field] = set()
    withheld: set[Field] = set()
    assert set(portable["collections"]) <= set(access["collections"])
    for name, full in access["collections"].items():
        categories = {f: meta["categories"] for f, meta in full["fields"].items()}
        expected = [f for f, cats in categories.items() if portable_field(cats)]
        personal = [f for f, cats in categories.items() if cats and f not in expected]
        filled = {f for row in full["rows"] for f, v in row.items() if v is not None}
        kept |= {(name, f) for f in expected if f in filled}
        withheld |= {(name, f) for f in personal if f in filled}
        if not expected:
            assert name not in portable["collections"], f"{name} has no portable field"
            continue
        part = portable["collections"][name]
        assert list(part["fields"]) == expected, name
        assert {f: m["categories"] for f, m in part["fields"].items()} == {
            f: categories[f] for f in expected
        }
        assert part["count"] == full["count"] == len(part["rows"]), name
        projected = [{f: row.get(f) for f in expected} for row in full["rows"]]
        assert sorted(map(_row_key, part["rows"])) == sorted(map(_row_key, projected)), name
    return kept, withheld


def test_james_pro_portability_exports_only_what_rights_portability_covers(
    sample: tuple[Tutela, Runner, Engine, GroundTruth],  # noqa: F811 - the imported fixture
) -> None:
    """On the seeded sample database: account basics, profile, settings and boards go
    into the portable copy; credentials, devices, comments and the like stay out."""
    tutela, runner, _, truth = sample
    covered = tutela.policy.rights.portability
    assert "user.content.board" in covered  # "such as your own boards"
    # Someone other people name in their comments: access also lists those mentions.
    person = _chosen(truth)["named"]
    access = _run(tutela, runner, "access", person.email)
    portable = _run(tutela, runner, "portability", person.email)

    kept, withheld = _compare(access, portable, covered)
    assert kept and withheld  # both sides hold data: the comparison is not vacuous
    assert {
        ("app.users", "email"),
        ("app.profiles", "full_name"),
        ("app.profiles", "username"),
        ("app.profiles", "timezone"),
    } <= kept
    assert any(name in ("app.boards", "app.lists", "app.cards") for name, _ in kept)
    assert {
        ("app.users", "password_hash"),
        ("app.profiles", "job_title"),
    } <= withheld
    assert any(name in ("app.comments", "app.sessions", "app.devices") for name, _ in withheld)
    # Others' text about the person is no data they provided.
    assert access["mentions"]["count"] > 0
    assert "mentions" not in portable


LEETCOM_EMAIL = "astrid.lind@example.se"


def _leetcom_policy(key_prefix: str) -> Policy:
    """Leetcom's policy, its Redis sessions under this module's own key prefix."""
    source = (EXAMPLES / "leetcom" / "policy.yaml").read_text("utf-8")
    pattern = 'key_pattern: "session:{user_id}:*"'
    assert pattern in source
    return loads(source.replace(pattern, f'key_pattern: "{key_prefix}session:{{user_id}}:*"'))


def _seed_leetcom(engine: Engine, leetcom_policy: Policy) -> None:
    """Leetcom's cloud tables, made from the policy, with one person's rows in most of
    them (Astrid, account 1) and a colleague's (Björn, account 2)."""
    metadata = dataset_metadata(next(d for d in leetcom_policy.datasets if d.name == "cloud"))
    metadata.create_all(engine)
    when = dt.datetime(2025, 3, 14, 9, 30)
    rows: dict[str, list[dict[str, Any]]] = {
        "accounts": [
            {"id": 1, "email": LEETCOM_EMAIL, "full_name": "Astrid Lind",
             "display_name": "astrid", "job_title": "Utvecklare",
             "avatar_url": "https://cdn.example.se/a/1.png", "country_preference": "SE",
             "password_hash": "$argon2id$v=19$astrid", "google_subject": "g-1001",
             "created_at": when},
            {"id": 2, "email": "bjorn.ek@example.se", "full_name": "Björn Ek",
             "display_name": "bjorn", "created_at": when},
        ],
        "organisations": [{"id": 1, "title": "Lind & Ek AB", "domain": "example.se"}],
        "memberships": [{"id": 1, "account_id": 1, "organisation_id": 1, "role": "admin",
                         "managed": False}],
        "spaces": [
            {"id": 10, "owner_id": 1, "personal": True, "title": "Astrids förråd"},
            {"id": 11, "owner_id": 2, "personal": False, "title": "Teamets wiki"},
        ],
        "pages": [
            {"id": 100, "space_id": 10, "author_id": 1, "body": "Utkast till release 4.2",
             "updated_at": when},
            {"id": 101, "space_id": 11, "author_id": 1, "body": "Rutiner för jourveckan",
             "updated_at": when},
        ],
        "messages": [{"id": 1, "sender_id": 1, "recipient_id": 2, "body": "Hej Björn!",
                      "sent_at": when}],
        "linked_services": [{"id": 1, "account_id": 1, "provider": "google",
                             "external_email": "astrid.lind@gmail.example",
                             "access_token": "ya29.astrid-token"}],
        "billing_contacts": [{"id": 1, "organisation_id": 1, "email": LEETCOM_EMAIL,
                              "full_name": "Astrid Lind", "phone": "+46701234567",
                              "billing_address": "Storgatan 1, 111 22 Stockholm",
                              "card_reference": "pm_4242"}],
        "usage_events": [{"id": 1, "account_id": 1, "feature": "search",
                          "search_terms": "jourschema", "ip_address": "192.0.2.17",
                          "user_agent": "Mozilla/5.0", "occurred_at": when}],
        "login_history": [{"id": 1, "account_id": 1, "ip_address": "192.0.2.17",
                           "signed_in_at": when}],
    }  # fmt: skip
    with engine.begin() as conn:
        for table, values in rows.items():
            for value in values:  # one by one: rows leave different columns empty
                conn.execute(insert(metadata.tables[table]).values(value))


@pytest.fixture
def leetcom(
    product_url: str,  # noqa: F811 - the imported fixture
    prefix: str,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> Iterator[tuple[Tutela, Runner]]:
    """Leetcom on a product database built from its policy, a ledger knowing Astrid, and
    a runner (telemetry on an empty SQLite file, sessions on the local Redis)."""
    leetcom_policy = _leetcom_policy(prefix)
    cloud = create_engine(product_url)
    _seed_leetcom(cloud, leetcom_policy)
    telemetry = create_engine(f"sqlite:///{tmp_path / 'telemetry.sqlite3'}")
    dataset_metadata(next(d for d in leetcom_policy.datasets if d.name == "telemetry")).create_all(
        telemetry
    )
    sessions = redis.Redis.from_url(REDIS_URL)
    with Tutela.open(
        policy=leetcom_policy, database=f"sqlite:///{tmp_path / 'ledger.sqlite3'}", upgrade=True
    ) as tutela:
        tutela.ledger.create_subject([("email", LEETCOM_EMAIL), ("user_id", "1")])
        runner = Runner(
            tutela,
            connections={"cloud": cloud, "telemetry": telemetry, "sessions": sessions},
            packages=tmp_path / "packages",
            pseudonym_key=KEY,
        )
        yield tutela, runner
    sessions.close()
    telemetry.dispose()
    cloud.dispose()


def test_leetcom_portability_exports_only_what_rights_portability_covers(
    leetcom: tuple[Tutela, Runner],
) -> None:
    """Leetcom has no sample database: its tables are made from the policy and hold a
    few rows of one person. Account basics, names, emails and personal-space titles go
    into the portable copy; credentials, tokens, devices and usage stay out."""
    tutela, runner = leetcom
    covered = tutela.policy.rights.portability
    access = _run(tutela, runner, "access", LEETCOM_EMAIL)
    portable = _run(tutela, runner, "portability", LEETCOM_EMAIL)

    kept, withheld = _compare(access, portable, covered)
    assert kept and withheld
    assert {
        ("cloud.accounts", "email"),
        ("cloud.accounts", "full_name"),
        ("cloud.accounts", "display_name"),
        ("cloud.accounts", "avatar_url"),
        ("cloud.memberships", "role"),
        ("cloud.spaces", "title"),
        ("cloud.billing_contacts", "full_name"),
    } <= kept
    assert {
        ("cloud.accounts", "id"),
        ("cloud.accounts", "password_hash"),
        ("cloud.accounts", "job_title"),
        ("cloud.linked_services", "access_token"),
        ("cloud.billing_contacts", "phone"),
        ("cloud.billing_contacts", "card_reference"),
        ("cloud.usage_events", "ip_address"),
        ("cloud.login_history", "ip_address"),
    } <= withheld
    flat = json.dumps(portable["collections"], ensure_ascii=False)
    for secret in ("$argon2id$v=19$astrid", "ya29.astrid-token", "192.0.2.17", "pm_4242"):
        assert secret not in flat
    assert "cloud.login_history" not in portable["collections"]


# ---------------------------------------------------------------- vital interest

CLEVER_LEAP = EXAMPLES / "clever-leap" / "policy.yaml"
PHYSICAL_SAFETY = "physical_safety"
SAFETY_CATEGORIES = ("user.contact.email", "user.name")
JANA = {"email": "jana.novakova@example.cz"}


@pytest.fixture
def clever_leap(database_url: str) -> Iterator[Tutela]:
    """Clever Leap's own policy file on a freshly migrated ledger, and one adult, Jana."""
    with Tutela.open(policy=CLEVER_LEAP, database=database_url, upgrade=True) as opened:
        opened.ledger.create_subject(
            [("email", JANA["email"])], birth_date=dt.date(1988, 4, 2), country="CZ"
        )
        yield opened


def test_clever_leap_declares_physical_safety_on_vital_interest() -> None:
    spec = read(CLEVER_LEAP).policy.purposes[PHYSICAL_SAFETY]
    assert spec.legal_basis == "vital_interest"
    assert set(spec.categories) == set(SAFETY_CATEGORIES)


def test_physical_safety_allowed_on_vital_interest(clever_leap: Tutela) -> None:
    decision = clever_leap.decide(JANA, PHYSICAL_SAFETY, SAFETY_CATEGORIES)
    assert decision.allowed
    assert decision.legal_basis == "vital_interest"
    assert decision.reasons == (Reason.vital_interest,)
    assert decision.policy_version == clever_leap.policy.version
    assert decision.evidence is None  # no consent event: vital interest needs none


def test_physical_safety_survives_restriction(clever_leap: Tutela) -> None:
    """Art. 18(2): restricted data may still be used to protect another person."""
    subject = clever_leap.ledger.lookup("email", JANA["email"])
    assert subject is not None
    clever_leap.ledger.set_restriction(subject, True, "accuracy contested")
    # The restriction bites: the service itself, on the contract, is stopped.
    service = clever_leap.decide(JANA, "provide_service")
    assert not service.allowed and Reason.processing_restricted in service.reasons

    decision = clever_leap.decide(JANA, PHYSICAL_SAFETY, SAFETY_CATEGORIES)
    assert decision.allowed
    assert decision.legal_basis == "vital_interest"
    assert decision.reasons == (Reason.restriction_exempt, Reason.vital_interest)


def test_physical_safety_survives_objection(clever_leap: Tutela) -> None:
    """Art. 21(1) lets a person object to processing on legitimate interest or a public
    task; vital interest is neither, so an objection does not stop it."""
    subject = clever_leap.ledger.lookup("email", JANA["email"])
    assert subject is not None
    for purpose in (PHYSICAL_SAFETY, "abuse_prevention", DIRECT_MARKETING):
        clever_leap.ledger.set_objection(subject, purpose, True, source="api")
    # The objection bites: abuse prevention, on legitimate interest, is stopped.
    abuse = clever_leap.decide(JANA, "abuse_prevention")
    assert not abuse.allowed and Reason.objected in abuse.reasons

    decision = clever_leap.decide(JANA, PHYSICAL_SAFETY, SAFETY_CATEGORIES)
    assert decision.allowed
    assert decision.legal_basis == "vital_interest"
    assert decision.reasons == (Reason.vital_interest,)


def test_physical_safety_allowed_whatever_the_account_and_signals() -> None:
    """Straight through ``decide``: restricted, objecting, account closed and browser
    opt-out signals at once still leave a vital-interest disclosure allowed."""
    clever = read(CLEVER_LEAP).policy
    state = SubjectState(
        "sub_jana",
        status=AccountStatus.deactivated,
        birth_date=dt.date(1988, 4, 2),
        country="CZ",
        restricted=True,
        objections=frozenset({PHYSICAL_SAFETY, DIRECT_MARKETING}),
    )
    decision = decide(
        clever,
        state,
        PHYSICAL_SAFETY,
        SAFETY_CATEGORIES,
        Signals(gpc=True, dnt=True),
        today=dt.date(2026, 6, 1),
    )
    assert decision.allowed
    assert decision.legal_basis == "vital_interest"
    assert decision.reasons == (Reason.restriction_exempt, Reason.vital_interest)


def test_physical_safety_denied_outside_its_categories_and_for_the_erased(
    clever_leap: Tutela,
) -> None:
    # Only email and name are declared for the disclosure; invoices are not.
    invoices = (*SAFETY_CATEGORIES, "user.financial.invoice")
    wider = clever_leap.decide(JANA, PHYSICAL_SAFETY, invoices)
    assert not wider.allowed
    assert wider.legal_basis == "vital_interest"
    assert Reason.category_not_in_purpose in wider.reasons

    # Someone the ledger does not know: nothing to disclose about them.
    stranger = clever_leap.decide({"email": "nikdo@example.cz"}, PHYSICAL_SAFETY)
    assert not stranger.allowed and stranger.reasons == (Reason.subject_unknown,)

    # An erased person: nothing may be processed any more, vital interest included.
    subject = clever_leap.ledger.lookup("email", JANA["email"])
    assert subject is not None
    clever_leap.ledger.update_subject(subject, status=AccountStatus.erased)
    erased = clever_leap.decide(JANA, PHYSICAL_SAFETY, SAFETY_CATEGORIES)
    assert not erased.allowed
    assert erased.legal_basis == "vital_interest"
    assert erased.reasons == (Reason.subject_erased,)
