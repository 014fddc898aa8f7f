"""James PRO's sample database against its ground truth, on SQLite, PostgreSQL and MariaDB.

Access must return exactly the rows the seed made for the person (recall and
precision 100%). Erasure must leave none of the person's identifiers in any
text column (but in rows a legal hold keeps, which the report names), leave
everyone else's rows as they were byte for byte (but free text that named the
person, which the ground truth lists), and keep every foreign key whole. An
unknown identity completes as "no data found" and reveals nothing.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, MetaData, create_engine, select, text

from tests.connectors.conftest import product_url  # noqa: F401 - the fixture
from tutela import Tutela
from tutela.connectors.schema import dataset_metadata
from tutela.demo import GroundTruth, Person, seed
from tutela.demo.truth import fold
from tutela.policy import Policy, loads
from tutela.requests import Requests, RequestState, Runner

ROOT = Path(__file__).resolve().parent.parent.parent
POLICY = ROOT / "examples" / "james-pro" / "policy.yaml"
KEY = b"james-pro-demo-key-0123456789abc"
USERS = 30
FISCAL_LAW = "Algemene wet inzake rijksbelastingen"

Snapshot = dict[str, dict[int, dict[str, Any]]]
# The product database's part is done; recipients that take requests by hand (James
# PRO names some) may still have their task open.
DONE = (RequestState.completed, RequestState.partially_completed)


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def prefix() -> str:
    """A Redis key prefix no other test uses (the live sessions dataset)."""
    return f"tutela-test-{secrets.token_hex(6)}:"


@pytest.fixture(scope="module")
def policy(prefix: str) -> Policy:
    """James PRO's policy, its Redis sessions under this module's own key prefix."""
    source = POLICY.read_text("utf-8")
    pattern = 'key_pattern: "session:{user_id}:*"'
    assert pattern in source
    return loads(source.replace(pattern, f'key_pattern: "{prefix}session:{{user_id}}:*"'))


@pytest.fixture
def sample(
    product_url: str,  # noqa: F811 - the imported fixture
    policy: Policy,
    tmp_path: Path,
) -> Iterator[tuple[Tutela, Runner, Engine, GroundTruth]]:
    """A seeded product database, a ledger knowing its account holders, and a runner."""
    engine = create_engine(product_url)
    truth = seed(policy, engine, USERS)
    path = tmp_path / "truth.json"
    truth.write(path)
    truth = GroundTruth.read(path)  # what the tests use is what the file says
    with Tutela.open(
        policy=policy, database=f"sqlite:///{tmp_path / 'ledger.sqlite3'}", upgrade=True
    ) as tutela:
        for person in truth.persons:
            if person.user_id is None:
                continue
            ids = [("email", person.email), ("user_id", str(person.user_id))]
            if person.phone:
                ids.append(("phone", person.phone))
            tutela.ledger.create_subject(ids)
        sessions = redis.Redis.from_url(REDIS_URL)
        runner = Runner(
            tutela,
            connections={"app": engine, "sessions": sessions},
            packages=tmp_path / "packages",
            pseudonym_key=KEY,
        )
        yield tutela, runner, engine, truth
        sessions.close()
    engine.dispose()


def _others_naming(truth: GroundTruth, person: Person) -> int:
    """How many rows of other people name ``person`` in their free text."""
    owners = truth.owners()
    return sum(
        1
        for table, mentions in person.mentioned_in.items()
        for pk, _ in mentions
        if person.key not in owners.get(table, {}).get(pk, set())
    )


def _chosen(truth: GroundTruth) -> dict[str, Person]:
    users = [p for p in truth.persons if p.user_id is not None]
    named = max(users, key=lambda p: (_others_naming(truth, p), -(p.user_id or 0)))
    payer = next(p for p in users if p.rows.get("invoices") and p is not named)
    outsider = max(
        (p for p in truth.persons if p.user_id is None),
        key=lambda p: sum(map(len, p.rows.values())),
    )
    busiest = max(
        (p for p in users if p not in (named, payer)),
        key=lambda p: sum(map(len, p.rows.values())),
    )
    return {"named": named, "payer": payer, "outsider": outsider, "busiest": busiest}


def _package_rows(result: dict[str, Any]) -> dict[str, list[int]]:
    with zipfile.ZipFile(result["package"]) as archive:
        data = json.loads(archive.read("data.json"))
    return {
        name.removeprefix("app."): sorted(row["id"] for row in c["rows"])
        for name, c in data["collections"].items()
        if name.startswith("app.") and c["rows"]
    }


def test_access_finds_exactly_the_persons_rows(
    sample: tuple[Tutela, Runner, Engine, GroundTruth],
) -> None:
    tutela, runner, _, truth = sample
    requests = Requests(tutela)
    chosen = _chosen(truth)
    assert _others_naming(truth, chosen["named"]) > 0  # someone else's text names them
    for person in chosen.values():
        request = requests.create("access", ("email", person.email.upper()), source="product")
        done = runner.run(request.id)
        assert done.state in DONE and done.result is not None
        expected = {t: sorted(keys) for t, keys in person.rows.items() if keys}
        assert _package_rows(done.result) == expected, person.key
        assert done.result["found"] is True


def test_unknown_identity_finds_and_reveals_nothing(
    sample: tuple[Tutela, Runner, Engine, GroundTruth],
) -> None:
    """Unknown to the ledger and to the product: completes as "no data found"."""
    tutela, runner, _, truth = sample
    requests = Requests(tutela)
    request = requests.create("access", ("email", "nobody@jamespro.invalid"), source="product")
    assert request.subject is None
    done = runner.run(request.id)
    assert done.state is RequestState.completed and done.result is not None
    assert done.result["found"] is False
    with zipfile.ZipFile(done.result["package"]) as archive:
        data = json.loads(archive.read("data.json"))
        csvs = [n for n in archive.namelist() if n.endswith(".csv")]
        assert all(len(archive.read(n).decode().splitlines()) <= 1 for n in csvs)
        page = archive.read("index.html").decode()
    assert all(c["count"] == 0 and c["rows"] == [] for c in data["collections"].values())
    assert not any(p.email in page or p.name in page for p in truth.persons)


def _snapshot(engine: Engine, metadata: MetaData) -> Snapshot:
    out: Snapshot = {}
    with engine.connect() as conn:
        for table in metadata.tables.values():
            rows = conn.execute(select(table).order_by(table.c.id)).mappings()
            out[table.name] = {row["id"]: dict(row) for row in rows}
    return out


def _texts(row: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for name, value in row.items():
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, dict | list):
            yield name, json.dumps(value, ensure_ascii=False)


def _dangling(engine: Engine, metadata: MetaData) -> list[str]:
    """References that point at no row (checked the same way on every database)."""
    found = []
    with engine.connect() as conn:
        for table in metadata.tables.values():
            for fk in table.foreign_keys:
                parent = fk.column.table
                query = text(
                    f"SELECT count(*) FROM {table.name} WHERE {fk.parent.name} IS NOT NULL "
                    f"AND {fk.parent.name} NOT IN (SELECT {fk.column.name} FROM {parent.name})"
                )
                if conn.execute(query).scalar():
                    found.append(f"{table.name}.{fk.parent.name}")
        if engine.dialect.name == "sqlite":
            found += [str(r) for r in conn.execute(text("PRAGMA foreign_key_check"))]
    return found


def test_erasure_leaves_no_trace_and_touches_no_one_else(
    sample: tuple[Tutela, Runner, Engine, GroundTruth], policy: Policy
) -> None:
    tutela, runner, engine, truth = sample
    metadata = dataset_metadata(next(d for d in policy.datasets if d.name == "app"))
    owners = truth.owners()
    chosen = _chosen(truth)
    for role in ("named", "payer"):
        person = chosen[role]
        before = _snapshot(engine, metadata)
        request = Requests(tutela).create("erasure", ("email", person.email), source="product")
        done = runner.run(request.id)
        assert done.state in DONE and done.result is not None
        reports = {r["collection"]: r for r in done.result["collections"]}
        after = _snapshot(engine, metadata)

        held = set(person.rows.get("invoices", []))
        if held:
            assert FISCAL_LAW in (reports["invoices"]["kept_because"] or "")
            assert reports["invoices"]["rows_kept"] == len(held)

        # Nothing identifies the person any more, but what the law keeps.
        needles = [fold(v) for v in person.identifiers]
        for table, rows in after.items():
            for pk, row in rows.items():
                if table == "invoices" and pk in held:
                    assert row["billing_user_id"] is None and row["billing_email"] is None
                    continue
                for name, value in _texts(row):
                    found = [n for n in needles if n in fold(value)]
                    assert not found, f"{role}: {table}.{name} #{pk} still holds {found}"

        # Everyone else's rows are as they were, but the text that named the person.
        named: dict[tuple[str, int], set[str]] = {}
        for table, mentions in person.mentioned_in.items():
            for pk, fld in mentions:
                named.setdefault((table, pk), set()).add(fld)
        for table, rows in before.items():
            for pk, old in rows.items():
                if person.key in owners.get(table, {}).get(pk, set()):
                    if reports[table]["action"] == "delete":
                        assert pk not in after[table], f"{table} #{pk} should be deleted"
                    continue
                new = after[table].get(pk)
                assert new is not None, f"{role}: {table} #{pk} of someone else was deleted"
                scrubbed = named.get((table, pk), set())
                for name in old:
                    if name in scrubbed:
                        assert new[name] != old[name], f"{table}.{name} #{pk} not scrubbed"
                    else:
                        assert new[name] == old[name], f"{role}: {table}.{name} #{pk} changed"
            assert set(after[table]) <= set(rows)

        assert _dangling(engine, metadata) == []
        assert tutela.ledger.state(done.subject or "").status.value == "erased"
