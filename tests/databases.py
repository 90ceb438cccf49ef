"""Test databases on the PostgreSQL server: its admin URL, and a database of one test module's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

PG_ADMIN_URL = os.environ.get("LABOURWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_admin_engine() -> Engine:
    """An autocommit engine on the server's admin database (CREATE/DROP DATABASE)."""
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def own_database_url(request: pytest.FixtureRequest, folder: Path, kind: str, label: str) -> Iterator[str]:
    """A database for one test module alone (PostgreSQL: a new database, so tests using ``database``, which reset
    the shared one, cannot touch it); dropped afterwards. Use as ``for url in own_database_url(...)``."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{label}.db'}"
        return
    request.getfixturevalue("pg_database")  # skips (or fails in CI) when PostgreSQL is not there
    with throwaway_database(PG_ADMIN_URL, f"labourwatch_test_{label}") as url:
        yield url


@contextmanager
def throwaway_database(admin_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the server of ``admin_url``, dropped afterwards (its
    connections forced off): for a test module or a benchmark run of its own (``bench/killing.py``)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
