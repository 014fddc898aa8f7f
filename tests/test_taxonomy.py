"""The built-in taxonomy: its data files are consistent, and the module answers right."""

from __future__ import annotations

import re
import typing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutela.errors import TutelaError
from tutela.policy import taxonomy as taxonomy_module
from tutela.policy.taxonomy import (
    KINDS,
    SENSITIVITIES,
    Period,
    Taxonomy,
    TaxonomyError,
    Term,
    TransferMechanism,
    builtin,
)
from tutela.policy.taxonomy_docs import render_markdown

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tutela" / "policy" / "data"

EU = {
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}
EEA = EU | {"IS", "LI", "NO"}
ADEQUATE = {"AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "UY"}


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return builtin()


def _raw(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((DATA / name).read_text("utf-8"))
    assert isinstance(data, list)
    return data


# ---------------------------------------------------------------- the data files


def test_data_is_consistent(tax: Taxonomy) -> None:
    assert tax.validate() == []


@pytest.mark.parametrize(
    "name",
    [
        "data_categories.yaml",
        "data_uses.yaml",
        "data_subjects.yaml",
        "legal_bases.yaml",
        "transfer_mechanisms.yaml",
        "jurisdictions.yaml",
    ],
)
def test_no_duplicate_keys_and_every_entry_described(name: str) -> None:
    entries = _raw(name)
    keys = [e["key"] for e in entries]
    assert len(keys) == len(set(keys))
    for entry in entries:
        assert entry.get("name") and entry.get("description", entry.get("law"))


def test_every_term_has_a_dpv_concept_and_its_parent(tax: Taxonomy) -> None:
    for kind in KINDS:
        for key, term in tax.terms(kind).items():
            assert re.fullmatch(r"(dpv|pd|eu-gdpr):[A-Za-z][A-Za-z0-9-]*", term.dpv), key
            assert term.parent is None or tax.has(kind, term.parent), key
            assert not term.custom


def test_parents_come_before_children_in_the_files() -> None:
    for name in ("data_categories.yaml", "data_uses.yaml", "data_subjects.yaml"):
        seen: set[str] = set()
        for entry in _raw(name):
            parent = entry["key"].rpartition(".")[0]
            assert not parent or parent in seen, entry["key"]
            seen.add(entry["key"])


def test_sizes(tax: Taxonomy) -> None:
    assert 120 <= len(tax.terms("data_category")) <= 200
    assert len(tax.terms("data_use")) >= 40
    assert len(tax.terms("data_subject")) >= 10
    assert set(tax.terms("legal_basis")) == {
        "consent",
        "contract",
        "legitimate_interest",
        "legal_obligation",
        "vital_interest",
        "public_task",
        "explicit_consent",
    }
    assert set(tax.transfer_mechanisms) == {
        "adequacy",
        "eu_us_dpf",
        "scc",
        "bcr",
        "derogation",
        "privacy_shield",
        "none",
    }


def test_keys_the_issue_names_exist(tax: Taxonomy) -> None:
    for key in [
        "user.contact.email",
        "user.contact.phone_number",
        "user.contact.address.postal_code",
        "user.name.first",
        "user.account.username",
        "user.device.cookie_id",
        "user.authorization.credentials.password",
        "user.content.message",
        "user.behavior.telemetry",
        "user.payment.card_number",
        "user.government_id.national_identification_number",
        "user.demographic.trade_union_membership",
        "user.telephony.call_log",
        "system.logs",
    ]:
        assert tax.has("data_category", key), key
    for key in [
        "essential.service.notifications",
        "functional.service.improve",
        "analytics.reporting.ad_performance",
        "marketing.communications.in_app",
        "marketing.advertising.third_party.targeted",
        "third_party_sharing.sale",
        "research",
        "collect",
    ]:
        assert tax.has("data_use", key), key
    for key in ["customer", "end_user", "employee", "child", "third_party", "administrator"]:
        assert tax.has("data_subject", key), key


def test_policy_model_names_match_the_taxonomy(tax: Taxonomy) -> None:
    """The policy model spells some keys as literals; they must exist here."""
    model = pytest.importorskip("tutela.policy.model")
    assert set(typing.get_args(model.LegalBasis)) == set(tax.terms("legal_basis"))
    assert set(typing.get_args(model.TransferMechanismKey)) == set(tax.transfer_mechanisms)
    assert set(typing.get_args(model.Jurisdiction)) <= set(tax.jurisdictions)


# ---------------------------------------------------------------- terms


def test_term_parent() -> None:
    term = builtin().get("data_category", "user.contact.email")
    assert term is not None and term.parent == "user.contact"
    top = builtin().get("data_category", "user")
    assert top is not None and top.parent is None


def test_dpv_mappings(tax: Taxonomy) -> None:
    def dpv(kind: Any, key: str) -> str:
        term = tax.get(kind, key)
        assert term is not None
        return term.dpv

    assert dpv("data_category", "user.contact.email") == "pd:EmailAddress"
    assert dpv("data_category", "user.device.ip_address") == "pd:IPAddress"
    assert dpv("data_category", "user.payment.card_number") == "pd:PaymentCardNumber"
    assert dpv("data_use", "marketing.communications") == "dpv:DirectMarketing"
    assert dpv("data_use", "third_party_sharing.sale") == "dpv:SellDataToThirdParties"
    assert dpv("data_subject", "child") == "dpv:Child"
    assert dpv("legal_basis", "legitimate_interest") == "dpv:LegitimateInterest"
    assert dpv("legal_basis", "explicit_consent") == "dpv:ExplicitlyExpressedConsent"
    # Broader concepts carry a note saying so.
    nin = tax.get("data_category", "user.government_id.national_identification_number")
    assert nin is not None and nin.dpv == "pd:OfficialID" and nin.dpv_note


def test_legal_bases_name_their_article(tax: Taxonomy) -> None:
    articles = {k: t.article for k, t in tax.terms("legal_basis").items()}
    assert articles["consent"] == "GDPR Art. 6(1)(a)"
    assert articles["legitimate_interest"] == "GDPR Art. 6(1)(f)"
    assert articles["explicit_consent"] == "GDPR Art. 9(2)(a)"


def test_data_use_flags(tax: Taxonomy) -> None:
    email = tax.get("data_use", "marketing.communications.email")
    assert email is not None and email.marketing and email.channel == "email"
    notice = tax.get("data_use", "essential.service.notifications")
    assert notice is not None and not notice.marketing and notice.channel is None
    sale = tax.get("data_use", "third_party_sharing.sale")
    assert sale is not None and sale.sale and not sale.marketing
    targeted = tax.get("data_use", "marketing.advertising.third_party.targeted")
    assert targeted is not None and targeted.targeted_advertising and targeted.channel == "ads"
    contextual = tax.get("data_use", "marketing.advertising.first_party.contextual")
    assert contextual is not None and not contextual.targeted_advertising


# ---------------------------------------------------------------- sensitivity


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("user.location.precise", "precise_location"),
        ("user.location.imprecise", None),
        ("user.location", None),
        ("user.payment.card_number", "payment_card"),
        ("user.payment.method", None),
        ("user.government_id.national_identification_number", "national_id"),
        ("user.demographic.religious_belief", "special_category"),
        ("user.demographic.language", None),
        ("user.health_and_medical", "special_category"),
        ("user.health_and_medical.prescription", "special_category"),
        ("user.biometric.fingerprint", "special_category"),
        ("user.genetic", "special_category"),
        ("user.criminal_history", "criminal"),
        ("user.childrens", "children"),
        ("user.contact.email", None),
        # A key a policy may add later still inherits from its ancestors.
        ("user.biometric.gait", "special_category"),
        ("not.a.key", None),
    ],
)
def test_sensitivity(tax: Taxonomy, key: str, expected: str | None) -> None:
    assert tax.sensitivity(key) == expected


def test_every_sensitivity_kind_is_used(tax: Taxonomy) -> None:
    used = {t.sensitive for t in tax.terms("data_category").values() if t.sensitive}
    assert used == SENSITIVITIES


# ---------------------------------------------------------------- covers, suggest


def test_covers(tax: Taxonomy) -> None:
    assert tax.covers("user", "user.contact.email")
    assert tax.covers("user.contact", "user.contact")
    assert not tax.covers("user.contact", "user.contacts")
    assert not tax.covers("user.contact.email", "user.contact")


def test_ancestors_and_descendants(tax: Taxonomy) -> None:
    assert tax.ancestors("user.contact.email") == ("user.contact", "user")
    keys = [t.key for t in tax.descendants("data_category", "user.name")]
    assert keys == ["user.name.first", "user.name.last", "user.name.display"]


@pytest.mark.parametrize(
    ("kind", "key", "expected"),
    [
        ("data_category", "user.email", "user.contact.email"),
        ("data_category", "user.contact.emial", "user.contact.email"),
        ("data_category", "user.phone", "user.contact.phone_number"),
        ("data_category", "user.ip", "user.device.ip_address"),
        ("data_category", "user.health", "user.health_and_medical"),
        ("data_use", "marketing.email", "marketing.communications.email"),
        ("legal_basis", "legitimate_interests", "legitimate_interest"),
        ("transfer_mechanism", "sccs", "scc"),
        ("data_category", "zzzz.qqqq", None),
    ],
)
def test_suggest(tax: Taxonomy, kind: Any, key: str, expected: str | None) -> None:
    assert tax.suggest(kind, key) == expected


# ---------------------------------------------------------------- extension


def _term(key: str, kind: Any = "data_category", **extra: Any) -> Term:
    fields: dict[str, Any] = {"name": key, "description": "", "dpv": "", **extra}
    return Term(kind=kind, key=key, **fields)


def test_extended_adds_custom_keys_and_leaves_the_original(tax: Taxonomy) -> None:
    bigger = tax.extended(
        [
            _term("user.government_id.personnummer.last_four"),  # child before parent
            _term("user.government_id.personnummer", dpv="pd:OfficialID"),
        ]
    )
    added = bigger.get("data_category", "user.government_id.personnummer")
    assert added is not None and added.custom and added.dpv == "pd:OfficialID"
    child = bigger.get("data_category", "user.government_id.personnummer.last_four")
    assert child is not None and child.dpv == "pd:OfficialID"  # inherited
    assert bigger.sensitivity("user.government_id.personnummer") is None
    assert not tax.has("data_category", "user.government_id.personnummer")
    assert bigger.countries is tax.countries or dict(bigger.countries) == dict(tax.countries)


def test_extended_data_use_inherits_flags(tax: Taxonomy) -> None:
    bigger = tax.extended([_term("marketing.communications.email.newsletter", "data_use")])
    term = bigger.get("data_use", "marketing.communications.email.newsletter")
    assert term is not None
    assert term.marketing and term.channel == "email" and term.dpv == "dpv:DirectMarketing"


@pytest.mark.parametrize(
    ("term", "message"),
    [
        (_term("user.contact.email"), "already exists"),
        (_term("user.nothing.here"), "not a data category"),
        (_term("toplevel"), "must sit under"),
        (_term("User.Bad"), "not a valid key"),
        (_term("employee.contractor", "data_use"), "not a data use"),
    ],
)
def test_extended_refuses(tax: Taxonomy, term: Term, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        tax.extended([term])


def test_taxonomy_error_is_a_tutela_error() -> None:
    assert issubclass(TaxonomyError, TutelaError)


def test_extending_twice_refuses_the_same_custom_key(tax: Taxonomy) -> None:
    once = tax.extended([_term("user.account.team")])
    with pytest.raises(TaxonomyError, match="added twice"):
        once.extended([_term("user.account.team")])


# ---------------------------------------------------------------- transfers


def test_privacy_shield_is_invalid_since_schrems_ii(tax: Taxonomy) -> None:
    shield = tax.transfer_mechanisms["privacy_shield"]
    assert isinstance(shield, TransferMechanism)
    assert shield.valid_until == date(2020, 7, 16)
    assert shield.invalidated_by == "CJEU C-311/18 (Schrems II)"
    assert shield.valid_on(date(2020, 7, 15))
    assert not shield.valid_on(date(2020, 7, 16))
    assert not shield.valid_on(date(2025, 1, 1))


def test_data_privacy_framework(tax: Taxonomy) -> None:
    dpf = tax.transfer_mechanisms["eu_us_dpf"]
    assert dpf.valid_from == date(2023, 7, 10) and dpf.requires_destination == "US"
    assert not dpf.valid_on(date(2023, 7, 9))
    assert dpf.valid_on(date(2023, 7, 10))
    assert tax.transfer_mechanisms["scc"].valid_on(date(2020, 7, 16))


def test_transfer_mechanisms_are_terms_too(tax: Taxonomy) -> None:
    assert tax.get("transfer_mechanism", "scc") is tax.transfer_mechanisms["scc"]


# ---------------------------------------------------------------- countries


def test_every_iso_country(tax: Taxonomy) -> None:
    assert len(tax.countries) == 249
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in tax.countries)
    assert tax.countries["NO"].name == "Norway"  # not YAML's boolean "NO"
    assert tax.countries["GB"].name == "United Kingdom"


def test_eu_eea_and_adequacy(tax: Taxonomy) -> None:
    assert {c.code for c in tax.countries.values() if c.eu} == EU
    assert {c.code for c in tax.countries.values() if c.eea} == EEA
    assert {c.code for c in tax.countries.values() if c.adequacy} == ADEQUATE
    assert not tax.countries["US"].adequacy and tax.countries["US"].adequacy_note


@pytest.mark.parametrize(
    ("code", "age"),
    [
        ("SE", 13),
        ("NL", 16),
        ("FR", 15),
        ("CZ", 15),
        ("GB", 13),
        ("BE", 13),
        ("AT", 14),
        ("ES", 14),
        ("IT", 14),
        ("GR", 15),
        ("SI", 15),
        ("DE", 16),
        ("IE", 16),
        ("NO", 13),
        ("LI", 16),
        ("se", 13),
        ("US", 16),  # outside GDPR: the default
        ("XX", 16),
    ],
)
def test_age_of_digital_consent(tax: Taxonomy, code: str, age: int) -> None:
    assert tax.age_of_digital_consent(code) == age


def test_every_gdpr_country_has_an_age(tax: Taxonomy) -> None:
    for code in EEA | {"GB"}:
        assert tax.countries[code].age_of_digital_consent in range(13, 17), code
    assert tax.countries["US"].age_of_digital_consent is None


# ---------------------------------------------------------------- jurisdictions


def test_jurisdictions(tax: Taxonomy) -> None:
    assert {"eu-gdpr", "uk-gdpr", "us-ca-ccpa"} <= set(tax.jurisdictions)
    gdpr = tax.jurisdictions["eu-gdpr"]
    assert gdpr.countries == frozenset(EEA)
    assert gdpr.default_age_of_digital_consent == 16 and not gdpr.gpc_binding
    assert str(gdpr.response) == "1 month" and str(gdpr.extension) == "2 months"
    ccpa = tax.jurisdictions["us-ca-ccpa"]
    assert ccpa.gpc_binding and ccpa.subdivisions == frozenset({"US-CA"})
    assert str(ccpa.acknowledge) == "10 business days"
    assert str(ccpa.response) == "45 calendar days"
    assert tax.jurisdictions["us-co-cpa"].gpc_binding
    assert tax.jurisdictions["uk-gdpr"].default_age_of_digital_consent == 13


def test_gdpr_due_dates(tax: Taxonomy) -> None:
    gdpr = tax.jurisdictions["eu-gdpr"]
    assert gdpr.due(date(2024, 3, 15)) == date(2024, 4, 15)
    assert gdpr.due(date(2024, 1, 31)) == date(2024, 2, 29)  # shorter month: its last day
    assert gdpr.due(date(2024, 1, 31), extended=True) == date(2024, 4, 30)
    assert gdpr.due(date(2024, 11, 30), extended=True) == date(2025, 2, 28)


def test_ccpa_due_dates(tax: Taxonomy) -> None:
    ccpa = tax.jurisdictions["us-ca-ccpa"]
    assert ccpa.due(date(2024, 1, 1)) == date(2024, 2, 15)
    assert ccpa.due(date(2024, 1, 1), extended=True) == date(2024, 3, 31)
    assert ccpa.acknowledge is not None
    # Friday 5 January 2024 + 10 business days = Friday 19 January.
    assert ccpa.acknowledge.after(date(2024, 1, 5)) == date(2024, 1, 19)


def test_period_words() -> None:
    assert str(Period(1, "business_days")) == "1 business day"
    assert str(Period(3, "months")) == "3 months"


# ---------------------------------------------------------------- loading


def test_builtin_is_cached() -> None:
    assert builtin() is builtin()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"key": "x", "name": "X", "description": "d"}, "dpv is required"),
        ({"key": "x", "name": "X", "description": "d", "dpv": "dpv:X", "colour": 1}, "unknown"),
        ({"key": "x", "name": "X", "description": "d", "dpv": "dpv:X", "sale": "yes"}, "bool"),
    ],
)
def test_malformed_entries_are_refused(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        taxonomy_module._term("data_use", entry, "test")


def test_validate_reports_problems(tax: Taxonomy) -> None:
    bad = Term(
        kind="data_category",
        key="user.contact.fake",
        name="Fake",
        description="",
        dpv="nonsense",
        channel="email",
        sensitive="secret",
    )
    broken = Taxonomy({"data_category": {**tax.terms("data_category"), bad.key: bad}}, {}, {})
    problems = "\n".join(broken.validate())
    assert "is not a dpv:" in problems
    assert "unknown sensitivity" in problems
    assert "flags are for data uses" in problems


# ---------------------------------------------------------------- documentation


def test_docs_page_is_generated_from_the_data() -> None:
    page = (ROOT / "docs" / "taxonomy.md").read_text("utf-8")
    assert page == render_markdown(), "run: python scripts/gen_taxonomy_docs.py"
    assert "`user.contact.email`" in page and "Schrems II" in page
