"""The sample's collaboration: teams, boards, lists and cards with comments that name
colleagues, invitations and address books."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tutela.demo.rows import RowMaker, ascii_letters
from tutela.demo.text import TEXT
from tutela.demo.truth import Person

__all__ = ["Workspace"]


class Workspace(RowMaker):
    """Teams and what they work on."""

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
            domain = f"{ascii_letters(company)[:20] or 'team'}{t + 1}.example"
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
