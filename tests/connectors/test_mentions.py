"""Mentions of a person in others' free text: listed in the access package, scrubbed on
erasure, found by the detector's matcher (phones in any format) behind a set-based
prefilter. On SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import Engine, create_engine, event, insert

from tests.conftest import ROOT
from tests.connectors.test_sql import ANNA, KEY, dump, seed, shop_policy
from tutela import Tutela
from tutela.connectors.schema import dataset_metadata
from tutela.connectors.sql import SqlConnector, scrub_mentions
from tutela.plan import build_graph, plan_erasure
from tutela.policy import Policy
from tutela.requests import Requests, RequestState, RequestType, Runner

PHONE = "+46701234567"
TERMS = ["Anna Söderberg", "anna@example.se", PHONE]


@pytest.fixture
def shop(product_url: str) -> Iterator[tuple[Policy, Engine]]:
    policy = shop_policy()
    engine = create_engine(product_url)
    seed(engine, policy)
    table = dataset_metadata(policy.datasets[0]).tables["posts"]
    with engine.begin() as conn:
        conn.execute(
            insert(table),
            [
                # Her phone as people write it, and a post nobody owns any more.
                {"id": 13, "author_id": 2, "author_email": "bo@example.se",
                 "body": "Ring henne på 070-123 45 67, eller cy@example.se"},
                {"id": 14, "author_id": None, "author_email": None,
                 "body": "Anna\nSöderberg was here"},
                {"id": 15, "author_id": 3, "author_email": "cy@example.se",
                 "body": "0701234568 is someone else, as is Annasöderberg"},
            ],
        )  # fmt: skip
    yield policy, engine
    engine.dispose()


def test_scrub_mentions_finds_formats_and_keeps_the_fallback() -> None:
    assert scrub_mentions("Ring 070-123 45 67 nu", [PHONE]) == "Ring [erased] nu"
    assert scrub_mentions("ring +46 (0)70 123 45 67", [PHONE]) == "ring [erased]"
    assert scrub_mentions("070-123 45 68", [PHONE]) == "070-123 45 68"
    assert scrub_mentions("ANNA\n söderberg!", TERMS) == "[erased]!"
    # A term inside a longer word is still scrubbed, as plain replacement did.
    assert scrub_mentions("xanna@example.se", TERMS) == "x[erased]"
    assert scrub_mentions("", TERMS) == ""


def test_mentions_in_others_rows(shop: tuple[Policy, Engine]) -> None:
    policy, engine = shop
    graph = build_graph(policy)
    connector = SqlConnector("app", engine, graph, pseudonym_key=KEY)
    identities = {**ANNA, "phone": [PHONE]}
    found = [
        m
        for node, fields in ((("app", "posts"), ["body"]), (("app", "comments"), ["body"]))
        for m in connector.mentions(node, fields, TERMS, identities)
    ]
    where = sorted((m["collection"], m["row"]["id"], m["text"]) for m in found)
    assert where == [
        ("app.comments", 20, "Anna Söderberg"),
        ("app.posts", 11, "ANNA@example.se"),
        ("app.posts", 11, "anna soderberg"),
        ("app.posts", 13, "070-123 45 67"),
        ("app.posts", 14, "Anna\nSöderberg"),
    ]
    phone = next(m for m in found if m["row"]["id"] == 13)
    assert phone["field"] == "body" and (phone["start"], phone["end"]) == (14, 27)
    # Others' data beside the mention is not handed over.
    assert phone["context"] == "Ring henne på 070-123 45 67, eller <EMAIL>"


def test_erasure_scrubs_her_phone_in_any_format(shop: tuple[Policy, Engine]) -> None:
    policy, engine = shop
    graph = build_graph(policy)
    connector = SqlConnector("app", engine, graph, pseudonym_key=KEY)
    for step in plan_erasure(policy, graph).steps:
        connector.erase(step, {**ANNA, "phone": [PHONE]}, TERMS, own_terms=["Anna"])
    posts = {p["id"]: p["body"] for p in dump(engine)["posts"]}
    assert posts[11] == "Ask [erased] or mail [erased]"
    assert posts[13] == "Ring henne på [erased], eller cy@example.se"
    assert posts[14] == "[erased] was here"
    assert posts[15] == "0701234568 is someone else, as is Annasöderberg"


@pytest.fixture
def setup(shop: tuple[Policy, Engine], tmp_path: Path) -> Iterator[tuple[Tutela, Runner]]:
    policy, product = shop
    with Tutela.open(
        policy=policy, database=f"sqlite:///{tmp_path / 'ledger.sqlite3'}", upgrade=True
    ) as tutela:
        tutela.ledger.create_subject(
            [("email", "anna@example.se"), ("user_id", "1"), ("phone", PHONE)]
        )
        runner = Runner(
            tutela, connections={"app": product}, packages=tmp_path / "packages", pseudonym_key=KEY
        )
        yield tutela, runner


def test_access_package_lists_mentions(setup: tuple[Tutela, Runner]) -> None:
    tutela, runner = setup
    request = Requests(tutela).create(
        RequestType.access, ("email", "anna@example.se"), source="product"
    )
    done = runner.run(request.id)
    assert done.state is RequestState.completed and done.result is not None
    assert done.result["mentions"] == 5
    with zipfile.ZipFile(done.result["package"]) as archive:
        data = json.loads(archive.read("data.json"))
        schema = json.loads((ROOT / "docs" / "access-package.schema.json").read_text())
        jsonschema.validate(data, schema)
        mentions = data["mentions"]
        assert mentions["count"] == 5
        assert {(m["collection"], m["row"]["id"]) for m in mentions["items"]} == {
            ("app.comments", 20),
            ("app.posts", 11),
            ("app.posts", 13),
            ("app.posts", 14),
        }
        rows = list(csv.DictReader(io.StringIO(archive.read("mentions.csv").decode())))
    assert len(rows) == 5
    assert {r["row"] for r in rows} == {"id=20", "id=11", "id=13", "id=14"}
    assert rows[0].keys() == {"collection", "field", "row", "start", "end", "text", "context"}


def test_portability_and_strangers_get_no_mentions(setup: tuple[Tutela, Runner]) -> None:
    tutela, runner = setup
    requests = Requests(tutela)
    ported = runner.run(
        requests.create(RequestType.portability, ("email", "anna@example.se"), source="product").id
    )
    assert ported.result is not None and ported.result["mentions"] == 0
    with zipfile.ZipFile(ported.result["package"]) as archive:
        assert "mentions.csv" not in archive.namelist()
        assert "mentions" not in json.loads(archive.read("data.json"))
    stranger = runner.run(
        requests.create(RequestType.access, ("email", "cy@example.se"), source="product").id
    )
    assert stranger.result is not None and stranger.result.get("mentions", 0) == 0


def test_mentions_query_is_one_statement(shop: tuple[Policy, Engine]) -> None:
    policy, engine = shop
    connector = SqlConnector("app", engine, build_graph(policy), pseudonym_key=KEY)
    for name in ("users", "posts"):
        connector.table(name)  # reflected before counting
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    found = list(connector.mentions(("app", "posts"), ["body"], TERMS, {**ANNA, "phone": [PHONE]}))
    assert len(found) == 4
    assert len(statements) == 1 and "LIKE" in statements[0].upper()
