"""Re-checks that fail back off along the revisit schedule and end; gone pages stop being re-checked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from crawler.types import CrawlOptions
from db import queries
from db import repository as repo
from db.engine import Database
from db.models import Article, CrawlRun, Source
from tests.crawler.faults import refused
from tests.crawler.helpers import FAST, crawl, specs
from tests.crawler.newssite import SLOW, NewsSite, news_site

REVISIT = (timedelta(0), timedelta(hours=1), timedelta(hours=3))
OPTIONS = replace(FAST, revisit=REVISIT)
GONE_404, GONE_410, ERROR_500, TIMES_OUT, WORKS = range(5)


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with news_site(5) as running:
        yield running


def articles(db: Database, site: NewsSite) -> dict[int, Article]:
    with db.read() as session:
        by_url = {a.canonical_url: a for a in session.scalars(select(Article))}
    return {n: by_url[site.url(n)] for n in range(site.count)}


def time_passes(db: Database, site: NewsSite, *numbers: int) -> None:
    """Make the given articles' next re-check due now, as if its time had come."""
    with db.write() as session:
        session.execute(update(Article).where(Article.canonical_url.in_([site.url(n) for n in numbers]))
                        .values(next_check_at=datetime.now(UTC) - timedelta(seconds=1)))


def recheck(db: Database, options: CrawlOptions = OPTIONS) -> str:
    """One re-check pass, as the daemon's revisit job runs it (no source polled); the run's status."""
    return crawl(db, [], options, rechecks=True).status


def waits(article: Article, step: timedelta) -> bool:
    assert article.next_check_at is not None
    return abs(article.next_check_at - (datetime.now(UTC) + step)) < timedelta(minutes=1)


def test_gone_pages_end_and_failing_ones_back_off_until_the_schedule_ends(database: Database,
                                                                          site: NewsSite) -> None:
    crawl(database, specs([{"id": "site", "kind": "feed", "url": site.feed}]), OPTIONS, rechecks=False)
    assert all(a.relevant and a.next_check_at is not None for a in articles(database, site).values())
    site.answers = {GONE_404: 404, GONE_410: 410, ERROR_500: 500, TIMES_OUT: SLOW}

    # The failures are per-page problems (two of five pages, two of them gone): the pass itself is ok.
    assert recheck(database) == "ok"
    found = articles(database, site)
    for n, status in ((GONE_404, 404), (GONE_410, 410)):
        assert found[n].gone_at is not None and found[n].next_check_at is None and found[n].last_status == status
    assert found[ERROR_500].failed_checks == 1 and found[ERROR_500].last_status == 500
    assert found[TIMES_OUT].failed_checks == 1 and found[TIMES_OUT].last_status is None
    for n in (ERROR_500, TIMES_OUT):  # one step further along the schedule than a check that answered
        assert found[n].gone_at is None and found[n].check_count == 0 and waits(found[n], REVISIT[1])
    assert found[WORKS].check_count == 1 and found[WORKS].failed_checks == 0 and waits(found[WORKS], REVISIT[1])
    with database.read() as session:
        source = session.get(Source, "site")
        assert source is not None and source.consecutive_failures == 0  # a re-check is not a poll of its source
        rows = {row["id"]: row for row in queries.article_rows(session)}
    assert rows[found[GONE_404].id]["gone_at"] is not None and rows[found[WORKS].id]["gone_at"] is None

    # Nothing is due now: the failing pages are not fetched again and again.
    hits = site.hits.copy()
    recheck(database)
    assert site.hits == hits

    # Their time comes: the 500 fails again and waits longer; the timeout works now and is back on schedule.
    site.answers[TIMES_OUT] = 200
    time_passes(database, site, ERROR_500, TIMES_OUT, WORKS)
    recheck(database)
    found = articles(database, site)
    assert found[ERROR_500].failed_checks == 2 and waits(found[ERROR_500], REVISIT[2])
    assert found[TIMES_OUT].failed_checks == 0 and found[TIMES_OUT].check_count == 1
    assert waits(found[TIMES_OUT], REVISIT[1])
    # The schedule ends: a third failure with a three-step schedule means no more re-checks.
    time_passes(database, site, ERROR_500)
    recheck(database)
    found = articles(database, site)
    assert found[ERROR_500].failed_checks == 3 and found[ERROR_500].next_check_at is None
    assert found[ERROR_500].gone_at is None  # given up on, not gone
    # Gone pages were fetched once after they went, never again.
    assert site.hits["/a0.html"] == site.hits["/a1.html"] == 2


def test_failing_articles_come_last_in_a_pass(database: Database, site: NewsSite) -> None:
    crawl(database, specs([{"id": "site", "kind": "feed", "url": site.feed}]), OPTIONS, rechecks=False)
    site.answers = {n: 503 for n in range(site.count - 1)}
    recheck(database)
    time_passes(database, site, *range(site.count))
    with database.read() as session:
        due = repo.due_rechecks(session, datetime.now(UTC), limit=1)
    assert [url for _, url, _, _ in due] == [site.url(site.count - 1)]


def test_a_recheck_pass_whose_pages_cannot_be_stored_fails_their_source(database: Database,
                                                                        site: NewsSite) -> None:
    crawl(database, specs([{"id": "site", "kind": "feed", "url": site.feed}]), OPTIONS, rechecks=False)
    with database.read() as session:
        before = session.get(Source, "site")
        assert before is not None
    site.edition = 2  # every article changed: each re-check stores a new version, and that insert fails
    with refused(database, "article_versions"):
        status = recheck(database)
    assert status == "failed"
    with database.read() as session:
        source = session.get(Source, "site")
        assert source is not None and source.consecutive_failures == 1
        assert source.last_error_code == "articles_failing" and source.last_error is not None
        assert source.last_error.startswith("5 of 5 article pages failed: store_failed: ")
        assert source.last_polled_at == before.last_polled_at  # not a poll
        assert session.scalars(select(CrawlRun.status).order_by(CrawlRun.id.desc())).first() == "failed"
    assert all(a.failed_checks == 1 and a.version_count == 1 for a in articles(database, site).values())
