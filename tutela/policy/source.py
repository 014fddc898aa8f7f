"""Reading a policy file into plain data while remembering where every value stood.

PyYAML's constructor forgets positions and silently keeps the last of two
duplicate keys. We compose the node graph ourselves instead, so that every
value, key and list item can be traced back to ``file:line:column`` and a
duplicate key is an error rather than a surprise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tutela.errors import InputError, PolicyError, Problem

__all__ = ["MAX_BYTES", "Loc", "Source", "format_path", "parse_source", "read_source"]

MAX_BYTES = 5 * 1024 * 1024
"""Largest policy file accepted. Real policies are a few hundred kilobytes at most;
a bigger file is almost always the wrong file, and reading it would waste memory."""

MAX_NODES = 2_000_000
"""Bound on values visited, so aliases that multiply (a "billion laughs") cannot exhaust memory."""

Loc = tuple[str | int, ...]

try:  # the C loader is several times faster; fall back where libyaml is absent
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


def format_path(loc: Loc) -> str:
    """``("purposes", "ads", "categories", 0)`` -> ``purposes.ads.categories[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Source:
    """A parsed file: its plain data and the position of every value and key in it."""

    file: str
    data: Any
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the value at ``loc``, or of its nearest known ancestor.

        With ``key=True`` the position of the mapping key is preferred, which is
        where an editor should put the cursor for "unknown key" problems.
        """
        probe = tuple(loc)
        while True:
            if key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def problem(self, loc: Loc, message: str, *, key: bool = False) -> Problem:
        """A :class:`Problem` at ``loc`` with this file's name."""
        line, column = self.position(loc, key=key)
        return Problem(self.file, line, column, format_path(loc), message)


def read_source(path: str | Path, *, max_bytes: int = MAX_BYTES) -> Source:
    """Read and parse a policy file; raise :class:`InputError` or :class:`PolicyError`."""
    p = Path(path)
    name = str(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror})") from None
    if p.is_dir():
        raise InputError(f"{name}: is a directory, not a policy file")
    if size > max_bytes:
        raise InputError(
            f"{name}: the file is {size / 1048576:.1f} MiB; a policy file may be at most "
            f"{max_bytes / 1048576:.0f} MiB. Is this the right file?"
        )
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror})") from None
    return parse_source(raw, name, max_bytes=max_bytes)


def parse_source(raw: bytes | str, name: str = "<policy>", *, max_bytes: int = MAX_BYTES) -> Source:
    """Parse policy text (bytes must be UTF-8) into a :class:`Source`."""
    if isinstance(raw, bytes):
        if len(raw) > max_bytes:
            raise InputError(f"{name}: the file is larger than {max_bytes} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            problem = Problem(name, line, column, "", "the file is not valid UTF-8")
            raise InputError(
                f"{name}:{line}:{column}: the file is not valid UTF-8 "
                f"(byte 0x{raw[exc.start]:02x}); save it as UTF-8",
                problem,
            ) from None
    else:
        text = raw
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(f"{name}:{line}: the file contains a NUL byte; it is not a text file")

    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = exc.problem or exc.context or "malformed YAML"
        problem = Problem(name, line, column, "", f"YAML syntax: {what}")
        raise InputError(str(problem), problem) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{name}: YAML syntax: {exc}") from None
    finally:
        loader.dispose()

    source = Source(file=name, data=None)
    if node is None:
        raise PolicyError([Problem(name, 1, 1, "", "the file is empty")])
    builder = _Builder(source, loader)
    source.data = builder.build(node, ())
    if builder.problems:
        raise PolicyError(builder.problems)
    return source


_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"


class _Builder:
    def __init__(self, source: Source, loader: yaml.SafeLoader) -> None:
        self.source = source
        self.loader = loader
        self.problems: list[Problem] = []
        self.visited = 0

    def _where(self, node: yaml.Node) -> tuple[int, int]:
        return (node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise InputError(
                f"{self.source.file}: the document expands to more than {MAX_NODES} values "
                "(are aliases multiplying?)"
            )
        self.source.values[loc] = self._where(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, loc)

    def _scalar(self, node: yaml.Node, loc: Loc) -> Any:
        if node.tag == _STR:  # most values; skip the generic constructor
            return node.value
        if node.tag == _BOOL and node.value.lower() not in ("true", "false"):
            # YAML 1.1 reads yes/no/on/off (and Norway's code NO) as booleans; keep the
            # text, as YAML 1.2 does. Boolean fields still accept "yes" and "no".
            return node.value
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            line, column = self._where(node)
            self.problems.append(
                Problem(self.source.file, line, column, format_path(loc), f"bad value: {exc}")
            )
            return None
        # Timestamps with a time become datetimes; keep them, but bytes and sets
        # are never meaningful in a policy and would confuse validation.
        if isinstance(value, bytes | set):
            line, column = self._where(node)
            self.problems.append(
                Problem(self.source.file, line, column, format_path(loc), "unsupported YAML type")
            )
            return None
        assert value is None or isinstance(value, str | int | float | bool | dt.date)
        return value

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line, column = self._where(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    Problem(
                        self.source.file,
                        line,
                        column,
                        format_path(loc),
                        "merge keys (<<) are not supported; write the keys out",
                    )
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Problem(self.source.file, line, column, format_path(loc), "a key must be text")
                )
                continue
            key = key_node.value if key_node.tag == _STR else self.loader.construct_object(key_node)
            if not isinstance(key, str):
                # YAML reads ``1:`` as an int and ``no:`` as a bool; policy keys are names.
                key = key_node.value
            child: Loc = (*loc, key)
            if key in out:
                first = self.source.keys[child]
                self.problems.append(
                    Problem(
                        self.source.file,
                        line,
                        column,
                        format_path(child),
                        f"duplicate key {key!r} (first at line {first[0]})",
                    )
                )
                continue
            self.source.keys[child] = (line, column)
            out[key] = self.build(value_node, child)
        return out


def as_mapping(data: Any) -> Mapping[str, Any] | None:
    """``data`` if it is a mapping, else ``None``."""
    return data if isinstance(data, Mapping) else None
