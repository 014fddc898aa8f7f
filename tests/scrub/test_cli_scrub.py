"""``tutela scrub detect|redact`` through the command line, bad input included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutela.cli import app
from tutela.scrub import ENGINE

runner = CliRunner()
KEY = {"TUTELA_SCRUB_KEY": "a test secret of enough length"}


def _jsonl(*records: object) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def test_version_names_the_engine() -> None:
    result = runner.invoke(app, ["scrub", "--version"])
    assert result.exit_code == 0
    assert f"regex engine: {ENGINE}" in result.stdout
    # The tests run on the Python modules (an editable install compiles nothing).
    assert "compiled: no (pure Python)" in result.stdout


def test_detect_jsonl() -> None:
    data = _jsonl({"id": 7, "text": "Ring 070-123 45 67", "lang": "sv"})
    result = runner.invoke(app, ["scrub", "detect"], input=data)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["id"] == 7
    assert record["lang"] == "sv"
    assert [(e["type"], e["start"], e["end"]) for e in record["entities"]] == [("PHONE", 5, 18)]
    assert set(record["entities"][0]) == {"type", "start", "end", "score"}


def test_redact_jsonl_with_operators() -> None:
    data = _jsonl(
        {"id": 1, "body": "ann@example.com, kort 4111 1111 1111 1111"},
        {"id": 2, "body": "again ANN@example.com"},
    )
    args = ["scrub", "redact", "--field", "body", "-o", "EMAIL=hash", "-o", "PAYMENT_CARD=mask:4"]
    result = runner.invoke(app, args, input=data, env=KEY)
    assert result.exit_code == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    pseudonym = first["body"].split(",")[0]
    assert pseudonym.startswith("<EMAIL:")
    assert first["body"].endswith("**** **** **** 1111")
    assert second["body"] == f"again {pseudonym}"  # same person, same pseudonym


def test_keyed_operator_without_key_is_refused() -> None:
    env = {"TUTELA_SCRUB_KEY": ""}
    result = runner.invoke(app, ["scrub", "redact", "-o", "EMAIL=hash"], input=b"", env=env)
    assert result.exit_code == 2
    assert "TUTELA_SCRUB_KEY" in result.stderr


def test_csv_detect_and_redact() -> None:
    data = b'id,comment,lang\n1,"Mail ann@example.com, tack",sv\n2,nothing here,en\n'
    result = runner.invoke(app, ["scrub", "redact", "-f", "csv", "--field", "comment"], input=data)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "id,comment,lang",
        '1,"Mail <EMAIL>, tack",sv',
        "2,nothing here,en",
    ]
    result = runner.invoke(app, ["scrub", "detect", "-f", "csv", "--field", "comment"], input=data)
    rows = result.stdout.splitlines()
    assert rows[0] == "id,comment,lang,entities"
    assert '""type"": ""EMAIL""' in rows[1]


def test_text_passes_undecodable_bytes_through() -> None:
    data = b"\xff\xfe\x00 binary then ann@example.com\nplain line\n"
    result = runner.invoke(app, ["scrub", "redact", "-f", "text"], input=data)
    assert result.exit_code == 0
    assert result.stdout_bytes == b"\xff\xfe\x00 binary then <EMAIL>\nplain line\n"
    assert "line 1: bytes that are not UTF-8" in result.stderr


def test_bad_records_are_named_and_the_rest_comes_out() -> None:
    data = (
        _jsonl({"id": 1, "text": "a@example.com"})
        + b"{not json}\n"
        + b'{"id": 3, "text": "\xff"}\n'
        + _jsonl({"id": 4, "text": "x" * 500})
        + _jsonl({"id": 5, "other": "no text field"})
        + _jsonl({"id": 6, "text": "b@example.com"})
    )
    args = ["scrub", "redact", "--max-record-bytes", "200"]
    result = runner.invoke(app, args, input=data)
    assert result.exit_code == 2
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids == [1, 6]
    for expected in (
        "line 2: not JSON",
        "line 3: not valid UTF-8",
        "line 4: record longer than 200 bytes",
        "line 5: no string field 'text'",
    ):
        assert expected in result.stderr


def test_long_text_line_is_processed_in_pieces(tmp_path: Path) -> None:
    filler = b"lorem ipsum dolor " * 20_000  # about 360 kB without a newline
    data = filler + b"mail ann@example.com " + filler + b"ring +46 70-123 45 67\n"
    path = tmp_path / "long.txt"
    path.write_bytes(data)
    args = ["scrub", "redact", "-f", "text", "--max-record-bytes", "65536", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    expected = filler + b"mail <EMAIL> " + filler + b"ring <PHONE>\n"
    assert result.stdout_bytes == expected


@pytest.mark.slow
def test_100_mb_binary_line_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    block = os.urandom(1 << 20).replace(b"\n", b" ")
    with path.open("wb") as f:
        for _ in range(100):
            f.write(block)
        f.write(b" call +46 70-123 45 67\n")
    out = tmp_path / "out.bin"
    command = [sys.executable, "-m", "tutela.cli", "scrub", "redact", "-f", "text", str(path)]
    # A wrapper process runs the command and reports the peak memory of that one child:
    # this test process's own RUSAGE_CHILDREN would also count every earlier subprocess.
    wrapper = [
        sys.executable,
        "-c",
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "sys.stderr.write(f'PEAK {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n"
        "sys.exit(code)",
        *command,
    ]
    with out.open("wb") as sink:
        done = subprocess.run(wrapper, stdout=sink, stderr=subprocess.PIPE, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.stat().st_size >= 100 * (1 << 20)
    with out.open("rb") as f:
        f.seek(-64, os.SEEK_END)
        assert f.read().endswith(b"call <PHONE>\n")
    peak_kib = int(done.stderr.rsplit(b"PEAK ", 1)[1])
    assert peak_kib < 400 * 1024, f"peak memory {peak_kib} KiB"
