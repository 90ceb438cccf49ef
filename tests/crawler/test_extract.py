"""Article extraction: main text, metadata and canonical URL from one page (no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.extract import ExtractionError, extract_article

BODY = " ".join(
    f"Paragraph {n}: North Korean workers were sent to building sites in the Russian Far East, "
    "where they worked long shifts under the watch of minders." for n in range(6)
)


def page(head: str = "", body_top: str = "", lang: str = "en") -> str:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in BODY.split(". "))
    return (f'<!DOCTYPE html><html lang="{lang}"><head><title>Site name | Story</title>{head}</head>'
            f"<body><nav><a href='/'>Home</a><a href='/world'>World</a></nav>"
            f"<article><h1>Workers sent abroad</h1>{body_top}{paragraphs}</article>"
            f"<footer>Copyright</footer></body></html>")


def test_metadata_comes_from_the_head() -> None:
    head = ('<meta property="og:title" content="Workers  sent abroad">'
            '<meta property="article:published_time" content="2025-03-01T08:00:00Z">'
            '<meta property="article:modified_time" content="2025-03-02T09:30:00+09:00">'
            '<meta name="author" content="A. Reporter">'
            '<link rel="canonical" href="/news/story?utm_source=rss&id=7">')
    doc = extract_article(page(head), "https://example.org/amp/story?utm_medium=feed")
    assert doc.title == "Workers sent abroad"
    assert doc.canonical_url == "https://example.org/news/story?id=7"
    assert doc.published == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert doc.modified == datetime(2025, 3, 2, 0, 30, tzinfo=UTC)
    assert doc.byline == "A. Reporter"
    assert doc.language == "en"


def test_json_ld_dates_and_headline_fill_in_for_missing_meta() -> None:
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "LD headline",'
            ' "datePublished": "2024-12-31T23:00:00Z"}</script>')
    doc = extract_article(page(head), "https://example.org/story")
    assert doc.title == "LD headline"
    assert doc.published == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)
    assert doc.canonical_url == "https://example.org/story"


def test_main_text_drops_navigation_and_the_headline_line() -> None:
    doc = extract_article(page(), "https://example.org/story")
    assert "minders" in doc.text
    assert "Home" not in doc.text and "Copyright" not in doc.text
    assert not doc.text.startswith("Workers sent abroad")


def test_a_canonical_link_to_a_non_http_address_is_ignored() -> None:
    doc = extract_article(page('<link rel="canonical" href="javascript:alert(1)">'),
                          "https://example.org/story?fbclid=x")
    assert doc.canonical_url == "https://example.org/story"


def test_language_falls_back_to_the_hint_then_to_the_text() -> None:
    html = page().replace(' lang="en"', "")
    assert extract_article(html, "https://example.org/s", language_hint="ko").language == "ko"
    assert extract_article(html, "https://example.org/s").language == "en"


@pytest.mark.parametrize("html", [
    "",
    "<html><body><script>var story = 1;</script></body></html>",
    "<html><head><title>Empty</title></head><body><nav>Home</nav></body></html>",
])
def test_pages_without_main_text_raise_extraction_error(html: str) -> None:
    with pytest.raises(ExtractionError):
        extract_article(html, "https://example.org/empty")


def test_og_url_stands_in_when_there_is_no_canonical_link() -> None:
    doc = extract_article(page('<meta property="og:url" content="https://example.org/news/story?utm_source=x">'),
                          "https://example.org/amp/story")
    assert doc.canonical_url == "https://example.org/news/story"


def test_a_canonical_link_wins_over_og_url() -> None:
    head = ('<meta property="og:url" content="https://example.org/section/world">'
            '<link rel="canonical" href="https://example.org/news/story">')
    assert extract_article(page(head), "https://example.org/amp/story").canonical_url == \
        "https://example.org/news/story"


def test_a_non_http_og_url_is_ignored() -> None:
    doc = extract_article(page('<meta property="og:url" content="data:text/html,x">'), "https://example.org/story")
    assert doc.canonical_url == "https://example.org/story"
