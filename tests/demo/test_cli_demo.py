"""``tutela demo seed``: fills a SQLite file, writes the ground truth beside it, the same
seed gives the same data, and a missing Faker is explained."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tutela.cli import app

ROOT = Path(__file__).resolve().parent.parent.parent
POLICY = str(ROOT / "examples" / "james-pro" / "policy.yaml")


def test_seed_writes_database_and_truth(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    args = ["demo", "seed", "--rows", "12", "--database", url, "--policy", POLICY]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "12 users" in result.output
    truth = json.loads((tmp_path / "demo.truth.json").read_text("utf-8"))
    assert truth["users"] == 12 and truth["tables"]["users"] == 12
    engine = create_engine(url)
    with engine.connect() as conn:
        for table, count in truth["tables"].items():
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == count
        ibans = conn.execute(text("SELECT iban FROM invoices")).scalars().all()
        locales = set(conn.execute(text("SELECT locale FROM users")).scalars())
    engine.dispose()
    from stdnum import iban

    assert ibans and all(iban.is_valid(v) for v in ibans)
    assert len(locales) >= 3

    # Seeding again replaces the tables; the same seed gives the same truth.
    again = runner.invoke(app, [*args, "--truth", str(tmp_path / "again.json")])
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "again.json").read_text("utf-8")) == truth


def test_seed_without_faker_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "faker" else real(name, *a)
    )
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    result = CliRunner().invoke(app, ["demo", "seed", "--database", url, "--policy", POLICY])
    assert result.exit_code == 2
    assert "pip install 'tutela[demo]'" in result.output
