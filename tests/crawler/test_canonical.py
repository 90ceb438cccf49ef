"""Canonical URLs from hostile and real-world pages, crawled from real loopback sites on SQLite and PostgreSQL:
a page can say which of its own site's URLs it is, never that it is another site's or another source's
article; folds are recorded where users see them; re-checks go where the article was found."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from crawler.extract import extract_article
from crawler.processing import trusted_canonical
from db import queries
from db.engine import Database
from db.models import Article, ArticleUrl, ArticleVersion, FetchError
from tests.crawler.helpers import FAST, crawl, specs
from tests.crawler.pagesite import PageSite, article_html, page_site, rss

HOSTILE = ("<p>Officials denied that any North Korean workers were ever sent to Russia; the story about the "
           "construction sites was invented, a spokesman told reporters on Tuesday.</p>") * 3


@pytest.fixture
def alpha() -> Iterator[PageSite]:
    with page_site("127.0.0.1") as site:
        yield site


@pytest.fixture
def beta() -> Iterator[PageSite]:
    with page_site("127.0.0.2") as site:
        yield site


def _feed(site: PageSite, name: str, *paths: str) -> dict[str, str]:
    site.pages[f"/{name}.xml"] = rss([site.url(p) for p in paths])
    return {"id": name, "kind": "feed", "url": site.url(f"/{name}.xml")}


def _versions(db: Database, url: str) -> list[str]:
    with db.read() as session:
        article = session.scalars(select(Article).where(Article.canonical_url == url)).one()
        return [v.text for v in session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article.id)
                                                .order_by(ArticleVersion.number))]


def _errors(db: Database, code: str) -> list[FetchError]:
    with db.read() as session:
        return list(session.scalars(select(FetchError).where(FetchError.code == code)))


def test_a_page_naming_another_sites_article_as_canonical_is_kept_under_its_own_url(
        database: Database, alpha: PageSite, beta: PageSite) -> None:
    alpha.pages["/a1.html"] = article_html("Workers sent to Russia", "article one")
    beta.pages["/b1.html"] = article_html("Workers sent to Russia", "x", canonical=alpha.url("/a1.html"), body=HOSTILE)
    source_a, source_b = _feed(alpha, "alpha", "/a1.html"), _feed(beta, "beta", "/b1.html")
    crawl(database, specs([source_a]), FAST, rechecks=False)
    before = _versions(database, alpha.url("/a1.html"))
    crawl(database, specs([source_b]), FAST, rechecks=False)

    # A's evidence is untouched; B's page is its own article, under its own URL, on source beta.
    assert _versions(database, alpha.url("/a1.html")) == before and len(before) == 1
    assert "invented" in _versions(database, beta.url("/b1.html"))[0]
    with database.read() as session:
        b_article = session.scalars(select(Article).where(Article.canonical_url == beta.url("/b1.html"))).one()
        assert (b_article.source_id, b_article.url) == ("beta", beta.url("/b1.html"))
    [error] = _errors(database, "canonical_offsite")
    assert (error.source_id, error.severity) == ("beta", "warning")
    assert alpha.url("/a1.html") in error.message

    # Re-checks of both go to where each was found: B's page is never fetched from A's host.
    alpha_before = alpha.hits("/a1.html")
    crawl(database, specs([]), FAST)
    assert beta.hits("/b1.html") == 2 and alpha.hits("/a1.html") == alpha_before + 1
    assert _versions(database, alpha.url("/a1.html")) == before


def test_a_page_naming_another_sources_article_never_changes_it_and_the_duplicate_is_recorded(
        database: Database, alpha: PageSite) -> None:
    # Two sources of one site: gamma's page claims alpha's article (same site, so the claim is believable).
    alpha.pages["/a1.html"] = article_html("Workers sent to Russia", "article one")
    alpha.pages["/g1.html"] = article_html("Workers sent to Russia", "x", canonical=alpha.url("/a1.html"),
                                           body=HOSTILE)
    source_a, source_g = _feed(alpha, "alpha", "/a1.html"), _feed(alpha, "gamma", "/g1.html")
    crawl(database, specs([source_a]), FAST, rechecks=False)
    before = _versions(database, alpha.url("/a1.html"))
    report = crawl(database, specs([source_g]), FAST, rechecks=False)

    assert report.stats.get("articles_duplicate") == 1
    assert _versions(database, alpha.url("/a1.html")) == before
    with database.read() as session:
        assert session.scalars(select(Article)).all()[0].source_id == "alpha"
        assert len(session.scalars(select(Article)).all()) == 1
        reached = session.get(ArticleUrl, alpha.url("/g1.html"))
        assert reached is not None and reached.source_id == "gamma"
        detail = queries.article_detail(session, reached.article_id)
    assert detail is not None
    assert {(u["url"], u["source_id"]) for u in detail["urls"]} == {
        (alpha.url("/a1.html"), "alpha"), (alpha.url("/g1.html"), "gamma")}
    [error] = _errors(database, "canonical_duplicate")
    assert (error.source_id, error.severity) == ("gamma", "warning")
    # gamma's page is never fetched again (its URL is known), nor does a re-check of the article go there.
    crawl(database, specs([source_g]), FAST)
    assert alpha.hits("/g1.html") == 1
    assert _versions(database, alpha.url("/a1.html")) == before


def test_same_site_canonical_folds_and_the_fold_is_visible(database: Database, alpha: PageSite) -> None:
    # The https form of the site's own URL (never served here) is the canonical of both pages: one article.
    canonical = "https://" + alpha.url("/a3.html").removeprefix("http://")
    alpha.pages["/a3.html"] = article_html("Workers sent to Russia", "article three", canonical=canonical)
    alpha.pages["/amp/a3.html"] = article_html("Workers sent to Russia", "article three", canonical=canonical)
    source = _feed(alpha, "alpha", "/a3.html", "/amp/a3.html")
    crawl(database, specs([source]), FAST, rechecks=False)

    with database.read() as session:
        [article] = session.scalars(select(Article)).all()
        detail = queries.article_detail(session, article.id)
    assert article.canonical_url == canonical and article.version_count == 1
    assert detail is not None
    assert {u["url"] for u in detail["urls"]} == {canonical, alpha.url("/a3.html"), alpha.url("/amp/a3.html")}
    assert detail["found_at"] in (alpha.url("/a3.html"), alpha.url("/amp/a3.html"))
    [fold] = _errors(database, "canonical_folded")
    assert (fold.source_id, fold.severity) == ("alpha", "info")
    assert f"article {article.id}" in fold.message

    # The re-check asks for the URL the article was found at, over http; the canonical https URL is a claim.
    found_at = detail["found_at"].removeprefix(alpha.base)
    hits = alpha.hits(found_at)
    crawl(database, specs([]), FAST)
    assert alpha.hits(found_at) == hits + 1
    assert not _errors(database, "canonical_offsite")


def test_rechecks_go_to_the_found_url_not_to_a_canonical_on_another_host(database: Database, alpha: PageSite) -> None:
    with page_site("127.0.0.1") as other_host:  # the same site (address), another host:port
        canonical = other_host.url("/story.html")
        alpha.pages["/amp/story.html"] = article_html("Workers sent to Russia", "a story", canonical=canonical)
        source = _feed(alpha, "alpha", "/amp/story.html")
        crawl(database, specs([source]), FAST, rechecks=False)
        with database.read() as session:
            [article] = session.scalars(select(Article)).all()
        assert (article.canonical_url, article.url) == (canonical, alpha.url("/amp/story.html"))

        crawl(database, specs([]), FAST)
        crawl(database, specs([]), FAST)
        assert alpha.hits("/amp/story.html") == 3
        assert other_host.requests == []


WORKERS = "https://news.example/2026/01/workers.html"


@pytest.mark.parametrize(("tag", "page_url", "canonical", "kept", "code"), [
    ("link", WORKERS, "https://news.example/", WORKERS, "canonical_homepage"),
    ("link", "https://news.example/", "https://news.example/", "https://news.example/", None),
    ("link", "https://news.example/a?id=1", "https://www.news.example/a?id=1", "https://www.news.example/a?id=1", None),
    ("link", "https://news.example/a", "https://other.example/a", "https://news.example/a", "canonical_offsite"),
    # og:url, when a page has no canonical link, is trusted by the same rules.
    ("og", WORKERS, "https://news.example/", WORKERS, "canonical_homepage"),
    ("og", WORKERS, "https://other.example/2026/01/workers.html", WORKERS, "canonical_offsite"),
    ("og", WORKERS, "https://www.news.example/2026/01/workers.html", "https://www.news.example/2026/01/workers.html",
     None),
])
def test_which_canonical_urls_are_trusted(tag: str, page_url: str, canonical: str, kept: str,
                                          code: str | None) -> None:
    head = (f'<link rel="canonical" href="{canonical}">' if tag == "link"
            else f'<meta property="og:url" content="{canonical}">')
    html = (f"<html><head><title>North Korean workers</title>{head}</head>"
            "<body><article>" + "<p>North Korean workers were sent to Russia in 2024, officials said.</p>" * 5
            + "</article></body></html>")
    doc, notices = trusted_canonical(extract_article(html, page_url, "en"), page_url)
    assert doc.canonical_url == kept
    assert [notice.code for notice in notices] == ([code] if code else [])
