"""Loading policy files: valid ones become frozen Policies, bad ones say what and where."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest

from tests.conftest import base_policy
from tutela.errors import InputError, PolicyError, Problem
from tutela.policy import Policy, load, loads, read

WritePolicy = Callable[[Any], Path]


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(PolicyError) as info:
        load(path)
    return list(info.value.problems)


def test_base_policy_loads_frozen(write_policy: WritePolicy) -> None:
    policy = load(write_policy(base_policy()))
    assert isinstance(policy, Policy)
    assert policy.organisation.name == "Exempel AB"
    assert policy.purposes["newsletter"].channel == "email"
    assert policy.datasets[0].collections[1].fields[2].erase == "scrub_subject"
    assert policy.version == "2024-01"
    with pytest.raises(pydantic.ValidationError):
        policy.organisation = policy.organisation  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.purposes["other"] = policy.purposes["newsletter"]  # type: ignore[index]
    assert isinstance(policy.datasets, tuple)


def test_model_dump_round_trips(write_policy: WritePolicy) -> None:
    policy = load(write_policy(base_policy()))
    again = Policy.model_validate(policy.model_dump())
    assert again == policy


def test_unknown_key_names_line_and_suggests(write_policy: WritePolicy) -> None:
    text = (
        write_policy(base_policy())
        .read_text()
        .replace("legal_basis: consent", "legal_bais: consent")
    )
    path = write_policy(text)
    found = problems_of(path)
    unknown = [p for p in found if "unknown key 'legal_bais'" in p.message]
    assert unknown, found
    assert "did you mean 'legal_basis'?" in unknown[0].message
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "legal_bais" in t)
    assert unknown[0].line == line
    assert unknown[0].path == "purposes.newsletter.legal_bais"
    assert str(unknown[0]).startswith(f"{path}:{line}:")
    # The missing required key is reported in the same run.
    assert any(p.path == "purposes.newsletter.legal_basis" for p in found)


def test_wrong_type_is_named(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["promises"]["minimum_age"] = "sixteen"
    found = problems_of(write_policy(data))
    assert [p.path for p in found] == ["promises.minimum_age"]


def test_bad_enum_suggests(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["purposes"]["provide_service"]["legal_basis"] = "contrat"
    (problem,) = problems_of(write_policy(data))
    assert "'contrat' is not one of" in problem.message
    assert "did you mean 'contract'?" in problem.message


def test_all_errors_reported_at_once(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["promises"]["minimum_age"] = -1
    data["organisation"]["colour"] = "blue"
    data["datasets"][0]["connection"] = "postgresql://user:secret@db/app"
    found = problems_of(write_policy(data))
    paths = {p.path for p in found}
    assert {"promises.minimum_age", "organisation.colour", "datasets[0].connection"} <= paths
    secret = next(p for p in found if p.path == "datasets[0].connection")
    assert "environment variable" in secret.message


def test_duplicate_key(write_policy: WritePolicy) -> None:
    path = write_policy("tutela: 1\norganisation:\n  name: A\n  name: B\n")
    found = problems_of(path)
    assert found[0].line == 4
    assert "duplicate key 'name' (first at line 3)" in found[0].message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # unbalanced bracket: a YAML syntax error with its line
        ("tutela: 1\npurposes: [a, b\n", "YAML syntax"),
        # a tab where YAML forbids it
        ("tutela: 1\norganisation:\n\tname: A\n", "YAML syntax"),
        # Latin-1 bytes are not UTF-8
        ("tutela: 1\norganisation: {name: Caf\xe9}\n".encode("latin-1"), "not valid UTF-8"),
        # binary junk with a NUL byte
        (b"tutela: 1\n\x00\x01\x02", "NUL byte"),
    ],
)
def test_unreadable_input(write_policy: WritePolicy, content: Any, expected: str) -> None:
    path = write_policy(content)
    with pytest.raises(InputError) as info:
        load(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_utf8_error_names_line(write_policy: WritePolicy) -> None:
    path = write_policy(b"tutela: 1\norganisation:\n  name: Caf\xe9\n")
    with pytest.raises(InputError) as info:
        load(path)
    assert f"{path}:3:" in str(info.value)


def test_too_large(write_policy: WritePolicy) -> None:
    path = write_policy("# padding\n" * 1_100_000)
    with pytest.raises(InputError, match="MiB"):
        load(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "absent.yaml")
    with pytest.raises(InputError, match="directory"):
        load(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("- a\n- b\n", "mapping"),
        ("tutela: 2\n", "tutela"),
    ],
)
def test_wrong_shape(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        loads(text)
    assert expected in str(info.value)


def test_alias_bomb_is_bounded() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    with pytest.raises(InputError, match="aliases"):
        loads("\n".join(lines))


def test_unknown_category_suggests(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["purposes"]["newsletter"]["categories"] = ["user.contact.emial"]
    found = problems_of(write_policy(data))
    assert [p.path for p in found] == ["purposes.newsletter.categories[0]"]
    assert "did you mean 'user.contact.email'?" in found[0].message


def test_broken_reference(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["datasets"][0]["collections"][1]["fields"][1]["references"] = "user.id"
    (problem,) = problems_of(write_policy(data))
    assert problem.path == "datasets[0].collections[1].fields[1].references"
    assert "has no collection 'user'; did you mean 'users'?" in problem.message


def test_reference_to_missing_field(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["datasets"][0]["collections"][1]["fields"][1]["references"] = "users.uid"
    (problem,) = problems_of(write_policy(data))
    assert "collection 'users' has no field 'uid'" in problem.message


def test_unknown_purpose_of_recipient(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["recipients"][0]["purposes"] = ["provide_servise"]
    (problem,) = problems_of(write_policy(data))
    assert "unknown purpose 'provide_servise'; did you mean 'provide_service'?" in problem.message


def test_duplicates_in_datasets(write_policy: WritePolicy) -> None:
    data = base_policy()
    users = data["datasets"][0]["collections"][0]
    users["fields"].append({"name": "email"})
    data["datasets"][0]["collections"].append(dict(users))
    found = problems_of(write_policy(data))
    messages = " | ".join(p.message for p in found)
    assert "duplicate field 'email'" in messages
    assert "duplicate collection 'users'" in messages


def test_taxonomy_extension(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["taxonomy"] = {
        "data_categories": [
            {"key": "user.content.board", "name": "Boards"},
            {"key": "user.content.board.card", "name": "Cards"},
        ]
    }
    data["purposes"]["provide_service"]["categories"].append("user.content.board.card")
    document = read(write_policy(data))
    term = document.taxonomy.get("data_category", "user.content.board.card")
    assert term is not None and term.custom
    assert term.dpv  # inherited from user.content


def test_taxonomy_extension_needs_parent(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["taxonomy"] = {"data_categories": [{"key": "user.nothing_here.x", "name": "X"}]}
    (problem,) = problems_of(write_policy(data))
    assert problem.path == "taxonomy.data_categories[0].key"


def test_problem_is_plain_data() -> None:
    problem = Problem("p.yaml", 3, 5, "a.b", "bad")
    assert str(problem) == "p.yaml:3:5: a.b: bad"
    assert dataclasses.asdict(problem)["line"] == 3


def test_notice_files_must_exist(write_policy: WritePolicy) -> None:
    data = base_policy()
    data["versions"][0]["notices"] = {"sv": "notices/sv.md"}
    path = write_policy(data)
    (problem,) = problems_of(path)
    assert problem.path == "versions[0].notices.sv"
    assert "not found" in problem.message
    (path.parent / "notices").mkdir()
    (path.parent / "notices" / "sv.md").write_text("Integritetspolicy", encoding="utf-8")
    assert load(path).versions[0].notices["sv"] == "notices/sv.md"
