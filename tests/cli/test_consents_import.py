"""``tutela consents import`` on SQLite and PostgreSQL: bad rows named and skipped, good
rows all kept, and an interrupted import resumed without recording any row twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.cli.conftest import EXAMPLE, Invoke
from tutela import Tutela
from tutela.errors import InputError
from tutela.ledger import tables as t
from tutela.ledger.imports import (
    ImportProgress,
    RowError,
    check_header,
    import_consents,
    parse_granted,
    parse_row,
    parse_timestamp,
)
from tutela.ledger.store import ConsentEntry
from tutela.policy import load

HEADER = "email,purpose,granted,policy_version,timestamp,source,channel\n"


def _write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the pure row parser

NAMES = ["email", "purpose", "granted", "policy_version", "timestamp"]
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def _parse(*values: str) -> ConsentEntry:
    return parse_row(NAMES, list(values), purposes={"news"}, versions={"v1"}, now=NOW, region=None)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("a@b.se", "spam", "yes", "v1", ""), "purpose 'spam' is not declared"),
        (("a@b.se", "", "yes", "v1", ""), "purpose is empty"),
        (("a@b.se", "news", "perhaps", "v1", ""), "granted must be"),
        (("a@b.se", "news", "yes", "", ""), "policy_version is empty"),
        (("a@b.se", "news", "yes", "v9", ""), "policy version 'v9' is not declared"),
        (("a@b.se", "news", "yes", "v1", "yesterday"), "not ISO 8601"),
        (("a@b.se", "news", "yes", "v1", "2999-01-01"), "in the future"),
        (("not-mail", "news", "yes", "v1", ""), "email: not an email address"),
        (("", "news", "yes", "v1", ""), "no subject_id, email, phone or user_id"),
        (("a@b.se", "news", "yes", "v1", "", "extra"), "6 fields, but the header has 5"),
    ],
)
def test_parse_row_names_what_is_wrong(values: tuple[str, ...], message: str) -> None:
    with pytest.raises(RowError, match=message):
        _parse(*values)


def test_parse_row_reads_a_good_row() -> None:
    entry = _parse(" Anna@B.SE ", "news", "No", "v1", "2024-01-02T03:04:05+02:00")
    assert entry == parse_row(
        NAMES,
        ["anna@b.se", "news", "0", "v1", "2024-01-02T01:04:05Z"],
        purposes={"news"},
        versions={"v1"},
        now=NOW,
    )
    assert entry.identities == (("email", "anna@b.se"),)
    assert entry.granted is False
    assert entry.source == "import"


def test_short_rows_and_naive_timestamps() -> None:
    assert parse_timestamp("2024-01-01 10:00", NOW) == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert parse_timestamp("", NOW) is None
    assert parse_granted("TRUE") is True
    with pytest.raises(RowError, match="granted"):
        _parse("a@b.se", "news")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["email", "purpose", "granted"], "no 'policy_version' column"),
        (["purpose", "granted", "policy_version"], "needs a column naming the person"),
        (["email", "emial", "purpose", "granted", "policy_version"], "unknown column 'emial'"),
        (["email", "Email", "purpose", "granted", "policy_version"], "appears twice"),
    ],
)
def test_check_header(header: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_header(header)


# ------------------------------------------------------------------ the command


def test_import_reports_bad_rows_with_line_numbers_and_keeps_good_ones(
    any_cli: Invoke, tmp_path: Path
) -> None:
    rows = [
        "anna@example.se,testimonials,yes,2018-05-25,2024-01-01T10:00:00Z,,",  # line 2
        "not-an-email,testimonials,yes,2018-05-25,,,",  # line 3
        "bo@example.se,mind_reading,yes,2018-05-25,,,",  # line 4
        "cy@example.se,testimonials,perhaps,2018-05-25,,,",  # line 5
        '"dee@example.se",support_expert_sharing,0,2018-05-25,,web,"in\napp"',  # lines 6-7
        "anna@example.se,support_expert_sharing,true,2018-05-25,,,email",  # line 8
        "",  # line 9: blank, ignored
        "eve@example.se,testimonials,1,1999-01,,,",  # line 10
    ]
    csv_file = _write(tmp_path / "consents.csv", rows)
    result = any_cli("consents", "import", str(csv_file))
    assert result.exit_code == 1, result.output
    assert "3 rows imported, 4 skipped" in result.stdout
    assert "consents.csv:3: skipped: email: not an email address" in result.stderr
    assert "consents.csv:4: skipped: purpose 'mind_reading' is not declared" in result.stderr
    assert "consents.csv:5: skipped: granted must be" in result.stderr
    assert "consents.csv:10: skipped: policy version '1999-01'" in result.stderr
    assert "not-an-email" not in result.output  # identifiers are never echoed
    show = any_cli("subjects", "show", "anna@example.se", "--json")
    assert '"testimonials"' in show.stdout and '"support_expert_sharing"' in show.stdout
    assert any_cli("subjects", "lookup", "--email", "dee@example.se").exit_code == 0
    assert any_cli("subjects", "lookup", "--email", "bo@example.se").exit_code == 1
    allowed = any_cli("decide", "--subject-email", "anna@example.se", "--purpose", "testimonials")
    assert allowed.exit_code == 0
    again = any_cli("consents", "import", str(csv_file))
    assert "already imported" in again.stdout
    assert any_cli("audit", "verify").exit_code == 0


def test_an_unusable_file_is_exit_2(cli: Invoke, tmp_path: Path) -> None:
    missing = cli("consents", "import", str(tmp_path / "none.csv"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    header = _write(tmp_path / "h.csv", [], header="emial,purpose,granted,policy_version\n")
    bad = cli("consents", "import", str(header))
    assert bad.exit_code == 2 and "h.csv:1: unknown column 'emial'" in bad.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "jos\xe9@example.se,x,1,v,,,\n".encode("latin-1"))
    assert "not UTF-8" in cli("consents", "import", str(latin)).stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty" in cli("consents", "import", str(empty)).stderr


def test_a_later_choice_wins_whatever_the_row_order(cli: Invoke, tmp_path: Path) -> None:
    rows = [
        "anna@example.se,testimonials,no,2018-05-25,2024-03-01T00:00:00Z,,",
        "anna@example.se,testimonials,yes,2018-05-25,2024-01-01T00:00:00Z,,",
    ]
    cli("consents", "import", str(_write(tmp_path / "c.csv", rows)))
    denied = cli("decide", "--subject-email", "anna@example.se", "--purpose", "testimonials")
    assert denied.exit_code == 1 and "consent_withdrawn" in denied.stdout
    history = cli("subjects", "show", "anna@example.se", "--json", "--history").stdout
    assert history.count('"consent"') == 2  # both choices stay in the history


# ------------------------------------------------------------------ resuming


class Interrupted(Exception):
    pass


def _counts(tutela: Tutela) -> tuple[int, int]:
    with tutela.engine.connect() as conn:
        consents = conn.execute(select(func.count()).select_from(t.consents)).scalar_one()
        events = conn.execute(
            select(func.count()).select_from(t.events).where(t.events.c.kind == "consent")
        ).scalar_one()
    return consents, events


def test_an_interrupted_import_resumes_without_recording_any_row_twice(
    any_empty_url: str, tmp_path: Path
) -> None:
    rows = []
    for i in range(1, 48):
        if i % 10 == 0:
            rows.append(f"person{i}@example.se,no_such_purpose,yes,2018-05-25,,,")
        else:
            rows.append(
                f"person{i}@example.se,testimonials,{'yes' if i % 3 else 'no'},2018-05-25,,,"
            )
    csv_file = _write(tmp_path / "big.csv", rows)
    seen: list[ImportProgress] = []

    def crash_after_two(progress: ImportProgress) -> None:
        seen.append(progress)
        if len(seen) == 2:
            raise Interrupted

    with Tutela.open(policy=load(EXAMPLE), database=any_empty_url, upgrade=True) as tutela:
        with pytest.raises(Interrupted):
            import_consents(
                tutela.ledger, tutela.policy, csv_file, batch_size=10, on_progress=crash_after_two
            )
        # Two batches of ten data rows were committed: lines 2-21, one of them bad.
        assert seen[-1].lines_done == 21
        assert _counts(tutela) == (18, 18)

        lines: list[int] = []
        report = import_consents(
            tutela.ledger,
            tutela.policy,
            csv_file,
            batch_size=10,
            on_problem=lambda p: lines.append(p.line),
        )
        assert report.resumed_from_line == 21
        assert report.imported_now == 47 - 4 - 18
        assert report.imported == 47 - 4 and report.rejected == 4
        assert lines == [31, 41]  # only the rows not seen before are reported again
        assert _counts(tutela) == (43, 43)  # every good row exactly once
        for i in range(1, 48):
            state = tutela.state({"email": f"person{i}@example.se"})
            if i % 10 == 0:
                assert state is None
            else:
                assert state is not None
                assert state.consents["testimonials"].granted is bool(i % 3)
        assert not list(tutela.ledger.verify())

        finished = import_consents(tutela.ledger, tutela.policy, csv_file)
        assert finished.already_finished and finished.imported_now == 0
        assert _counts(tutela) == (43, 43)
