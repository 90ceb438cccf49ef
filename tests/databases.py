"""Test databases on the PostgreSQL server: its admin URL, and a database of one test module's own."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

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


def own_migrated_url(request: pytest.FixtureRequest, folder: Path, kind: str, label: str) -> Iterator[str]:
    """``own_database_url``, migrated to the newest schema (the job engine's tables with it) before it is yielded."""
    from db.engine import Database
    from db.migrate import upgrade

    for url in own_database_url(request, folder, kind, label):
        db = Database(url)
        try:
            upgrade(db)
        finally:
            db.dispose()
        yield url


@contextmanager
def throwaway_database(admin_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the server of ``admin_url`` (a copy of the database named
    ``template`` instead, when given), dropped afterwards (its connections forced off): for a test module or a
    benchmark run of its own (``bench/killing.py``)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def copy_sqlite(template: Path, target: Path) -> None:
    """Copy the SQLite database ``template`` to ``target`` page by page (SQLite's backup API: consistent, and
    the copy holds everything, the write-ahead log's pages included)."""
    source, copy = sqlite3.connect(template), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


@contextmanager
def database_copy(url: str, folder: Path, label: str) -> Iterator[str]:
    """The URL of a copy of the database at ``url`` (nothing may be connected to it), for one test: SQLite's
    file copied into ``folder``; on PostgreSQL a new database made with ``url``'s as its template (a copy of its
    files), dropped afterwards."""
    if url.startswith("sqlite:///"):
        target = folder / f"{label}.db"
        copy_sqlite(Path(url.removeprefix("sqlite:///")), target)
        yield f"sqlite:///{target}"
        return
    admin_url, template = url.rsplit("/", 1)
    with throwaway_database(f"{admin_url}/postgres", f"labourwatch_test_{label}", template=template) as copy:
        yield copy


# What a PostgreSQL schema consists of, as sorted text lines: if two databases give the same lines, migrations
# made the same tables, columns, defaults, indexes, constraints, triggers, functions, types and views in both.
_PG_SCHEMA = """
SELECT concat_ws(' ', 'rel', c.relname, c.relkind, c.relpersistence, c.reloptions, c.relrowsecurity) AS line
  FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT concat_ws(' ', 'col', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attcollation,
                 a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT concat_ws(' ', 'idx', indexdef) FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT concat_ws(' ', 'con', conrelid::regclass, conname, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT concat_ws(' ', 'trg', pg_get_triggerdef(t.oid), t.tgenabled)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT concat_ws(' ', 'fn', p.oid::regprocedure, md5(pg_get_functiondef(p.oid)))
  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
UNION ALL
SELECT concat_ws(' ', 'type', t.typname, t.typtype,
                 (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
  FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
UNION ALL
SELECT concat_ws(' ', 'view', c.relname, md5(pg_get_viewdef(c.oid)))
  FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm')
UNION ALL
SELECT concat_ws(' ', 'pol', pol.polrelid::regclass, pol.polname) FROM pg_policy pol
UNION ALL
SELECT concat_ws(' ', 'nsp', nspname) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
UNION ALL
SELECT concat_ws(' ', 'ext', extname, extversion) FROM pg_extension
UNION ALL
SELECT concat_ws(' ', 'set', setconfig) FROM pg_db_role_setting
 WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def _pg_schema(connection: Connection) -> list[str]:
    return sorted(connection.execute(text(_PG_SCHEMA)).scalars())


@dataclass(frozen=True)
class PgMigrated:
    """A PostgreSQL database's state right after ``upgrade()``: its schema, and SQL that puts every table's rows
    and every sequence back as they were then. ``restore`` uses it to give a test the migrated database in a few
    milliseconds, where migrating again takes seconds (a busy server's DDL and Alembic's own work)."""

    schema: list[str]
    restore_sql: str

    @classmethod
    def capture(cls, url: str) -> PgMigrated:
        """The state of the (just migrated) database at ``url``."""
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                schema = _pg_schema(connection)
                tables = connection.execute(text(
                    "SELECT quote_ident(relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                    "AND relkind IN ('r', 'p') ORDER BY relname")).scalars().all()
                statements = ["SET LOCAL session_replication_role = replica"]  # no FK checks, no triggers
                statements += [f"DELETE FROM public.{table}" for table in tables]
                for table in tables:
                    rows = connection.execute(text(
                        f"SELECT json_agg(t)::text FROM public.{table} t")).scalar()
                    if rows is not None:  # rows a migration inserted (alembic_version's at least)
                        statements.append(cls._insert(connection, table, rows))
                for sequence in connection.execute(text(
                        "SELECT quote_ident(relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                        "AND relkind = 'S'")).scalars():
                    last, called = connection.execute(text(
                        f"SELECT last_value, is_called FROM public.{sequence}")).one()
                    statements.append(f"SELECT setval('public.{sequence}', {int(last)}, {bool(called)})")
        finally:
            engine.dispose()
        return cls(schema, ";\n".join(statements))

    @staticmethod
    def _insert(connection: Connection, table: str, rows: str) -> str:
        columns = ", ".join(connection.execute(text(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"), {"table": f"public.{table}"}).scalars())
        literal = "'" + rows.replace("'", "''") + "'"
        return (f"INSERT INTO public.{table} ({columns}) OVERRIDING SYSTEM VALUE "
                f"SELECT {columns} FROM json_populate_recordset(NULL::public.{table}, {literal}::json)")

    def restore(self, url: str) -> bool:
        """Put the database at ``url`` back into this state when its schema is still the migrated one (the test
        before changed rows only): True. False, and nothing changed, when it is not (a test changed the schema,
        or dropped it): then the caller migrates."""
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                # A connection leaked by an earlier test must fail this loudly, not block it forever.
                connection.execute(text("SET lock_timeout = '20s'"))
                if _pg_schema(connection) != self.schema:
                    connection.rollback()
                    return False
                connection.exec_driver_sql(self.restore_sql)
                connection.commit()
                return True
        finally:
            engine.dispose()
