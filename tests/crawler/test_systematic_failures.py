"""A source whose article pages mostly fail to store is a failing source, not a quiet one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crawler.ledger import CrawlLedger
from db import status
from db.engine import Database
from db.models import Article, CrawlRun, Event, FetchError, Source
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.faults import MESSAGE, refused
from tests.crawler.helpers import crawl, specs
from tests.crawler.newssite import news_site

# One source per outlet, so each article page is attributed to its own outlet's source.
ONE_PER_SITE = ("labourmonitor-rss", "meridian-rss", "hanbit-rss", "vostok-atom")


def outlets(web: FixtureWeb) -> list[dict[str, str]]:
    return [s for s in web.sources() if s["id"] in ONE_PER_SITE]


def sources(db: Database) -> dict[str, Source]:
    with db.read() as session:
        return {s.id: s for s in session.scalars(select(Source))}


def test_storage_failing_for_every_page_fails_each_source_and_the_run(database: Database, web: FixtureWeb) -> None:
    polled = specs(outlets(web))
    with refused(database, "articles"):
        first = crawl(database, polled, failing_after=2)
        second = crawl(database, polled, failing_after=2)
    assert first.status == second.status == "failed", (first.ledger.counts, second.ledger.counts)
    for source_id, source in sources(database).items():
        pages = first.ledger.pages[source_id].pages
        assert pages >= 3
        assert source.consecutive_failures == 2 and source.last_error_code == "articles_failing", source_id
        assert source.last_error is not None
        assert source.last_error.startswith(f"{pages} of {pages} article pages failed: store_failed: "), (
            source.last_error, second.ledger.pages[source_id].pages)
        assert MESSAGE in source.last_error
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [r.status for r in runs] == ["failed", "failed"]
        failing = session.scalars(select(Event).where(Event.type == "source_failing")).all()
        assert sorted(e.source_id or "" for e in failing) == sorted(ONE_PER_SITE)
        assert all("articles_failing: " in e.summary and "store_failed" in e.summary for e in failing)
        codes = session.scalars(select(FetchError.code).where(FetchError.crawl_run_id == runs[0].id)).all()
        assert codes.count("articles_failing") == len(ONE_PER_SITE)
        report = status.status_report(session, datetime.now(UTC))
    assert report["health_counts"]["failing"] == len(ONE_PER_SITE)
    problems = status.check_problems(report)
    assert sorted(p.split()[1] for p in problems) == sorted(ONE_PER_SITE)
    assert all("last error articles_failing" in p for p in problems)
    # Storage works again: every page comes again (no validator was kept), is stored, and the sources recover.
    third = crawl(database, polled, failing_after=2)
    # Each assertion says what the crawl recorded, so a failure on a loaded machine tells its cause.
    assert third.status == "ok", third.ledger.errors
    assert all(s.consecutive_failures == 0 for s in sources(database).values()), third.ledger.errors
    with database.read() as session:
        stored = session.scalar(select(func.count()).select_from(Article))
        assert stored == len(web.articles()), (stored, third.ledger.counts, third.ledger.errors)
        recovered = session.scalars(select(Event.source_id).where(Event.type == "source_recovered")).all()
    assert sorted(s or "" for s in recovered) == sorted(ONE_PER_SITE)


def test_a_few_failed_pages_stay_per_page_errors(sqlite_database: Database) -> None:
    """One page of six failing and a page that is gone (404) do not fail a source: they stay page errors."""
    with news_site(6) as site:
        site.answers = {0: 500, 1: 404}
        report = crawl(sqlite_database, specs([{"id": "site", "kind": "feed", "url": site.feed}]))
    assert report.status == "ok"
    assert sorted(e.code for e in report.ledger.errors) == ["http_404", "http_500"]
    source = sources(sqlite_database)["site"]
    assert source.consecutive_failures == 0 and source.last_error_code is None


@pytest.mark.parametrize(("pages", "failures", "systematic"), [
    (2, ["store_failed"] * 2, False),  # too few pages to call it a pattern
    (4, ["store_failed"] * 2, False),  # half is not most
    (3, ["store_failed", "store_failed"], True),
    (5, ["no_text", "store_failed", "store_failed"], True),
    (4, ["http_404"] * 4, False),  # gone pages are per-page warnings, however many
])
def test_the_systematic_failure_rule(pages: int, failures: list[str], systematic: bool) -> None:
    ledger = CrawlLedger()
    for n in range(pages):
        if n < len(failures):
            ledger.article_failed("site", f"https://x.example/{n}", failures[n], f"{failures[n]} happened")
        else:
            ledger.article_done("site", None)
    reason = ledger.pages["site"].systematic()
    assert (reason is not None) == systematic
    if reason is not None:
        assert reason == f"{len(failures)} of {pages} article pages failed: store_failed: store_failed happened"
