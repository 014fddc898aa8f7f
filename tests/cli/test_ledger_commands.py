"""The ledger commands end to end: db, keys, subjects, decide, audit, policy."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from tests.cli.conftest import Invoke


def test_db_upgrade_is_idempotent_and_current_says_so(bare_cli: Invoke) -> None:
    result = bare_cli("db", "current")
    assert result.exit_code == 1
    assert "tutela db upgrade" in result.stderr
    first = bare_cli("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert "upgraded from empty" in first.stdout
    again = bare_cli("db", "upgrade")
    assert again.exit_code == 0
    assert "already current" in again.stdout
    assert bare_cli("db", "current").exit_code == 0


def test_commands_refuse_an_empty_ledger_with_the_command_to_run(bare_cli: Invoke) -> None:
    for args in (
        ("keys", "list"),
        ("subjects", "lookup", "--email", "a@b.se"),
        ("audit", "verify"),
    ):
        result = bare_cli(*args)
        assert result.exit_code == 2, args
        assert "tutela db upgrade" in result.stderr
        assert "Traceback" not in result.output


def test_an_unreachable_database_is_a_message_not_a_traceback(bare_cli: Invoke) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/none"
    result = bare_cli("keys", "list", "--database", url)
    assert result.exit_code == 2
    assert "failed" in result.stderr
    assert "secret" not in result.output  # the password is never shown
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash


def test_a_missing_policy_file_is_exit_2(cli: Invoke) -> None:
    result = cli("decide", "--purpose", "x", "--subject-id", "sub_1", "--policy", "nope.yaml")
    assert result.exit_code == 2
    assert "nope.yaml" in result.stderr


def test_keys_create_shows_the_token_once_then_list_and_revoke(cli: Invoke) -> None:
    created = cli(
        "keys", "create", "--name", "backend", "--scope", "decisions", "--scope", "subjects:read"
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("tut_")
    assert "cannot be shown again" in created.stderr
    prefix = token.split("_")[1]
    listed = cli("keys", "list")
    assert prefix in listed.stdout and "backend" in listed.stdout and "active" in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout  # never the secret again
    as_json = json.loads(cli("keys", "list", "--json").stdout)
    assert as_json[0]["scopes"] == ["decisions", "subjects:read"]
    assert cli("keys", "revoke", prefix).exit_code == 0
    assert "revoked" in cli("keys", "list").stdout
    missing = cli("keys", "revoke", "ffffffffffff")
    assert missing.exit_code == 2 and "no API key" in missing.stderr


def test_keys_create_refuses_an_unknown_scope(cli: Invoke) -> None:
    result = cli("keys", "create", "--name", "x", "--scope", "everything")
    assert result.exit_code == 2
    assert "unknown scope 'everything'" in result.stderr


def test_subjects_create_show_and_lookup(cli: Invoke) -> None:
    created = cli(
        "subjects", "create", "--email", "Anna@Example.SE", "--phone", "070-123 45 67",
        "--country", "se", "--birth-date", "1990-04-01",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    subject = created.stdout.strip()
    assert subject.startswith("sub_")
    found = cli("subjects", "lookup", "--email", "anna@example.se")
    assert found.exit_code == 0 and found.stdout.strip() == subject
    by_phone = cli("subjects", "lookup", "--phone", "+46701234567")
    assert by_phone.stdout.strip() == subject
    shown = cli("subjects", "show", "anna@example.se")
    assert shown.exit_code == 0, shown.output
    assert subject in shown.stdout and "+46701234567" in shown.stdout and "SE" in shown.stdout
    data = json.loads(cli("subjects", "show", subject, "--json", "--history").stdout)
    assert data["birth_date"] == "1990-04-01"
    assert data["history"][0]["kind"] == "subject.created"
    missing = cli("subjects", "show", "nobody@example.se")
    assert missing.exit_code == 1
    assert cli("subjects", "lookup", "--email", "nobody@example.se").exit_code == 1


def test_subjects_create_bad_input_is_exit_2(cli: Invoke) -> None:
    assert cli("subjects", "create").exit_code == 2
    bad = cli("subjects", "create", "--email", "not-an-email")
    assert bad.exit_code == 2 and "email" in bad.stderr
    cli("subjects", "create", "--email", "a@example.se")
    taken = cli("subjects", "create", "--email", "a@example.se")
    assert taken.exit_code == 2 and "already belongs" in taken.stderr
    date = cli("subjects", "create", "--email", "b@example.se", "--birth-date", "1 April")
    assert date.exit_code == 2


def test_decide_prints_the_decision_and_exits_by_it(cli: Invoke) -> None:
    subject = cli("subjects", "create", "--email", "anna@example.se").stdout.strip()
    allowed = cli("decide", "--subject-email", "anna@example.se", "--purpose", "provide_service")
    assert allowed.exit_code == 0, allowed.output
    assert "allowed: provide_service" in allowed.stdout
    assert "contract_active" in allowed.stdout and "contract" in allowed.stdout
    denied = cli("decide", "--subject-id", subject, "--purpose", "testimonials", "--json")
    assert denied.exit_code == 1
    assert json.loads(denied.stdout)["reasons"] == ["consent_missing"]
    unknown = cli("decide", "--subject-email", "x@example.se", "--purpose", "provide_service")
    assert unknown.exit_code == 1 and "subject_unknown" in unknown.stdout
    undeclared = cli("decide", "--subject-id", subject, "--purpose", "mind_reading")
    assert undeclared.exit_code == 1 and "purpose_undeclared" in undeclared.stdout
    category = cli(
        "decide", "--subject-id", subject, "--purpose", "provide_service",
        "--category", "user.financial.bank_account",
    )  # fmt: skip
    assert category.exit_code == 1 and "category_not_in_purpose" in category.stdout
    gpc = cli("decide", "--subject-id", subject, "--purpose", "advertising", "--gpc")
    assert gpc.exit_code == 1 and "gpc_opt_out" in gpc.stdout
    assert cli("decide", "--purpose", "provide_service").exit_code == 2


def test_policy_publish_and_versions(cli: Invoke) -> None:
    assert "no version published" in cli("policy", "versions").stdout
    published = cli("policy", "publish")
    assert published.exit_code == 0, published.output
    assert "published 2018-05-25" in published.stdout
    assert cli("policy", "publish").exit_code == 0  # the same content again: a no-op
    assert "2018-05-25" in cli("policy", "versions").stdout
    rows = json.loads(cli("policy", "versions", "--json").stdout)
    assert [r["version"] for r in rows] == ["2018-05-25"]
    unknown = cli("policy", "publish", "--version", "2099-01")
    assert unknown.exit_code == 2 and "2099-01" in unknown.stderr


def test_audit_verify_passes_then_names_a_tampered_event(cli: Invoke, empty_url: str) -> None:
    cli("subjects", "create", "--email", "anna@example.se")
    cli("subjects", "create", "--email", "bo@example.se")
    cli("policy", "publish")
    clean = cli("audit", "verify")
    assert clean.exit_code == 0, clean.output
    assert "intact" in clean.stdout
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        event_id, stream, seq = conn.execute(
            text(
                "SELECT id, stream, seq FROM events"
                " WHERE kind = 'subject.created' ORDER BY id LIMIT 1"
            )
        ).one()
        conn.execute(
            text("UPDATE events SET payload = :p WHERE id = :id"),
            {"p": '{"country":"SE"}', "id": event_id},
        )
    engine.dispose()
    tampered = cli("audit", "verify")
    assert tampered.exit_code == 1
    assert f"evt_{event_id}" in tampered.stdout
    assert f"stream {stream}, seq {seq}" in tampered.stdout
    assert "content does not match its hash" in tampered.stdout
