"""The sample's traces of use and money: sessions, devices, usage events, support
tickets, payment methods and invoices with valid IBANs."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from stdnum import iban as stdnum_iban

from tutela.demo.rows import COUNTRIES, RowMaker, postal_address
from tutela.demo.truth import Person

__all__ = ["Activity"]


class Activity(RowMaker):
    """What people's use of the product leaves behind, and what they pay."""

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
            address = self._clean(partial(postal_address, faker))
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
