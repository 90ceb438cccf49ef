"""The article page's claim sentences: each sentence once with the versions it appeared in and its newest
verdict, those about North Korean workers first, the rest marked, quotes and attributions in a group of their
own rather than shown as new claims; hostile text escaped; on SQLite and PostgreSQL.

The versions are stored as the crawl stores them (``repository.store_article`` with each version's matches)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from analysis.claims.matcher import ClaimMatch
from analysis.claims.quotes import attribution_only
from analysis.claims.sentences import SentenceMatch
from analysis.diff import diff_versions
from analysis.text import content_hash, split_sentences
from analysis.types import ArticleDoc, Relevance
from db import repository as repo
from db.browse_views import version_spans
from db.engine import Database
from db.models import KnownClaim, Source
from tests.web.test_pages import page
from web.app import create_app
from web.types import WebOptions

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OPTIONS = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=False)
ARRIVED = "More than 1,000 North Korean workers arrived in Vladivostok this month."
CHINESE = "Chinese workers built a new bridge in Khabarovsk last year."
QUOTE = "That is what happened, according to two former workers."
HOSTILE_SENTENCE = f"Up to 50 North Korean workers {HOSTILE} went unpaid at a Moscow site."
# Each version's sentences; ARRIVED is a new claim in v1 and v2, then corroborates K99 in v3.
VERSIONS = ([ARRIVED, CHINESE, QUOTE], [ARRIVED, QUOTE, HOSTILE_SENTENCE], [ARRIVED, CHINESE, QUOTE])


def _verdict(sentence: str, number: int) -> SentenceMatch:
    """The match a version stores for a sentence: only CHINESE is not about North Korean workers."""
    found = (ClaimMatch("corroborates", "K99", 0.9, 0.9) if sentence == ARRIVED and number == 3
             else ClaimMatch("new", None, 1.0, 1.0))
    return SentenceMatch(0, sentence, found, on_subject=sentence != CHINESE)


@pytest.fixture
def article_id(database: Database) -> int:
    """One article in three versions, each with its claim matches."""
    url = "https://desk.example/a"
    with database.write() as session:
        session.add(Source(id="desk", kind="feed", url="https://desk.example/rss", name="Desk"))
        session.add(KnownClaim(id="K99", text="Over 1,000 North Korean workers went to Vladivostok.", source="UN"))
        session.flush()
    stored = None
    for number, sentences in enumerate(VERSIONS, start=1):
        text, title = " ".join(sentences), f"Workers, take {number}"
        assert split_sentences(text) == sentences, "each test sentence is one sentence"
        matches = tuple(SentenceMatch(i, m.sentence, m.match, m.on_subject)
                        for i, m in enumerate(_verdict(s, number) for s in sentences))
        doc = ArticleDoc(url=url, canonical_url=url, title=title, text=text, language="en")
        raw = repo.RawCapture(url=url, status=200, headers={}, body=b"", fetched_at=NOW + timedelta(hours=number))
        fetch = repo.ArticleFetch(doc=doc, relevance=Relevance(True, 0.9, ("worker*",)),
                                  content_hash=content_hash(title, text), raw=raw, source_id="desk",
                                  discovered_url=url, matches=matches, claims_digest="d")
        with database.write() as session:
            stored = repo.store_article(session, fetch, OPTIONS, diff_versions)
            assert stored.version_number == number
    assert stored is not None
    return stored.article_id


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(database, WebOptions())) as test_client:
        yield test_client


def _rows(table: str) -> list[tuple[str, str, str]]:
    """A claim sentences table's rows: (verdict cell, sentence cell, versions cell), as text."""
    found = re.findall(r'<tr class="match [^"]*">\s*<td>(.*?)</td>\s*<td>.*?</td>\s*<td[^>]*>(.*?)</td>'
                       r'\s*<td[^>]*>.*?</td>\s*<td[^>]*>(.*?)</td>', table, re.S)
    text = [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in row] for row in found]
    return [(verdict, sentence, versions) for verdict, sentence, versions in text]


def test_each_sentence_once_with_its_versions_on_subject_first(article_id: int, client: TestClient) -> None:
    html = page(client, f"/articles/{article_id}")
    table = html[html.index('<table class="matches">'):html.index("</table>")]
    # Nine stored rows of three sentences in the main table: one row each, the newest verdict, the versions.
    assert _rows(table) == [("corroborates", ARRIVED, "v1–v3"),
                            ("new", HOSTILE_SENTENCE, "v2"),
                            ("new", f"not about North Korean workers {CHINESE}", "v1, v3")]
    assert table.index("Not about North Korean workers") < table.index(escape(CHINESE))
    assert '<a href="/claims/K99">K99</a>' in table and 'href="#v3"' in table


def test_an_attribution_is_grouped_as_a_quote_not_shown_as_new(article_id: int, client: TestClient) -> None:
    html = page(client, f"/articles/{article_id}")
    main = html[html.index('<table class="matches">'):html.index("</table>")]
    assert escape(QUOTE) not in main
    quotes = html[html.index('<details class="quotes">'):]
    assert "Quotes and attributions (1)" in quotes
    assert _rows(quotes) == [("quote", QUOTE, "v1–v3")]
    assert "1.00" not in quotes[:quotes.index("</details>")]


def test_hostile_sentence_is_escaped(article_id: int, client: TestClient) -> None:
    html = page(client, f"/articles/{article_id}")
    assert str(escape(HOSTILE_SENTENCE)) in html and HOSTILE not in html


def test_version_spans_join_runs() -> None:
    assert version_spans([3, 1, 2, 5, 7, 8]) == "v1–v3, v5, v7–v8"
    assert version_spans([2]) == "v2"


@pytest.mark.parametrize(("sentence", "quote"), [
    (QUOTE, True),
    ('"It was terrible there, we could not leave," said an official.', True),
    ("He said nothing more, an official said.", True),
    # A figure, a place or enough of a report of its own is a claim, whoever says it.
    ("About 10,000 North Korean workers were sent to Russia, according to officials.", False),
    ("The workers were sent to Vladivostok, according to two former workers.", False),
    ("Most of the money is taken by the state, defectors say.", False),
    # Neither attributed nor quoted.
    ("The company did not respond to a request for comment.", False),
    (ARRIVED, False),
])
def test_attribution_only(sentence: str, quote: bool) -> None:
    assert attribution_only(sentence) is quote
