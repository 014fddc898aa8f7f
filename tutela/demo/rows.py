"""Making the sample's rows: the people, their accounts, and the bookkeeping of whose
each row is and whom its free text names."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any

import phonenumbers

from tutela.demo.text import TEXT
from tutela.demo.truth import Person, fold

__all__ = [
    "COUNTRIES",
    "EPOCH",
    "LOCALES",
    "MOBILE",
    "TIMEZONES",
    "RowMaker",
    "ascii_letters",
    "postal_address",
]

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
EPOCH = dt.datetime(2023, 1, 1)


def postal_address(faker: Any) -> str:
    """A Faker address on one line."""
    return str(faker.address()).replace("\n", ", ")


def ascii_letters(value: str) -> str:
    """``value`` folded to its lower-case ASCII letters (for user names and domains)."""
    return re.sub(r"[^a-z]", "", fold(value))


class RowMaker:
    """Makes rows in memory, recording their owners and mentions as it goes; the
    people and their accounts. The rest of the product is made by subclasses."""

    def __init__(self, rng: random.Random, fakers: dict[str, Any], languages: list[str]) -> None:
        self.rng = rng
        self.fakers = fakers
        self.languages = languages
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.persons: list[Person] = []
        self.by_folded_name: dict[str, Person] = {}
        self.phones: set[str] = set()
        self.serial = 0

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

    def _phone(self, lang: str) -> str:
        prefix, digits = MOBILE[lang]
        while True:
            number = prefix + "".join(str(self.rng.randrange(10)) for _ in range(digits))
            if number not in self.phones and phonenumbers.is_valid_number(
                phonenumbers.parse(number)
            ):
                self.phones.add(number)
                return number

    # ------------------------------------------------------------ people

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
        local = f"{ascii_letters(first) or 'user'}.{ascii_letters(last) or 'person'}{number}"
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
                    "username": f"{ascii_letters(first)}{ascii_letters(last)[:12]}{person.user_id}",
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
