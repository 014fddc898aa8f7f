"""Redis datasets: the person's keys found by SCAN over the declared pattern, read and erased."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import redis

from tests.requests.conftest import REDIS_URL
from tutela import Tutela
from tutela.connectors.redis import RedisConnector, escape_glob
from tutela.plan import build_graph, plan_access
from tutela.requests import Requests, RequestState, Runner

KEY = b"k" * 32


def fill(client: redis.Redis, prefix: str) -> None:
    client.hset(f"{prefix}session:1:a", mapping={"ip": "203.0.113.1", "agent": "Firefox"})
    client.set(f"{prefix}session:1:b", json.dumps({"ip": "203.0.113.2", "theme": "dark"}))
    client.rpush(f"{prefix}session:1:c", "one", "two")
    client.sadd(f"{prefix}session:1:d", "x")
    client.zadd(f"{prefix}session:1:e", {"m": 2.0})
    client.set(f"{prefix}session:10:a", "someone else")  # not user 1's
    client.set(f"{prefix}session:2:a", "someone else")
    client.set(f"{prefix}cart:anna@example.se", "3 books")
    client.set(f"{prefix}cart:bob@example.se", "1 lamp")


def test_access_reads_every_type_of_the_person_only(
    tutela: Tutela, redis_client: redis.Redis, prefix: str
) -> None:
    fill(redis_client, prefix)
    graph = build_graph(tutela.policy)
    connector = RedisConnector("cache", redis_client, graph)
    steps = {s.node: s for s in plan_access(tutela.policy, graph).steps}
    identities = {"user_id": ["1"], "email": ["anna@example.se"]}
    rows = {r["key"]: r for r in connector.read(steps[("cache", "sessions")], identities)}
    assert sorted(rows) == [f"{prefix}session:1:{c}" for c in "abcde"]
    a, b = rows[f"{prefix}session:1:a"], rows[f"{prefix}session:1:b"]
    assert (a["type"], a["ip"], a["agent"], a["user_id"]) == ("hash", "203.0.113.1", "Firefox", "1")
    assert (b["ip"], b["theme"]) == ("203.0.113.2", "dark")
    assert rows[f"{prefix}session:1:c"]["value"] == ["one", "two"]
    assert rows[f"{prefix}session:1:d"]["value"] == ["x"]
    assert rows[f"{prefix}session:1:e"]["value"] == [["m", 2.0]]
    carts = list(connector.read(steps[("cache", "carts")], identities))
    assert [(c["email"], c["items"]) for c in carts] == [("anna@example.se", "3 books")]


def test_identifiers_cannot_widen_the_pattern(
    tutela: Tutela, redis_client: redis.Redis, prefix: str
) -> None:
    fill(redis_client, prefix)
    connector = RedisConnector("cache", redis_client, build_graph(tutela.policy))
    for sneaky in ("*", "1*", "?", "[12]"):
        assert list(connector.keys(("cache", "sessions"), {"user_id": [sneaky]})) == []
    assert list(connector.keys(("cache", "sessions"), {})) == []
    assert escape_glob("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\"


def test_a_request_reads_and_erases_redis_keys(
    tutela: Tutela, redis_client: redis.Redis, prefix: str, product: str, tmp_path: Path
) -> None:
    fill(redis_client, prefix)
    tutela.ledger.create_subject([("email", "anna@example.se"), ("user_id", "1")])
    runner = Runner(
        tutela,
        connections={"app": product, "cache": REDIS_URL},
        packages=tmp_path / "packages",
        pseudonym_key=KEY,
    )
    requests = Requests(tutela)
    access = runner.run(
        requests.create("access", ("email", "anna@example.se"), source="product").id
    )
    assert access.state is RequestState.completed and access.result is not None
    assert access.result["rows"]["cache.sessions"] == 5
    assert access.result["rows"]["cache.carts"] == 1
    with zipfile.ZipFile(access.result["package"]) as archive:
        data = json.loads(archive.read("data.json"))
    values = [r["ip"] for r in data["collections"]["cache.sessions"]["rows"]]
    # Hash fields and JSON members fill their columns; a list's items fill the one other.
    assert sorted(v for v in values if isinstance(v, str)) == ["203.0.113.1", "203.0.113.2"]
    assert ["one", "two"] in values

    erasure = runner.run(
        requests.create("erasure", ("email", "anna@example.se"), source="product").id
    )
    assert erasure.state is RequestState.completed and erasure.result is not None
    reports = {(r["dataset"], r["collection"]): r for r in erasure.result["collections"]}
    assert reports[("cache", "sessions")]["rows_deleted"] == 5
    assert reports[("cache", "carts")]["rows_deleted"] == 1
    left = sorted(k.decode() for k in redis_client.scan_iter(match=prefix + "*"))
    assert left == [
        f"{prefix}cart:bob@example.se",
        f"{prefix}session:10:a",
        f"{prefix}session:2:a",
    ]
    # Running the collection step again removes nothing more.
    prepared = runner.prepare_erasure(requests.get(erasure.id))
    again = runner.erase_collection(("cache", "sessions"), prepared)
    assert again["rows_deleted"] == 0
