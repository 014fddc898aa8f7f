"""A material change of the policy is announced at the top of every privacy center page:
before it takes effect, and for ninety days after, with a link to what changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from tests.requests.conftest import SECRET
from tests.web.conftest import Inbox, center_policy
from tutela import Tutela
from tutela.api import create_app
from tutela.api.settings import ApiSettings
from tutela.center import ANNOUNCED_FOR, announcement
from tutela.policy import Policy, loads

TODAY = dt.date(2026, 6, 1)


def _policy(*versions: dict[str, Any]) -> Policy:
    data = center_policy().model_dump(mode="json", exclude_none=True)
    data["versions"] = list(versions)
    return loads(yaml.safe_dump(data, sort_keys=False), "policy.yaml")


def _version(id_: str, effective: dt.date, material: bool = True) -> dict[str, Any]:
    return {
        "id": id_,
        "effective": effective.isoformat(),
        "material": material,
        "summary": f"What {id_} changes",
    }


def test_a_recent_material_version_is_announced_with_the_one_before() -> None:
    policy = _policy(
        _version("v1", TODAY - dt.timedelta(days=400)),
        _version("v2", TODAY - dt.timedelta(days=10)),
    )
    found = announcement(policy, TODAY)
    assert found is not None
    assert (found.version, found.previous, found.upcoming) == ("v2", "v1", False)
    assert found.summary == "What v2 changes"


def test_the_announcement_ends_after_its_period() -> None:
    effective = TODAY - dt.timedelta(days=30)
    policy = _policy(_version("v1", effective))
    assert announcement(policy, effective + ANNOUNCED_FOR - dt.timedelta(days=1)) is not None
    assert announcement(policy, effective + ANNOUNCED_FOR) is None


def test_a_change_that_is_not_material_is_not_announced() -> None:
    policy = _policy(_version("v1", TODAY - dt.timedelta(days=400)))
    assert announcement(_policy(_version("v2", TODAY, material=False)), TODAY) is None
    assert announcement(policy, TODAY) is None
    assert announcement(_policy(), TODAY) is None


def test_people_are_told_before_a_change_takes_effect() -> None:
    policy = _policy(
        _version("v1", TODAY - dt.timedelta(days=5)),
        _version("v2", TODAY + dt.timedelta(days=20)),
        _version("v3", TODAY + dt.timedelta(days=60)),
    )
    found = announcement(policy, TODAY)
    assert found is not None
    assert (found.version, found.previous, found.upcoming) == ("v2", "v1", True)
    first = announcement(_policy(_version("v1", TODAY)), TODAY)
    assert first is not None and first.previous is None


def test_every_page_announces_it_in_the_person_s_language(tmp_path: Path, env: Inbox) -> None:
    today = dt.date.today()
    data = center_policy().model_dump(mode="json", exclude_none=True)
    data["versions"] = [
        {"id": "2024-01", "effective": "2024-01-01", "notices": {"en": "notices/old.txt"}},
        {
            "id": "next",
            "effective": (today - dt.timedelta(days=3)).isoformat(),
            "material": True,
            "summary": "Newsletters by post",
            "notices": {"en": "notices/new.txt"},
        },
    ]
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices/old.txt").write_text("We mail news.\n", encoding="utf-8")
    (tmp_path / "notices/new.txt").write_text("We post news.\n", encoding="utf-8")
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    changed = (today - dt.timedelta(days=3)).isoformat()
    with Tutela.open(path, f"sqlite:///{tmp_path / 'l.sqlite3'}", upgrade=True) as tutela:
        settings = ApiSettings(secret_key=SECRET, policy_file=str(path))
        with TestClient(create_app(tutela, settings=settings), base_url="https://testserver") as c:
            for page in ("/privacy/login", "/privacy/policy"):
                text = c.get(page).text
                assert f"Our privacy policy changed on {changed}." in text, page
                assert "Newsletters by post" in text
                assert 'href="/privacy/policy?old=2024-01&amp;new=next"' in text
            diff = c.get("/privacy/policy", params={"old": "2024-01", "new": "next"}).text
            assert "-We mail news." in diff and "+We post news." in diff
        with TestClient(create_app(tutela, settings=settings), base_url="https://testserver") as c:
            swedish = c.get("/privacy/login", headers={"Accept-Language": "sv"}).text
            assert f"Vår integritetspolicy ändrades den {changed}." in swedish
            assert "Se vad som ändrats" in swedish


def test_without_a_recent_material_change_there_is_no_announcement(
    tmp_path: Path, env: Inbox
) -> None:
    url = f"sqlite:///{tmp_path / 'l.sqlite3'}"
    with Tutela.open(policy=center_policy(), database=url, upgrade=True) as tutela:
        app = create_app(tutela, settings=ApiSettings(secret_key=SECRET))
        with TestClient(app, base_url="https://testserver") as c:
            page = c.get("/privacy/login").text
            assert "Our privacy policy" not in page and 'class="announcement"' not in page
