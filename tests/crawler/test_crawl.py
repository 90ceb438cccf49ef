"""End-to-end crawls of the fixture news web: discovery, conditional GET, versions, diffs, faults."""

from __future__ import annotations

import re
import urllib.request

from sqlalchemy import func, select

from crawler.kinds import SOURCE_KINDS
from crawler.types import SourceSpec
from db import queries
from db.engine import Database
from db.models import Article, ArticleUrl, ArticleVersion, FetchError, Source, VersionDiffRow
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs


def stored_articles(db: Database) -> dict[str, Article]:
    with db.read() as session:
        return {a.canonical_url: a for a in session.scalars(select(Article))}


def test_cold_crawl_discovers_every_article_once(database: Database, web: FixtureWeb) -> None:
    report = crawl(database, specs(web.sources()))
    assert report.status == "ok", report.ledger.errors
    expected = {info.url: info for info in web.articles()}
    stored = stored_articles(database)
    assert set(stored) == set(expected)  # each article once, although most are listed by 2-4 sources
    for url, article in stored.items():
        assert article.relevant == expected[url].on_topic, (url, article.matched_terms)
        assert article.version_count == (1 if article.relevant else 0)
    with database.read() as session:
        # The tracking-parameter feed links were remembered as aliases of the same articles.
        aliases = session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.like("%utm_source=rss%"))).all()
        assert aliases == []  # canonicalised before lookup: the tracking form is never stored
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == sum(
            info.on_topic for info in expected.values())
    assert report.stats["articles_fetched"] == len(expected)


def test_repoll_with_nothing_new_downloads_no_article_bodies(database: Database, web: FixtureWeb) -> None:
    sources = specs(web.sources())
    crawl(database, sources)
    web.reset_log()
    report = crawl(database, sources)
    assert report.stats.get("articles_fetched", 0) == 0
    article_requests = [r for r in web.requests if r.path.startswith("/articles/")]
    assert article_requests, "due re-checks were expected"
    assert all(r.conditional and r.status == 304 for r in article_requests)
    documents = [r for r in web.requests if not r.path.startswith("/articles/") and r.path != "/robots.txt"]
    assert documents and all(r.conditional and r.status == 304 for r in documents)
    web.reset_log()
    crawl(database, sources, rechecks=False)
    assert not [r for r in web.requests if r.path.startswith("/articles/")]


def test_state_change_versions_exactly_the_edited_articles(database: Database, web: FixtureWeb) -> None:
    sources = specs(web.sources())
    crawl(database, sources)
    change = web.advance()
    report = crawl(database, sources)
    assert report.status == "ok"
    with database.read() as session:
        diffs = {row["url"]: row for row in queries.diff_rows(session)}
        new_urls = set(change.new)
        stored = {a.canonical_url for a in session.scalars(select(Article))}
    assert set(diffs) == set(change.edited)
    assert new_urls <= stored
    for url, (old, new) in change.figure_edits.items():
        row = diffs[url]
        assert row["changed"] == ["body", "figures"]
        assert len(row["removed"]) == 1 and len(row["added"]) == 1
        assert old in row["removed"][0] and new in row["added"][0]
        assert row["figures_before"] and row["figures_after"]
    for url, (old_title, new_title) in change.headline_changes.items():
        row = diffs[url]
        assert row["changed"] == ["title"]
        assert (row["title_before"], row["title"]) == (old_title, new_title)
        assert row["added"] == [] and row["removed"] == []
    for url in change.corrections:
        row = diffs[url]
        assert "body" in row["changed"] and row["removed"] == []
        assert any("orrect" in sentence for sentence in row["added"])
    articles = stored_articles(database)
    for url in change.sidebar_only:
        assert articles[url].version_count <= 1  # sidebar, "most read" and timestamp churn make no version


def test_two_state_changes_chain_versions(database: Database, web: FixtureWeb) -> None:
    sources = specs(web.sources())
    crawl(database, sources)
    first = web.advance()
    crawl(database, sources)
    second = web.advance()
    crawl(database, sources)
    with database.read() as session:
        total = session.scalar(select(func.count()).select_from(VersionDiffRow))
    assert total == len(first.edited) + len(second.edited)


def test_dry_run_stores_nothing(database: Database, web: FixtureWeb) -> None:
    report = crawl(database, specs(web.sources()), dry_run=True)
    assert report.run_id is None
    assert {found.action for found in report.ledger.found} == {"new"}
    assert len(report.ledger.found) == len(web.articles())
    with database.read() as session:
        assert queries.counts(session) == {"sources": 0, "articles": 0, "relevant_articles": 0, "versions": 0,
                                           "diffs": 0}


EXPECTED_FAULTS = {
    "fault-500": "http_500", "fault-slow": "timeout", "fault-truncated": "truncated",
    "fault-malformed": "malformed_feed", "fault-entities": "xml_entities", "fault-redirect-loop": "redirect_loop",
    "fault-gzip-bomb": "too_large", "fault-redirect-private": "blocked_address", "fault-empty": "empty",
    "fault-html-not-feed": "malformed_feed", "fault-404": "http_404", "fault-listing-no-links": "no_links",
    "fault-robots-disallow": "robots_disallowed", "fault-robots-500": "robots_disallowed",
}


def test_each_fault_is_recorded_on_its_source_while_the_crawl_carries_on(
        sqlite_database: Database, web: FixtureWeb) -> None:
    good = [s for s in web.sources() if s["id"].startswith("labourmonitor")]
    report = crawl(sqlite_database, specs(good + web.fault_sources()))
    assert report.status == "partial"
    with sqlite_database.read() as session:
        sources = {s.id: s for s in session.scalars(select(Source))}
        codes = {sid: s.last_error_code for sid, s in sources.items() if sid in EXPECTED_FAULTS}
        assert codes == EXPECTED_FAULTS
        assert all(sources[sid].consecutive_failures == 1 for sid in EXPECTED_FAULTS)
        recorded = {e.source_id for e in session.scalars(select(FetchError))}
        assert set(EXPECTED_FAULTS) <= recorded
        # The mislabelled charset is read correctly and recorded as a warning, not a failure.
        charset = sources["fault-wrong-charset"]
        assert charset.last_error_code is None and charset.consecutive_failures == 0
        warning = session.scalars(select(FetchError).where(FetchError.source_id == "fault-wrong-charset")).one()
        assert warning.code == "charset_mismatch" and warning.severity == "warning"
        assert all(sources[s["id"]].last_success_at is not None for s in good)
    stored = stored_articles(sqlite_database)
    assert {i.url for i in web.articles("labourmonitor")} <= set(stored)


def test_mislabelled_charset_feed_is_read_in_its_real_encoding(web: FixtureWeb) -> None:
    url = web.site_url("fault") + "/faults/wrong-charset.xml"
    with urllib.request.urlopen(url) as response:  # the bytes exactly as served
        body, content_type = response.read(), response.headers["Content-Type"]
    assert "utf-8" in content_type.lower()
    result = SOURCE_KINDS["feed"].parse(body, url, content_type, SourceSpec("x", "feed", url), 0)
    assert result.links and all(re.search("[А-Яа-я]{4}", link.title or "") for link in result.links)
    assert result.warnings[0][0] == "charset_mismatch" and "1251" in result.warnings[0][1]


def test_failures_count_up_and_recover(sqlite_database: Database, web: FixtureWeb) -> None:
    broken = specs([{"id": "flaky", "kind": "feed", "url": web.site_url("fault") + "/faults/500.xml"}])
    crawl(sqlite_database, broken)
    crawl(sqlite_database, broken)
    fixed = specs([{"id": "flaky", "kind": "feed", "url": web.site_url("labourmonitor") + "/rss.xml"}])
    with sqlite_database.read() as session:
        source = session.get(Source, "flaky")
        assert source is not None and source.consecutive_failures == 2 and source.last_error_code == "http_500"
    crawl(sqlite_database, fixed)
    with sqlite_database.read() as session:
        source = session.get(Source, "flaky")
        assert source is not None and source.consecutive_failures == 0 and source.last_success_at is not None
        assert source.items_last_run > 0


def test_robots_txt_is_fetched_and_user_agent_sent(database: Database, web: FixtureWeb) -> None:
    crawl(database, specs(web.sources()))
    robots = [r for r in web.requests if r.path == "/robots.txt"]
    assert {r.site_id for r in robots} == {spec.id for spec in web.specs}
    assert all(r.user_agent.startswith("labourwatch/") for r in web.requests)


def test_without_private_networks_no_request_reaches_a_loopback_site(database: Database, web: FixtureWeb) -> None:
    from dataclasses import replace

    from tests.crawler.helpers import FAST

    report = crawl(database, specs(web.sources()), replace(FAST, allow_private_networks=False))
    assert report.status == "failed"
    assert {r.error_code for r in report.ledger.sources.values()} == {"blocked_address"}
    assert len(web.requests) == 0  # refused before connecting, robots.txt included
