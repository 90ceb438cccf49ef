"""Article pages and child documents found on another politeness key than their crawl's (db.pending), on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from crawler.types import SourceSpec
from db import pending
from db import repository as repo
from db.engine import Database
from db.models import Article, ArticleUrl, PendingArticle

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
B = "b.example:443"


def page(path: str, source_id: str = "digest", language: str | None = None, title: str | None = None,
         baseline: bool = False) -> pending.Pending:
    """A page of site B found by ``source_id``."""
    return pending.Pending(f"https://b.example/{path}", B, source_id, language, title, baseline)


def seeded(database: Database) -> None:
    database.in_write(repo.sync_sources, [SourceSpec("digest", "feed", "https://a.example/rss"),
                                          SourceSpec("other", "feed", "https://c.example/rss")])


def count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(PendingArticle)) or 0)


def test_a_page_found_twice_is_pending_once_with_what_its_first_source_carried(database: Database) -> None:
    seeded(database)
    first = page("1", language="ko", title="First headline", baseline=True)
    database.in_write(pending.add, [first, page("2")], T0)
    database.in_write(pending.add, [page("1", source_id="other", title="Another headline")], T0 + timedelta(1))
    with database.read() as session:
        assert pending.due_keys(session, T0) == {B}
        assert pending.due_keys(session, T0 - timedelta(seconds=1)) == set()
        rows = pending.due(session, T0, key=B)
        assert [(p, attempts) for p, attempts in rows] == [(first, 0), (page("2"), 0)]
        assert pending.due(session, T0, key="c.example:443") == []
        assert [p.url for p, _ in pending.due(session, T0, source_ids=["other"])] == []


def test_a_crawl_takes_pages_under_a_lease_that_a_dead_node_lets_run_out(database: Database) -> None:
    seeded(database)
    database.in_write(pending.add, [page("1"), page("2")], T0)
    with database.read() as session:
        rows = pending.due(session, T0, key=B)
    assert database.in_write(pending.take, rows, T0) == [page("1"), page("2")]
    # A second crawl that read the same rows before the first took them gets none of them.
    assert database.in_write(pending.take, rows, T0) == []
    with database.read() as session:
        assert pending.due(session, T0 + pending.LEASE - timedelta(seconds=1), key=B) == []  # the lease holds
        again = pending.due(session, T0 + pending.LEASE, key=B)  # the node that took them died: due again
    assert [(p.url, attempts) for p, attempts in again] == [(page("1").url, 1), (page("2").url, 1)]
    # The next lease is longer, and a page taken MAX_ATTEMPTS times is dropped, not fetched again.
    at = T0 + pending.LEASE
    for attempt in range(1, pending.MAX_ATTEMPTS):
        with database.read() as session:
            rows = pending.due(session, at, key=B)
        assert len(database.in_write(pending.take, rows, at)) == 2
        at += pending.LEASE * pending.LEASE_GROWTH ** attempt
        with database.read() as session:
            assert pending.due(session, at - timedelta(seconds=1), key=B) == []
    with database.read() as session:
        rows = pending.due(session, at, key=B)
    assert [attempts for _, attempts in rows] == [pending.MAX_ATTEMPTS] * 2
    assert database.in_write(pending.take, rows, at) == []
    assert count(database) == 0


def test_a_stopped_crawl_gives_back_the_pages_it_did_not_store(database: Database) -> None:
    seeded(database)
    database.in_write(pending.add, [page("1"), page("2")], T0)
    with database.read() as session:
        rows = pending.due(session, T0, key=B)
    assert len(database.in_write(pending.take, rows, T0)) == 2
    database.in_write(pending.done, [page("1").url])  # stored before the crawl was stopped
    database.in_write(pending.release, [page("1").url, page("2").url], T0 + timedelta(seconds=5))
    with database.read() as session:
        assert pending.due(session, T0 + timedelta(seconds=5), key=B) == [(page("2"), 0)]


def test_a_page_stored_meanwhile_is_not_taken_but_forgotten(database: Database) -> None:
    seeded(database)
    database.in_write(pending.add, [page("1"), page("2")], T0)
    with database.read() as session:
        rows = pending.due(session, T0, key=B)
    # Page 1 was stored by another way (its own site's feed) after the rows were read.
    with database.write() as session:
        article = Article(source_id="digest", url=page("1").url, canonical_url=page("1").url)
        session.add(article)
        session.flush()
        session.add(ArticleUrl(url=page("1").url, article_id=article.id, source_id="digest"))
    assert database.in_write(pending.take, rows, T0) == [page("2")]
    assert count(database) == 1
    database.in_write(pending.done, [page("2").url])
    assert count(database) == 0


def test_documents_pending_keep_their_kind_and_depth_and_are_read_only_when_asked_for(database: Database) -> None:
    seeded(database)
    child = pending.Pending("https://b.example/sitemap-news.xml", B, "digest", baseline=True, kind=pending.DOCUMENT,
                            depth=2)
    database.in_write(pending.add, [child, page("1")], T0)
    with database.read() as session:
        assert {p for p, _ in pending.due(session, T0)} == {child, page("1")}
        assert [p for p, _ in pending.due(session, T0, kinds=[pending.ARTICLE])] == [page("1")]
        assert pending.due_keys(session, T0) == {B}
    # Taken like a page: a lease, an attempt counted.
    with database.read() as session:
        rows = pending.due(session, T0, kinds=[pending.DOCUMENT])
    assert database.in_write(pending.take, rows, T0) == [child]
    with database.read() as session:
        assert pending.due(session, T0 + timedelta(seconds=1), kinds=[pending.DOCUMENT]) == []


def test_migration_0017_drops_pending_documents_on_the_way_down_and_keeps_pages(database: Database) -> None:
    from alembic import command

    from db.migrate import alembic_config, upgrade

    seeded(database)
    child = pending.Pending("https://b.example/sitemap-news.xml", B, "digest", kind=pending.DOCUMENT, depth=1)
    database.in_write(pending.add, [child, page("1")], T0)
    command.downgrade(alembic_config(database), "0016")
    with database.read() as session:
        assert session.execute(text("SELECT url FROM pending_articles")).scalars().all() == [page("1").url]
    upgrade(database)
    with database.read() as session:
        assert [(p.url, p.kind, p.depth) for p, _ in pending.due(session, T0)] == [(page("1").url, "article", 0)]
