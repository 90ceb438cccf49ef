"""cluster engine

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Cluster mode's job engine (issue 18): Procrastinate's tables, types, functions and triggers, all named
``procrastinate_*``, from ``procrastinate_schema.sql`` (Procrastinate 3.10's ``schema.sql``, kept beside the
migrations so this revision never changes with an installed library). PostgreSQL only: on SQLite, which cluster
mode refuses, this revision changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parents[1] / "procrastinate_schema.sql"

# Every object the schema made, found by its prefix: functions (and the triggers' functions), tables, then its enum
# and composite types (a table's own row type went with the table).
_DROP = """
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                 WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || item.name || ' CASCADE';
    END LOOP;
    FOR item IN SELECT c.relname AS name FROM pg_class c
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
                   AND c.relname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(item.name) || ' CASCADE';
    END LOOP;
    FOR item IN SELECT t.typname AS name FROM pg_type t
                 WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'c')
                   AND t.typname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(item.name) || ' CASCADE';
    END LOOP;
END;
$$;
"""


def _execute(sql: str) -> None:
    """Run a script of several statements on the migration's connection, in its transaction, on PostgreSQL only.

    Through the driver's cursor without parameters, so its ``%`` and ``:name`` reach PostgreSQL untouched."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    connection = bind.connection.dbapi_connection
    assert connection is not None
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def upgrade() -> None:
    _execute(SCHEMA.read_text(encoding="utf-8"))


def downgrade() -> None:
    _execute(_DROP)
