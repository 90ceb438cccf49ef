"""A stopped crawl ends without fetching the pages that wait out the request delay in the downloader's queues."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from crawler import reactor
from crawler.runner import CrawlReport, run_crawl
from db.engine import Database
from db.models import Article
from labourwatch.fixtureweb import FixtureWeb, SiteSpec
from tests.crawler.helpers import FAST, _topic, crawl, specs

ARTICLES = 8
# One request to the host at a time, 0.5 s apart, while the crawl as a whole may have many: after the first article
# page the other seven wait in the host's downloader queue for the delay (Scrapy's engine waits for every queued
# download before it closes: 3.5 s and seven fetches more without dropping them).
POLITE = dataclasses.replace(FAST, per_domain_concurrency=1, concurrency=16, delay=0.5)


@pytest.fixture()
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb([SiteSpec("outlet", "The Outlet", sitemap=False, listing=False, articles=ARTICLES)]) as running:
        yield running


def article_requests(web: FixtureWeb) -> int:
    return sum(1 for r in web.requests.records("outlet") if r.path.startswith("/articles/"))


def test_a_stopped_crawl_drops_the_downloads_waiting_for_the_delay(sqlite_database: Database,
                                                                    web: FixtureWeb) -> None:
    sources = specs([s for s in web.sources() if s["id"] == "outlet-rss"])

    async def crawl_and_stop() -> CrawlReport:
        stop = asyncio.Event()
        crawling = asyncio.ensure_future(run_crawl(sqlite_database, sources, POLITE, _topic(), stop=stop))
        while article_requests(web) == 0 and not crawling.done():
            await asyncio.sleep(0.02)
        stop.set()  # the node is shutting down
        return await crawling

    report = reactor.run(crawl_and_stop())
    # The page in flight when the stop came may finish; none of those queued behind the delay is fetched.
    assert article_requests(web) <= 2, article_requests(web)
    # Dropped, not failed: nothing is recorded against the source or its pages.
    assert not any(key.endswith("failed") or key.startswith("error") for key in report.stats), report.stats
    assert report.ledger.errors == [], report.ledger.errors

    # The next poll of the source gets the feed again (not a 304 that would hide the dropped pages) and stores
    # every article.
    crawl(sqlite_database, sources, dataclasses.replace(POLITE, delay=0.0))
    with sqlite_database.read() as session:
        stored = set(session.scalars(select(Article.canonical_url)))
    assert stored == {article.url for article in web.articles("outlet")}
