"""Search: migration 0005's index (backfill, triggers) and /search over a crawled fixture web, on SQLite and
PostgreSQL: English, Korean and Russian words, ranking, marks, hostile text escaped, bad queries, pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import delete, text

from analysis.diff import diff_versions
from analysis.text import content_hash
from analysis.types import ArticleDoc, Relevance
from db import repository as repo
from db.engine import Database
from db.migrate import alembic_config, current_revision, upgrade
from db.models import Article
from db.search import search_articles

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
OPTIONS = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=False)


def store(db: Database, canonical: str, title: str, body: str, *, language: str = "en",
          at: datetime = NOW) -> repo.StoreOutcome:
    """Store one fetched article through the crawl's own repository code."""
    doc = ArticleDoc(url=canonical, canonical_url=canonical, title=title, text=body, language=language)
    raw = repo.RawCapture(url=canonical, status=200, headers={}, body=body.encode(), fetched_at=at)
    fetch = repo.ArticleFetch(doc=doc, relevance=Relevance(True, 0.8, ("worker*",)),
                              content_hash=content_hash(title, body), raw=raw, source_id=None,
                              discovered_url=canonical)
    with db.write() as session:
        return repo.store_article(session, fetch, OPTIONS, diff_versions)


def found(db: Database, query: str) -> list[tuple[int, int]]:
    """(article id, version number) of every hit."""
    with db.read() as session:
        return [(hit.article_id, hit.version) for hit in search_articles(session, query, page_size=50).hits]


def sqlite_index_is_sound(db: Database) -> None:
    if db.is_sqlite:  # rank=1: also compare the index with the content table
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO article_search(article_search, rank) VALUES ('integrity-check', 1)"))


def test_upgrade_indexes_stored_versions_and_the_index_follows_new_and_deleted_ones(db_url: str) -> None:
    db = Database(db_url)
    upgrade(db, "0004")
    first = store(db, "https://news.example/a/1", "Shipyard crews", "North Korean welders arrived in Nakhodka.")
    korean = store(db, "https://news.example/ko/2", "북한 노동자 파견", "러시아 건설 현장에 북한 노동자 파견 늘어",
                   language="ko")
    upgrade(db, "0005")
    assert current_revision(db) == "0005"
    # Backfill: what was stored before the migration is found.
    assert found(db, "nakhodka") == [(first.article_id, 1)]
    assert found(db, "노동자") == [(korean.article_id, 1)]
    # A new version: the search sees the latest text only.
    store(db, "https://news.example/a/1", "Shipyard crews", "North Korean welders arrived in Vladivostok.",
          at=NOW + timedelta(hours=2))
    assert found(db, "vladivostok") == [(first.article_id, 2)]
    assert found(db, "nakhodka") == []
    sqlite_index_is_sound(db)
    # Deleting an article (its versions go by cascade) takes it out of the index.
    with db.write() as session:
        session.execute(delete(Article).where(Article.id == korean.article_id))
    assert found(db, "노동자") == []
    sqlite_index_is_sound(db)
    # Down and up again: the index is rebuilt from the stored versions.
    command.downgrade(alembic_config(db), "0004")
    command.upgrade(alembic_config(db), "0005")
    assert found(db, "vladivostok") == [(first.article_id, 2)]
    sqlite_index_is_sound(db)
    db.dispose()
