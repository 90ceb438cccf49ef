"""What is kept of an off-topic page, and for how long (``db.offtopic``): its article row until
``crawl.offtopic_retention``, then only a key of each of its URLs, which still stops the crawl from fetching the
link again, until ``crawl.offtopic_link_retention``; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import delete, func, select

from analysis.diff import diff_versions
from db import offtopic
from db import repository as repo
from db.engine import Database
from db.models import Article, ArticleUrl, HttpValidator, OfftopicLink
from labourwatch.commands.run import settings_of
from labourwatch.config import ConfigError, parse_config
from labourwatch.fixtureweb import FixtureWeb
from scheduler.jobs import Jobs
from scheduler.metrics import Metrics
from tests.crawler.helpers import crawl, specs
from tests.test_db import make_fetch

OPTIONS = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=False)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _store(db: Database, n: int, *, relevant: bool, at: datetime) -> repo.StoreOutcome:
    fetch = make_fetch(f"Text {n} of the article.", title=f"Article {n}", relevant=relevant, at=at,
                       url=f"https://news.example/{n}?from=feed", canonical=f"https://news.example/{n}")
    with db.write() as session:
        return repo.store_article(session, fetch, OPTIONS, diff_versions)


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_old_offtopic_articles_are_kept_as_keys_of_their_urls(database: Database) -> None:
    old_offtopic = _store(database, 1, relevant=False, at=NOW - timedelta(days=40))
    old_relevant = _store(database, 2, relevant=True, at=NOW - timedelta(days=40))
    new_offtopic = _store(database, 3, relevant=False, at=NOW - timedelta(days=2))
    counts = offtopic.prune(database, rows_before=NOW - timedelta(days=30), links_before=None)
    assert counts == {"offtopic_compacted": 1, "offtopic_links_forgotten": 0}
    with database.read() as session:
        left = set(session.scalars(select(Article.id)))
        assert left == {old_relevant.article_id, new_offtopic.article_id}
        # Its URL rows went with it; both URLs it was reached by are kept as keys, first seen when it was.
        assert session.scalar(select(func.count()).select_from(ArticleUrl)
                              .where(ArticleUrl.article_id == old_offtopic.article_id)) == 0
        kept = {row.key: row.seen_at for row in session.scalars(select(OfftopicLink))}
        assert kept == {offtopic.link_key("https://news.example/1?from=feed"): NOW - timedelta(days=40),
                        offtopic.link_key("https://news.example/1"): NOW - timedelta(days=40)}
        asked = ["https://news.example/1", "https://news.example/1?from=feed", "https://news.example/2",
                 "https://news.example/3", "https://news.example/4"]
        assert repo.known_urls(session, asked) == set(asked[:4])
    # Nothing more to compact: a second prune changes nothing.
    assert offtopic.prune(database, rows_before=NOW - timedelta(days=30), links_before=None)["offtopic_compacted"] == 0
    assert _count(database, OfftopicLink) == 2


def test_compaction_goes_in_batches_and_keys_are_forgotten_after_their_retention(database: Database) -> None:
    for n in range(7):
        _store(database, n, relevant=False, at=NOW - timedelta(days=100 - n * 10))  # 100, 90, ... 40 days old
    with database.write() as session:
        assert offtopic.compact_batch(session, NOW, limit=3) == 3
    assert _count(database, Article) == 4
    assert offtopic.prune(database, rows_before=NOW, links_before=None)["offtopic_compacted"] == 4
    assert _count(database, Article) == 0 and _count(database, OfftopicLink) == 14
    # Keys older than 75 days (the articles first seen 100, 90 and 80 days ago) are forgotten: those links are
    # new to the crawl again; the others are still known.
    counts = offtopic.prune(database, rows_before=None, links_before=NOW - timedelta(days=75))
    assert counts == {"offtopic_compacted": 0, "offtopic_links_forgotten": 6}
    with database.read() as session:
        known = repo.known_urls(session, [f"https://news.example/{n}" for n in range(7)])
    assert known == {f"https://news.example/{n}" for n in range(3, 7)}


def test_an_offtopic_page_stored_again_after_compaction_is_compacted_again(database: Database) -> None:
    _store(database, 1, relevant=False, at=NOW - timedelta(days=40))
    offtopic.prune(database, rows_before=NOW - timedelta(days=30), links_before=None)
    # Reached again by a URL the crawl did not know (so it was fetched): stored anew, compacted anew.
    again = _store(database, 1, relevant=False, at=NOW - timedelta(days=35))
    assert again.action == "new_offtopic"
    assert offtopic.prune(database, rows_before=NOW - timedelta(days=30), links_before=None)["offtopic_compacted"] == 1
    with database.read() as session:
        kept = list(session.scalars(select(OfftopicLink)))
    assert len(kept) == 2 and {row.seen_at for row in kept} == {NOW - timedelta(days=40)}  # the first stays


def test_the_daemon_prune_job_follows_the_configured_retention(database: Database) -> None:
    _store(database, 1, relevant=False, at=NOW - timedelta(days=10))
    _store(database, 2, relevant=False, at=NOW - timedelta(days=2))

    def prune(crawl: dict[str, object]) -> None:
        config = parse_config(yaml.safe_dump({"crawl": crawl}), environ={})
        asyncio.run(Jobs(database, settings_of(config), Metrics(), clock=lambda: NOW).prune())

    prune({"offtopic_retention": None})  # rows kept for ever
    assert _count(database, Article) == 2
    prune({})  # the default: 30 days
    assert _count(database, Article) == 2
    prune({"offtopic_retention": "5d", "offtopic_link_retention": None})
    assert _count(database, Article) == 1 and _count(database, OfftopicLink) == 2
    prune({"offtopic_retention": "5d", "offtopic_link_retention": "7d"})
    assert _count(database, OfftopicLink) == 0


def test_keys_must_be_kept_at_least_as_long_as_the_rows() -> None:
    with pytest.raises(ConfigError, match=r"crawl\.offtopic_link_retention: 7d is shorter than offtopic_retention"):
        parse_config(yaml.safe_dump({"crawl": {"offtopic_retention": "30d", "offtopic_link_retention": "7d"}}),
                     environ={})
    options = parse_config(yaml.safe_dump({"crawl": {"offtopic_retention": None, "offtopic_link_retention": "7d"}}),
                           environ={}).crawl_options
    assert options.offtopic_retention is None and options.offtopic_link_retention == timedelta(days=7)


# --- with the crawler --------------------------------------------------------------------------------------

@pytest.fixture
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as running:
        yield running


def _offtopic_pages(web: FixtureWeb) -> set[tuple[str, str]]:
    return {(a.site_id, urlsplit(a.url).path) for a in web.articles() if not a.on_topic}


def _requested(web: FixtureWeb) -> set[tuple[str, str]]:
    return {(r.site_id, r.path) for r in web.requests.records()}


def _refetch_feeds(db: Database) -> None:
    # Forget the feeds' validators, so the next crawl reads them in full (as when they changed) and meets every
    # link again, rather than being told 304 Not Modified.
    with db.write() as session:
        session.execute(delete(HttpValidator))


def test_a_compacted_offtopic_link_is_not_fetched_again_until_its_key_is_forgotten(database: Database,
                                                                                    web: FixtureWeb) -> None:
    sources = specs(web.sources())
    assert crawl(database, sources).status == "ok"
    offtopic_pages = _offtopic_pages(web)
    stored = _count(database, Article)
    assert offtopic_pages and stored > len(offtopic_pages)
    later = datetime.now(UTC) + timedelta(days=1)
    counts = offtopic.prune(database, rows_before=later, links_before=None)
    assert counts["offtopic_compacted"] == len(offtopic_pages)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Article).where(Article.relevant.is_(False))) == 0

    _refetch_feeds(database)
    web.reset_log()
    report = crawl(database, sources, rechecks=False)
    assert report.status == "ok"
    fetched = _requested(web)
    assert any(path.endswith((".xml", "/news/")) for _, path in fetched)  # the feeds were read in full...
    assert not fetched & offtopic_pages  # ...and no off-topic page was fetched again
    assert report.stats.get("articles_fetched", 0) == 0
    assert _count(database, Article) == stored - len(offtopic_pages)

    # Once the keys are forgotten, the links are new again: fetched, and stored as off-topic articles again.
    offtopic.prune(database, rows_before=None, links_before=later)
    assert _count(database, OfftopicLink) == 0
    _refetch_feeds(database)
    web.reset_log()
    crawl(database, sources, rechecks=False)
    assert offtopic_pages <= _requested(web)
    assert _count(database, Article) == stored
