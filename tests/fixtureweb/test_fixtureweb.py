"""The fixture news web, exercised over real HTTP on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import re
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import format_datetime
from urllib.parse import urlsplit

import pytest

from labourwatch.fixtureweb import (
    CLOCK_BASE,
    FixtureWeb,
    FixtureWebError,
    SiteSpec,
    default_sites,
    generate_sites,
)
from labourwatch.fixtureweb.content import FIGURE_PRIORITY, language_pack, make_article

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
    "atom": "http://www.w3.org/2005/Atom",
}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Fetched:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as err:
        with err:
            return Fetched(err.code, err.headers, err.read())


def story(html: str) -> str:
    """The <article> element: headline, standfirst, byline, dateline and body."""
    match = re.search(r'<article class="story">.*?</article>', html, re.DOTALL)
    assert match, "no <article> in page"
    return match.group(0)


def story_body(html: str) -> str:
    match = re.search(r'<div class="story-body">(.*?)</div>', html, re.DOTALL)
    assert match
    return match.group(1)


def meta(html: str, prop: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    assert match, prop
    return match.group(1)


def has_figure(text: str, figure: str) -> bool:
    # Not inside a longer number: 5万 is not in 1.5万, 1万 is not in 1万5000 nor 1만 in 1만 2천, 50,000 not in 150,000.
    return re.search(rf"(?<![\d,.]){re.escape(figure)}(?![\d,]|\s\d)", text) is not None


def cjk_sites() -> list[SiteSpec]:
    """Two Chinese and two Japanese outlets, between them every discovery kind and feed format."""
    return [
        SiteSpec("huaxia", "华夏观察报", "zh", feed="rss2", atom_too=True, sitemap=True, listing=True,
                 articles=12, offtopic_every=3),
        SiteSpec("dongfang", "东方时报", "zh", feed="atom", sitemap=True, listing=False,
                 articles=10, offtopic_every=4),
        SiteSpec("toyo", "東洋新報", "ja", feed="rss1", sitemap=False, listing=True,
                 articles=12, offtopic_every=3),
        SiteSpec("sakura", "さくら日報", "ja", feed="rss091", sitemap=True, listing=True,
                 articles=10, offtopic_every=2),
    ]


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(fault_delay=0.5) as running:
        yield running


@pytest.fixture()
def fresh() -> Iterator[FixtureWeb]:
    with FixtureWeb(fault_delay=0.5) as running:
        yield running


@pytest.fixture(scope="module")
def cjk_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(cjk_sites(), fault_delay=0.5) as running:
        yield running


@pytest.fixture(params=["default", "cjk"])
def any_web(request: pytest.FixtureRequest) -> FixtureWeb:
    """The default four outlets (en, ko, ru), then the Chinese and Japanese ones."""
    web: FixtureWeb = request.getfixturevalue("web" if request.param == "default" else "cjk_web")
    return web


@pytest.fixture(params=["default", "cjk"])
def any_fresh(request: pytest.FixtureRequest) -> Iterator[FixtureWeb]:
    """A fixture web in state 0, of the default outlets or of the Chinese and Japanese ones."""
    with FixtureWeb(None if request.param == "default" else cjk_sites(), fault_delay=0.5) as running:
        yield running


# -- lifecycle and addresses ----------------------------------------------------------------------------------


def test_start_stop_is_idempotent_and_closes_ports() -> None:
    fw = FixtureWeb(default_sites()[:1])
    with pytest.raises(FixtureWebError):
        fw.site_url("labourmonitor")
    fw.start()
    url = fw.site_url("labourmonitor")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    assert fetch(url + "/").status == 200
    # An idle keep-alive connection must not keep stop() waiting.
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(url).port, timeout=5)
    conn.request("GET", "/robots.txt")
    conn.getresponse().read()
    started = time.monotonic()
    fw.stop()
    fw.stop()
    conn.close()
    assert time.monotonic() - started < 3
    with pytest.raises(OSError):
        fetch(url + "/")


def test_sources_list_each_kind_a_site_has(web: FixtureWeb) -> None:
    ids = {s["id"]: s for s in web.sources()}
    assert set(ids) == {
        "labourmonitor-rss", "labourmonitor-atom", "labourmonitor-sitemap", "labourmonitor-news",
        "meridian-rss", "meridian-sitemap", "hanbit-rss", "hanbit-news", "vostok-atom", "vostok-sitemap",
    }
    assert ids["hanbit-news"]["link_selector"] == "h2.headline a"
    assert ids["vostok-sitemap"]["url"].endswith("/sitemap-index.xml")
    assert {s["kind"] for s in web.sources({"listing"})} == {"listing"}
    assert all(s["url"].startswith(web.site_url(s["id"].rsplit("-", 1)[0])) for s in web.sources())


def test_section_feeds_split_the_sites_articles_and_are_listed_as_feed_sources() -> None:
    spec = SiteSpec("desks", "Desks", sitemap=False, listing=False, articles=7, sections=3)
    with FixtureWeb([spec]) as web:
        base = web.site_url("desks")
        assert [s["id"] for s in web.sources({"feed"})] == ["desks-rss", "desks-section0", "desks-section1",
                                                             "desks-section2"]
        links = []
        for k in range(3):
            root = ET.fromstring(fetch(f"{base}/sections/{k}.xml").body)
            links.append({item.findtext("link", "").split("?")[0] for item in root.iter("item")})
        every = {a.url for a in web.articles("desks")}
        # Each article in exactly one section; together the sections are the site.
        assert sum(map(len, links)) == len(every) == 7 and set().union(*links) == every
        change = web.advance()
        new = set(change.new)
        fresh = set().union(*({item.findtext("link", "").split("?")[0] for item in
                               ET.fromstring(fetch(f"{base}/sections/{k}.xml").body).iter("item")} for k in range(3)))
        assert new and new <= fresh


def test_own_hosts_puts_each_site_on_a_loopback_address_of_its_own() -> None:
    specs = [SiteSpec(f"own{n}", f"Own {n}", sitemap=False, listing=False, articles=1) for n in range(3)]
    with FixtureWeb(specs, own_hosts=True, fault_delay=0.5) as web:
        hosts = [urlsplit(web.site_url(spec.id)).hostname for spec in specs]
        assert len(set(hosts)) == 3 and "127.0.0.1" not in hosts
        assert urlsplit(web.site_url("fault")).hostname == "127.0.0.1"
        for spec, host in zip(specs, hosts, strict=True):
            feed = fetch(f"{web.site_url(spec.id)}/rss.xml").text
            assert f"http://{host}:" in feed  # links point at the site's own address
        assert {r.site_id for r in web.requests.records()} == {spec.id for spec in specs}


def test_latency_delays_each_answer_within_its_range_and_the_log_has_when_it_started() -> None:
    spec = SiteSpec("slow", "Slow", sitemap=False, listing=False, articles=2, latency=(0.05, 0.1))
    web = FixtureWeb([spec])
    delays = [web._responders["slow"].respond("/rss.xml", "").delay for _ in range(50)]
    assert all(0.05 <= d <= 0.1 for d in delays) and len(set(delays)) > 1
    with web:
        fetch(f"{web.site_url('slow')}/rss.xml")
        record = web.requests.records()[-1]
        assert record.started is not None and record.started <= record.at
    with pytest.raises(ValueError, match="latency"):
        SiteSpec("bad", "Bad", latency=(0.2, 0.1))


# -- feeds, sitemaps, listings, pages ------------------------------------------------------------------------


def test_feeds_are_xml_with_tracking_links(any_web: FixtureWeb) -> None:
    for source in any_web.sources({"feed"}):
        response = fetch(source["url"])
        assert response.status == 200
        assert "charset=utf-8" in response.headers["Content-Type"]
        root = ET.fromstring(response.body)
        links = [e.get("href") or e.text or "" for e in root.iter()
                 if e.tag in ("link", "{http://www.w3.org/2005/Atom}link", "{http://purl.org/rss/1.0/}link")
                 and e.get("rel") != "self"]
        article_links = [link for link in links if "/articles/" in link]
        assert 0 < len(article_links) <= 20
        assert all(link.endswith("?utm_source=rss&utm_medium=feed") for link in article_links)


def test_feedparser_reads_every_feed_format_cleanly() -> None:
    feedparser = pytest.importorskip("feedparser")
    specs = [SiteSpec(f"f-{fmt}", "Feeds", "en", feed=fmt, articles=25) for fmt in ("rss2", "rss1", "rss091", "atom")]
    with FixtureWeb(specs) as fw:
        for source in fw.sources({"feed"}):
            parsed = feedparser.parse(fetch(source["url"]).body)
            assert not parsed.bozo, (source["id"], parsed.get("bozo_exception"))
            assert len(parsed.entries) == 20
            assert parsed.entries[0].title == fw.articles(source["id"].rsplit("-", 1)[0])[0].title


def aggregator_sites() -> list[SiteSpec]:
    """An aggregator whose feed lists another site's articles (on that site's host), and that site."""
    return [SiteSpec("digest", "Labour Digest", feed="rss2", sitemap=False, listing=False, articles=0,
                     feed_of="outlet"),
            SiteSpec("outlet", "The Outlet", feed=None, sitemap=False, listing=False, articles=5)]


def test_an_aggregators_feed_links_the_articles_of_another_site_on_its_host() -> None:
    with FixtureWeb(aggregator_sites()) as fw:
        assert [s["id"] for s in fw.sources()] == ["digest-rss"]
        root = ET.fromstring(fetch(fw.sources()[0]["url"]).body)
        links = [e.text.split("?")[0] for e in root.iter("link") if e.text and "/articles/" in e.text]
        assert links == [a.url for a in fw.articles("outlet")]  # at the outlet's address, newest first
        assert all(link.startswith(fw.site_url("outlet") + "/") for link in links)
        assert all(fetch(link).status == 200 for link in links)
        assert fw.articles("digest") == []
    with pytest.raises(ValueError, match="feed_of must name another site"):
        FixtureWeb([SiteSpec("digest", "Labour Digest", feed_of="nowhere")])


def test_sitemaps_cover_every_article_once(any_web: FixtureWeb) -> None:
    web = any_web
    assert web.sources({"sitemap"})
    for source in web.sources({"sitemap"}):
        index = ET.fromstring(fetch(source["url"]).body)
        children = [loc.text or "" for loc in index.findall("sm:sitemap/sm:loc", NS)]
        assert [c.rsplit("/", 1)[1] for c in children] == ["sitemap-news.xml", "sitemap-archive.xml"]
        news = ET.fromstring(fetch(children[0]).body)
        archive = ET.fromstring(fetch(children[1]).body)
        assert news.findall("sm:url/news:news/news:publication/news:name", NS)
        assert all(u.find("sm:lastmod", NS) is not None for u in archive.findall("sm:url", NS))
        locs = [loc.text or "" for tree in (news, archive) for loc in tree.findall("sm:url/sm:loc", NS)]
        site = source["id"].removesuffix("-sitemap")
        assert sorted(locs) == sorted(a.url for a in web.articles(site))


def test_listing_paginates_newest_first_with_article_links_only_in_headlines(any_web: FixtureWeb) -> None:
    web = any_web
    assert web.sources({"listing"})
    for source in web.sources({"listing"}):
        url, seen = source["url"], []
        while url:
            html = fetch(url).text
            seen += re.findall(r'<h2 class="headline"><a href="([^"]+)">', html)
            assert len(re.findall(r'<h2 class="headline">', html)) <= 10
            nxt = re.search(r'<a rel="next" class="next" href="([^"]+)"', html)
            url = source["url"].split("/news/")[0] + nxt.group(1) if nxt else ""
            assert '<a href="/about.html">' in html
        site = source["id"].removesuffix("-news")
        assert seen == [urlsplit(a.url).path for a in web.articles(site)]


def test_article_pages_carry_metadata_and_a_long_main_text(any_web: FixtureWeb) -> None:
    for info in any_web.articles():
        html = fetch(info.url + "?utm_source=rss&utm_medium=feed").text
        assert f'<html lang="{info.language}">' in html
        assert f'<link rel="canonical" href="{info.url}">' in html
        assert meta(html, "article:published_time") == info.published.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert meta(html, "author")
        assert "<h1" in story(html) and "most-read" not in story(html)
        text = re.sub(r"<[^>]+>", " ", story_body(html))
        if info.language in ("zh", "ja"):  # written without spaces, and denser than Korean: count characters
            assert len(re.sub(r"\s", "", text)) >= 250, info.url
        else:
            assert len(text.split()) >= (150 if info.language == "en" else 80), info.url


def test_generated_text_has_no_open_placeholders_and_hard_negatives_stay_negative() -> None:
    for language in ("en", "ko", "ru", "zh", "ja"):
        labour = {"en": "worker", "ko": "노동자", "ru": "рабоч", "zh": "工人", "ja": "労働者"}[language]
        for index in range(24):
            for on_topic in (True, False):
                article = make_article("t", language, index, on_topic, index, CLOCK_BASE)
                text = " ".join([*article.titles, article.standfirst, *article.paragraphs()])
                assert "{" not in text and "}" not in text
                assert bool(article.figure_key()) == on_topic
                if article.topic == "missile-test":
                    assert labour not in text.lower()
                if article.topic == "factory-strike":
                    assert not re.search("North Korea|Pyongyang|DPRK|북한|КНДР|Северн|朝鲜|朝鮮|平壤|平壌", text)
                if language in ("zh", "ja") and on_topic:
                    assert re.search("朝鲜|北朝鮮", text) and re.search("俄罗斯|中国|ロシア|中国", text)
        assert len(language_pack(language).on_topic) >= 5
    assert FIGURE_PRIORITY[0] == "workers"


def test_trafilatura_extracts_the_story_and_nothing_around_it(web: FixtureWeb, cjk_web: FixtureWeb) -> None:
    trafilatura = pytest.importorskip("trafilatura")
    for info in [*web.articles("labourmonitor")[:3], *web.articles("hanbit")[:2], *web.articles("vostok")[:2],
                 *cjk_web.articles("huaxia")[:2], *cjk_web.articles("toyo")[:2]]:
        html = fetch(info.url).text
        extracted = trafilatura.extract(html, include_comments=False) or ""
        for paragraph in re.findall(r"<p>(.*?)</p>", story_body(html)):
            assert paragraph.replace("&#x27;", "'").replace("&quot;", '"') in extracted
        pack = language_pack(info.language)
        for noise in (pack.ui["most_read"], pack.ui["newsletter_text"], pack.ui["cookie_text"], pack.ui["rights"]):
            assert noise not in extracted


# -- conditional GET and encoding ----------------------------------------------------------------------------


def test_etag_and_if_modified_since_give_304_without_body(web: FixtureWeb) -> None:
    for url in (web.sources()[0]["url"], web.articles()[0].url):
        first = fetch(url)
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert re.fullmatch(r'"[0-9a-f]{40}"', etag)
        again = fetch(url, {"If-None-Match": etag})
        assert (again.status, again.body, again.headers["ETag"]) == (304, b"", etag)
        assert fetch(url, {"If-Modified-Since": last_modified}).status == 304
        assert fetch(url, {"If-None-Match": '"nope"', "If-Modified-Since": last_modified}).status == 200
        earlier = format_datetime(CLOCK_BASE.replace(year=2020), usegmt=True)
        assert fetch(url, {"If-Modified-Since": earlier}).status == 200


def test_gzip_is_used_when_accepted(web: FixtureWeb) -> None:
    url = web.articles()[0].url
    plain = fetch(url)
    zipped = fetch(url, {"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and plain.headers["Content-Encoding"] is None
    assert gzip.decompress(zipped.body) == plain.body
    assert zipped.headers["ETag"] == plain.headers["ETag"]


# -- states ----------------------------------------------------------------------------------------------------


def _pages(fw: FixtureWeb) -> dict[str, Fetched]:
    return {a.url: fetch(a.url) for a in fw.articles()}


def test_advance_changes_exactly_what_it_promises(any_fresh: FixtureWeb) -> None:
    fresh = any_fresh
    before = _pages(fresh)
    change = fresh.advance()
    after = _pages(fresh)
    assert change.state == fresh.state == 1
    assert (len(change.figure_edits), len(change.corrections), len(change.headline_changes)) == (1, 1, 1)
    edited = {*change.figure_edits, *change.corrections, *change.headline_changes}
    assert len(edited) == 3 and set(change.edited) == edited
    assert set(change.sidebar_only) == set(before) - edited
    assert change.new and set(after) == set(before) | set(change.new)
    for url in change.sidebar_only:
        assert after[url].body != before[url].body
        assert after[url].headers["ETag"] != before[url].headers["ETag"]
        assert story(after[url].text) == story(before[url].text)
    for url, (old, new) in change.figure_edits.items():
        assert has_figure(story_body(before[url].text), old) and not has_figure(story_body(before[url].text), new)
        assert has_figure(story_body(after[url].text), new) and not has_figure(story_body(after[url].text), old)
    for url in change.corrections:
        assert story_body(after[url].text).startswith(story_body(before[url].text))
        assert 'class="correction"' in story_body(after[url].text)
    for url, (old, new) in change.headline_changes.items():
        assert old != new and meta(after[url].text, "og:title") == new.replace("'", "&#x27;")
        assert story_body(after[url].text) == story_body(before[url].text)
    for url in edited:
        assert meta(after[url].text, "article:modified_time") != meta(before[url].text, "article:modified_time")
        assert after[url].headers["Last-Modified"] != before[url].headers["Last-Modified"]


def test_quiet_sites_keep_feed_bytes_and_busy_sites_do_not(any_fresh: FixtureWeb) -> None:
    fresh = any_fresh
    feeds = {s["id"]: fetch(s["url"]) for s in fresh.sources({"feed", "listing"})}
    change = fresh.advance()
    touched = {fresh_site(fresh, url) for url in (*change.new, *change.headline_changes)}
    quiet = {s.id for s in fresh.specs} - touched
    assert quiet, "every state leaves at least one site without news"
    for source in fresh.sources({"feed", "listing"}):
        site = source["id"].rsplit("-", 1)[0]
        old = feeds[source["id"]]
        if site in quiet:
            again = fetch(source["url"], {"If-None-Match": old.headers["ETag"]})
            assert again.status == 304, source["id"]
            assert fetch(source["url"]).body == old.body
        elif any(fresh_site(fresh, u) == site for u in change.new):
            assert fetch(source["url"]).headers["ETag"] != old.headers["ETag"], source["id"]


def fresh_site(fw: FixtureWeb, url: str) -> str:
    return next(s.id for s in fw.specs if url.startswith(fw.site_url(s.id) + "/"))


def test_many_states_keep_the_promise_and_spread_edits(any_fresh: FixtureWeb) -> None:
    fresh = any_fresh
    edited_sites, edited_urls, figure_languages = set(), set(), set()
    languages = {s.id: s.language for s in fresh.specs}
    count = len(fresh.articles())
    for state in range(1, 13):
        change = fresh.advance()
        assert change.state == state
        assert (len(change.figure_edits), len(change.corrections), len(change.headline_changes)) == (1, 1, 1)
        assert len(set(change.edited)) == 3 and not set(change.edited) & set(change.sidebar_only)
        assert 1 <= len(change.new) <= 2 * len(fresh.specs)
        count += len(change.new)
        edited_sites |= {fresh_site(fresh, u) for u in change.edited}
        edited_urls |= set(change.edited)
        for url, (old, new) in change.figure_edits.items():
            body = story_body(fetch(url).text)
            assert has_figure(body, new) and not has_figure(body, old), (url, old, new)
            figure_languages.add(languages[fresh_site(fresh, url)])
    assert len(fresh.articles()) == count
    assert edited_sites == {s.id for s in fresh.specs}
    assert figure_languages == set(languages.values())
    assert len(edited_urls) > 20
    assert max(a.version for a in fresh.articles()) >= 2
    for site in fresh.specs:
        if site.rss:
            rss = ET.fromstring(fetch(fresh.site_url(site.id) + "/rss.xml").body)
            items = rss.findall("{http://purl.org/rss/1.0/}item") if site.feed == "rss1" else rss.findall("channel/item")
            assert len(items) == min(20, len(fresh.articles(site.id)))


def test_same_specs_give_identical_bytes_in_every_state() -> None:
    def snapshot(fw: FixtureWeb) -> dict[str, bytes]:
        urls = [s["url"] for s in fw.sources()] + [a.url for a in fw.articles()]
        for site in fw.specs:
            urls += [fw.site_url(site.id) + p for p in ("/", "/robots.txt", "/sitemap-news.xml", "/news/?page=2")]
        out = {}
        for url in urls:
            base = fw.site_url(fresh_site(fw, url))
            out[url.replace(base, "BASE:" + fresh_site(fw, url))] = fetch(url).body.replace(base.encode(), b"BASE")
        return out

    with FixtureWeb(fault_delay=0.5) as one, FixtureWeb(fault_delay=0.5) as two:
        assert snapshot(one) == snapshot(two)
        for _ in range(3):
            a, b = one.advance(), two.advance()
            assert [u.split("/", 3)[3] for u in a.edited] == [u.split("/", 3)[3] for u in b.edited]
        assert snapshot(one) == snapshot(two)


def test_generate_sites_builds_fifty_mixed_sites() -> None:
    specs = generate_sites(50, 30)
    assert len(specs) == 50 and specs == generate_sites(50, 30) and specs != generate_sites(50, 30, seed=1)
    assert {s.feed for s in specs} == {"rss2", "rss1", "rss091", "atom", None}
    assert {s.language for s in specs} == {"en", "ko", "ru"}
    assert all(s.rss or s.atom or s.sitemap or s.listing for s in specs)
    with FixtureWeb(specs, fault_delay=0.5) as fw:
        assert len(fw.articles()) == 50 * 30
        assert len({s["url"].split("/")[2] for s in fw.sources()}) == 50
        change = fw.advance()
        assert change.new and len(change.edited) == 3


# -- robots, faults and the request log -----------------------------------------------------------------------


def test_robots_variants() -> None:
    specs = [SiteSpec(f"r-{mode}", "Robots", robots=mode, articles=2) for mode in ("allow", "disallow", "error500")]
    with FixtureWeb(specs) as fw:
        assert "Allow: /" in fetch(fw.site_url("r-allow") + "/robots.txt").text
        assert "Disallow: /" in fetch(fw.site_url("r-disallow") + "/robots.txt").text
        assert fetch(fw.site_url("r-error500") + "/robots.txt").status == 500
        faults = {s["id"]: s for s in fw.fault_sources()}
        disallow = fw.site_url("fault-robots-disallow")
        assert faults["fault-robots-disallow"]["url"] == disallow + "/rss.xml"
        assert "Disallow: /" in fetch(disallow + "/robots.txt").text
        assert fetch(fw.site_url("fault-robots-500") + "/robots.txt").status == 500
        assert fetch(faults["fault-robots-500"]["url"]).status == 200


def test_fault_endpoints_fail_as_documented(web: FixtureWeb) -> None:
    faults = {s["id"].removeprefix("fault-"): s["url"] for s in web.fault_sources()}
    assert all(s["kind"] == "feed" for s in web.fault_sources() if s["id"] != "fault-listing-no-links")
    assert fetch(faults["500"]).status == 500
    assert fetch(faults["404"]).status == 404
    empty = fetch(faults["empty"])
    assert (empty.status, empty.body) == (200, b"")
    assert fetch(faults["html-not-feed"]).headers["Content-Type"].startswith("text/html")
    with pytest.raises(ET.ParseError):
        ET.fromstring(fetch(faults["malformed"]).body)
    entities = fetch(faults["entities"]).body
    assert b'<!ENTITY xxe SYSTEM "file:///etc/passwd">' in entities and b"<!ENTITY l9" in entities
    wrong = fetch(faults["wrong-charset"])
    assert "charset=utf-8" in wrong.headers["Content-Type"]
    with pytest.raises(UnicodeDecodeError):
        wrong.body.decode("utf-8")
    feed = ET.fromstring(wrong.body.decode("cp1251"))
    assert "Северокорейские" in feed.findtext("channel/item/title", "")
    assert feed.findtext("channel/item/link", "").startswith(web.site_url("fault") + "/faults/articles/")
    listing = fetch(faults["listing-no-links"]).text
    assert listing and 'class="headline"' not in listing


def test_redirect_faults(web: FixtureWeb) -> None:
    faults = {s["id"].removeprefix("fault-"): s["url"] for s in web.fault_sources()}
    first = fetch(faults["redirect-loop"])
    assert first.status == 302 and first.headers["Location"] == "/faults/redirect-loop2.xml"
    second = fetch(web.site_url("fault") + first.headers["Location"])
    assert second.status == 302 and second.headers["Location"] == "/faults/redirect-loop.xml"
    private = fetch(faults["redirect-private"])
    assert (private.status, private.headers["Location"]) == (302, "http://169.254.169.254/latest/meta-data/")


def test_truncated_body_and_gzip_bomb(web: FixtureWeb) -> None:
    port = urlsplit(web.site_url("fault")).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/faults/truncated.xml")
        response = conn.getresponse()
        assert response.getheader("Content-Length") == "5000"
        with pytest.raises(http.client.IncompleteRead) as err:
            response.read()
        assert len(err.value.partial) == 1000
    finally:
        conn.close()
    bomb = fetch(web.site_url("fault") + "/faults/gzip-bomb.xml")
    assert bomb.headers["Content-Encoding"] == "gzip" and len(bomb.body) < 100_000
    inflater, inflated = zlib.decompressobj(31), 0
    chunk = inflater.decompress(bomb.body, 1 << 20)
    while chunk:
        inflated += len(chunk)
        chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
    assert inflated >= 50 * 1024 * 1024


def test_slow_fault_waits_and_stop_interrupts_it(web: FixtureWeb) -> None:
    started = time.monotonic()
    assert fetch(web.site_url("fault") + "/faults/slow.xml").status == 200
    assert time.monotonic() - started >= 0.45
    fw = FixtureWeb(default_sites()[:1], fault_delay=30).start()
    thread = threading.Thread(target=lambda: _swallow(fw.site_url("fault") + "/faults/slow.xml"))
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    fw.stop()
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 5


def _swallow(url: str) -> None:
    with contextlib.suppress(OSError):  # the server may hang up when it stops
        fetch(url)


def test_request_log_records_every_request(fresh: FixtureWeb) -> None:
    fresh.reset_log()
    feed = fresh.sources({"feed"})[0]["url"]
    etag = fetch(feed, {"User-Agent": "labourwatch-test/1.0"}).headers["ETag"]
    fetch(feed + "?x=1", {"User-Agent": "labourwatch-test/1.0", "If-None-Match": etag})
    fetch(fresh.site_url("meridian") + "/missing.html", method="HEAD")
    records = fresh.requests.records()
    assert [(r.path, r.status, r.conditional) for r in records] == [
        ("/rss.xml", 200, False), ("/rss.xml", 304, True), ("/missing.html", 404, False)]
    assert records[1].query == "x=1" and records[0].user_agent == "labourwatch-test/1.0"
    assert records[0].site_id == "labourmonitor" and records[2].method == "HEAD"
    assert len(fresh.requests) == 3 and fresh.requests[0] == records[0]
    fresh.reset_log()
    assert len(fresh.requests) == 0
