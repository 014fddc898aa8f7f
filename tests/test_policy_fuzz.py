"""Mutated policy files: the loader returns a Policy or raises the documented errors."""

from __future__ import annotations

import contextlib

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import base_policy
from tutela.errors import InputError, PolicyError
from tutela.policy import Policy, loads

BASE = yaml.safe_dump(base_policy(), sort_keys=False)
LINES = BASE.splitlines(keepends=True)
NOISE = st.sampled_from(
    [
        ":",
        "-",
        " ",
        "  ",
        "\t",
        "[",
        "]",
        "{",
        "}",
        "&a",
        "*a",
        "!!binary",
        "\x00",
        "é",
        "'",
        '"',
        "#",
        "<<: ",
        "? ",
        "%YAML 1.1\n",
        "---\n",
        "1",
        "true",
        "null",
        "~",
        "x",
        "\n",
    ]
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "noise", "indent", "value"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "noise":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(NOISE) + lines[i][pos:]
        elif kind == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "    "])) + lines[i].lstrip(" ")
        elif kind == "value" and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            value = draw(st.sampled_from(["", " 0", " -1", " []", " {}", " yes", " P1X", " zz"]))
            lines[i] = f"{key}:{value}\n"
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_load_or_raise_documented_errors(text: str) -> None:
    try:
        policy = loads(text, "fuzz.yaml")
    except PolicyError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == "fuzz.yaml"
            assert problem.line >= 0 and problem.column >= 0
            assert problem.message
    except InputError as exc:
        assert str(exc).startswith("fuzz.yaml")
    else:
        assert isinstance(policy, Policy)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(raw: bytes) -> None:
    with contextlib.suppress(PolicyError, InputError):
        loads(raw, "bytes.yaml")
