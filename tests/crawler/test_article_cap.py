"""Links left by the per-source article cap come on the next poll: the capped document is not kept behind a 304."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from db.engine import Database
from db.models import Article
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import FAST, crawl, specs


def stored(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def test_capped_links_are_fetched_on_the_next_polls(sqlite_database: Database, web: FixtureWeb) -> None:
    feed = web.sources({"feed"})[:1]
    capped = replace(FAST, max_articles_per_source=3)
    first = crawl(sqlite_database, specs(feed), capped, rechecks=False)
    assert any(error.code == "article_cap" for error in first.ledger.errors)
    assert stored(sqlite_database) == 3
    second = crawl(sqlite_database, specs(feed), capped, rechecks=False)
    assert second.ledger.counts["documents_not_modified"] == 0  # read again, not hidden behind a 304
    assert stored(sqlite_database) == 6
