"""Stored text is NFC: pages written with decomposed characters are stored composed, and migration 0008 puts
text stored decomposed by earlier versions into NFC in place (no new version; the search index follows), so an
NFC re-fetch of the same text is ``unchanged``. Real crawls of a loopback site, on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text, update

from analysis.text import content_hash
from db.engine import Database
from db.migrate import alembic_config, current_revision, upgrade
from db.models import Article, ArticleVersion
from db.search import search_articles
from tests.crawler.helpers import FAST, crawl, specs
from tests.crawler.pagesite import PageSite, page_site, rss

TITLE = "북한 노동자 러시아 파견"
BODY = ("<p>North Korean workers were sent to Russia this spring, officials said; 북한 노동자 수천 명이 러시아 "
        "건설 현장에 파견됐다고 정부 관계자가 밝혔다.</p><p>The café owners in Vladivostok said the workers "
        "earned little, and most of their wages went to Pyongyang, according to the report.</p>")


def nfd(value: str) -> str:
    return unicodedata.normalize("NFD", value)


def page(title: str, body: str) -> str:
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


@pytest.fixture
def site() -> Iterator[PageSite]:
    with page_site() as running:
        running.pages["/feed.xml"] = rss([running.url("/ko.html")])
        yield running


def found(db: Database, query: str) -> list[int]:
    with db.read() as session:
        return [hit.article_id for hit in search_articles(session, query, page_size=50).hits]


def only_article(db: Database) -> tuple[Article, list[ArticleVersion]]:
    with db.read() as session:
        [article] = session.scalars(select(Article)).all()
        return article, list(session.scalars(select(ArticleVersion).order_by(ArticleVersion.number)))


def test_a_decomposed_page_is_stored_in_nfc(database: Database, site: PageSite) -> None:
    site.pages["/ko.html"] = page(nfd(TITLE), nfd(BODY))
    crawl(database, specs([{"id": "ko", "kind": "feed", "url": site.url("/feed.xml")}]), FAST, rechecks=False)
    article, [version] = only_article(database)
    assert version.title == TITLE and article.title == TITLE
    assert unicodedata.is_normalized("NFC", version.text) and "café" in version.text and "노동자" in version.text
    assert found(database, "노동자") == [article.id]
    assert found(database, "café") == [article.id]


def test_text_stored_decomposed_is_migrated_in_place_and_an_nfc_refetch_is_unchanged(
        db_url: str, site: PageSite) -> None:
    db = Database(db_url)
    upgrade(db)
    site.pages["/ko.html"] = page(TITLE, BODY)
    source = specs([{"id": "ko", "kind": "feed", "url": site.url("/feed.xml")}])
    crawl(db, source, FAST, rechecks=False)
    _, [version] = only_article(db)
    # The old form: what an earlier version stored from a decomposed page (the search triggers index it so).
    with db.write() as session:
        session.execute(update(ArticleVersion).values(title=nfd(version.title), text=nfd(version.text)))
        session.execute(update(Article).values(title=nfd(TITLE)))
    command.downgrade(alembic_config(db), "0007")
    # Decomposed text escapes an NFC query (today's search needs the head's index: the text is asked directly).
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(ArticleVersion).where(
            ArticleVersion.text.contains("노동자"))) == 0

    upgrade(db)
    assert current_revision(db) == ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    article, versions = only_article(db)
    assert [(v.id, v.title, v.text) for v in versions] == [(version.id, version.title, version.text)]
    assert article.title == TITLE
    assert versions[0].content_hash == article.content_hash == content_hash(version.title, version.text)
    assert found(db, "노동자") == [article.id]
    assert found(db, "café") == [article.id]
    if db.is_sqlite:  # the FTS5 index agrees with the rewritten versions
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO article_search(article_search, rank) VALUES ('integrity-check', 1)"))

    # A re-check of the composed page finds it unchanged: no new version.
    report = crawl(db, specs([]), FAST)
    assert report.stats.get("articles_unchanged") == 1 and site.hits("/ko.html") == 2
    article, versions = only_article(db)
    assert article.version_count == 1 and len(versions) == 1
    db.dispose()
