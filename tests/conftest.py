"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and config files for tests."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from db.engine import Database
from db.migrate import upgrade
from tests.databases import PG_ADMIN_URL, PgMigrated, copy_sqlite
from tests.databases import pg_admin_engine as _pg_admin_engine


@pytest.fixture(autouse=True)
def _fresh_scrapy_runners(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's crawls build Scrapy runners of their own. A process keeps one runner per crawl settings
    (``crawler.reuse.scrapy_runner``), built from module constants that never change in the daemon but that tests patch
    (Chromium's flags): a runner kept from an earlier test would crawl with that test's flags."""
    from crawler import reuse

    monkeypatch.setattr(reuse, "_runners", {})


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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated to head once per session: tests get a copy, in milliseconds."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_migrated(pg_database: str) -> PgMigrated:
    """The session's PostgreSQL database migrated to head once, and that state recorded to be restored."""
    _reset_pg(pg_database)
    db = Database(pg_database)
    upgrade(db)
    db.dispose()
    return PgMigrated.capture(pg_database)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL (migrated instead when the test uses
    ``database``, which is built on it)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("pg_database")
    if "database" not in request.fixturenames:
        _reset_pg(url)
    return url


@pytest.fixture
def database(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[Database]:
    """A migrated database (SQLite and PostgreSQL): the state ``upgrade()`` leaves, copied or restored."""
    if db_url.startswith("sqlite"):
        copy_sqlite(request.getfixturevalue("migrated_sqlite"), tmp_path / "test.db")
        db = Database(db_url)
    else:
        migrated: PgMigrated = request.getfixturevalue("pg_migrated")
        db = Database(db_url)
        if not migrated.restore(db_url):  # the test before changed the schema itself
            _reset_pg(db_url)
            upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Database]:
    """A migrated SQLite database, for tests about SQLite itself."""
    copy_sqlite(migrated_sqlite, tmp_path / "test.db")
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    yield db
    db.dispose()


@pytest.fixture
def in_process_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For tests that run the CLI in this process (click's CliRunner): the logging set-up and the databases a
    command leaves behind are undone afterwards."""
    # The CLI configures the root logger for the process (a handler on the stream CliRunner swaps in and then
    # closes); put pytest's handlers and every level back so later tests log as before.
    root = logging.getLogger()
    handlers, levels = root.handlers[:], {name: logging.getLogger(name).level
                                          for name in [None, *logging.root.manager.loggerDict]}
    # The CLI opens its Database for the life of the process; in-process, close what each test opened.
    opened: list[Database] = []

    class TrackedDatabase(Database):
        def __init__(self, url: str, **engine_kwargs: Any) -> None:
            super().__init__(url, **engine_kwargs)
            opened.append(self)

    monkeypatch.setattr("labourwatch.context.Database", TrackedDatabase)
    yield
    for db in opened:
        db.dispose()
    root.handlers[:] = handlers
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the Twisted reactor the crawl tests started: its thread pool's threads would keep the process alive."""
    from crawler.reactor import shutdown

    shutdown()
