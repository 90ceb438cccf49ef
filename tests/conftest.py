"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and config files for tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db.engine import Database
from db.migrate import upgrade
from tests.databases import PG_ADMIN_URL
from tests.databases import pg_admin_engine as _pg_admin_engine


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session; its URL."""
    name = f"labourwatch_test_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"
        if os.environ.get("CI") or os.environ.get("LABOURWATCH_REQUIRE_PG"):
            pytest.fail(message)  # in CI the PostgreSQL tests must run, never skip
        pytest.skip(message)
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_pg(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        # A connection leaked by an earlier test must fail this loudly, not block it forever.
        connection.execute(text("SET lock_timeout = '20s'"))
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_pg(url)
    return url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated database (SQLite and PostgreSQL)."""
    db = Database(db_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database, for tests about SQLite itself."""
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    upgrade(db)
    yield db
    db.dispose()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the Twisted reactor the crawl tests started: its thread pool's threads would keep the process alive."""
    from crawler.reactor import shutdown

    shutdown()
