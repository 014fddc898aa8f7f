"""The SQL connector on SQLite, PostgreSQL and MariaDB: access finds exactly the person's rows;
erasure removes them, masks or keeps what the plan says, and leaves everyone else untouched."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine, insert, select, text

from tests.conftest import base_policy
from tutela.connectors.schema import dataset_metadata
from tutela.connectors.sql import SqlConnector, pseudonym, scrub_text
from tutela.errors import RequestError
from tutela.plan import build_graph, plan_access, plan_erasure
from tutela.policy import Policy, loads

KEY = b"k" * 32


def shop_policy() -> Policy:
    data = base_policy()
    data["purposes"]["provide_service"]["categories"] = ["user"]
    data["retention"] = [
        {"categories": ["user"], "trigger": "while_account_active", "duration": "P30D"},
        {
            "categories": ["user.financial"],
            "trigger": "since_collected",
            "duration": "P7Y",
            "legal_hold": {"law": "Bokföringslagen (1999:1078) 7 kap. 2 §", "duration": "P7Y"},
        },
    ]
    data["datasets"] = [
        {
            "name": "app",
            "connection": "APP_DATABASE_URL",
            "collections": [
                {
                    "name": "users",
                    "fields": [
                        {
                            "name": "id",
                            "type": "integer",
                            "primary_key": True,
                            "identity": "user_id",
                        },
                        {
                            "name": "email",
                            "type": "string",
                            "identity": "email",
                            "categories": ["user.contact.email"],
                        },
                        {"name": "name", "type": "string", "categories": ["user.name"]},
                    ],
                },
                {
                    "name": "posts",
                    "erase": "mask",
                    "fields": [
                        {"name": "id", "type": "integer", "primary_key": True},
                        {
                            "name": "author_id",
                            "type": "integer",
                            "references": "users.id",
                            "erase": "null",
                        },
                        {
                            "name": "author_email",
                            "type": "string",
                            "categories": ["user.contact.email"],
                            "erase": "pseudonymize",
                        },
                        {
                            "name": "body",
                            "type": "text",
                            "categories": ["user.content"],
                            "erase": "scrub_subject",
                            "free_text": True,
                        },
                    ],
                },
                {
                    "name": "comments",
                    "fields": [
                        {"name": "id", "type": "integer", "primary_key": True},
                        {
                            "name": "post_id",
                            "type": "integer",
                            "references": "posts.id",
                            "follow": False,
                        },
                        {"name": "author_id", "type": "integer", "references": "users.id"},
                        {
                            "name": "body",
                            "type": "text",
                            "categories": ["user.content"],
                            "free_text": True,
                        },
                    ],
                },
                {
                    "name": "invoices",
                    "fields": [
                        {"name": "id", "type": "integer", "primary_key": True},
                        {
                            "name": "user_id",
                            "type": "integer",
                            "references": "users.id",
                            "erase": "null",
                        },
                        {
                            "name": "iban",
                            "type": "string",
                            "categories": ["user.financial.bank_account"],
                        },
                        {
                            "name": "billing_name",
                            "type": "string",
                            "categories": ["user.name"],
                            "erase": {"replace": "Erased customer"},
                        },
                        {"name": "issued", "type": "date"},
                    ],
                },
            ],
        }
    ]
    return loads(yaml.safe_dump(data, sort_keys=False), "shop.yaml")


PEOPLE = [
    (1, "anna@example.se", "Anna Söderberg"),
    (2, "bo@example.se", "Bo Ek"),
    (3, "cy@example.se", "Cy Ng"),
]


def seed(engine: Engine, policy: Policy) -> None:
    metadata = dataset_metadata(policy.datasets[0])
    metadata.create_all(engine)
    t = metadata.tables
    with engine.begin() as conn:
        conn.execute(
            insert(t["users"]),
            [{"id": i, "email": e.upper() if i == 1 else e, "name": n} for i, e, n in PEOPLE],
        )
        conn.execute(
            insert(t["posts"]),
            [
                {
                    "id": 10,
                    "author_id": 1,
                    "author_email": "anna@example.se",
                    "body": "Hej från Anna",
                },
                {
                    "id": 11,
                    "author_id": 2,
                    "author_email": "bo@example.se",
                    "body": "Ask anna soderberg or mail ANNA@example.se",
                },
                {"id": 12, "author_id": 3, "author_email": "cy@example.se", "body": "Nothing here"},
            ],
        )
        conn.execute(
            insert(t["comments"]),
            [
                {"id": 20, "post_id": 10, "author_id": 2, "body": "Nice, Anna Söderberg!"},
                {"id": 21, "post_id": 11, "author_id": 1, "body": "Thanks"},
                {"id": 22, "post_id": 12, "author_id": 3, "body": "Bo Ek wrote this"},
            ],
        )
        conn.execute(
            insert(t["invoices"]),
            [
                {
                    "id": 30,
                    "user_id": 1,
                    "iban": "SE4550000000058398257466",
                    "billing_name": "Anna Söderberg",
                    "issued": dt.date(2024, 3, 1),
                },
                {
                    "id": 31,
                    "user_id": 2,
                    "iban": "SE3550000000054910000003",
                    "billing_name": "Bo Ek",
                    "issued": dt.date(2024, 3, 2),
                },
            ],
        )


ANNA = {"user_id": ["1"], "email": ["anna@example.se"]}


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    out = {}
    with engine.connect() as conn:
        for name in ("users", "posts", "comments", "invoices"):
            rows = conn.execute(text(f"SELECT * FROM {name} ORDER BY id")).mappings()
            out[name] = [dict(r) for r in rows]
    return out


@pytest.fixture
def shop(product_url: str) -> tuple[Policy, Engine]:
    policy = shop_policy()
    engine = create_engine(product_url)
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys=ON"))
    seed(engine, policy)
    yield policy, engine
    engine.dispose()


def test_access_finds_exactly_the_persons_rows(shop: tuple[Policy, Engine]) -> None:
    policy, engine = shop
    graph = build_graph(policy)
    connector = SqlConnector("app", engine, graph, pseudonym_key=KEY)
    found = {
        step.node[1]: sorted(r["id"] for r in connector.read(step, ANNA))
        for step in plan_access(policy, graph).steps
    }
    # users by id and email (case-insensitively), posts and comments by author; the
    # comment by Bo on Anna's post is not hers (post_id is not followed).
    assert found == {"users": [1], "posts": [10], "comments": [21], "invoices": [30]}


def test_unknown_person_finds_nothing(shop: tuple[Policy, Engine]) -> None:
    policy, engine = shop
    graph = build_graph(policy)
    connector = SqlConnector("app", engine, graph, pseudonym_key=KEY)
    nobody = {"email": ["nobody@example.se"], "user_id": ["999"]}
    assert all(list(connector.read(s, nobody)) == [] for s in plan_access(policy, graph).steps)


def test_erasure(shop: tuple[Policy, Engine]) -> None:
    policy, engine = shop
    graph = build_graph(policy)
    connector = SqlConnector("app", engine, graph, pseudonym_key=KEY)
    before = dump(engine)
    reports = {
        step.read.node[1]: connector.erase(
            step,
            ANNA,
            scrub_terms=["anna@example.se", "Anna Söderberg"],
            own_terms=["Anna", "Söderberg"],
        )
        for step in plan_erasure(policy, graph).steps
    }
    after = dump(engine)
    assert reports["users"].rows_deleted == 1 and reports["comments"].rows_deleted == 1
    assert reports["posts"].rows_masked == 1
    invoices = reports["invoices"]
    assert invoices.rows_kept == 1 and "Bokföringslagen" in (invoices.kept_because or "")

    assert [u["id"] for u in after["users"]] == [2, 3]
    post = next(p for p in after["posts"] if p["id"] == 10)
    assert post["author_id"] is None
    assert post["author_email"] == pseudonym(KEY, "anna@example.se")
    invoice = next(i for i in after["invoices"] if i["id"] == 30)
    assert invoice["iban"] == "SE4550000000058398257466"  # the law needs it
    assert invoice["billing_name"] == "Erased customer" and invoice["user_id"] is None

    # Others' text that mentioned her is scrubbed, case- and accent-insensitively.
    bo_post = next(p for p in after["posts"] if p["id"] == 11)
    assert bo_post["body"] == "Ask [erased] or mail [erased]"
    assert next(c for c in after["comments"] if c["id"] == 20)["body"] == "Nice, [erased]!"

    # No text column still holds her identifiers, outside the legal hold.
    for name, rows in after.items():
        for row in rows:
            for value in row.values():
                if isinstance(value, str) and name != "invoices":
                    assert "anna" not in value.lower(), (name, row)

    # Everyone else's rows are unchanged, byte for byte, except the scrubbed mentions.
    changed = {("posts", 11), ("comments", 20)}
    for name, rows in before.items():
        for row in rows:
            mine = (
                (name == "users" and row["id"] == 1)
                or row.get("author_id") == 1
                or (name == "invoices" and row["user_id"] == 1)
            )
            if not mine and (name, row["id"]) not in changed:
                assert row in after[name], (name, row)


def test_pseudonyms_are_stable_and_keyed() -> None:
    assert pseudonym(KEY, "a@b.se") == pseudonym(KEY, "a@b.se")
    assert pseudonym(KEY, "a@b.se") != pseudonym(b"other" * 8, "a@b.se")
    number = pseudonym(KEY, 42, integer=True)
    assert isinstance(number, int) and number < 0


def test_scrub_text_is_case_and_accent_insensitive() -> None:
    assert scrub_text("Hej ANNA söderberg!", ["Anna Soderberg"]) == "Hej [erased]!"
    assert scrub_text("Straße Anna", ["anna"]) == "Straße [erased]"
    assert scrub_text("nothing", ["anna"]) == "nothing"


def test_plan_refuses_a_dangling_kept_reference() -> None:
    policy = shop_policy()
    data = policy.model_dump(mode="json")
    # A masked post keeping a pseudonymised link to a user row that erasure deletes.
    data["datasets"][0]["collections"][1]["fields"][1]["erase"] = "pseudonymize"
    broken = Policy.model_validate(data)
    with pytest.raises(RequestError, match=r"posts\.author_id is kept \(pseudonymize\)"):
        plan_erasure(broken)


def test_held_rows_lose_their_link_to_the_person() -> None:
    policy = shop_policy()
    data = policy.model_dump(mode="json")
    data["datasets"][0]["collections"][3]["fields"][1]["erase"] = None  # invoices.user_id
    step = next(
        s for s in plan_erasure(Policy.model_validate(data)).steps if s.read.node[1] == "invoices"
    )
    assert step.action == "keep" and step.hold is not None
    assert ("user_id", "null") in [(a.field, a.strategy) for a in step.fields]
    assert "iban" in step.hold.keeps


def test_foreign_keys_hold_after_erasure(shop: tuple[Policy, Engine]) -> None:
    policy, engine = shop
    graph = build_graph(policy)
    connector = SqlConnector("app", engine, graph, pseudonym_key=KEY)
    for step in plan_erasure(policy, graph).steps:
        connector.erase(step, ANNA, ["anna@example.se"])
    with engine.connect() as conn:
        users = set(conn.execute(text("SELECT id FROM users")).scalars())
        for table in ("posts", "comments", "invoices"):
            column = "user_id" if table == "invoices" else "author_id"
            refs = set(conn.execute(text(f"SELECT {column} FROM {table}")).scalars()) - {None}
            assert refs <= users, table
        assert conn.execute(select(text("1"))).scalar() == 1


def test_erasure_is_idempotent(shop: tuple[Policy, Engine]) -> None:
    """A step run again after a crash changes nothing more (no pseudonym of a pseudonym)."""
    policy, engine = shop
    graph = build_graph(policy)
    connector = SqlConnector("app", engine, graph, pseudonym_key=KEY)
    steps = plan_erasure(policy, graph).steps
    terms = ["anna@example.se", "Anna Söderberg"]
    for step in steps:
        connector.erase(step, ANNA, terms, own_terms=["Anna"])
    once = dump(engine)
    for step in steps:
        connector.erase(step, ANNA, terms, own_terms=["Anna"])
    assert dump(engine) == once


def test_long_lists_of_identifiers_select_the_same_rows(shop: tuple[Policy, Engine]) -> None:
    # Many identifiers (a batch erasure's) travel as one array on PostgreSQL and as
    # an IN list elsewhere; either way they select exactly the matching rows.
    policy, engine = shop
    graph = build_graph(policy)
    connector = SqlConnector("app", engine, graph, pseudonym_key=KEY)
    strangers = [f"nobody{i}@example.org" for i in range(100)]
    many = {
        "email": ["ANNA@example.se", "bo@EXAMPLE.se", *strangers],
        "user_id": [str(i) for i in range(1_000, 1_100)],
    }
    found = {
        step.node[1]: sorted(r["id"] for r in connector.read(step, many))
        for step in plan_access(policy, graph).steps
    }
    few = {"email": ["anna@example.se", "bo@example.se"]}
    expected = {
        step.node[1]: sorted(r["id"] for r in connector.read(step, few))
        for step in plan_access(policy, graph).steps
    }
    assert found == expected
    assert found["users"] == [1, 2]
