"""The five example policies: each loads, and its findings are exactly the ones pinned here.

A change to an example, a rule or the taxonomy that adds, drops or moves a finding fails
here; update the pins (and docs/seeds.md) together with the change that explains it.
Findings are pinned by key path, which survives edits to comments and line numbers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tutela.policy import read
from tutela.policy.lint import Severity, lint

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

RETENTION = "category-without-retention"

FINDINGS: dict[str, list[tuple[str, str]]] = {
    # The text promises no international transfers and no external data-service
    # providers, yet names processors and US advertising and widget partners.
    "leetcom": [
        ("external-services-promised-none", "recipients[1].role"),
        ("external-services-promised-none", "recipients[2].role"),
        ("transfer-without-safeguard", "recipients[5].countries[0]"),
        ("transfers-promised-never", "recipients[5].countries[0]"),
        ("external-services-promised-none", "recipients[6].role"),
        ("transfer-without-safeguard", "recipients[7].countries[0]"),
        ("transfers-promised-never", "recipients[7].countries[0]"),
    ],
    # No storage periods, precise location with no stated need, targeted ads with no way
    # to object but the browser, US recipients with no safeguard named.
    "intensive-code": [
        (RETENTION, "purposes.improve_service.categories[0]"),
        (RETENTION, "purposes.improve_service.categories[1]"),
        (RETENTION, "purposes.improve_service.categories[2]"),
        (RETENTION, "purposes.improve_service.categories[3]"),
        (RETENTION, "purposes.improve_service.categories[4]"),
        (RETENTION, "purposes.improve_service.categories[5]"),
        (RETENTION, "purposes.improve_service.categories[6]"),
        (RETENTION, "purposes.improve_service.categories[7]"),
        (RETENTION, "purposes.telephony_logs.categories[0]"),
        (RETENTION, "purposes.telephony_logs.categories[1]"),
        (RETENTION, "purposes.location.categories[0]"),
        ("sensitive-category-not-allowed", "purposes.location.categories[0]"),
        (RETENTION, "purposes.location.categories[1]"),
        (RETENTION, "purposes.location.categories[2]"),
        (RETENTION, "purposes.local_storage.categories[0]"),
        (RETENTION, "purposes.visitor_analytics.categories[1]"),
        (RETENTION, "purposes.visitor_analytics.categories[2]"),
        ("marketing-without-opt-out", "purposes.personalised_ads.legal_basis"),
        ("transfer-without-safeguard", "recipients[2].countries[0]"),
        ("transfer-without-safeguard", "recipients[3].countries[1]"),
        ("transfer-without-safeguard", "recipients[4].countries[0]"),
        (RETENTION, "datasets[0].collections[9].fields[4].categories[0]"),
    ],
    # No storage periods but for sessions and invoices.
    "clever-leap": [
        (RETENTION, "purposes.provide_service.categories[0]"),
        (RETENTION, "purposes.provide_service.categories[1]"),
        (RETENTION, "purposes.provide_service.categories[2]"),
        (RETENTION, "purposes.provide_service.categories[3]"),
        (RETENTION, "purposes.billing.categories[2]"),
        (RETENTION, "purposes.authentication.categories[1]"),
        (RETENTION, "purposes.authentication.categories[3]"),
        (RETENTION, "purposes.improve_service.categories[0]"),
        (RETENTION, "purposes.customer_contact.categories[2]"),
        (RETENTION, "datasets[0].collections[5].fields[3].categories[0]"),
    ],
    # Every US recipient relies, as the 2018 notice says, on the EU-US Privacy Shield.
    "james-pro": [
        ("privacy-shield-invalid", "recipients[1].transfer_mechanisms[0]"),
        ("privacy-shield-invalid", "recipients[2].transfer_mechanisms[0]"),
        ("privacy-shield-invalid", "recipients[4].transfer_mechanisms[0]"),
        ("privacy-shield-invalid", "recipients[5].transfer_mechanisms[0]"),
        ("privacy-shield-invalid", "recipients[6].transfer_mechanisms[0]"),
        ("privacy-shield-invalid", "recipients[7].transfer_mechanisms[0]"),
        ("privacy-shield-invalid", "recipients[10].transfer_mechanisms[0]"),
        ("privacy-shield-invalid", "datasets[0].transfer_mechanisms[0]"),
    ],
    "kitameraki": [],
}


def _policy(company: str) -> Path:
    return EXAMPLES / company / "policy.yaml"


def test_every_example_is_pinned() -> None:
    on_disk = {p.parent.name for p in EXAMPLES.glob("*/policy.yaml")}
    assert on_disk == set(FINDINGS)


@pytest.mark.parametrize("company", sorted(FINDINGS))
def test_findings_are_pinned(company: str) -> None:
    found = [(f.rule, f.path) for f in lint(read(_policy(company)))]
    assert found == FINDINGS[company]


def test_james_pro_privacy_shield_is_an_error() -> None:
    findings = [f for f in lint(read(_policy("james-pro"))) if f.rule == "privacy-shield-invalid"]
    assert len(findings) == 8  # seven recipients and the US-hosted product database
    assert all(f.severity is Severity.error for f in findings)
    assert all("Schrems II" in f.message for f in findings)


def test_james_pro_check_fails() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tutela.cli", "check", str(_policy("james-pro"))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[privacy-shield-invalid]" in result.stdout


@pytest.mark.parametrize("company", sorted(FINDINGS))
def test_notice_files_exist(company: str) -> None:
    policy = read(_policy(company)).policy
    assert policy.versions, f"{company} names no version"
    for version in policy.versions:
        assert version.notices, f"{company} version {version.id} names no notice"
        for language, notice in version.notices.items():
            path = _policy(company).parent / notice
            assert path.is_file(), f"{company} {version.id} ({language}): {notice} is missing"
            assert path.stat().st_size > 0


@pytest.mark.parametrize("company", sorted(FINDINGS))
def test_every_example_can_be_erased(company: str) -> None:
    """Each example's datasets give an erasure plan the databases would accept."""
    from tutela.plan import plan_erasure

    plan = plan_erasure(read(_policy(company)).policy)
    assert plan.steps
