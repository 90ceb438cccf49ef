"""An outlet's background on the article page: a claim sentence it printed in ``BACKGROUND_ARTICLES`` or more
articles is marked with a badge, hidden with ``?background=hide`` (how many hidden said), the outlet's news kept;
a bad ``background`` value is a 400 page; hostile text escaped; on SQLite and PostgreSQL.

The articles are stored as the crawl stores them: ``repository.store_article`` with their claim matches, then
``background.record_sentences`` for their claim sentences (``crawler.store`` does both in one transaction)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from markupsafe import escape
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from analysis.claims.matcher import ClaimMatch
from analysis.claims.sentences import SentenceMatch
from analysis.diff import diff_versions
from analysis.text import content_hash, split_sentences
from analysis.types import ArticleDoc, Relevance
from db import background
from db import repository as repo
from db.engine import Database
from db.models import KnownClaim, Source
from tests.web.test_pages import page
from web.app import create_app
from web.types import WebOptions

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OPTIONS = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=False)
# The standard context paragraph the outlet repeats, hostile markup inside it.
BOILERPLATE = f"The UN banned the employment of North Korean workers abroad in 2017 {HOSTILE} under resolution 2397."
NEWS = ("More than {n},000 North Korean workers arrived in Vladivostok this month, officials said.",
        "About {n},500 North Korean labourers were sent to shipyards in Primorye, the report says.",
        "Up to {n}0 North Korean workers at a Moscow building site went unpaid, recruiters said.")
BADGE = ('<span class="badge background" title="Printed in 3 or more of this outlet&#39;s articles: its background, '
         'not news">background</span>')


@dataclass(frozen=True)
class Outlets:
    """Article ids: ``desk``'s three articles (the boilerplate in each), ``pair``'s two, ``other``'s one."""

    desk: tuple[int, ...]
    pair: tuple[int, ...]
    other: int


def _store(session: Session, source_id: str, slug: str, sentences: list[str], at: datetime) -> int:
    """Store an article of ``sentences`` with each as a claim match (the boilerplate corroborating K99, the rest
    new claims), and record its claim sentences for its outlet, as the crawl does."""
    url = f"https://{source_id}.example/{slug}"
    text, title = " ".join(sentences), f"{slug} {HOSTILE}"
    indexed = list(enumerate(split_sentences(text)))
    assert [s for _, s in indexed] == sentences, "each test sentence is one sentence"
    matches = tuple(SentenceMatch(i, s, ClaimMatch("corroborates", "K99", 0.9, 0.9) if s == BOILERPLATE
                                  else ClaimMatch("new", None, 0.6, 0.6), True) for i, s in indexed)
    doc = ArticleDoc(url=url, canonical_url=url, title=title, text=text, language="en")
    raw = repo.RawCapture(url=url, status=200, headers={}, body=b"", fetched_at=at)
    fetch = repo.ArticleFetch(doc=doc, relevance=Relevance(True, 0.9, ("worker*",)),
                              content_hash=content_hash(title, text), raw=raw, source_id=source_id,
                              discovered_url=url, matches=matches, claims_digest="d")
    stored = repo.store_article(session, fetch, OPTIONS, diff_versions)
    background.record_sentences(session, source_id, stored.article_id, indexed, at)
    return stored.article_id


@pytest.fixture
def outlets(database: Database) -> Outlets:
    with database.write() as session:
        session.add_all([Source(id="desk", kind="feed", url="https://desk.example/rss", name=f"Desk {HOSTILE}"),
                         Source(id="pair", kind="feed", url="https://pair.example/rss", name="Pair"),
                         Source(id="other", kind="feed", url="https://other.example/rss", name="Other")])
        session.add(KnownClaim(id="K99", text="The UN banned North Korean workers abroad in 2017.", source="UN"))
        session.flush()
        desk = tuple(_store(session, "desk", f"d{n}", [NEWS[n].format(n=n + 1), BOILERPLATE],
                            NOW + timedelta(hours=n)) for n in range(3))
        pair = tuple(_store(session, "pair", f"p{n}", [BOILERPLATE, NEWS[n].format(n=n + 4)],
                            NOW + timedelta(hours=n)) for n in range(2))
        other = _store(session, "other", "o", [BOILERPLATE], NOW)
    return Outlets(desk, pair, other)


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(database, WebOptions())) as test_client:
        yield test_client


def _rows(html: str) -> list[tuple[bool, str]]:
    """The claim sentences table: (marked as background, the sentence cell's text) per row."""
    table = re.search(r'<table class="matches">(.*?)</table>', html, re.S)
    if table is None:
        return []
    rows = re.findall(r'<tr class="match label-\w+( background)?">\s*<td>.*?</td>\s*<td>.*?</td>\s*<td[^>]*>(.*?)</td>',
                      table.group(1), re.S)
    return [(bool(marked), unescape(re.sub(r"<[^>]+>", "", cell)).strip()) for marked, cell in rows]


def test_a_sentence_in_three_of_an_outlets_articles_is_marked_background(outlets: Outlets,
                                                                          client: TestClient) -> None:
    for n, article_id in enumerate(outlets.desk):
        html = page(client, f"/articles/{article_id}")
        news = NEWS[n].format(n=n + 1)
        # Every article of the outlet carries it, the first too: it is background once three do.
        assert _rows(html) == [(False, news), (True, f"background {BOILERPLATE}")]
        assert html.count(BADGE) == 2  # the row's badge and the note above the table
        assert "1 of them is this outlet's" in html
        assert f'href="/articles/{article_id}?background=hide#claim-sentences">Hide background</a>' in html
        assert str(escape(BOILERPLATE)) in html and HOSTILE not in html


def test_fewer_articles_or_another_outlet_make_no_background(outlets: Outlets, client: TestClient) -> None:
    for article_id in (*outlets.pair, outlets.other):
        html = page(client, f"/articles/{article_id}")
        rows = _rows(html)
        assert (False, BOILERPLATE) in rows and all(not marked for marked, _ in rows)
        assert 'class="badge background"' not in html and "background-toggle" not in html
        # Hiding hides nothing: the same rows, no count.
        hidden = page(client, f"/articles/{article_id}?background=hide")
        assert _rows(hidden) == rows and "hidden-background" not in hidden


def test_background_hide_leaves_the_news_and_says_how_many_are_hidden(outlets: Outlets,
                                                                     client: TestClient) -> None:
    article_id = outlets.desk[2]
    html = page(client, f"/articles/{article_id}?background=hide")
    assert _rows(html) == [(False, NEWS[2].format(n=3))]
    assert '<span class="hidden-background">1 background sentence hidden</span>' in html
    assert f'href="/articles/{article_id}?background=show#claim-sentences">Show background</a>' in html
    assert "No claim sentence matched" not in html and HOSTILE not in html
    # Shown again, explicitly or by default, the same page.
    assert _rows(page(client, f"/articles/{article_id}?background=show")) == _rows(
        page(client, f"/articles/{article_id}"))


def test_an_article_of_background_only_says_so_when_hidden(outlets: Outlets, client: TestClient,
                                                          database: Database) -> None:
    with database.write() as session:
        with_only_background = _store(session, "desk", "d-only", [BOILERPLATE], NOW + timedelta(days=1))
    html = page(client, f"/articles/{with_only_background}?background=hide")
    assert _rows(html) == [] and '<table class="matches">' not in html
    assert "1 background sentence hidden" in html and "No claim sentence matched" not in html



@pytest.mark.parametrize("value", ["maybe", "HIDE", HOSTILE])
def test_a_bad_background_value_is_a_400_page_saying_what_to_fix(outlets: Outlets, client: TestClient,
                                                                  value: str) -> None:
    response = client.get(f"/articles/{outlets.desk[0]}", params={"background": value})
    assert response.status_code == 400
    html = response.text
    assert "Error 400" in html and f"`background` must be show or hide, not {escape(repr(value))}." in html
    assert HOSTILE not in html
