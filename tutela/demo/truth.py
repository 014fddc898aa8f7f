"""Whose every row of the sample is: the people of the sample and the ground truth
that access and erasure are measured against."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["GroundTruth", "Person", "default_truth_path", "fold"]


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
