"""Alembic, driven from code: upgrade to head, read the current revision, refuse an out-of-date schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from db.engine import Database
from db.errors import SchemaOutOfDateError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(db: Database) -> AlembicConfig:
    """An Alembic config pointing at our migrations, carrying the engine to use."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database to ``revision``; return (before, after)."""
    before = current_revision(db)
    command.upgrade(alembic_config(db), revision)
    return before, current_revision(db) or ""


def require_head(db: Database) -> None:
    """Raise SchemaOutOfDateError unless the database is at the migration head."""
    current, head = current_revision(db), head_revision()
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaOutOfDateError(
            f"the database is {state}, not at {head}; run 'labourwatch db upgrade' first"
        )
