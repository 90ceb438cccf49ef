"""A crawl of one politeness key (cluster mode) leaves article pages and child sitemaps on other hosts to their own
key's crawl (db.pending): an aggregator's feed on host A links articles on host B, its sitemap index B's sitemaps."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from analysis.urls import politeness_key
from db.engine import Database
from db.models import Article, Event, FetchError, HttpValidator, PendingArticle, Source
from labourwatch.fixtureweb import FixtureWeb, SiteSpec
from tests.crawler.helpers import FAST, crawl, specs

# Re-checks not due during the test: every request to the outlet is a new article's.
OPTIONS = dataclasses.replace(FAST, revisit=(timedelta(hours=1),))


@pytest.fixture()
def web() -> Iterator[FixtureWeb]:
    """An aggregator (``digest``) whose feed lists the articles of ``outlet``, on the outlet's host; the outlet
    has its own feed too."""
    sites = [SiteSpec("digest", "Labour Digest", sitemap=False, listing=False, articles=0, feed_of="outlet"),
             SiteSpec("outlet", "The Outlet", sitemap=False, listing=False, articles=5)]
    with FixtureWeb(sites) as running:
        yield running


def article_requests(web: FixtureWeb) -> Counter[str]:
    return Counter(r.path for r in web.requests.records("outlet") if r.path.startswith("/articles/"))


def pending_rows(db: Database) -> list[PendingArticle]:
    with db.read() as session:
        return list(session.scalars(select(PendingArticle).order_by(PendingArticle.url)))


def test_pages_on_another_host_wait_for_their_keys_crawl_and_are_stored_once(database: Database,
                                                                               web: FixtureWeb) -> None:
    digest = specs([{**s, "baseline": True} for s in web.sources() if s["id"] == "digest-rss"])
    digest_key, outlet_key = politeness_key(web.site_url("digest")), politeness_key(web.site_url("outlet"))
    outlet_urls = {a.url for a in web.articles("outlet")}

    # The crawl of the aggregator's key reads its feed and fetches nothing on the outlet's host.
    report = crawl(database, digest, OPTIONS, key=digest_key)
    assert report.status == "ok"
    assert report.stats.get("articles_deferred") == 5 and "articles_fetched" not in report.stats, report.stats
    assert web.requests.records("outlet") == []
    rows = pending_rows(database)
    assert {r.url for r in rows} == outlet_urls
    assert {(r.key, r.source_id, r.baseline, r.language) for r in rows} == {(outlet_key, "digest-rss", True, "en")}
    assert {r.title for r in rows} == {a.title for a in web.articles("outlet")}  # the feed entries' titles
    with database.read() as session:
        assert session.scalars(select(Article)).all() == []
        # Leaving them durably is an outcome: the feed's validators are kept, its next poll may be a 304.
        assert session.scalars(select(HttpValidator.url)).all() == [digest[0].url]

    # The process that found them is gone (this crawl's spider and store are); a crawl of the outlet's key, on
    # any node, with the outlet's own feed due as well, fetches each page once and forgets it.
    outlet = specs([s for s in web.sources() if s["id"] == "outlet-rss"])
    report = crawl(database, outlet, OPTIONS, key=outlet_key)
    assert report.status == "ok" and report.stats.get("articles_fetched") == 5, report.stats
    assert set(article_requests(web).values()) == {1} and len(article_requests(web)) == 5
    assert pending_rows(database) == []
    with database.read() as session:
        stored = session.execute(select(Article.canonical_url, Article.source_id)).all()
        quiet = {e.details.get("quiet") for e in session.scalars(select(Event).where(Event.type == "new_article"))}
    # Stored once each, under the aggregator that found them first, as its baseline (no alerts).
    assert sorted(stored) == sorted((url, "digest-rss") for url in outlet_urls)
    assert quiet == {"baseline"}

    # Polled again, neither key finds anything new: nothing pending, no article fetched again.
    crawl(database, digest, OPTIONS, key=digest_key)
    crawl(database, outlet, OPTIONS, key=outlet_key)
    assert pending_rows(database) == [] and set(article_requests(web).values()) == {1}


def test_a_crawl_without_a_key_fetches_every_host_as_before(database: Database, web: FixtureWeb) -> None:
    # A single daemon (and `labourwatch crawl`) keeps the per-host limits in one process: nothing is deferred.
    digest = specs([s for s in web.sources() if s["id"] == "digest-rss"])
    report = crawl(database, digest, OPTIONS)
    assert report.stats.get("articles_fetched") == 5 and "articles_deferred" not in report.stats, report.stats
    assert pending_rows(database) == []


def test_pages_a_cluster_left_pending_are_fetched_by_a_single_daemons_crawl(database: Database,
                                                                             web: FixtureWeb) -> None:
    # A cluster switched back to one node leaves nothing behind: a crawl without a key takes every key's pages.
    digest = specs([s for s in web.sources() if s["id"] == "digest-rss"])
    crawl(database, digest, OPTIONS, key=politeness_key(web.site_url("digest")))
    assert len(pending_rows(database)) == 5
    report = crawl(database, [], OPTIONS)
    assert report.stats.get("articles_fetched") == 5, report.stats
    assert pending_rows(database) == []


@pytest.fixture()
def index_web() -> Iterator[FixtureWeb]:
    """An aggregator (``digest``) whose sitemap index lists the sitemaps of ``outlet``, on the outlet's host."""
    sites = [SiteSpec("digest", "Labour Digest", feed=None, sitemap=True, listing=False, articles=0,
                      feed_of="outlet"),
             SiteSpec("outlet", "The Outlet", feed=None, sitemap=True, listing=False, articles=12)]
    with FixtureWeb(sites) as running:
        yield running


def outlet_requests(web: FixtureWeb) -> Counter[str]:
    return Counter(r.path for r in web.requests.records("outlet"))


def test_child_sitemaps_on_another_host_are_read_by_their_keys_crawl_for_their_source(
        database: Database, index_web: FixtureWeb) -> None:
    web = index_web
    index = specs([{**s, "baseline": True} for s in web.sources() if s["id"] == "digest-sitemap"])
    digest_key, outlet_key = politeness_key(web.site_url("digest")), politeness_key(web.site_url("outlet"))
    children = {f"{web.site_url('outlet')}/sitemap-news.xml", f"{web.site_url('outlet')}/sitemap-archive.xml"}

    # The crawl of the index's key reads the index and nothing on the outlet's host: its children wait, durably,
    # for the outlet's key, as documents of the index's source.
    report = crawl(database, index, OPTIONS, key=digest_key)
    assert report.status == "ok", report.stats
    assert report.stats.get("documents_deferred") == 2 and report.stats.get("documents") == 1, report.stats
    assert web.requests.records("outlet") == []
    rows = pending_rows(database)
    assert {(r.url, r.key, r.kind, r.depth, r.source_id, r.baseline) for r in rows} == \
        {(url, outlet_key, "document", 1, "digest-sitemap", True) for url in children}

    # A crawl of the outlet's key (polling none of its own sources) reads both children once, for the index's
    # source, and fetches their articles on its own key: stored under that source, as its baseline.
    report = crawl(database, [], OPTIONS, key=outlet_key, specs={s.id: s for s in index})
    assert report.status == "ok", report.stats
    assert report.stats.get("articles_fetched") == 12, report.stats
    fetched = outlet_requests(web)
    assert {fetched[path] for path in ("/sitemap-news.xml", "/sitemap-archive.xml")} == {1}
    assert pending_rows(database) == []
    with database.read() as session:
        stored = session.execute(select(Article.canonical_url, Article.source_id)).all()
        quiet = {e.details.get("quiet") for e in session.scalars(select(Event).where(Event.type == "new_article"))}
        saved = set(session.scalars(select(HttpValidator.url)))
        source = session.get(Source, "digest-sitemap")
        assert source is not None and source.new_last_run == 12, source  # its poll's counts, children's added
    assert sorted(stored) == sorted((a.url, "digest-sitemap") for a in web.articles("outlet"))
    assert quiet == {"baseline"}
    assert children <= saved  # every article they led to was stored: their validators are the source's

    # The next poll of the index: the children go to the outlet's key again, and are not modified there.
    crawl(database, index, OPTIONS, key=digest_key)
    report = crawl(database, [], OPTIONS, key=outlet_key, specs={s.id: s for s in index})
    assert report.stats.get("documents_not_modified") == 2 and "articles_fetched" not in report.stats, report.stats
    assert pending_rows(database) == []


def test_a_child_sitemap_that_fails_stays_pending_for_another_attempt(database: Database,
                                                                      index_web: FixtureWeb) -> None:
    web = index_web
    index = specs([s for s in web.sources() if s["id"] == "digest-sitemap"])
    outlet_key = politeness_key(web.site_url("outlet"))
    crawl(database, index, OPTIONS, key=politeness_key(web.site_url("digest")))
    web.stop()  # the outlet's host is down when its key's crawl comes
    report = crawl(database, [], OPTIONS, key=outlet_key, specs={s.id: s for s in index})
    # Both children failed, recorded on the index's source; they wait for their lease to end, taken once.
    rows = pending_rows(database)
    assert sorted((r.url.rsplit("/", 1)[1], r.attempts) for r in rows) == \
        [("sitemap-archive.xml", 1), ("sitemap-news.xml", 1)], report.stats
    with database.read() as session:
        errors = set(session.execute(select(FetchError.source_id, FetchError.url)).all())
    assert {("digest-sitemap", r.url) for r in rows} <= errors


def test_a_crawl_without_a_key_reads_child_sitemaps_on_every_host_as_before(database: Database,
                                                                            index_web: FixtureWeb) -> None:
    index = specs([s for s in index_web.sources() if s["id"] == "digest-sitemap"])
    report = crawl(database, index, OPTIONS)
    assert report.stats.get("documents") == 3 and "documents_deferred" not in report.stats, report.stats
    assert report.stats.get("articles_fetched") == 12, report.stats
    assert pending_rows(database) == []


def test_documents_of_a_source_no_longer_configured_are_dropped(database: Database, index_web: FixtureWeb) -> None:
    index = specs([s for s in index_web.sources() if s["id"] == "digest-sitemap"])
    crawl(database, index, OPTIONS, key=politeness_key(index_web.site_url("digest")))
    report = crawl(database, [], OPTIONS, key=politeness_key(index_web.site_url("outlet")), specs={})
    assert "documents" not in report.stats and pending_rows(database) == []
