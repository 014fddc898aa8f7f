"""Fill James PRO's sample product database, and say whose every row is.

The tables come from the policy (:func:`~tutela.connectors.schema.dataset_metadata`),
so the declaration and the database cannot drift apart. The data is realistic
and deterministic: people in five locales with names, emails and phone
numbers of their country, teams, boards, cards, comments that sometimes name
a colleague, invoices with valid IBANs, and so on, all from one seed.

The ground truth is built as the rows are made: each row records the people
it belongs to because of who created, owns or is named by it (an author, an
owner, an invited or listed email), never by asking the planner. It also lists
the free-text fields that mention someone, which erasure scrubs in other
people's rows. Tests compare what access and erasure do against it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, Table, bindparam, create_engine, insert, inspect, text, update

from tutela.connectors.schema import dataset_metadata
from tutela.demo.activity import Activity
from tutela.demo.rows import LOCALES
from tutela.demo.truth import GroundTruth, Person, default_truth_path
from tutela.demo.workspace import Workspace
from tutela.errors import InputError
from tutela.policy.model import Dataset, Policy

__all__ = ["LANGUAGES", "GroundTruth", "Person", "default_truth_path", "seed"]

LANGUAGES = ("sv", "nl", "fr", "cs", "en")
BATCH = 1_000

# Tables in an order foreign keys accept (users.managed_by_team_id is set afterwards,
# as users and teams point at each other).
ORDER = (
    "users", "teams", "profiles", "oauth_identities", "memberships", "boards", "board_members",
    "lists", "cards", "card_members", "comments", "mentions", "attachments", "invites",
    "address_book_contacts", "sessions", "devices", "usage_events", "support_tickets",
    "website_enquiries", "payment_methods", "invoices", "api_tokens", "power_up_installations",
    "marketing_preferences", "audit_log",
)  # fmt: skip

Progress = Callable[[str, int, int], None]
"""Called with a table name, how many rows were just written to it, and the total to write."""


def seed(
    policy: Policy,
    url: str | Engine,
    rows: int,
    *,
    seed: int = 2018,
    languages: Sequence[str] = LANGUAGES,
    dataset: str = "app",
    progress: Progress | None = None,
) -> GroundTruth:
    """Create James PRO's tables in ``url`` (replacing them) and fill them for ``rows``
    users; return who owns each row.

    Other tables scale from the number of users. The same seed gives the same data.
    """
    try:
        from faker import Faker
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError(
            "the sample data needs Faker: pip install 'tutela[demo]' (or pip install Faker)"
        ) from None
    if rows < 2:
        raise InputError("the sample needs at least 2 users")
    unknown = [lang for lang in languages if lang not in LOCALES]
    if unknown or not languages:
        raise InputError(f"languages must be among {', '.join(LOCALES)}; got {list(languages)}")
    spec = next((d for d in policy.datasets if d.name == dataset), None)
    if spec is None or spec.type != "sql":
        raise InputError(f"the policy has no SQL dataset named {dataset!r}")
    fakers = {}
    for i, lang in enumerate(languages):
        faker = Faker(LOCALES[lang])
        faker.seed_instance(seed * 31 + i)
        fakers[lang] = faker
    builder = _Builder(random.Random(seed), fakers, list(languages))
    builder.build(rows)
    engine = create_engine(url) if isinstance(url, str) else url
    try:
        _write(engine, spec, builder.tables, progress)
    finally:
        if isinstance(url, str):
            engine.dispose()
    return GroundTruth(
        seed=seed,
        users=rows,
        tables={t: len(builder.tables.get(t, [])) for t in ORDER},
        persons=builder.persons,
    )


# ---------------------------------------------------------------------- writing


def _write(
    engine: Engine, spec: Dataset, data: dict[str, list[dict[str, Any]]], progress: Progress | None
) -> None:
    metadata = dataset_metadata(spec)
    missing = [t for t in ORDER if t not in metadata.tables]
    if missing:
        raise InputError(f"dataset {spec.name!r} lacks the sample's tables: {', '.join(missing)}")
    _drop(engine, [metadata.tables[t] for t in reversed(ORDER)])
    metadata.create_all(engine)
    total = sum(len(v) for v in data.values())
    users = metadata.tables["users"]
    for name in ORDER:
        table = metadata.tables[name]
        values = data.get(name, [])
        if name == "users":
            # Users and teams point at each other: users first without their team.
            values = [{**row, "managed_by_team_id": None} for row in values]
        _insert(engine, table, values, total, progress)
        if name == "teams":
            managed = [
                {"b_id": row["id"], "b_team": row["managed_by_team_id"]}
                for row in data["users"]
                if row["managed_by_team_id"] is not None
            ]
            statement = (
                update(users)
                .where(users.c.id == bindparam("b_id"))
                .values(managed_by_team_id=bindparam("b_team"))
            )
            with engine.begin() as conn:
                for start in range(0, len(managed), BATCH):
                    conn.execute(statement, managed[start : start + BATCH])


def _insert(
    engine: Engine,
    table: Table,
    values: list[dict[str, Any]],
    total: int,
    progress: Progress | None,
) -> None:
    statement = insert(table)
    for start in range(0, len(values), BATCH):
        chunk = values[start : start + BATCH]
        with engine.begin() as conn:
            conn.execute(statement, chunk)
        if progress is not None:
            progress(table.name, len(chunk), total)


def _drop(engine: Engine, tables: Iterable[Table]) -> None:
    """Drop the sample's tables where they exist (users and teams reference each other,
    so foreign keys are set aside the way each database allows)."""
    existing = set(inspect(engine).get_table_names())
    names = [t.name for t in tables if t.name in existing]
    if not names:
        return
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for name in names:
                conn.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))
        elif engine.dialect.name in ("mysql", "mariadb"):
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            for name in names:
                conn.execute(text(f"DROP TABLE IF EXISTS {quote(name)}"))
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        else:
            for name in names:
                conn.execute(text(f"DROP TABLE IF EXISTS {quote(name)}"))


# ---------------------------------------------------------------------- building


class _Builder(Workspace, Activity):
    """Every row of the sample, in memory, with whose each one is."""

    def build(self, users: int) -> None:
        externals = max(3, users // 5)
        people = self._people(users + externals)
        accounts: list[Person] = []
        for i, (lang, first, last) in enumerate(people[:users], start=1):
            person = self._person(lang, first, last, i, user=True)
            person.user_id = i
            person.key = f"user:{i}"
            accounts.append(person)
        outsiders: list[Person] = []
        for i, (lang, first, last) in enumerate(people[users:], start=users + 1):
            person = self._person(lang, first, last, i, user=False)
            person.key = f"email:{person.email}"
            outsiders.append(person)
        self._accounts(accounts)
        teams = self._teams(accounts)
        for team in teams:
            self._boards(team)
        self._invites(teams, accounts, outsiders)
        self._address_books(accounts, outsiders)
        self._activity(accounts)
        self._support(accounts, outsiders)
        self._billing(teams)
