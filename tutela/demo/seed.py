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

import datetime as dt
import json
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import Engine, Table, bindparam, create_engine, insert, inspect, text, update
from stdnum import iban as stdnum_iban

from tutela.connectors.schema import dataset_metadata
from tutela.demo.text import TEXT
from tutela.errors import InputError
from tutela.policy.model import Dataset, Policy

__all__ = ["LANGUAGES", "GroundTruth", "Person", "default_truth_path", "seed"]

LANGUAGES = ("sv", "nl", "fr", "cs", "en")
LOCALES = {"sv": "sv_SE", "nl": "nl_NL", "fr": "fr_FR", "cs": "cs_CZ", "en": "en_GB"}
COUNTRIES = {"sv": "SE", "nl": "NL", "fr": "FR", "cs": "CZ", "en": "GB"}
TIMEZONES = {
    "sv": "Europe/Stockholm",
    "nl": "Europe/Amsterdam",
    "fr": "Europe/Paris",
    "cs": "Europe/Prague",
    "en": "Europe/London",
}
# Mobile ranges in E.164: a fixed length per country, so no number is the start of another.
MOBILE = {"sv": ("+4670", 7), "nl": ("+316", 8), "fr": ("+336", 8), "cs": ("+42073", 7),
          "en": ("+4477", 8)}  # fmt: skip
BATCH = 1_000
EPOCH = dt.datetime(2023, 1, 1)

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


def fold(value: str) -> str:
    """Case- and accent-insensitive form of a text (how erasure matches names)."""
    return "".join(
        c for c in unicodedata.normalize("NFKD", value.casefold()) if not unicodedata.combining(c)
    )


@dataclass(eq=False)
class Person:
    """Someone in the sample: an account holder (``user_id``) or a person known only by
    email (an invited colleague, a prospect, an address-book contact)."""

    key: str
    name: str
    email: str
    language: str
    phone: str | None = None
    user_id: int | None = None
    rows: dict[str, list[int]] = field(default_factory=dict)
    """Table -> primary keys of the rows that are this person's."""
    mentioned_in: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    """Table -> (primary key, field) of free text in which this person is named."""

    @property
    def identifiers(self) -> list[str]:
        """What identifies the person in text: email, phone, full name."""
        return [v for v in (self.email, self.phone, self.name) if v]


@dataclass
class GroundTruth:
    """Whose each row of the sample is, by construction."""

    seed: int
    users: int
    tables: dict[str, int]
    persons: list[Person]

    def person(self, key: str) -> Person:
        """The person with this key (``user:7`` or ``email:...``)."""
        for person in self.persons:
            if person.key == key:
                return person
        raise KeyError(key)

    def owners(self) -> dict[str, dict[int, set[str]]]:
        """Table -> primary key -> keys of the people the row belongs to."""
        out: dict[str, dict[int, set[str]]] = {}
        for person in self.persons:
            for table, keys in person.rows.items():
                by_key = out.setdefault(table, {})
                for k in keys:
                    by_key.setdefault(k, set()).add(person.key)
        return out

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (the file ``tutela demo seed`` writes)."""
        return {
            "seed": self.seed,
            "users": self.users,
            "tables": self.tables,
            "persons": [
                {
                    "key": p.key,
                    "name": p.name,
                    "email": p.email,
                    "phone": p.phone,
                    "user_id": p.user_id,
                    "language": p.language,
                    "rows": p.rows,
                    "mentioned_in": {t: [list(m) for m in ms] for t, ms in p.mentioned_in.items()},
                }
                for p in self.persons
            ],
        }

    def write(self, path: Path) -> None:
        """Write the ground truth as JSON."""
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), "utf-8")

    @classmethod
    def read(cls, path: Path) -> GroundTruth:
        """Read a file written by :meth:`write`."""
        data = json.loads(path.read_text("utf-8"))
        persons = [
            Person(
                key=p["key"],
                name=p["name"],
                email=p["email"],
                language=p["language"],
                phone=p["phone"],
                user_id=p["user_id"],
                rows=p["rows"],
                mentioned_in={t: [(m[0], m[1]) for m in ms] for t, ms in p["mentioned_in"].items()},
            )
            for p in data["persons"]
        ]
        return cls(seed=data["seed"], users=data["users"], tables=data["tables"], persons=persons)


def default_truth_path(url: str) -> Path:
    """Where the ground truth goes: beside a SQLite file, else in the working folder."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db = Path(url.removeprefix("sqlite:///"))
        return db.with_name(f"{db.stem}.truth.json")
    return Path("james-pro.truth.json")


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


def _address(faker: Any) -> str:
    return str(faker.address()).replace("\n", ", ")


def _ascii(value: str) -> str:
    return re.sub(r"[^a-z]", "", fold(value))


class _Builder:
    """Makes every row in memory, recording its owners and mentions as it goes."""

    def __init__(self, rng: random.Random, fakers: dict[str, Any], languages: list[str]) -> None:
        self.rng = rng
        self.fakers = fakers
        self.languages = languages
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.persons: list[Person] = []
        self.by_folded_name: dict[str, Person] = {}
        self.phones: set[str] = set()
        self.serial = 0

    # ------------------------------------------------------------ helpers

    def _row(self, table: str, values: dict[str, Any], *owners: Person | None) -> int:
        rows = self.tables.setdefault(table, [])
        pk = len(rows) + 1
        rows.append({"id": pk, **values})
        for owner in dict.fromkeys(o for o in owners if o is not None):
            owner.rows.setdefault(table, []).append(pk)
        return pk

    @staticmethod
    def _index(person: Person) -> int:
        assert person.user_id is not None
        return person.user_id - 1

    def _when(self, after: dt.datetime | None = None, days: int = 700) -> dt.datetime:
        start = after or EPOCH
        return start + dt.timedelta(seconds=self.rng.randrange(days * 86_400))

    def _pick(self, lang: str, kind: str) -> str:
        return self.rng.choice(TEXT[lang][kind])

    def _clean(self, make: Callable[[], str]) -> str:
        """A generated value (address, company) that names none of the sample's people: a
        street may carry a person's name, and erasure would rightly leave it there."""
        for _ in range(50):
            value = make()
            if not self._names_in(value):
                return value
        raise RuntimeError("could not generate a value free of people's names")

    def _names_in(self, value: str) -> list[Person]:
        """People whose full name (folded) occurs in ``value``."""
        folded = fold(value)
        found = []
        n = len(folded)
        for i in range(n):
            for j in range(i + 3, n + 1):
                person = self.by_folded_name.get(folded[i:j])
                if person is not None:
                    found.append(person)
        return found

    def _record_mentions(self, table: str, pk: int, fld: str, value: str, whom: Person) -> None:
        """Note who a free-text value names: the person written in, and anyone whose full
        name the text happens to contain. Emails end in a number unique to each person,
        so one is never found inside another."""
        for person in dict.fromkeys([whom, *self._names_in(value)]):
            person.mentioned_in.setdefault(table, []).append((pk, fld))

    # ------------------------------------------------------------ people

    def _phone(self, lang: str) -> str:
        prefix, digits = MOBILE[lang]
        while True:
            number = prefix + "".join(str(self.rng.randrange(10)) for _ in range(digits))
            if number not in self.phones and phonenumbers.is_valid_number(
                phonenumbers.parse(number)
            ):
                self.phones.add(number)
                return number

    def _people(self, count: int) -> list[tuple[str, str, str]]:
        """``count`` (language, first, last) with distinct names, none inside another: a
        name contained in someone else's would be erased from their rows too."""
        pool: list[tuple[str, str, str]] = []
        for _ in range(count * 2 + 10):
            lang = self.rng.choice(self.languages)
            faker = self.fakers[lang]
            if self.rng.random() < 0.5:
                pool.append((lang, faker.first_name_female(), faker.last_name_female()))
            else:
                pool.append((lang, faker.first_name_male(), faker.last_name_male()))
        # Shorter names first: a later (longer) name can only contain earlier ones.
        pool.sort(key=lambda p: (len(fold(f"{p[1]} {p[2]}")), fold(f"{p[1]} {p[2]}")))
        chosen: list[tuple[str, str, str]] = []
        names: dict[str, None] = {}
        for lang, first, last in pool:
            folded = fold(f"{first} {last}")
            if folded in names or any(
                folded[i:j] in names
                for i in range(len(folded))
                for j in range(i + 3, len(folded) + 1)
            ):
                continue
            names[folded] = None
            chosen.append((lang, first, last))
        if len(chosen) < count:
            raise RuntimeError("not enough distinct names; use more languages")
        chosen = chosen[:count] if len(chosen) > count else chosen
        self.rng.shuffle(chosen)
        return chosen

    def _person(self, lang: str, first: str, last: str, number: int, *, user: bool) -> Person:
        faker = self.fakers[lang]
        local = f"{_ascii(first) or 'user'}.{_ascii(last) or 'person'}{number}"
        domain = faker.free_email_domain()
        person = Person(
            key="",
            name=f"{first} {last}",
            email=f"{local}@{domain}",
            language=lang,
            phone=self._phone(lang) if user or self.rng.random() < 0.5 else None,
        )
        self.persons.append(person)
        self.by_folded_name[fold(person.name)] = person
        return person

    # ------------------------------------------------------------ the product

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

    def _accounts(self, accounts: list[Person]) -> None:
        rng = self.rng
        for person in accounts:
            lang = person.language
            faker = self.fakers[lang]
            created = self._when(days=300)
            self._row(
                "users",
                {
                    "email": person.email,
                    "password_hash": "$argon2id$v=19$" + faker.sha256()[:43],
                    "locale": LOCALES[lang].replace("_", "-"),
                    "country": COUNTRIES[lang],
                    "managed_by_team_id": None,
                    "status": "active",
                    "created_at": created,
                    "last_activity_at": self._when(created, 300),
                    "closed_at": None,
                },
                person,
            )
            first, last = person.name.split(" ", 1)
            self._row(
                "profiles",
                {
                    "user_id": person.user_id,
                    "full_name": person.name,
                    "username": f"{_ascii(first)}{_ascii(last)[:12]}{person.user_id}",
                    "initials": (first[:1] + last[:1]).upper(),
                    "avatar_url": f"https://avatars.jamespro.example/{faker.uuid4()}.png",
                    "bio": self._pick(lang, "bio") if rng.random() < 0.6 else None,
                    "job_title": faker.job()[:120],
                    "phone": person.phone,
                    "timezone": TIMEZONES[lang],
                    "notification_settings": {"email": rng.random() < 0.8, "push": True},
                    "updated_at": self._when(created, 300),
                },
                person,
            )
            if rng.random() < 0.4:
                self._row(
                    "oauth_identities",
                    {
                        "user_id": person.user_id,
                        "provider": "google",
                        "provider_subject": str(rng.randrange(10**20, 10**21)),
                        "email": person.email,
                        "name": person.name,
                        "created_at": created,
                    },
                    person,
                )
            if rng.random() < 0.8:
                self._row(
                    "marketing_preferences",
                    {
                        "user_id": person.user_id,
                        "email": person.email,
                        "newsletter": rng.random() < 0.5,
                        "product_news": rng.random() < 0.7,
                        "surveys": rng.random() < 0.3,
                        "events": rng.random() < 0.2,
                        "source": "account_settings",
                        "created_at": created,
                        "updated_at": self._when(created, 300),
                    },
                    person,
                )

    def _teams(self, accounts: list[Person]) -> list[dict[str, Any]]:
        rng = self.rng
        count = max(1, len(accounts) // 6)
        shuffled = accounts[:]
        rng.shuffle(shuffled)
        teams: list[dict[str, Any]] = []
        for t in range(count):
            members = shuffled[t::count]
            creator = members[0]
            faker = self.fakers[creator.language]
            company = self._clean(faker.company)
            domain = f"{_ascii(company)[:20] or 'team'}{t + 1}.example"
            plan = rng.choice(("free", "standard", "premium", "enterprise"))
            created = self._when(days=200)
            team_id = self._row(
                "teams",
                {
                    "name": company,
                    "email_domain": domain,
                    "created_by": creator.user_id,
                    "plan": plan,
                    "created_at": created,
                },
                creator,
            )
            # Some people belong to a second team.
            picked = rng.sample(accounts, k=min(len(accounts), (len(members) + 3) // 4))
            extra = [p for p in picked if p not in members]
            everyone = members + extra
            for i, member in enumerate(everyone):
                self._row(
                    "memberships",
                    {
                        "team_id": team_id,
                        "user_id": member.user_id,
                        "role": "admin" if i == 0 else rng.choice(("member", "member", "observer")),
                        "created_at": self._when(created, 60),
                        "deactivated_at": None,
                    },
                    member,
                )
            if plan == "enterprise":
                # Enterprise teams administer their members' accounts.
                for member in members:
                    self.tables["users"][self._index(member)]["managed_by_team_id"] = team_id
            for _ in range(rng.randint(2, 5)):
                actor = rng.choice(everyone)
                self._row(
                    "audit_log",
                    {
                        "team_id": team_id,
                        "actor_id": actor.user_id,
                        "action": rng.choice(("member.added", "board.created", "settings.changed")),
                        "target_type": rng.choice(("board", "membership", "team")),
                        "target_id": rng.randrange(1, 1000),
                        "ip_address": self.fakers[actor.language].ipv4_public(),
                        "created_at": self._when(created, 300),
                    },
                    actor,
                )
            teams.append(
                {"id": team_id, "members": everyone, "creator": creator, "plan": plan,
                 "company": company, "created": created}
            )  # fmt: skip
        return teams

    def _say(
        self, lang: str, kinds: tuple[str, ...], people: list[Person], chance: float
    ) -> tuple[str, Person | None]:
        """A free-text value: usually plain, sometimes (``chance``) naming one of ``people``
        by full name or, less often, by email."""
        templates = [t for kind in kinds for t in TEXT[lang][kind]]
        named = [t for t in templates if "{who}" in t]
        if people and named and self.rng.random() < chance:
            whom = self.rng.choice(people)
            value = whom.email if self.rng.random() < 0.3 else whom.name
            return self.rng.choice(named).format(who=value), whom
        return self.rng.choice([t for t in templates if "{who}" not in t]), None

    def _boards(self, team: dict[str, Any]) -> None:
        rng = self.rng
        members: list[Person] = team["members"]
        for _ in range(rng.randint(2, 4)):
            owner = rng.choice(members)
            lang = owner.language
            others = [m for m in members if m is not owner]
            created = self._when(team["created"], 300)
            description, whom = self._say(lang, ("board_desc",), others, 0.3)
            board_id = self._row(
                "boards",
                {
                    "team_id": team["id"],
                    "owner_id": owner.user_id,
                    "title": self._pick(lang, "board"),
                    "description": description,
                    "visibility": rng.choice(("team", "private", "public")),
                    "created_at": created,
                    "closed_at": None,
                },
                owner,
            )
            if whom is not None:
                self._record_mentions("boards", board_id, "description", description, whom)
            on_board = [owner] + [m for m in others if rng.random() < 0.6]
            for member in on_board:
                self._row(
                    "board_members",
                    {
                        "board_id": board_id,
                        "user_id": member.user_id,
                        "role": "admin" if member is owner else "normal",
                        "created_at": self._when(created, 30),
                    },
                    member,
                )
            list_ids = []
            for order, title in enumerate(TEXT[lang]["list"][: rng.randint(3, 5)], start=1):
                maker = rng.choice(on_board)
                list_ids.append(
                    self._row(
                        "lists",
                        {
                            "board_id": board_id,
                            "created_by": maker.user_id,
                            "title": title,
                            "sort_order": float(order),
                            "created_at": self._when(created, 30),
                        },
                        maker,
                    )
                )
            for _ in range(rng.randint(4, 9)):
                self._card(board_id, list_ids, on_board, created)
            if rng.random() < 0.3:
                enabler = rng.choice(on_board)
                self._row(
                    "power_up_installations",
                    {
                        "board_id": board_id,
                        "enabled_by": enabler.user_id,
                        "power_up": rng.choice(("calendar", "github", "google-drive", "slack")),
                        "settings": {"enabled": True},
                        "created_at": self._when(created, 100),
                        "disabled_at": None,
                    },
                    enabler,
                )

    def _card(
        self, board_id: int, list_ids: list[int], on_board: list[Person], created: dt.datetime
    ) -> None:
        rng = self.rng
        author = rng.choice(on_board)
        lang = author.language
        others = [m for m in on_board if m is not author]
        description, whom = self._say(lang, ("card_desc",), others, 0.2)
        when = self._when(created, 200)
        card_id = self._row(
            "cards",
            {
                "board_id": board_id,
                "list_id": rng.choice(list_ids),
                "created_by": author.user_id,
                "title": self._pick(lang, "card"),
                "description": description,
                "due_at": self._when(when, 60) if rng.random() < 0.4 else None,
                "sort_order": float(rng.randrange(1, 100)),
                "created_at": when,
                "updated_at": self._when(when, 30),
                "archived_at": None,
            },
            author,
        )
        if whom is not None:
            self._record_mentions("cards", card_id, "description", description, whom)
        for member in rng.sample(on_board, k=min(len(on_board), rng.randint(0, 2))):
            self._row(
                "card_members",
                {"card_id": card_id, "user_id": member.user_id, "created_at": when},
                member,
            )
        for _ in range(rng.randint(0, 4)):
            writer = rng.choice(on_board)
            peers = [m for m in on_board if m is not writer]
            body, whom = self._say(writer.language, ("comment", "comment_who"), peers, 0.3)
            at = self._when(when, 60)
            comment_id = self._row(
                "comments",
                {"card_id": card_id, "author_id": writer.user_id, "body": body,
                 "created_at": at, "edited_at": None},
                writer,
            )  # fmt: skip
            if whom is not None:
                self._record_mentions("comments", comment_id, "body", body, whom)
                self._row(
                    "mentions",
                    {"comment_id": comment_id, "mentioned_user_id": whom.user_id,
                     "created_at": at},
                    whom,
                )  # fmt: skip
        if rng.random() < 0.2:
            uploader = rng.choice(on_board)
            word = self._pick(uploader.language, "search")
            kind = rng.choice((("pdf", "application/pdf"), ("png", "image/png"),
                               ("xlsx", "application/vnd.ms-excel")))  # fmt: skip
            self._row(
                "attachments",
                {
                    "card_id": card_id,
                    "uploaded_by": uploader.user_id,
                    "file_name": f"{word}-{rng.randrange(1, 99)}.{kind[0]}",
                    "content_type": kind[1],
                    "size_bytes": rng.randrange(2_000, 5_000_000),
                    "storage_key": f"att/{self.fakers[uploader.language].uuid4()}",
                    "created_at": self._when(when, 30),
                },
                uploader,
            )

    def _invites(
        self, teams: list[dict[str, Any]], accounts: list[Person], outsiders: list[Person]
    ) -> None:
        rng = self.rng
        boards_of: dict[int, list[int]] = {}
        for board in self.tables.get("boards", []):
            boards_of.setdefault(board["team_id"], []).append(board["id"])
        for team in teams:
            team_boards = boards_of.get(team["id"], [])
            for _ in range(rng.randint(1, 3)):
                inviter = rng.choice(team["members"])
                if rng.random() < 0.5:
                    invitee = rng.choice([a for a in accounts if a is not inviter])
                    accepted = rng.random() < 0.7
                else:
                    invitee, accepted = rng.choice(outsiders), False
                at = self._when(team["created"], 200)
                self._row(
                    "invites",
                    {
                        "team_id": team["id"],
                        "board_id": rng.choice(team_boards) if team_boards else None,
                        "invited_by": inviter.user_id,
                        "email": invitee.email,
                        "accepted_user_id": invitee.user_id if accepted else None,
                        "status": "accepted" if accepted else "pending",
                        "created_at": at,
                        "closed_at": self._when(at, 10) if accepted else None,
                    },
                    inviter,
                    invitee,
                )

    def _address_books(self, accounts: list[Person], outsiders: list[Person]) -> None:
        rng = self.rng
        for owner in accounts:
            if rng.random() >= 0.3:
                continue
            for contact in rng.sample([*accounts, *outsiders], k=rng.randint(1, 3)):
                if contact is owner:
                    continue
                self._row(
                    "address_book_contacts",
                    {"owner_id": owner.user_id, "name": contact.name, "email": contact.email,
                     "created_at": self._when(days=600)},
                    owner,
                    contact,
                )  # fmt: skip

    def _activity(self, accounts: list[Person]) -> None:
        rng = self.rng
        boards_of: dict[int, list[int]] = {}
        for bm in self.tables.get("board_members", []):
            boards_of.setdefault(bm["user_id"], []).append(bm["board_id"])
        cards_of: dict[int, list[int]] = {}
        for card in self.tables.get("cards", []):
            cards_of.setdefault(card["board_id"], []).append(card["id"])
        for person in accounts:
            faker = self.fakers[person.language]
            for _ in range(rng.randint(1, 3)):
                start = self._when(days=700)
                self._row(
                    "sessions",
                    {"user_id": person.user_id, "ip_address": faker.ipv4_public(),
                     "user_agent": faker.user_agent(), "created_at": start,
                     "last_activity_at": self._when(start, 2), "revoked_at": None},
                    person,
                )  # fmt: skip
            for _ in range(rng.randint(0, 2)):
                platform = rng.choice(("ios", "android"))
                self._row(
                    "devices",
                    {
                        "user_id": person.user_id,
                        "device_id": faker.uuid4(),
                        "push_token": faker.sha1(),
                        "platform": platform,
                        "os_version": f"{rng.randint(12, 17)}.{rng.randint(0, 5)}",
                        "app_version": f"4.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                        "connection_type": rng.choice(("wifi", "cellular")),
                        "created_at": self._when(days=600),
                        "last_activity_at": self._when(days=700),
                    },
                    person,
                )
            if rng.random() < 0.2:
                self._row(
                    "api_tokens",
                    {"user_id": person.user_id, "token_hash": faker.sha256(),
                     "label": rng.choice(("CI", "Zapier", "script")),
                     "created_at": self._when(days=600), "last_used_at": self._when(days=700),
                     "revoked_at": None},
                    person,
                )  # fmt: skip
            boards = boards_of.get(person.user_id or 0, [])
            for _ in range(rng.randint(3, 8)):
                board = rng.choice(boards) if boards else None
                cards = cards_of.get(board or 0, [])
                event = rng.choice(("board.viewed", "card.opened", "search", "card.moved"))
                term = None
                if event == "search":
                    term = self._pick(person.language, "search")
                self._row(
                    "usage_events",
                    {
                        "user_id": person.user_id,
                        "event": event,
                        "board_id": board,
                        "card_id": rng.choice(cards) if cards and event != "search" else None,
                        "search_term": term,
                        "properties": {"client": rng.choice(("web", "ios", "android"))},
                        "ip_address": faker.ipv4_public(),
                        "referrer_url": None,
                        "created_at": self._when(days=700),
                    },
                    person,
                )

    def _support(self, accounts: list[Person], outsiders: list[Person]) -> None:
        rng = self.rng
        for person in [*accounts, *outsiders]:
            member = person.user_id is not None
            if rng.random() < (0.25 if member else 0.4):
                lang = person.language
                self._row(
                    "support_tickets",
                    {
                        "user_id": person.user_id,
                        "requester_email": person.email,
                        "requester_name": person.name,
                        "subject": self._pick(lang, "ticket"),
                        "body": self._pick(lang, "ticket_body"),
                        "expert_sharing_allowed": rng.random() < 0.3,
                        "status": rng.choice(("open", "closed")),
                        "created_at": self._when(days=700),
                        "closed_at": None,
                    },
                    person,
                )
            if rng.random() < (0.05 if member else 0.6):
                faker = self.fakers[person.language]
                self._row(
                    "website_enquiries",
                    {
                        "email": person.email,
                        "name": person.name,
                        "company_name": self._clean(faker.company),
                        "phone": person.phone,
                        "kind": rng.choice(("demo", "contact", "feedback")),
                        "message": self._pick(person.language, "enquiry"),
                        "created_at": self._when(days=700),
                    },
                    person,
                )
            if not member and rng.random() < 0.5:
                self._row(
                    "marketing_preferences",
                    {"user_id": None, "email": person.email, "newsletter": True,
                     "product_news": False, "surveys": False, "events": rng.random() < 0.5,
                     "source": "website", "created_at": self._when(days=700),
                     "updated_at": self._when(days=700)},
                    person,
                )  # fmt: skip

    def _iban(self, lang: str) -> str:
        country = COUNTRIES[lang]
        if country == "SE":
            bban = "".join(str(self.rng.randrange(10)) for _ in range(20))
            number = f"SE00{bban}"
            return f"SE{stdnum_iban.calc_check_digits(number)}{bban}"
        for _ in range(20):
            value = str(self.fakers[lang].iban())
            if stdnum_iban.is_valid(value):
                return value
        raise RuntimeError(f"no valid IBAN for {country}")

    def _billing(self, teams: list[dict[str, Any]]) -> None:
        rng = self.rng
        for team in teams:
            if team["plan"] == "free":
                continue
            payer: Person = team["creator"]
            faker = self.fakers[payer.language]
            iban = self._iban(payer.language)
            address = self._clean(partial(_address, faker))
            self._row(
                "payment_methods",
                {
                    "team_id": team["id"],
                    "user_id": payer.user_id,
                    "holder_name": payer.name,
                    "iban": iban,
                    "mandate_reference": f"JP-{team['id']:05d}-{rng.randrange(10**6):06d}",
                    "company_name": team["company"],
                    "billing_email": payer.email,
                    "created_at": team["created"],
                    "revoked_at": None,
                },
                payer,
            )
            issued = team["created"].date()
            for _ in range(rng.randint(2, 4)):
                issued = issued + dt.timedelta(days=rng.randint(28, 92))
                self.serial += 1
                self._row(
                    "invoices",
                    {
                        "team_id": team["id"],
                        "billing_user_id": payer.user_id,
                        "number": f"JP{issued.year}-{self.serial:06d}",
                        "company_name": team["company"],
                        "billing_name": payer.name,
                        "billing_email": payer.email,
                        "billing_address": address,
                        "iban": iban,
                        "amount_cents": rng.choice((1000, 1250, 1750)) * len(team["members"]),
                        "currency": "EUR",
                        "issued_on": issued,
                        "paid_at": dt.datetime.combine(issued, dt.time(9))
                        + dt.timedelta(days=rng.randint(1, 14)),
                    },
                    payer,
                )
