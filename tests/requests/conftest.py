"""Request tests: a ledger on SQLite and PostgreSQL, a real SMTP server in this process, the
local Redis under a key prefix of each test's own, and a small HTTP server for processors."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from tests.conftest import base_policy
from tests.databases import empty_database
from tutela import Tutela
from tutela.policy import Policy, loads

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "test-secret-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty ledger database: a SQLite file, or a new PostgreSQL schema."""
    with empty_database(request.param, tmp_path, "tutela_req") as url:
        yield url


@pytest.fixture
def prefix() -> str:
    """A Redis key prefix no other test uses."""
    return f"tutela-test-{secrets.token_hex(6)}:"


def requests_policy(prefix: str = "t:", recipients: list[dict[str, Any]] | None = None) -> Policy:
    """The base policy with a Redis dataset of sessions and carts, and the given recipients."""
    data = base_policy()
    data["datasets"].append(
        {
            "name": "cache",
            "type": "redis",
            "connection": "CACHE_REDIS_URL",
            "collections": [
                {
                    "name": "sessions",
                    "key_pattern": prefix + "session:{user_id}:*",
                    "fields": [
                        {"name": "user_id", "identity": "user_id"},
                        {"name": "ip", "categories": ["user.device.ip_address"]},
                    ],
                },
                {
                    "name": "carts",
                    "key_pattern": prefix + "cart:{email}",
                    "fields": [
                        {
                            "name": "email",
                            "identity": "email",
                            "categories": ["user.contact.email"],
                        },
                        {"name": "items", "categories": ["user.behavior"]},
                    ],
                },
            ],
        }
    )
    if recipients is not None:
        data["recipients"] = recipients
    return loads(yaml.safe_dump(data, sort_keys=False), "requests.yaml")


@pytest.fixture
def product(tmp_path: Path) -> str:
    """A SQLite product database with the base policy's tables and one customer, Anna."""
    url = f"sqlite:///{tmp_path / 'product.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, display_name TEXT)")
        )
        conn.execute(
            text("CREATE TABLE comments (id INTEGER PRIMARY KEY, author_id INTEGER, body TEXT)")
        )
        conn.execute(text("INSERT INTO users VALUES (1, 'anna@example.se', 'Anna Berg')"))
        conn.execute(text("INSERT INTO comments VALUES (1, 1, 'Hello from Anna')"))
    engine.dispose()
    return url


@pytest.fixture
def tutela(database_url: str, prefix: str) -> Iterator[Tutela]:
    """A Tutela on the request policy (no processors) and a freshly migrated ledger."""
    policy = requests_policy(prefix, recipients=[_none_recipient()])
    with Tutela.open(policy=policy, database=database_url, upgrade=True) as opened:
        yield opened


def _none_recipient() -> dict[str, Any]:
    return {
        "name": "Hosting AB",
        "role": "processor",
        "service": "hosting",
        "countries": ["SE"],
        "purposes": ["provide_service"],
        "requests": "none",
    }


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """TUTELA_SECRET_KEY set for the test."""
    monkeypatch.setenv("TUTELA_SECRET_KEY", SECRET)
    return SECRET


@dataclass
class Inbox:
    """What the SMTP server received."""

    url: str
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 at a free port, collecting every message."""
    port = free_port()
    inbox = Inbox(url=f"smtp://127.0.0.1:{port}")
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def redis_client(prefix: str) -> Iterator[redis.Redis]:
    """The local Redis; every key under the test's prefix is removed afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        for key in client.scan_iter(match=prefix + "*", count=1000):
            client.unlink(key)
        client.close()


def serve(handler: type[Any]) -> tuple[Any, str]:
    """Start an ``http.server`` on 127.0.0.1 in a thread; returns (server, base URL)."""
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
