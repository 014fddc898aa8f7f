"""Each lint rule: a change to the clean base policy that triggers it; the base does not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import base_policy
from tutela.policy import read
from tutela.policy.lint import RULES, Severity, lint, rule_by_id

Change = Callable[[dict[str, Any]], None]
WritePolicy = Callable[[Any], Path]


def _us_recipient(mechanisms: list[str]) -> Change:
    def change(p: dict[str, Any]) -> None:
        p["recipients"].append(
            {
                "name": "Cloud Inc",
                "role": "processor",
                "service": "hosting",
                "countries": ["US"],
                "transfer_mechanisms": mechanisms,
            }
        )

    return change


def _never_transfers(p: dict[str, Any]) -> None:
    p["promises"]["international_transfers"] = "never"
    _us_recipient(["scc"])(p)


def _dataset_abroad(p: dict[str, Any]) -> None:
    p["promises"]["international_transfers"] = "never"
    p["datasets"][0]["countries"] = ["SE", "US"]


def _buyer(p: dict[str, Any]) -> None:
    p["recipients"].append({"name": "Data Broker", "role": "buyer", "countries": ["SE"]})


def _sale_purpose(p: dict[str, Any]) -> None:
    p["purposes"]["provide_service"]["sale"] = True


def _no_retention(p: dict[str, Any]) -> None:
    p["purposes"]["provide_service"]["categories"].append("user.device.ip_address")


def _retention_of_nothing(p: dict[str, Any]) -> None:
    p["retention"].append(
        {"categories": ["user.health_and_medical"], "trigger": "since_collected", "duration": "P1Y"}
    )


def _undeclared_field(p: dict[str, Any]) -> None:
    p["datasets"][0]["collections"][0]["fields"].append({"name": "telefonnummer"})


def _sensitive_marketing(p: dict[str, Any]) -> None:
    p["purposes"]["newsletter"]["categories"].append("user.health_and_medical")
    p["retention"][0]["categories"].append("user.health_and_medical")


def _sensitive_service(p: dict[str, Any]) -> None:
    p["purposes"]["provide_service"]["categories"].append("user.health_and_medical")
    p["retention"][0]["categories"].append("user.health_and_medical")


def _li_marketing(p: dict[str, Any]) -> None:
    p["purposes"]["newsletter"]["legal_basis"] = "legitimate_interest"
    del p["purposes"]["newsletter"]["consent"]


def _young(p: dict[str, Any]) -> None:
    p["promises"]["minimum_age"] = 13
    p["user_countries"] = ["SE", "NL"]


def _unreachable(p: dict[str, Any]) -> None:
    p["datasets"][0]["collections"].append(
        {
            "name": "guest_book",
            "fields": [
                {"name": "id", "primary_key": True},
                {"name": "note", "categories": ["user.content"]},
            ],
        }
    )


def _no_erase(p: dict[str, Any]) -> None:
    del p["datasets"][0]["collections"][1]["fields"][2]["erase"]


def _session_cookies(p: dict[str, Any]) -> None:
    p["promises"]["cookies"] = "session_only"
    p["recipients"].append(
        {
            "name": "Analytics AB",
            "role": "processor",
            "service": "analytics",
            "countries": ["SE"],
            "sets_persistent_identifiers": True,
        }
    )


def _consent_without_mechanism(p: dict[str, Any]) -> None:
    del p["purposes"]["newsletter"]["consent"]


def _external_services(p: dict[str, Any]) -> None:
    p["promises"]["external_data_services"] = False


def _gpc_ignored(p: dict[str, Any]) -> None:
    p["jurisdictions"].append("us-ca-ccpa")
    p["promises"]["global_privacy_control"] = "ignored"
    p["promises"]["shares_for_advertising"] = True


def _dataset_in_us(p: dict[str, Any]) -> None:
    p["datasets"][0]["countries"] = ["SE", "US"]


def _advertiser(p: dict[str, Any]) -> None:
    p["promises"]["shares_for_advertising"] = False
    p["recipients"].append(
        {"name": "Ads Network", "role": "advertiser", "service": "advertising", "countries": ["SE"]}
    )


def _dangling(p: dict[str, Any]) -> None:
    p["datasets"][0]["collections"][1]["fields"][1]["erase"] = "pseudonymize"


def _masked_link(p: dict[str, Any]) -> None:
    del p["datasets"][0]["collections"][1]["fields"][1]["erase"]


# rule id -> (the change that triggers it, the key path the finding must point at)
TRIGGERS: dict[str, list[tuple[Change, str]]] = {
    "transfers-promised-never": [
        (_never_transfers, "recipients[1].countries[0]"),
        (_dataset_abroad, "datasets[0].countries[1]"),
    ],
    "transfer-without-safeguard": [
        (_us_recipient([]), "recipients[1].countries[0]"),
        (_us_recipient(["none"]), "recipients[1].countries[0]"),
        (_dataset_in_us, "datasets[0].countries[1]"),
        # adequacy claimed for a country without an adequacy decision
        (_us_recipient(["adequacy"]), "recipients[1].countries[0]"),
    ],
    "privacy-shield-invalid": [
        (_us_recipient(["privacy_shield", "scc"]), "recipients[1].transfer_mechanisms[0]"),
    ],
    "external-services-promised-none": [(_external_services, "recipients[0].role")],
    "sale-contradicts-promise": [
        (_buyer, "recipients[1].role"),
        (_sale_purpose, "purposes.provide_service.sale"),
    ],
    "category-without-retention": [
        (_no_retention, "purposes.provide_service.categories[3]"),
    ],
    "retention-covers-nothing": [(_retention_of_nothing, "retention[1]")],
    "undeclared-personal-field": [
        (_undeclared_field, "datasets[0].collections[0].fields[3].name"),
    ],
    "sensitive-marketing-without-explicit-consent": [
        (_sensitive_marketing, "purposes.newsletter.categories[1]"),
    ],
    "sensitive-category-not-allowed": [
        (_sensitive_service, "purposes.provide_service.categories[3]"),
    ],
    "marketing-without-opt-out": [(_li_marketing, "purposes.newsletter.legal_basis")],
    "minimum-age-below-digital-consent": [(_young, "promises.minimum_age")],
    "unreachable-personal-data": [(_unreachable, "datasets[0].collections[2].name")],
    "field-without-erase-strategy": [
        (_no_erase, "datasets[0].collections[1].fields[2].name"),
        (_masked_link, "datasets[0].collections[1].fields[1].name"),
    ],
    "session-cookies-contradicted": [
        (_session_cookies, "recipients[1].sets_persistent_identifiers"),
    ],
    "consent-without-mechanism": [(_consent_without_mechanism, "purposes.newsletter.legal_basis")],
    "gpc-ignored-where-binding": [(_gpc_ignored, "promises.global_privacy_control")],
    "advertising-sharing-contradicts-promise": [(_advertiser, "recipients[1].role")],
    "erasure-leaves-dangling-reference": [(_dangling, "datasets[0].collections[1].fields[1].name")],
}


def test_every_rule_has_a_trigger() -> None:
    assert {r.id for r in RULES} == set(TRIGGERS)
    assert len(RULES) >= 12


def test_base_policy_is_clean(write_policy: WritePolicy) -> None:
    assert lint(read(write_policy(base_policy()))) == []


CASES = [
    pytest.param(rule_id, change, path, id=f"{rule_id}-{i}")
    for rule_id, changes in TRIGGERS.items()
    for i, (change, path) in enumerate(changes)
]


@pytest.mark.parametrize(("rule_id", "change", "path"), CASES)
def test_rule_triggers(write_policy: WritePolicy, rule_id: str, change: Change, path: str) -> None:
    data = base_policy()
    change(data)
    file = write_policy(data)
    document = read(file)
    findings = lint(document, select=frozenset({rule_id}))
    assert findings, f"{rule_id} did not fire"
    assert findings[0].path == path
    assert findings[0].severity is rule_by_id(rule_id).severity
    # The line points at the declaration the path names.
    assert findings[0].line == document.source.position(tuple(_parse_path(path)), key=True)[0]


@pytest.mark.parametrize("rule_id", sorted(TRIGGERS))
def test_rule_quiet_on_base(write_policy: WritePolicy, rule_id: str) -> None:
    assert lint(read(write_policy(base_policy())), select=frozenset({rule_id})) == []


def test_scc_to_us_is_a_valid_safeguard(write_policy: WritePolicy) -> None:
    data = base_policy()
    _us_recipient(["scc"])(data)
    assert lint(read(write_policy(data))) == []


def test_dpf_only_for_us(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["recipients"].append(
        {
            "name": "In",
            "role": "processor",
            "countries": ["IN"],
            "transfer_mechanisms": ["eu_us_dpf"],
        }
    )
    findings = lint(read(write_policy(data)), select=frozenset({"transfer-without-safeguard"}))
    assert [f.path for f in findings] == ["recipients[1].countries[0]"]


def test_adequacy_country_needs_no_mechanism(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["recipients"].append({"name": "Tokyo KK", "role": "processor", "countries": ["JP"]})
    assert lint(read(write_policy(data))) == []


def test_consent_marketing_with_explicit_consent_is_allowed(write_policy: WritePolicy) -> None:
    data = base_policy()
    _sensitive_marketing(data)
    data["purposes"]["newsletter"]["legal_basis"] = "explicit_consent"
    data["purposes"]["newsletter"]["sensitive_allowed"] = True
    assert lint(read(write_policy(data))) == []


def test_severities_are_known() -> None:
    assert {r.severity for r in RULES} <= set(Severity)


def _parse_path(path: str) -> list[str | int]:
    out: list[str | int] = []
    for part in path.replace("[", ".[").split("."):
        if part.startswith("["):
            out.append(int(part[1:-1]))
        elif part:
            out.append(part)
    return out


def test_gpc_ignored_without_sale_or_sharing_is_fine(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["jurisdictions"].append("us-ca-ccpa")
    data["promises"]["global_privacy_control"] = "ignored"
    assert lint(read(write_policy(data)), select=frozenset({"gpc-ignored-where-binding"})) == []


def test_uk_company_may_use_eea_processors(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["organisation"]["country"] = "GB"
    data["jurisdictions"] = ["uk-gdpr"]
    data["user_countries"] = ["GB"]
    data["recipients"].append({"name": "Dublin Ltd", "role": "processor", "country": "IE"})
    assert lint(read(write_policy(data))) == []


def test_us_only_company_has_no_transfer_rules(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["organisation"]["country"] = "US"
    data["jurisdictions"] = ["us-ca-ccpa"]
    data["user_countries"] = ["US"]
    data["recipients"].append({"name": "Pune Pvt", "role": "processor", "countries": ["IN"]})
    findings = lint(read(write_policy(data)), select=frozenset({"transfer-without-safeguard"}))
    assert findings == []


def test_yaml_one_one_booleans_stay_text(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["recipients"][0]["countries"] = ["NO"]
    text = yaml.safe_dump(data, sort_keys=False).replace("- 'NO'", "- NO")
    text = text.replace("sells_personal_data: false", "sells_personal_data: no")
    document = read(write_policy(text))
    assert document.policy.recipients[0].countries == ("NO",)
    assert document.policy.promises.sells_personal_data is False


def test_explicit_null_erase_is_the_null_strategy(write_policy: WritePolicy) -> None:
    text = yaml.safe_dump(base_policy(), sort_keys=False).replace(
        "erase: scrub_subject", "erase: null"
    )
    policy = read(write_policy(text)).policy
    assert policy.datasets[0].collections[1].fields[2].erase == "null"
    assert policy.datasets[0].collections[0].fields[0].erase is None
