"""From a file on disk to a validated :class:`Policy`, or every problem in it at once."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tutela.errors import PolicyError, Problem
from tutela.policy.model import Policy
from tutela.policy.references import check_references
from tutela.policy.source import Loc, Source, format_path, parse_source, read_source
from tutela.policy.taxonomy import Taxonomy, builtin

__all__ = ["Document", "load", "loads", "read", "reads"]


@dataclass(frozen=True)
class Document:
    """A loaded policy with its source positions and the taxonomy it was checked against."""

    policy: Policy
    source: Source
    taxonomy: Taxonomy

    @property
    def file(self) -> str:
        """The file name as given to the loader."""
        return self.source.file

    @property
    def directory(self) -> Path:
        """The folder of the file; notice paths are relative to it."""
        return Path(self.source.file).parent


def read(path: str | Path) -> Document:
    """Load ``path`` and keep where each value stood, for tools that report positions.

    Notice files named by ``versions`` are resolved against the file's folder
    and must exist.
    """
    document = _validate(read_source(path))
    problems = [
        document.source.problem(("versions", v, "notices", lang), f"notice file {name!r} not found")
        for v, version in enumerate(document.policy.versions)
        for lang, name in version.notices.items()
        if not (document.directory / name).is_file()
    ]
    if problems:
        raise PolicyError(problems)
    return document


def reads(text: str | bytes, name: str = "<policy>") -> Document:
    """Like :func:`read` for text already in memory; ``name`` is used in messages."""
    return _validate(parse_source(text, name))


def load(path: str | Path) -> Policy:
    """Load and validate a policy file.

    Raises :class:`~tutela.errors.InputError` when the file cannot be read as
    UTF-8 YAML, and :class:`~tutela.errors.PolicyError` listing every problem
    (``file:line:column``, key path, message) when it is not a valid policy.
    """
    return read(path).policy


def loads(text: str | bytes, name: str = "<policy>") -> Policy:
    """Like :func:`load` for text already in memory."""
    return reads(text, name).policy


def _validate(source: Source) -> Document:
    data = source.data
    if not isinstance(data, Mapping):
        raise PolicyError(
            [source.problem((), "a policy file is a mapping of keys, like tutela: 1")]
        )
    _explicit_null_erase(data)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_problems(source, exc)) from None
    taxonomy, problems = check_references(policy, source, builtin())
    if problems:
        raise PolicyError(problems)
    return Document(policy=policy, source=source, taxonomy=taxonomy)


def _explicit_null_erase(data: Mapping[str, Any]) -> None:
    # ``erase: null`` reads as "no value" in YAML, but a person who writes it means
    # the null strategy; an absent key (no strategy) stays absent.
    for dataset in data.get("datasets") or ():
        for collection in (dataset.get("collections") or ()) if isinstance(dataset, dict) else ():
            for field in (collection.get("fields") or ()) if isinstance(collection, dict) else ():
                if isinstance(field, dict) and "erase" in field and field["erase"] is None:
                    field["erase"] = "null"


# ---------------------------------------------------------------- error translation


def _problems(source: Source, exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for error in exc.errors(include_url=False):
        loc = _clean_loc(error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            key = loc[-1] if loc else "?"
            message = f"unknown key {key!r}"
            hint = _suggest(str(key), _known_keys(loc[:-1]))
            if hint:
                message += f"; did you mean {hint!r}?"
            problem = source.problem(loc, message, key=True)
        elif kind == "missing":
            problem = source.problem(loc[:-1], f"missing required key {loc[-1]!r}", key=True)
            problem = Problem(
                problem.file, problem.line, problem.column, format_path(loc), problem.message
            )
        else:
            problem = source.problem(loc, _message(error))
        marker = (problem.path, problem.message)
        if marker not in seen:  # unions report the same miss once per branch
            seen.add(marker)
            problems.append(problem)
    problems.sort(key=lambda p: (p.line, p.column))
    return problems


_TAG = re.compile(r"^[a-z-]+\[.*\]$")


def _clean_loc(loc: tuple[int | str, ...]) -> Loc:
    # Pydantic puts validator and union branch names ("function-after[...]",
    # "literal['a','b']") in the path; a person wants only the keys they wrote.
    return tuple(part for part in loc if not (isinstance(part, str) and _TAG.match(part)))


def _message(error: Any) -> str:
    msg: str = error["msg"]
    msg = msg.removeprefix("Value error, ")
    ctx = error.get("ctx") or {}
    given = error.get("input")
    if error["type"] in ("literal_error", "enum") and "expected" in ctx:
        options = re.findall(r"'([^']*)'", str(ctx["expected"]))
        msg = f"{given!r} is not one of: {', '.join(options)}"
        hint = _suggest(str(given), options)
        if hint:
            msg += f"; did you mean {hint!r}?"
    elif error["type"] in ("string_type", "int_type", "bool_type", "dict_type", "tuple_type"):
        want = {
            "string_type": "text",
            "int_type": "a whole number",
            "bool_type": "true or false",
            "dict_type": "a mapping of keys",
            "tuple_type": "a list",
        }[error["type"]]
        msg = f"expected {want}, got {_describe(given)}"
    return msg


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _suggest(word: str, options: list[str]) -> str | None:
    found = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return found[0] if found else None


def _as_model(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation stands for, looking through ``Annotated`` and ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _as_model(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _as_model(arg)
            if found is not None:
                return found
    return None


def _step(annotation: Any, part: str | int) -> Any:
    """The annotation of the value found at ``part`` inside a value of ``annotation``."""
    model = _as_model(annotation)
    if model is not None:
        info = model.model_fields.get(part) if isinstance(part, str) else None
        return info.annotation if info is not None else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _step(args[0], part)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            found = _step(arg, part)
            if found is not None:
                return found
        return None
    if origin is tuple and isinstance(part, int) and args:
        return args[0]
    if origin is Mapping and isinstance(part, str) and len(args) == 2:
        return args[1]
    return None


def _known_keys(loc: Loc) -> list[str]:
    """The keys the model accepts at ``loc``, for "did you mean"."""
    annotation: Any = Policy
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model = _as_model(annotation)
    return list(model.model_fields) if model is not None else []
