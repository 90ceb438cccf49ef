"""Real database faults for crawl tests: a trigger that makes every write to one table fail, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from db.engine import Database

MESSAGE = "the disk refused this write"


@contextmanager
def refused(db: Database, table: str, operation: str = "INSERT") -> Iterator[None]:
    """While inside, every ``operation`` (INSERT, UPDATE) on ``table`` raises ``MESSAGE``."""
    name = f"lw_refuse_{operation.lower()}_{table}"
    with db.write() as session:
        if db.is_sqlite:
            session.execute(text(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                                 f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"))
        else:
            session.execute(text(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                                 f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"))
            session.execute(text(f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                                 f"FOR EACH ROW EXECUTE FUNCTION {name}()"))
    try:
        yield
    finally:
        with db.write() as session:
            session.execute(text(f"DROP TRIGGER {name}" + ("" if db.is_sqlite else f" ON {table}")))
            if not db.is_sqlite:
                session.execute(text(f"DROP FUNCTION {name}()"))
