"""full-text search over article versions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

SQLite: ``article_search``, an FTS5 table with external content (``content='article_versions'``, rowid = the
version id), so the text is stored once; triggers on ``article_versions`` keep it current and ``'rebuild'``
fills it from the versions already stored. PostgreSQL: ``ix_article_versions_search``, a GIN index on the
weighted ``to_tsvector('simple', …)`` of title (A) and text (B); ``db.search`` queries that same expression.

Every version is indexed (they are immutable), and search keeps the latest version of each article. Indexing
only the latest would need FTS5 'delete' commands for the version a new one replaces, and a 'delete' whose
values are not exactly what was indexed corrupts an external-content index; the plain insert/delete/update
triggers below cannot get that wrong, whatever order a cascade deletes versions in.

Both use the language-neutral 'simple' configuration / ``unicode61`` tokenizer (the corpus mixes English,
Korean, Russian, Chinese and Japanese): words split at spaces and punctuation and are case-folded, with no
stemming. Korean words match whole (particles attached: 노동자 does not find 노동자가); Chinese and Japanese,
written without spaces, index whole runs of characters, so ``db.search`` falls back to substring matching
for such queries when the index finds nothing.

Caution for later migrations: a ``batch_alter_table`` on ``article_versions`` under SQLite copies the table and
drops these triggers; such a migration must create them again (and 'rebuild' the index).
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE article_search USING fts5(title, text, content='article_versions', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER article_search_insert AFTER INSERT ON article_versions BEGIN "
    "INSERT INTO article_search(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER article_search_delete AFTER DELETE ON article_versions BEGIN "
    "INSERT INTO article_search(article_search, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    "END",
    "CREATE TRIGGER article_search_update AFTER UPDATE OF title, text ON article_versions BEGIN "
    "INSERT INTO article_search(article_search, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO article_search(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    # Backfill: index every version already stored.
    "INSERT INTO article_search(article_search) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS article_search_update",
    "DROP TRIGGER IF EXISTS article_search_delete",
    "DROP TRIGGER IF EXISTS article_search_insert",
    "DROP TABLE IF EXISTS article_search",
)
# Creating the index reads every stored version (the backfill); PostgreSQL keeps it current by itself.
POSTGRESQL_UPGRADE = (
    "CREATE INDEX ix_article_versions_search ON article_versions USING gin "
    "((setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, text), 'B')))",
)
POSTGRESQL_DOWNGRADE = ("DROP INDEX IF EXISTS ix_article_versions_search",)


def upgrade() -> None:
    # Reviewed: full-text search objects per dialect (not models; db.search.include_name hides them from
    # autogenerate and the models-match-migrations check).
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UPGRADE if dialect == "sqlite" else POSTGRESQL_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWNGRADE if dialect == "sqlite" else POSTGRESQL_DOWNGRADE:
        op.execute(statement)
