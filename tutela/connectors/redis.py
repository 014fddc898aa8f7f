"""Redis: the keys of a person found through the collection's declared key pattern.

A Redis collection declares ``key_pattern`` with ``{placeholders}``, for
example ``session:{user_id}:*``. A placeholder names a field of the
collection (whose ``identity`` kind, or followed ``references`` across
datasets, gives its values) or directly an identity kind. The pattern is
filled with each of the person's identifiers; the identifiers are escaped,
so a value holding ``*`` or ``?`` cannot widen the match to other people's
keys.

Keys are found with SCAN, never KEYS, which would block the server while it
walks the whole keyspace. Access streams the values batch by batch; erasure
removes the keys with UNLINK (freed in the background) in batches.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import redis
from redis.exceptions import RedisError

from tutela.connectors.sql import CollectionReport
from tutela.errors import ConnectorError
from tutela.plan import Graph, Node
from tutela.plan.steps import ErasureStep, ReadStep
from tutela.policy.references import resolve_reference

__all__ = ["RedisConnector", "escape_glob"]

Identities = Mapping[str, Sequence[str]]
External = Mapping[tuple[Node, str], Sequence[Any]]

SCAN_COUNT = 1_000
BATCH = 500

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_GLOB = re.compile(r"([\\*?\[\]])")


def escape_glob(value: str) -> str:
    """``value`` as a literal inside a Redis MATCH pattern."""
    return _GLOB.sub(r"\\\1", value)


class RedisConnector:
    """One Redis dataset of the product, reached through a client."""

    def __init__(self, dataset: str, client: redis.Redis, graph: Graph) -> None:
        self.dataset = dataset
        self.client = client
        self.graph = graph

    # ------------------------------------------------------------ finding keys

    def _placeholder_values(
        self, node: Node, name: str, identities: Identities, external: External | None
    ) -> list[str]:
        collection = self.graph.collections[node]
        fld = next((f for f in collection.fields if f.name == name), None)
        if fld is not None and fld.identity is not None:
            return [str(v) for v in identities.get(fld.identity.value, ())]
        if fld is not None and fld.references is not None:
            target = resolve_reference(node[0], fld.references)
            if target is None:
                return []
            return [str(v) for v in (external or {}).get((target[:2], target[2]), ())]
        # Not a field: an identity kind named directly (``session:{email}``).
        return [str(v) for v in identities.get(name, ())]

    def patterns(
        self, node: Node, identities: Identities, external: External | None = None
    ) -> list[str]:
        """The collection's key pattern filled with every combination of the person's
        identifiers (escaped). Empty when a placeholder has no value."""
        template = self.graph.collections[node].key_pattern
        if not template:
            raise ConnectorError(f"{self.dataset}.{node[1]}: a Redis collection needs key_pattern")
        names = list(dict.fromkeys(_PLACEHOLDER.findall(template)))
        if not names:
            # A pattern naming nobody would match everyone's keys.
            raise ConnectorError(
                f"{self.dataset}.{node[1]}: key_pattern names no identity placeholder"
            )
        choices = [
            sorted(set(self._placeholder_values(node, n, identities, external))) for n in names
        ]
        out: list[str] = []
        for combination in itertools.product(*choices):
            values = dict(zip(names, combination, strict=True))
            out.append(_fill(template, values))
        return out

    def keys(
        self, node: Node, identities: Identities, external: External | None = None
    ) -> Iterator[str]:
        """Every key of the person in one collection, each once, found by SCAN."""
        seen: set[str] = set()
        try:
            for pattern in self.patterns(node, identities, external):
                if not _has_glob(pattern):
                    # An exact key: look it up instead of walking the keyspace.
                    key = _unescape(pattern)
                    if key not in seen and self.client.exists(key):
                        seen.add(key)
                        yield key
                    continue
                for raw in self.client.scan_iter(match=pattern, count=SCAN_COUNT):
                    key = _text(raw)
                    if key not in seen:
                        seen.add(key)
                        yield key
        except RedisError as exc:
            raise ConnectorError(
                f"{self.dataset}.{node[1]}: Redis failed ({type(exc).__name__})"
            ) from exc

    # ------------------------------------------------------------ access

    def read(
        self, step: ReadStep, identities: Identities, external: External | None = None
    ) -> Iterator[dict[str, Any]]:
        """Stream the person's keys of one collection as rows: ``key``, ``type``, the
        placeholder values read back from the key, and the value (a hash's fields, a JSON
        object's members, or ``value`` for anything else)."""
        node = step.node
        template = self.graph.collections[node].key_pattern or ""
        parse = _parser(template)
        fields = [f.name for f in self.graph.collections[node].fields]
        try:
            for batch in _batched(self.keys(node, identities, external), BATCH):
                with self.client.pipeline(transaction=False) as pipe:
                    for key in batch:
                        pipe.type(key)
                    kinds = [_text(k) for k in pipe.execute()]
                with self.client.pipeline(transaction=False) as pipe:
                    for key, kind in zip(batch, kinds, strict=True):
                        _fetch(pipe, key, kind)
                    values = pipe.execute()
                for key, kind, value in zip(batch, kinds, values, strict=True):
                    if kind == "none":
                        continue  # expired between SCAN and reading
                    yield _row(key, kind, value, parse(key), fields)
        except RedisError as exc:
            raise ConnectorError(
                f"{self.dataset}.{node[1]}: reading failed ({type(exc).__name__})"
            ) from exc

    # ------------------------------------------------------------ erasure

    def erase(
        self,
        step: ErasureStep,
        identities: Identities,
        terms: Sequence[str] = (),
        external: External | None = None,
        *,
        own_terms: Sequence[str] = (),
    ) -> CollectionReport:
        """Remove the person's keys of one collection (UNLINK in batches).

        A collection kept by law or declared ``erase: keep`` is counted, not touched.
        ``mask`` deletes too: a cached copy has no other reader to keep it for, and
        the source of truth is masked in its own dataset. Running it again finds
        nothing more to remove.
        """
        node = step.read.node
        report = CollectionReport(self.dataset, node[1], step.action)
        try:
            if step.action == "keep":
                report.rows_kept = sum(1 for _ in self.keys(node, identities, external))
                report.kept_because = step.hold.law if step.hold else None
                return report
            for batch in _batched(self.keys(node, identities, external), BATCH):
                report.rows_deleted += int(self.client.unlink(*batch))
        except RedisError as exc:
            raise ConnectorError(
                f"{self.dataset}.{node[1]}: erasure failed ({type(exc).__name__})"
            ) from exc
        report.action = "delete"
        return report


# ---------------------------------------------------------------- helpers


def _fill(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: escape_glob(values[m.group(1)]), template)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _has_glob(pattern: str) -> bool:
    return re.search(r"(?<!\\)[*?\[]", pattern) is not None


def _unescape(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern)


def _batched(items: Iterator[str], size: int) -> Iterator[list[str]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def _fetch(pipe: Any, key: str, kind: str) -> None:
    if kind == "string":
        pipe.get(key)
    elif kind == "hash":
        pipe.hgetall(key)
    elif kind == "list":
        pipe.lrange(key, 0, -1)
    elif kind == "set":
        pipe.smembers(key)
    elif kind == "zset":
        pipe.zrange(key, 0, -1, withscores=True)
    else:
        # Streams and module types: say the key exists without reading it.
        pipe.exists(key)


def _row(
    key: str, kind: str, value: Any, placeholders: dict[str, str], fields: list[str]
) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key, "type": kind, **placeholders}
    content: Any
    if kind == "hash":
        row.update({_text(k): _text(v) for k, v in value.items()})
        return row
    if kind == "string":
        content = _text(value)
        try:
            parsed = json.loads(content)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            row.update({str(k): v for k, v in parsed.items()})
            return row
    elif kind == "list":
        content = [_text(v) for v in value]
    elif kind == "set":
        content = sorted(_text(v) for v in value)
    elif kind == "zset":
        content = [[_text(member), score] for member, score in value]
    else:
        content = None
    row["value"] = content
    # The one declared field that is neither a placeholder nor a key name holds the value.
    free = [f for f in fields if f not in row]
    if len(free) == 1:
        row[free[0]] = content
    return row


def _parser(template: str) -> Any:
    """A function reading the placeholder values back out of a key."""
    parts: list[str] = []
    position = 0
    named: set[str] = set()
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        parts.append(_glob_regex(template[position : match.start()]))
        # A placeholder used twice holds the same value both times.
        parts.append(f"(?P={name})" if name in named else f"(?P<{name}>.*?)")
        named.add(name)
        position = match.end()
    parts.append(_glob_regex(template[position:]))
    regex = re.compile("^" + "".join(parts) + "$", re.DOTALL)

    def parse(key: str) -> dict[str, str]:
        found = regex.match(key)
        return dict(found.groupdict()) if found else {}

    return parse


def _glob_regex(text: str) -> str:
    out = []
    for char in text:
        out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return "".join(out)
