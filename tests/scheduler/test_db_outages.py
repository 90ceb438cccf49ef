"""Database outages under ``labourwatch run``: how the daemon tells an outage from a bug, on real database errors."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.engine import Database, database_unavailable, error_summary
from tests.receivers import free_port

# --- telling an outage from a bug, on real errors ----------------------------------------------------------------

def raised(db: Database, statement: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught, db.write() as session:
        session.execute(text(statement))
    return caught.value


def test_a_full_sqlite_database_and_a_refused_server_are_outages_a_wrong_statement_is_not(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'small.db'}")
    raised_full = None
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (x TEXT)"))
        # max_page_count caps the file as a full disk would: the next page SQLite needs is refused with SQLITE_FULL.
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA max_page_count = 3")
            with pytest.raises(DBAPIError) as caught:
                connection.exec_driver_sql("INSERT INTO t VALUES (?)", (os.urandom(20000).hex(),))
            raised_full = caught.value
        wrong = raised(db, "INSERT INTO no_such_table VALUES (1)")
    finally:
        db.dispose()
    assert isinstance(raised_full.orig, sqlite3.OperationalError) and database_unavailable(raised_full)
    assert error_summary(raised_full) == "OperationalError: database or disk is full"
    assert not database_unavailable(wrong) and "no such table" in error_summary(wrong)

    refused = Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    try:
        with pytest.raises(DBAPIError) as caught, refused.read() as session:
            session.execute(text("SELECT 1"))
    finally:
        refused.dispose()
    assert database_unavailable(caught.value)
    summary = error_summary(caught.value)
    assert summary.startswith("OperationalError: connection failed") and "\n" not in summary, summary
    assert "[SQL" not in summary and "sqlalche.me" not in summary
    assert not database_unavailable(ValueError("not a database error"))
