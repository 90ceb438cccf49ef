"""The hostile corpus crawled with the real crawler from a local server: each source ends with the code or
the links its case names, the XXE sentinel never reaches the database, a self-listing sitemap index is
fetched once, and a feed of a million items neither overruns the crawl nor takes another source with it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from db.engine import Database
from db.models import Article, Base
from tests.crawler.docserver import DocServer, doc_server
from tests.crawler.helpers import FAST, crawl, specs
from tests.crawler.hostile_xml import GZIP_LIMIT, SENTINEL_PATH, SENTINEL_TEXT, corpus
from tests.crawler.newssite import news_site

# A download timeout of 10 s, not 2: a crawl of the whole corpus at once on a loaded CI machine had one response
# take longer than 2 s (no case is about timeouts).
CORPUS_OPTIONS = replace(FAST, max_size=GZIP_LIMIT, max_articles_per_source=2, timeout=10.0)


@pytest.fixture
def hostile() -> Iterator[DocServer]:
    """The corpus served on 127.0.0.1, with the XXE sentinel file in place."""
    SENTINEL_PATH.write_text(SENTINEL_TEXT)
    with doc_server() as served:
        served.documents.update({case.path: (case.body, case.content_type) for case in corpus(served.origin)})
        yield served


def _dump(db: Database) -> str:
    """Every stored value of every table, as text."""
    with db.read() as session:
        return "\n".join(repr(row) for table in Base.metadata.sorted_tables
                         for row in session.execute(select(table)))


def test_each_hostile_source_ends_as_its_case_says(database: Database, hostile: DocServer) -> None:
    cases = corpus(hostile.origin)
    sources = [{"id": f"h-{case.name}", "kind": case.kind, "url": hostile.origin + case.path} for case in cases]
    report = crawl(database, specs(sources), CORPUS_OPTIONS, rechecks=False)
    results = report.ledger.sources
    for case in cases:
        result = results[f"h-{case.name}"]
        if case.code:
            assert (case.name, result.error_code) == (case.name, case.code)
        else:
            assert (case.name, result.ok) == (case.name, True)
            if not case.follow:
                assert (case.name, result.items) == (case.name, case.links)
    assert hostile.hits["/hostile/self-listing-index.xml"] == 1
    assert hostile.hits["/hostile/evil.dtd"] == 0  # an external DTD is never fetched
    assert hostile.hits["/hostile/sitemap-084.xml"] == 2  # its own source, and the duplicate-children index once
    stored = _dump(database) + repr(report.ledger.errors)
    assert "xml_entities" in stored and SENTINEL_TEXT not in stored


def test_a_million_item_feed_beside_a_normal_source(sqlite_database: Database) -> None:
    options = replace(FAST, max_size=128 * 1024 * 1024, timeout=30.0)
    with news_site(3) as site, doc_server() as served:
        items = "".join(f"<item><title>I{n}</title><link>/i/{n}</link></item>" for n in range(1_000_000))
        served.documents["/huge.xml"] = (f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
                                         .encode(), "application/rss+xml")
        del items
        report = crawl(sqlite_database, specs([{"id": "huge", "kind": "feed", "url": served.origin + "/huge.xml"},
                                               {"id": "normal", "kind": "feed", "url": site.feed}]), options,
                       rechecks=False)
    assert report.seconds < options.timeout + 30  # generous: it takes about two seconds
    huge, normal = report.ledger.sources["huge"], report.ledger.sources["normal"]
    assert normal.ok and normal.items == 3
    assert huge.ok and huge.items == 5000
    assert any(e.source_id == "huge" and e.code == "too_many_items" for e in report.ledger.errors)
    with sqlite_database.read() as session:
        urls = set(session.scalars(select(Article.url)))
    assert {site.url(n) for n in range(3)} <= urls


def test_sitemap_indexes_listing_each_other_are_fetched_once(sqlite_database: Database) -> None:
    with doc_server() as served:
        a, b = served.origin + "/a.xml", served.origin + "/b.xml"
        index = '<?xml version="1.0"?><sitemapindex xmlns="{}">{}</sitemapindex>'.format
        entries = "<sitemap><loc>{}</loc></sitemap>".format
        ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
        served.documents["/a.xml"] = (index(ns, entries(b) + entries(a)).encode(), "application/xml")
        served.documents["/b.xml"] = (index(ns, entries(a) + entries(b)).encode(), "application/xml")
        report = crawl(sqlite_database, specs([{"id": "loop", "kind": "sitemap", "url": a, "max_depth": 5}]),
                       rechecks=False)
    assert report.ledger.sources["loop"].ok
    assert (served.hits["/a.xml"], served.hits["/b.xml"]) == (1, 1)
