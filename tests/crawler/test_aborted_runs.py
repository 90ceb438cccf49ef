"""A crawl that raises or is cancelled is recorded as ``aborted``, with what is safe to keep; never ``running``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from analysis.relevance import DEFAULT_TOPIC
from crawler import reactor
from crawler.runner import run_crawl
from crawler.types import SourceSpec
from db import repository as repo
from db.engine import Database
from db.models import Article, CrawlRun, FetchError, HttpValidator, Source
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.faults import MESSAGE, refused
from tests.crawler.helpers import FAST, crawl, specs


def runs(db: Database) -> list[CrawlRun]:
    with db.read() as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


async def cancelled_midway(db: Database, sources: list[SourceSpec]) -> None:
    """Start a crawl and cancel it as soon as its first source has answered (the daemon's shutdown does this
    to a crawl that outlives its grace period)."""
    answered = asyncio.Event()
    task = asyncio.ensure_future(run_crawl(db, sources, FAST, DEFAULT_TOPIC, on_progress=lambda _: answered.set()))
    await answered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_cancelled_crawl_is_recorded_as_aborted_and_loses_nothing(database: Database, web: FixtureWeb) -> None:
    sources = specs(web.sources())
    reactor.run(cancelled_midway(database, sources))
    [run] = runs(database)
    assert run.status == "aborted" and run.finished_at is not None
    with database.read() as session:
        polled = session.scalars(select(Source.id).where(Source.last_polled_at.is_not(None))).all()
        stored = set(session.scalars(select(Article.canonical_url)))
        kept = set(session.scalars(select(HttpValidator.url)))
        # Only sources that answered are recorded; none that had not answered counts a failure for it.
        assert polled and session.scalars(select(Source).where(Source.consecutive_failures > 0)).all() == []
    assert stored < {a.url for a in web.articles()}, "the crawl was meant to be cut short"
    # No document's validator is kept from a crawl cut short: a document fetched before all its links were
    # scheduled (a child sitemap) would answer 304 next time and hide them; the next crawl parses every document
    # again. An article stored before the cancel (a loaded machine's cancel comes late) keeps its own, stored in
    # the same transaction: a 304 for it next time is right.
    assert kept <= stored, kept - stored
    report = crawl(database, sources)
    assert report.status == "ok"
    with database.read() as session:
        assert set(session.scalars(select(Article.canonical_url))) == {a.url for a in web.articles()}
    assert [r.status for r in runs(database)] == ["aborted", "ok"]


def test_a_crawl_whose_record_fails_is_closed_as_aborted(database: Database, web: FixtureWeb) -> None:
    sources = specs([s for s in web.sources() if s["id"] == "labourmonitor-rss"])
    with refused(database, "sources", "UPDATE"), pytest.raises(DBAPIError, match=MESSAGE):
        crawl(database, sources)
    [run] = runs(database)
    assert run.status == "aborted" and run.finished_at is not None and run.stats.get("articles_new")
    with database.read() as session:
        assert session.get(HttpValidator, sources[0].url) is None  # the end-of-crawl transaction rolled back
        assert session.scalars(select(FetchError)).all() == []
    # The articles were stored as they came; the next crawl parses the feed again (no validator was kept).
    report = crawl(database, sources)
    assert report.status == "ok" and report.stats["documents"] == 1 and "articles_new" not in report.stats


def test_abort_stale_runs_closes_only_running_ones(database: Database) -> None:
    now = datetime.now(UTC)
    with database.write() as session:
        left, done = repo.start_run(session, "daemon", []), repo.start_run(session, "cli", [])
        repo.finish_run(session, done, "ok", {}, 0)
    with database.write() as session:
        assert repo.abort_stale_runs(session, now) == 1
    with database.write() as session:
        assert repo.abort_stale_runs(session, now + timedelta(seconds=1)) == 0
    found = {r.id: r for r in runs(database)}
    assert found[left].status == "aborted" and found[left].finished_at == now
    assert found[done].status == "ok" and found[done].finished_at != now


def test_a_run_that_cannot_even_be_closed_is_closed_by_the_next_crawl(database: Database, web: FixtureWeb) -> None:
    sources = specs([s for s in web.sources() if s["id"] == "labourmonitor-rss"])
    # The database refuses both the crawl's record and closing its run (an outage does this to every write).
    with refused(database, "sources", "UPDATE"), refused(database, "crawl_runs", "UPDATE"), \
            pytest.raises(DBAPIError, match=MESSAGE):
        crawl(database, sources)
    assert [r.status for r in runs(database)] == ["running"]
    assert crawl(database, sources).status == "ok"  # the next crawl closes the one left running first
    first, second = runs(database)
    assert (first.status, second.status) == ("aborted", "ok") and first.finished_at is not None
    assert first.stats.get("articles_new")  # what it did is kept in its stats
