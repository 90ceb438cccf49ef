"""``INSERT … ON CONFLICT`` for the dialect of a connection: the same statement shape on SQLite and PostgreSQL.

Writers that could race (two dispatchers or daemons on one PostgreSQL database) insert and let the unique key
decide, instead of reading first and inserting what they did not find: between the read and the insert another
transaction may insert the same key, and one of the two then fails or both go ahead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def dialect_insert(dialect: str, table: Any) -> PgInsert | SqliteInsert:
    """An INSERT into ``table`` (a model or table) that has ``on_conflict_do_nothing`` / ``_do_update`` for
    ``dialect`` (``postgresql`` or ``sqlite``, as ``connection.dialect.name`` says)."""
    return pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
