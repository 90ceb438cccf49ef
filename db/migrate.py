"""Alembic, driven from code: upgrade to head, read the current revision, refuse an out-of-date schema."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from db.engine import Database
from db.errors import SchemaOutOfDateError
from db.search import include_name as include_search

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.runtime.environment import NameFilterParentNames, NameFilterType

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=]*)?=\s*['\"]?([\w]+|None)['\"]?", re.MULTILINE)


# The job engine of cluster mode (migration 0012): its objects are its own, described by no model.
ENGINE_PREFIX = "procrastinate_"


def include_name(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Alembic ``include_name`` hook: the objects our models describe, without the search index's and the job
    engine's."""
    if name is not None and type_ == "table" and name.startswith(ENGINE_PREFIX):
        return False
    return include_search(name, type_, parent_names)


def alembic_config(db: Database) -> AlembicConfig:
    """An Alembic config pointing at our migrations, carrying the engine to use."""
    # Alembic costs a third of a second to import: only the commands that migrate pay for it.
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration's revision id: the one no other migration names as its ``down_revision``.

    Read from the migration files' ``revision``/``down_revision`` lines rather than through Alembic, which
    every command would otherwise import just to check the schema (a test compares it with Alembic's head)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations do not have one head: {sorted(heads)}")
    return heads.pop()


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database to ``revision``; return (before, after)."""
    from alembic import command

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
