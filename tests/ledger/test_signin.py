"""Sign-in codes live in the ledger: every server process sees the same codes and limits."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from tutela import Tutela
from tutela.errors import TooManyCodes
from tutela.ledger.signin import CODE_TRIES, SignInCodes

SECRET = b"sign-in-secret-" + b"x" * 16


def test_a_code_from_one_process_works_in_another(tutela: Tutela) -> None:
    first = SignInCodes(tutela.engine, SECRET)
    second = SignInCodes(tutela.engine, SECRET)  # another server process, same ledger
    code = first.issue("Anna@Example.se", ip="192.0.2.7")
    assert second.check("anna@example.se", code)
    assert not first.check("anna@example.se", code)  # used up
    with tutela.engine.connect() as conn:
        stored = " ".join(
            str(v)
            for table in ("sign_in_codes", "sign_in_issues")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
            for v in row
        )
    assert code not in stored and "anna" not in stored.lower() and "192.0.2.7" not in stored


def test_tries_expiry_and_replacement(tutela: Tutela) -> None:
    now = [dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)]
    codes = SignInCodes(tutela.engine, SECRET, clock=lambda: now[0])
    code = codes.issue("bo@example.se")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(CODE_TRIES):
        assert not codes.check("bo@example.se", wrong)
    assert not codes.check("bo@example.se", code)  # five tries used: the code is dead
    code = codes.issue("bo@example.se")
    newer = codes.issue("bo@example.se")
    assert not codes.check("bo@example.se", code) or code == newer  # replaced
    later = codes.issue("bo@example.se")
    now[0] += dt.timedelta(minutes=16)
    assert not codes.check("bo@example.se", later)  # expired


def test_rate_limits_per_address_and_ip(tutela: Tutela) -> None:
    codes = SignInCodes(tutela.engine, SECRET, per_address=2, per_ip=3)
    codes.issue("cy@example.se", ip="198.51.100.1")
    codes.issue("cy@example.se", ip="198.51.100.1")
    with pytest.raises(TooManyCodes) as limited:
        codes.issue("cy@example.se", ip="198.51.100.2")
    assert limited.value.retry_after > 0
    codes.issue("dee@example.se", ip="198.51.100.1")
    with pytest.raises(TooManyCodes):
        codes.issue("eve@example.se", ip="198.51.100.1")  # the IP's fourth code this hour
    # The console keeps its own codes: a centre code does not sign in to the console.
    console = SignInCodes(tutela.engine, SECRET, context="admin-console")
    code = console.issue("fay@example.se")
    assert not SignInCodes(tutela.engine, SECRET).check("fay@example.se", code)
