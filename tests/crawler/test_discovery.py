"""``sources discover`` against real sites on 127.0.0.1: what each shape of site gets proposed, that the proposal
is valid config, that it asks for little, and that it is refused where a crawl would be."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from crawler import reactor
from crawler.discovery import Candidate, Discovery, discover
from crawler.discovery.choose import recommend
from crawler.discovery.page import article_like, listing_candidate
from crawler.discovery.probe import COMMON_FEED_PATHS, COMMON_SITEMAP_PATHS, MAX_REQUESTS
from crawler.kinds import SOURCE_KINDS
from crawler.types import CrawlOptions, SourceSpec
from labourwatch.config import load_config
from labourwatch.fixtureweb import FixtureWeb
from labourwatch.proposals import source_entries, sources_yaml
from tests.crawler.docserver import DocServer, doc_server
from tests.crawler.pagesite import rss

LOOPBACK = CrawlOptions(allow_private_networks=True, autothrottle=False, delay=0.0, timeout=5.0, retries=0)
HTML = "text/html; charset=utf-8"
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def run(url: str, options: CrawlOptions = LOOPBACK) -> Discovery:
    return reactor.run(discover(url, options))


def by_url(found: Discovery) -> dict[str, Candidate]:
    return {c.url: c for c in found.candidates}


def loads_as_config(found: Discovery, tmp_path: Path) -> list[SourceSpec]:
    """The proposed block written to a file and read by the config loader, as a user would paste it."""
    path = tmp_path / "config.yaml"
    path.write_text(sources_yaml(found, source_entries(found)), encoding="utf-8")
    return load_config(path, environ={}).sources


def home(body: str, title: str = "Example News", head: str = "") -> tuple[bytes, str]:
    return (f'<!DOCTYPE html><html lang="en-GB"><head><title>{title}</title>{head}</head><body>{body}</body></html>'
            .encode(), HTML)


NAV = ('<header><nav class="menu"><a href="/">Home</a> <a href="/world/">World</a> <a href="/about">About</a> '
       '<a href="/contact">Contact</a> <a href="/tag/north-korea-labour-abroad">Tag</a></nav></header>')
FOOTER = '<footer><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>'
STORIES = [f"/2026/11/{day:02d}/north-korean-workers-story-{day}/" for day in range(10, 16)]
LISTING_HOME = (
    NAV + '<main><section class="latest">'
    + "".join(f'<div class="story"><h2 class="title"><a href="{p}">Story {i}</a></h2><p>Teaser {i}</p>'
              f'<a href="/author/jane-doe-smith">Jane</a></div>' for i, p in enumerate(STORIES))
    + '</section></main><aside><h3>Most read</h3><ul><li><a href="/2026/10/01/older-story-about-wages/">Old</a></li>'
    '</ul></aside>' + FOOTER)


def sitemap(urls: list[str], news: bool = False) -> bytes:
    entries = "".join(
        f"<url><loc>{u}</loc>" + (f"<news:news><news:publication><news:name>X</news:name><news:language>en"
                                  f"</news:language></news:publication><news:title>Story {n}</news:title>"
                                  "<news:publication_date>2026-11-30T10:00:00Z</news:publication_date></news:news>"
                                  if news else "") + "</url>" for n, u in enumerate(urls))
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'{NEWS_NS if news else ""}>{entries}</urlset>').encode()


@pytest.fixture
def site() -> Iterator[DocServer]:
    with doc_server() as served:
        yield served


# -- sites of each shape ---------------------------------------------------------------------------------------


def test_a_site_with_feed_links_and_a_news_sitemap_in_an_index(tmp_path: Path) -> None:
    with FixtureWeb() as web:
        entries = web.sources()
        base = entries[0]["url"].rsplit("/", 1)[0]
        found = run(base + "/")
        newest = {a.url for a in web.articles("labourmonitor")}
    proposed = by_url(found)
    assert found.error is None and found.title == "Overseas Labour Monitor" and found.language == "en"
    # Both <link rel="alternate"> feeds, in page order; the Atom one lists the RSS one's items: proposed off.
    rss_feed, atom_feed = proposed[f"{base}/rss.xml"], proposed[f"{base}/atom.xml"]
    assert [c.url for c in found.candidates if c.kind == "feed"] == [f"{base}/rss.xml", f"{base}/atom.xml"]
    assert rss_feed.recommended and rss_feed.items == 12 and "rel=\"alternate\"" in rss_feed.found_by
    assert not atom_feed.recommended and atom_feed.note == f"the same items as {base}/rss.xml"
    # robots.txt names the index; of its children, the news sitemap is flagged and proposed.
    index, news = proposed[f"{base}/sitemap-index.xml"], proposed[f"{base}/sitemap-news.xml"]
    assert index.index and not index.recommended and "robots.txt" in index.found_by
    assert news.news and news.recommended and not proposed[f"{base}/sitemap-archive.xml"].news
    assert not proposed[f"{base}/sitemap-archive.xml"].recommended
    # The home page's five top stories, as the listing parser reads them with the proposed selector.
    listing = proposed[f"{base}/"]
    assert listing.kind == "listing" and listing.items == 5 and listing.links <= newest
    assert not listing.recommended  # the feed gives the news already
    specs = {s.url: s for s in loads_as_config(found, tmp_path)}
    assert {url for url, s in specs.items() if s.enabled} == {f"{base}/rss.xml", f"{base}/sitemap-news.xml"}
    assert specs[f"{base}/"].options["link_selector"] == listing.options["link_selector"]
    assert specs[f"{base}/rss.xml"].name == "Overseas Labour Monitor" and specs[f"{base}/rss.xml"].language == "en"


def test_feeds_only_at_a_common_path_are_probed_one_at_a_time(site: DocServer, tmp_path: Path) -> None:
    site.documents["/"] = home(NAV + FOOTER)
    site.documents["/rss.xml"] = (rss([site.origin + p for p in STORIES]).encode(), "application/rss+xml")
    found = run(site.origin + "/")
    feeds = [c for c in found.candidates if c.kind == "feed"]
    assert [(f.url, f.found_by, f.items, f.recommended) for f in feeds] == [
        (site.origin + "/rss.xml", "common path", len(STORIES), True)]
    # /feed and /rss answered 404 first; the probe stopped at the first feed.
    tried = [p for p in COMMON_FEED_PATHS if site.hits[p]]
    assert tried == ["/feed", "/rss", "/rss.xml"]
    assert [s.url for s in loads_as_config(found, tmp_path) if s.enabled] == [site.origin + "/rss.xml"]


def test_robots_txt_sitemaps_with_a_news_sitemap_flagged(site: DocServer, tmp_path: Path) -> None:
    site.documents["/"] = home(NAV + FOOTER)
    site.documents["/robots.txt"] = (b"User-agent: *\nAllow: /\nSitemap: /maps/news.xml\n"
                                     b"Sitemap: /maps/all.xml\n", "text/plain")
    site.documents["/maps/news.xml"] = (sitemap([site.origin + p for p in STORIES], news=True), "application/xml")
    site.documents["/maps/all.xml"] = (sitemap([site.origin + p for p in STORIES[:2]]), "application/xml")
    found = run(site.origin + "/")
    proposed = by_url(found)
    news, whole = proposed[site.origin + "/maps/news.xml"], proposed[site.origin + "/maps/all.xml"]
    assert news.news and news.recommended and news.items == len(STORIES) and news.language == "en"
    assert not whole.news and not whole.recommended and whole.found_by == "robots.txt Sitemap:"
    assert not any(site.hits[p] for p in COMMON_SITEMAP_PATHS)  # robots.txt named them: no guessing
    specs = loads_as_config(found, tmp_path)
    assert [(s.kind, s.url) for s in specs if s.enabled] == [("sitemap", site.origin + "/maps/news.xml")]
    assert any(s.id.endswith("news-sitemap") for s in specs)


def test_a_site_with_only_an_html_listing(site: DocServer, tmp_path: Path) -> None:
    site.documents["/"] = home(LISTING_HOME)
    found = run(site.origin + "/")
    assert [c.kind for c in found.candidates] == ["listing"]
    listing = found.candidates[0]
    # Of the selectors that pick every story and nothing else, the shortest (least tied to the markup).
    assert listing.recommended and listing.options == {"link_selector": "h2 a"}
    # The selector picks the stories, and none of the navigation, author, tag or footer links.
    assert listing.links == {site.origin + p for p in STORIES}
    assert "(/2026/*)" in listing.found_by
    spec = next(s for s in loads_as_config(found, tmp_path) if s.kind == "listing")
    assert spec.enabled and spec.url == site.origin + "/" and spec.language == "en"
    parsed = SOURCE_KINDS["listing"].parse(site.documents["/"][0], spec.url, HTML, spec, 0)
    assert {link.url for link in parsed.links} == {site.origin + p for p in STORIES}


def test_a_site_that_offers_nothing_costs_a_few_requests(site: DocServer) -> None:
    site.documents["/"] = home(NAV + "<main><p>Welcome.</p></main>" + FOOTER)
    found = run(site.origin + "/")
    assert found.error is None and found.candidates == []
    assert {c.outcome for c in found.checks if c.purpose == "feed"} == {"http_404"}
    requested = sum(site.hits.values())
    # The page, robots.txt (the crawl's robots check and the discovery's own read), each common path once.
    assert requested <= 3 + len(COMMON_FEED_PATHS) + len(COMMON_SITEMAP_PATHS)
    assert all(count == 1 for path, count in site.hits.items() if path != "/robots.txt")


def test_requests_stay_within_the_budget(site: DocServer) -> None:
    # robots.txt names 4 sitemap indexes of 3 children each: with the page and the feed probes, more than the budget.
    indexes = [f"/maps/index-{n}.xml" for n in range(4)]
    site.documents["/"] = home(NAV)
    site.documents["/robots.txt"] = ("".join(f"Sitemap: {site.origin}{i}\n" for i in indexes).encode(), "text/plain")
    for n, index in enumerate(indexes):
        children = "".join(f"<sitemap><loc>{site.origin}/maps/child-{n}-{c}.xml</loc></sitemap>" for c in range(3))
        document = f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'
        site.documents[index] = (document.encode(), "application/xml")
    found = run(site.origin + "/")
    assert sum(site.hits.values()) <= MAX_REQUESTS + 1  # the crawl's own robots.txt check on top
    assert any(c.outcome == "skipped" for c in found.checks)
    assert len([c for c in found.candidates if c.index]) == len(indexes)


def test_a_missing_page_is_an_error(site: DocServer) -> None:
    found = run(site.origin + "/")
    assert found.error == ("http_404", f"HTTP 404 from {site.origin}/") and found.candidates == []


def test_a_page_that_serves_html_at_every_path_is_not_a_feed(site: DocServer) -> None:
    # Soft 404s: every common path answers the home page with 200.
    page = home(NAV + FOOTER)
    site.documents.update({path: page for path in ("/", *COMMON_FEED_PATHS, *COMMON_SITEMAP_PATHS)})
    found = run(site.origin + "/")
    assert found.candidates == []
    assert {c.outcome for c in found.checks if c.purpose in ("feed", "sitemap")} == {"unusable"}


def test_a_feed_url_given_itself_is_proposed(site: DocServer) -> None:
    site.documents["/news.rss"] = (rss([site.origin + p for p in STORIES]).encode(), "application/rss+xml")
    found = run(site.origin + "/news.rss")
    assert [(c.kind, c.url, c.found_by) for c in found.candidates] == [("feed", site.origin + "/news.rss",
                                                                       "the URL itself")]


def test_robots_txt_is_honoured(site: DocServer) -> None:
    site.documents["/"] = home(NAV + FOOTER)
    site.documents["/robots.txt"] = (b"User-agent: *\nDisallow: /feed\nDisallow: /rss\n", "text/plain")
    found = run(site.origin + "/")
    refused = {c.url.removeprefix(site.origin) for c in found.checks if c.outcome == "robots_disallowed"}
    assert {"/feed", "/rss", "/rss.xml"} <= refused
    assert not any(site.hits[p] for p in refused)


def test_a_page_robots_txt_disallows_is_not_read(site: DocServer) -> None:
    site.documents["/"] = home(LISTING_HOME)
    site.documents["/robots.txt"] = (b"User-agent: *\nDisallow: /\n", "text/plain")
    found = run(site.origin + "/")
    assert found.error is not None and found.error[0] == "robots_disallowed" and found.candidates == []
    assert site.hits["/"] == 0


# -- the address guard, size cap and unreachable sites ----------------------------------------------------------


def test_a_redirect_to_a_metadata_address_is_refused_even_with_loopback_allowed(site: DocServer) -> None:
    site.redirects["/"] = "http://169.254.169.254/latest/meta-data/"
    found = run(site.origin + "/")
    assert found.error is not None and found.error[0] == "blocked_address"
    assert "169.254.169.254" in found.error[1] and found.candidates == []


def test_a_loopback_site_is_refused_without_the_private_network_allowance(site: DocServer) -> None:
    site.documents["/"] = home(LISTING_HOME)
    found = run(site.origin + "/", replace(LOOPBACK, allow_private_networks=False))
    assert found.error is not None and found.error[0] == "blocked_address"
    assert "allow_private_networks is off" in found.error[1]
    assert sum(site.hits.values()) == 0  # nothing was fetched, robots.txt included


def test_a_feed_redirecting_to_a_private_address_is_not_proposed(site: DocServer) -> None:
    site.documents["/"] = home(NAV, head='<link rel="alternate" type="application/rss+xml" href="/feed.xml">')
    site.redirects["/feed.xml"] = "http://169.254.169.254/feed.xml"
    found = run(site.origin + "/")
    assert found.error is None and found.candidates == []
    assert [c.outcome for c in found.checks if c.purpose == "feed"] == ["blocked_address"]


def test_a_page_over_the_size_cap_is_an_error(site: DocServer) -> None:
    site.documents["/"] = home(LISTING_HOME + "<p>padding</p>" * 2000)
    found = run(site.origin + "/", replace(LOOPBACK, max_size=4096))
    assert found.error is not None and found.error[0] == "too_large"


def test_a_site_that_refuses_connections_is_an_error(site: DocServer) -> None:
    with doc_server() as gone:
        origin = gone.origin
    found = run(origin + "/")  # the server is closed: nothing listens on its port
    assert found.error is not None and found.error[0] == "connection_refused"


# -- the pieces ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "article"), [
    ("/2026/11/30/workers-sent-abroad/", True), ("/news/2026-11-30/x", True), ("/world/north-korean-workers-in-russia",
                                                                              True),
    ("/articles/business-0011.html", True), ("/news/123456", True), ("/news/page2", False),
    ("/", False), ("/world/", False), ("/about", False), ("/tag/north-korean-workers-abroad", False),
    ("/author/jane-doe-smith", False), ("/images/some-photo-of-workers.jpg", False), ("/news/contact", False),
])
def test_article_like_urls(path: str, article: bool) -> None:
    assert article_like("https://www.example.com" + path, "https://example.com/") is article


def test_links_to_another_site_are_not_articles() -> None:
    assert not article_like("https://other.org/2026/11/30/story-about-workers/", "https://example.com/")


def test_no_listing_from_a_page_with_too_few_article_links() -> None:
    body = home(NAV + '<a href="/2026/11/30/one-story-only/">One</a><a href="/2026/11/29/and-another-one/">2</a>')[0]
    assert listing_candidate(body, "https://example.com/", HTML) is None


def test_generated_class_names_are_not_used_in_selectors() -> None:
    items = "".join(f'<div class="css-1x9k2j3"><a class="sc-a1b2c3 jsx-9981" href="{p}">S</a></div>' for p in STORIES)
    listing = listing_candidate(home(items)[0], "https://example.com/", HTML)
    assert listing is not None and "css-" not in listing.selector and "sc-" not in listing.selector
    assert listing.selector == "div a"


def test_recommendations_prefer_feeds_then_news_sitemaps_then_a_listing() -> None:
    listing = Candidate("listing", "https://e.com/", "page", items=5, options={"link_selector": "h2 a"})
    plain = Candidate("sitemap", "https://e.com/sitemap.xml", "robots.txt", items=9, links=frozenset({"a"}))
    # No feed, no news sitemap: the whole-site sitemap and the listing page are both on.
    assert [(c.kind, c.recommended) for c in recommend([listing, plain])] == [("sitemap", True), ("listing", True)]
    news = replace(plain, url="https://e.com/news.xml", news=True)
    assert [c.recommended for c in recommend([listing, plain, news])] == [False, True, False]
    comments = Candidate("feed", "https://e.com/comments/feed", "page", items=3, links=frozenset({"c"}))
    empty = Candidate("feed", "https://e.com/empty.xml", "page")
    chosen = recommend([listing, comments, empty])
    assert [(c.kind, c.recommended) for c in chosen] == [("feed", False), ("feed", False), ("listing", True)]
    assert chosen[0].note == "a comments feed" and chosen[1].note == "the feed lists no items"


def test_entries_take_unique_ids_and_keep_titles_literal(tmp_path: Path) -> None:
    found = Discovery(url="https://www.example.com/", final_url="https://www.example.com/", language="en")
    found.candidates = [
        Candidate("feed", "https://www.example.com/feed?x=${HOME}", "page", title="News ${HOME}\nand more", items=2),
        Candidate("feed", "https://www.example.com/feed2", "page", items=2, recommended=False, note="x"),
    ]
    entries = source_entries(found, taken={"example-com-feed"})
    assert [e["id"] for e in entries] == ["example-com-feed-2", "example-com-feed-3"]
    path = tmp_path / "config.yaml"
    path.write_text(sources_yaml(found, entries), encoding="utf-8")
    specs = load_config(path, environ={"HOME": "/root"}).sources
    assert specs[0].name == "News $ {HOME} and more" and "/root" not in specs[0].url
    assert [s.enabled for s in specs] == [True, False]
