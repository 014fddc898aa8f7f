"""Schema migrations (Alembic) run from Python: upgrade, and check the schema is current."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tutela.errors import LedgerError

__all__ = ["current_revision", "ensure_current", "head_revision", "upgrade"]


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "tutela.ledger:migrations")
    return config


def head_revision() -> str:
    """The newest migration this version of Tutela knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at; ``None`` for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database to ``revision``; returns (before, after)."""
    before = current_revision(engine)
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return before, current_revision(engine) or ""


def ensure_current(engine: Engine) -> None:
    """Refuse to work on an outdated or foreign schema, saying what to run."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    url = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise LedgerError(
            f"the ledger database {url} has no Tutela schema yet; "
            f"run: tutela db upgrade --database '{url}'"
        )
    raise LedgerError(
        f"the ledger database {url} is at schema {current}, this Tutela needs {head}; "
        f"run: tutela db upgrade --database '{url}'"
    )
