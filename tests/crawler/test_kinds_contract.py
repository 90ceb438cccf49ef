"""Every source kind in the registry passes the same contract, on documents of its own format."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from crawler.kinds import SOURCE_KINDS, ParseLimits, SourceParseError
from crawler.types import SourceSpec
from tests.documents import TEXTS, make_pdf

BASE = "https://outlet.example"
ARTICLES = [f"{BASE}/articles/{n}.html" for n in (1, 2, 3)]
TITLES = ["North Korean workers arrive in Russia", "Seafood plant workers", "Wages taken by the state"]

RSS2 = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Outlet</title><link>{BASE}/</link><description>d</description><language>en</language>
{''.join(f'<item><title>{t}</title><link>{u}?utm_source=rss</link><guid>{u}</guid><pubDate>Tue, 24 Nov 2026 10:0{i}:00 GMT</pubDate></item>' for i, (u, t) in enumerate(zip(ARTICLES, TITLES, strict=True)))}
</channel></rss>"""

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Outlet</title><id>{BASE}/</id><updated>2026-11-24T10:00:00Z</updated>
{''.join(f'<entry><title>{t}</title><link rel="alternate" href="{u}"/><id>{u}</id><updated>2026-11-24T10:0{i}:00Z</updated></entry>' for i, (u, t) in enumerate(zip(ARTICLES, TITLES, strict=True)))}
</feed>"""

RSS1 = f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="{BASE}/"><title>Outlet</title><link>{BASE}/</link><description>d</description></channel>
{''.join(f'<item rdf:about="{u}"><title>{t}</title><link>{u}</link></item>' for u, t in zip(ARTICLES, TITLES, strict=True))}
</rdf:RDF>"""

RSS091 = f"""<?xml version="1.0"?><rss version="0.91"><channel><title>Outlet</title><link>{BASE}/</link>
<description>d</description><language>en</language>
{''.join(f'<item><title>{t}</title><link>{u}</link></item>' for u, t in zip(ARTICLES, TITLES, strict=True))}
</channel></rss>"""

NEWS_SITEMAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{''.join(f'<url><loc>{u}</loc><news:news><news:publication><news:name>Outlet</news:name><news:language>en</news:language></news:publication><news:publication_date>2026-11-24T10:0{i}:00Z</news:publication_date><news:title>{t}</news:title></news:news></url>' for i, (u, t) in enumerate(zip(ARTICLES, TITLES, strict=True)))}
</urlset>"""

LISTING = f"""<html><head><title>News</title></head><body><nav><a href="/">Home</a><a href="/about">About</a></nav>
{''.join(f'<h2 class="headline"><a href="{u.removeprefix(BASE)}">{t}</a></h2>' for u, t in zip(ARTICLES, TITLES, strict=True))}
<a rel="next" href="/news/?page=2">Older</a><footer><a href="/contact">Contact</a></footer></body></html>"""

ENTITIES = """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<rss version="2.0"><channel><title>&lol2;</title></channel></rss>"""


@dataclass(frozen=True)
class Case:
    kind: str
    body: str
    options: dict[str, str | int]


CASES = [
    Case("feed", RSS2, {}), Case("feed", ATOM, {}), Case("feed", RSS1, {}), Case("feed", RSS091, {}),
    Case("sitemap", NEWS_SITEMAP, {}),
    Case("listing", LISTING, {"link_selector": "h2.headline a"}),
]


def spec_for(case: Case) -> SourceSpec:
    return SourceSpec(id="s", kind=case.kind, url=f"{BASE}/source", language="en", options=case.options)


# The kinds that list articles; ``document`` is its own one article (below, and tests/crawler/test_document_crawl.py).
LISTING_KINDS = set(SOURCE_KINDS) - {"document"}


def test_every_registered_kind_has_a_contract_case() -> None:
    assert {case.kind for case in CASES} == LISTING_KINDS


def test_a_document_kind_gives_its_own_url_as_its_one_article() -> None:
    spec = SourceSpec(id="s", kind="document", url=f"{BASE}/report.pdf", language="ru")
    result = SOURCE_KINDS["document"].parse(make_pdf([TEXTS["ru"]], language="ru"), spec.url, "application/pdf",
                                            spec, 0)
    assert [(link.url, link.language) for link in result.links] == [(spec.url, "ru")] and result.follow == ()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.body[:30].split()[1] if c.kind == 'feed' else ''}")
def test_kind_finds_every_article_once_with_titles(case: Case) -> None:
    result = SOURCE_KINDS[case.kind].parse(case.body.encode(), f"{BASE}/source", "text/xml", spec_for(case), 0)
    urls = [link.url.split("?")[0] for link in result.links]
    assert urls == ARTICLES
    assert [link.title for link in result.links] == TITLES
    assert all(link.url.startswith("https://") for link in result.links)


@pytest.mark.parametrize("kind", sorted(SOURCE_KINDS))
def test_kind_rejects_an_empty_document(kind: str) -> None:
    spec = SourceSpec(id="s", kind=kind, url=BASE, options={"link_selector": "a"} if kind == "listing" else {})
    with pytest.raises(SourceParseError) as caught:
        SOURCE_KINDS[kind].parse(b"  ", BASE, None, spec, 0)
    assert caught.value.code == "empty"


@pytest.mark.parametrize("kind", ["feed", "sitemap"])
def test_xml_kinds_refuse_entity_declarations(kind: str) -> None:
    spec = SourceSpec(id="s", kind=kind, url=BASE)
    with pytest.raises(SourceParseError) as caught:
        SOURCE_KINDS[kind].parse(ENTITIES.encode(), BASE, "text/xml", spec, 0)
    assert caught.value.code == "xml_entities"


@pytest.mark.parametrize("kind", sorted(SOURCE_KINDS))
def test_kind_turns_garbage_into_a_parse_error(kind: str) -> None:
    spec = SourceSpec(id="s", kind=kind, url=BASE, options={"link_selector": "h2 a"} if kind == "listing" else {})
    with pytest.raises(SourceParseError) as caught:
        SOURCE_KINDS[kind].parse(b"<<<not a document &&& \x00\xff", BASE, "text/xml", spec, 0)
    assert caught.value.code


def test_sitemap_index_follows_children_newest_first_and_respects_depth() -> None:
    index = f"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{BASE}/old.xml</loc><lastmod>2019-01-01</lastmod></sitemap>
<sitemap><loc>{BASE}/news.xml</loc><lastmod>2026-11-24T10:00:00Z</lastmod></sitemap></sitemapindex>"""
    spec = SourceSpec(id="s", kind="sitemap", url=BASE, options={"max_sitemaps": 1})
    result = SOURCE_KINDS["sitemap"].parse(index.encode(), BASE, None, spec, 0)
    assert result.follow == (f"{BASE}/news.xml",) and result.links == ()
    deep = SOURCE_KINDS["sitemap"].parse(index.encode(), BASE, None, spec, 2)
    assert deep.follow == () and deep.warnings[0][0] == "sitemap_depth"


def test_sitemap_news_fields_give_dates_and_language() -> None:
    result = SOURCE_KINDS["sitemap"].parse(NEWS_SITEMAP.encode(), BASE, None, SourceSpec("s", "sitemap", BASE), 0)
    first = result.links[0]
    assert first.published is not None and first.published.isoformat() == "2026-11-24T10:00:00+00:00"
    assert first.language == "en"


def test_listing_pagination_is_followed_up_to_max_pages() -> None:
    one = SourceSpec("s", "listing", f"{BASE}/news/", options={"link_selector": "h2.headline a"})
    two = SourceSpec("s", "listing", f"{BASE}/news/", options={"link_selector": "h2.headline a", "max_pages": 2})
    listing = SOURCE_KINDS["listing"]
    assert listing.parse(LISTING.encode(), f"{BASE}/news/", "text/html", one, 0).follow == ()
    assert listing.parse(LISTING.encode(), f"{BASE}/news/", "text/html", two, 0).follow == (f"{BASE}/news/?page=2",)
    assert listing.parse(LISTING.encode(), f"{BASE}/news/", "text/html", two, 1).follow == ()


def test_listing_with_no_matching_links_is_an_error() -> None:
    spec = SourceSpec("s", "listing", BASE, options={"link_selector": "article.story a"})
    with pytest.raises(SourceParseError) as caught:
        SOURCE_KINDS["listing"].parse(LISTING.encode(), BASE, "text/html", spec, 0)
    assert caught.value.code == "no_links"


def test_feed_future_dates_are_dropped_with_a_warning() -> None:
    body = RSS2.replace("Tue, 24 Nov 2026 10:00:00 GMT", "Fri, 01 Jan 2099 00:00:00 GMT")
    result = SOURCE_KINDS["feed"].parse(body.encode(), BASE, "text/xml", SourceSpec("s", "feed", BASE), 0)
    assert result.links[0].published is None
    assert any(code == "future_date" for code, _ in result.warnings)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.kind}-{c.body[:30].split()[1] if c.kind == 'feed' else ''}")
def test_kind_keeps_the_first_records_up_to_the_item_cap(case: Case) -> None:
    limits = ParseLimits(max_items=2)
    result = SOURCE_KINDS[case.kind].parse(case.body.encode(), f"{BASE}/source", "text/xml", spec_for(case), 0, limits)
    assert [link.url.split("?")[0] for link in result.links] == ARTICLES[:2]
    assert "too_many_items" in {code for code, _ in result.warnings}
