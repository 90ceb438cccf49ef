"""search with stemming, and a stored tsvector on PostgreSQL

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

What it changes (issue 17, and issue 15's cost of search on PostgreSQL):

SQLite: ``article_search`` (0005's external-content FTS5 table) is made again with the ``porter`` tokenizer
wrapped around ``unicode61 remove_diacritics 2``, and 'rebuild' fills it from every stored version (the
backfill). Porter stems English words ("labourers" and "labourer" are both "labour"); it leaves words with
letters outside a–z as they are, so Korean, Russian, Chinese and Japanese are indexed as before (``db.search``
stems Russian query words itself and looks their stems up as prefixes). The triggers of 0005 are made again with
the table (dropping an FTS5 table leaves triggers that would fail on the next insert).

PostgreSQL: ``article_versions.search_vector``, a stored generated ``tsvector`` column: the title (weight A) and
the text (weight B) under the text search configuration of the version's language — ``english`` for ``en``,
``russian`` for ``ru``, ``simple`` (no stemming) for everything else, Korean, Chinese and Japanese included.
``ix_article_versions_search_vector`` is a GIN index on it, and 0005's expression index goes: a search reads the
stored vectors instead of computing ``to_tsvector`` again for each row it ranks or checks. Adding the column
rewrites the table and computes every vector (the backfill); PostgreSQL keeps it current by itself after that.

The column and the index are not in the models (``db.search.include_name`` hides them from autogenerate, as it
does 0005's objects): no code writes them, and ``select(ArticleVersion)`` never reads the vectors.

``ix_article_versions_language`` (a model index): the cross-language search reads the Chinese and Japanese
versions by substring, and without it every version was read to find them (0.2–1 s at 53,000 versions).

Downgrade: the unicode61 table and 0005's expression index back, the column and the language index dropped.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite_search(tokenize: str) -> tuple[str, ...]:
    """Statements that make ``article_search`` anew with ``tokenize``, its triggers, and fill it."""
    return (
        "DROP TRIGGER IF EXISTS article_search_update",
        "DROP TRIGGER IF EXISTS article_search_delete",
        "DROP TRIGGER IF EXISTS article_search_insert",
        "DROP TABLE IF EXISTS article_search",
        "CREATE VIRTUAL TABLE article_search USING fts5(title, text, content='article_versions', "
        f"content_rowid='id', tokenize='{tokenize}')",
        "CREATE TRIGGER article_search_insert AFTER INSERT ON article_versions BEGIN "
        "INSERT INTO article_search(rowid, title, text) VALUES (new.id, new.title, new.text); END",
        "CREATE TRIGGER article_search_delete AFTER DELETE ON article_versions BEGIN "
        "INSERT INTO article_search(article_search, rowid, title, text) "
        "VALUES ('delete', old.id, old.title, old.text); END",
        "CREATE TRIGGER article_search_update AFTER UPDATE OF title, text ON article_versions BEGIN "
        "INSERT INTO article_search(article_search, rowid, title, text) "
        "VALUES ('delete', old.id, old.title, old.text); "
        "INSERT INTO article_search(rowid, title, text) VALUES (new.id, new.title, new.text); END",
        # Backfill: index every version already stored.
        "INSERT INTO article_search(article_search) VALUES ('rebuild')",
    )


# The configuration of a version's language; db.search.PG_CONFIG is this same expression for ts_headline.
PG_CONFIG = ("(CASE substr(language, 1, 2) WHEN 'en' THEN 'english'::regconfig "
             "WHEN 'ru' THEN 'russian'::regconfig ELSE 'simple'::regconfig END)")
POSTGRESQL_UPGRADE = (
    "ALTER TABLE article_versions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    f"(setweight(to_tsvector({PG_CONFIG}, title), 'A') || setweight(to_tsvector({PG_CONFIG}, text), 'B')) STORED",
    "CREATE INDEX ix_article_versions_search_vector ON article_versions USING gin (search_vector)",
    "DROP INDEX IF EXISTS ix_article_versions_search",
)
POSTGRESQL_DOWNGRADE = (
    "CREATE INDEX IF NOT EXISTS ix_article_versions_search ON article_versions USING gin "
    "((setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, text), 'B')))",
    "ALTER TABLE article_versions DROP COLUMN IF EXISTS search_vector",
)


def _execute(sqlite: Sequence[str], postgresql: Sequence[str]) -> None:
    for statement in sqlite if op.get_bind().dialect.name == "sqlite" else postgresql:
        op.execute(statement)


def upgrade() -> None:
    # Reviewed: full-text search objects per dialect (not models; db.search.include_name hides them).
    _execute(_sqlite_search("porter unicode61 remove_diacritics 2"), POSTGRESQL_UPGRADE)
    op.create_index(op.f("ix_article_versions_language"), "article_versions", ["language"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_article_versions_language"), table_name="article_versions")
    _execute(_sqlite_search("unicode61 remove_diacritics 2"), POSTGRESQL_DOWNGRADE)
