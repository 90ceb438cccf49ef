"""The crawl store's group commit: pages stored together, and one failing page never takes others with it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

import crawler.store
from analysis.relevance import DEFAULT_TOPIC
from crawler.processing import FetchedPage
from crawler.store import CrawlStore, PageResult, StoreClosedError
from crawler.types import CrawlOptions, SourceSpec
from db import repository as repo
from db.engine import Database
from db.models import Article, HttpValidator

STORY = ("North Korean workers were sent to building sites in Russia this year, where they worked up to "
         "eighteen hours a day for wages the state mostly kept.")


def fetched(n: int, source_id: str | None = "site", paragraphs: int = 5) -> FetchedPage:
    url = f"https://news.example/articles/{n}"
    html = (f"<html lang='en'><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
            + "".join(f"<p>{STORY} Paragraph {i} of story {n}.</p>" for i in range(paragraphs))
            + "</article></body></html>")
    return FetchedPage(source_id=source_id, url=url, discovered_url=url, status=200,
                       headers={"etag": f'"e{n}"'}, body=html.encode(), text=html,
                       fetched_at=datetime.now(UTC))


async def store_all(store: CrawlStore, pages: list[FetchedPage]) -> list[PageResult | BaseException]:
    return await asyncio.gather(*(store.store_page(page) for page in pages), return_exceptions=True)


def test_concurrent_pages_are_all_stored_and_a_bad_one_fails_alone(database: Database) -> None:
    with database.write() as session:
        repo.sync_sources(session, [SourceSpec(id="site", kind="feed", url="https://news.example/rss.xml")])
    store = CrawlStore(database, CrawlOptions(), DEFAULT_TOPIC)
    # A page naming an unknown source breaks the foreign key: its batch is rolled back and redone page by page.
    pages = [fetched(n, source_id="no-such-source" if n == 3 else "site") for n in range(8)]
    try:
        outcomes = asyncio.run(store_all(store, pages))
    finally:
        store.close()
    failed = [n for n, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)]
    assert failed == [3]
    assert {outcome.action for outcome in outcomes if isinstance(outcome, PageResult)} == {"new"}
    with database.read() as session:
        urls = set(session.scalars(select(Article.canonical_url)))
        validators = session.scalar(select(func.count()).select_from(HttpValidator))
    assert urls == {page.url for n, page in enumerate(pages) if n != 3}
    assert validators == 7


def test_the_same_article_twice_in_one_batch_is_stored_once(database: Database) -> None:
    store = CrawlStore(database, CrawlOptions(), DEFAULT_TOPIC)
    try:
        outcomes = asyncio.run(store_all(store, [fetched(1, None), fetched(1, None), fetched(2, None)]))
    finally:
        store.close()
    actions = sorted(o.action for o in outcomes if isinstance(o, PageResult))
    assert actions == ["new", "new", "unchanged"]
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 2


def test_a_page_finishing_after_the_crawl_stopped_is_abandoned_not_stored(sqlite_database: Database) -> None:
    store = CrawlStore(sqlite_database, CrawlOptions(workers=0), DEFAULT_TOPIC)

    async def stop_midway() -> list[PageResult | BaseException]:
        pending = asyncio.ensure_future(store_all(store, [fetched(n, None) for n in range(3)]))
        await asyncio.sleep(0)  # the pages are in extraction now
        store.close()
        idle = await store.wait_idle(timeout=10)
        assert idle
        return await pending

    outcomes = asyncio.run(stop_midway())
    assert outcomes and all(isinstance(outcome, StoreClosedError) for outcome in outcomes), outcomes
    with sqlite_database.read() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0


def test_pages_finishing_extraction_one_by_one_share_a_transaction(database: Database,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The writer is faster than pages come out of extraction: without waiting for the pages still being processed
    # each transaction held one page or two. A short batch waits (crawler.store.GATHER_WAIT) for those in flight.
    with database.write() as session:
        repo.sync_sources(session, [SourceSpec(id="site", kind="feed", url="https://news.example/rss.xml")])
    # Longer than the eight extractions take even on a loaded machine: the wait ends when the last page is in.
    monkeypatch.setattr(crawler.store, "GATHER_WAIT", 5.0)
    store = CrawlStore(database, CrawlOptions(workers=0), DEFAULT_TOPIC)
    sizes: list[int] = []
    store_jobs = store._store_jobs

    def recording(session, batch):  # type: ignore[no-untyped-def]
        sizes.append(len(batch))
        return store_jobs(session, batch)

    store._store_jobs = recording  # type: ignore[method-assign]
    # All in flight at once, one extraction at a time, longer and longer: they reach the writer one by one.
    pages = [fetched(n, paragraphs=5 + 15 * n) for n in range(8)]

    async def one_extraction_at_a_time() -> list[PageResult]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=1))
        return await asyncio.gather(*(store.store_page(page) for page in pages))

    try:
        outcomes = asyncio.run(one_extraction_at_a_time())
    finally:
        store.close()
    assert [outcome.action for outcome in outcomes] == ["new"] * 8
    assert sizes == [8]
