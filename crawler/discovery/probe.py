"""The discovery spider: the home page, then its feeds (or a few common feed paths), robots.txt and its
sitemaps (or a few common sitemap paths), and the children of a sitemap index, read with the kinds' own parsers.

Every request goes through the crawl's downloader middlewares (the address guard on every redirect hop,
robots.txt), size cap and timeout. Probes of common paths run one after the other and stop at the first that
answers with a usable document, so a site with nothing to offer costs a dozen requests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import scrapy
from parsel import Selector
from protego import Protego
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from analysis.urls import canonicalise_url
from crawler.discovery.page import feed_links, listing_candidate, page_language, page_title
from crawler.discovery.types import Candidate, Check, Discovery
from crawler.errors import classify_failure
from crawler.kinds import SOURCE_KINDS, ParseLimits, ParseResult, SourceParseError
from crawler.types import SourceSpec

# Tried in this order when the page names no feed; the first that is a feed ends the probe.
COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feeds/posts/default")
# Tried when robots.txt names no sitemap.
COMMON_SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml")
MAX_FEEDS = 4  # feeds named by the page that are fetched
MAX_SITEMAPS = 4  # sitemaps named by robots.txt that are fetched
MAX_CHILDREN = 3  # children of a sitemap index fetched to find its news sitemap
# Every request of one discovery (robots.txt, the page, feeds, probes, sitemaps, children) counts against this;
# the crawl's robots.txt check of each host comes on top.
MAX_REQUESTS = 20
SAMPLE = 3

_HTML = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class _Probe:
    """A request's purpose, what found it, and the paths to try next when it gives nothing usable."""

    purpose: str
    found_by: str
    title: str | None = None
    rest: tuple[str, ...] = ()
    depth: int = 0


def _content_type(response: Response) -> str | None:
    value = response.headers.get("Content-Type")
    return value.decode("latin-1") if value else None


def _spec(kind: str, url: str) -> SourceSpec:
    return SourceSpec(id="discover", kind=kind, url=url)


class DiscoverySpider(scrapy.Spider):
    """Discovers the sources of one site into ``result``."""

    name = "labourwatch-discover"

    def __init__(self, url: str, result: Discovery, limits: ParseLimits, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url, self.result, self.limits = url, result, limits
        # Every URL asked for, in the order asked: proposals are listed in that order, not as answers came.
        self._requested: dict[str, int] = {}
        self._robots_sitemaps: list[str] = []

    async def start(self) -> Any:
        # robots.txt first, as a crawler reads it: its Sitemap: lines, and a site that cannot be reached at all
        # is told as such (the robots.txt check would report it as "Forbidden by robots.txt").
        yield self._request(urljoin(self.url, "/robots.txt"), _Probe("robots.txt", "robots.txt"), self.parse_robots,
                            dont_obey_robotstxt=True)

    def _home(self) -> scrapy.Request:
        return scrapy.Request(self.url, callback=self.parse_home, errback=self.home_failed, dont_filter=True)

    def _request(self, url: str, probe: _Probe, callback: Any, **meta: Any) -> scrapy.Request | None:
        if url in self._requested:
            return None
        if len(self._requested) >= MAX_REQUESTS:
            self._check(url, probe.purpose, "skipped", f"not fetched: discovery makes at most {MAX_REQUESTS} requests")
            return None
        self._requested[url] = len(self._requested)
        return scrapy.Request(url, callback=callback, errback=self.probe_failed, dont_filter=True,
                              meta={"lw_probe": probe, **meta})

    def _check(self, url: str, purpose: str, outcome: str, detail: str | None = None) -> None:
        self.result.checks.append(Check(url, purpose, outcome, detail))

    def closed(self, reason: str) -> None:
        """Put the proposals in the order their documents were asked for (the page's own order of feeds)."""
        self.result.candidates.sort(key=lambda c: self._requested.get(c.url, len(self._requested)))

    # -- the home page ---------------------------------------------------------------------------------------

    def home_failed(self, failure: Failure) -> None:
        code, message = classify_failure(failure)
        self.result.error = (code, message)
        self._check(failure.request.url, "page", code, message)  # type: ignore[attr-defined]

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        self.result.final_url = url = response.url
        self._requested.setdefault(url, -1)
        content_type = (_content_type(response) or "").split(";")[0].strip().lower()
        if not isinstance(response, TextResponse) or content_type not in _HTML:
            self._check(url, "page", "ok", content_type or "no Content-Type")
            # A feed or sitemap given as the URL is proposed itself.
            children = self._document(response, _Probe("page", "the URL itself"))
            if children is None:
                self.result.error = ("not_html", f"{url} is neither an HTML page, a feed nor a sitemap "
                                                 f"({content_type or 'no Content-Type'})")
            yield from self._children(url, children or ())
            return
        self._check(url, "page", "ok")
        page = Selector(text=response.text, type="html", base_url=url)
        self.result.title, self.result.language = page_title(page), page_language(page)
        self._listing(response)
        feeds = feed_links(page, url)
        requests = [self._request(f.url, _Probe("feed", f'<link rel="alternate"> ({f.format})', f.title),
                                  self.parse_document) for f in feeds[:MAX_FEEDS]]
        if not feeds:
            requests.append(self._next_probe(url, "feed", COMMON_FEED_PATHS))
        yield from (r for r in requests if r is not None)
        yield from self._sitemaps(url, self._robots_sitemaps)

    def _listing(self, response: Response) -> None:
        listing = listing_candidate(response.body, response.url, _content_type(response), self.limits)
        if listing is None:
            return
        self.result.candidates.append(Candidate(
            kind="listing", url=response.url, found_by="the page's article links" + (
                f" ({listing.pattern})" if listing.pattern else ""),
            title=self.result.title, language=self.result.language, items=len(listing.links),
            options={"link_selector": listing.selector}, sample=listing.links[:SAMPLE],
            links=frozenset(listing.links)))

    def _next_probe(self, base: str, purpose: str, paths: tuple[str, ...]) -> scrapy.Request | None:
        """A request for the first of ``paths`` not asked yet, carrying the rest."""
        for index, path in enumerate(paths):
            url = urljoin(base, path)
            if url not in self._requested:
                return self._request(url, _Probe(purpose, "common path", rest=paths[index + 1:]), self.parse_document)
        return None

    # -- robots.txt, feeds, sitemaps -------------------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        text = response.text if isinstance(response, TextResponse) else ""
        self._robots_sitemaps = [urljoin(response.url, s) for s in dict.fromkeys(Protego.parse(text).sitemaps)]
        self._check(response.url, "robots.txt", "ok", f"{len(self._robots_sitemaps)} Sitemap line(s)")
        yield self._home()

    def _sitemaps(self, base: str, sitemaps: list[str]) -> Iterator[scrapy.Request]:
        requests = [self._request(s, _Probe("sitemap", "robots.txt Sitemap:"), self.parse_document)
                    for s in sitemaps[:MAX_SITEMAPS]]
        if not sitemaps:
            requests.append(self._next_probe(base, "sitemap", COMMON_SITEMAP_PATHS))
        yield from (r for r in requests if r is not None)

    def probe_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        probe: _Probe = request.meta["lw_probe"]
        code, message = classify_failure(failure)
        self._check(request.url, probe.purpose, code, message)
        if probe.purpose == "robots.txt":
            if code.startswith("http_"):  # no robots.txt (or a broken one, which the robots check reads as "no")
                yield self._home()
            else:  # the site cannot be reached, or not safely
                self.result.error = (code, message)
        elif probe.rest:
            follow = self._next_probe(request.url, probe.purpose, probe.rest)
            if follow is not None:
                yield follow

    def parse_document(self, response: Response) -> Iterator[scrapy.Request]:
        probe: _Probe = response.meta["lw_probe"]
        followed = self._document(response, probe)
        if followed is None and probe.rest:
            follow = self._next_probe(response.url, probe.purpose, probe.rest)
            if follow is not None:
                yield follow
        if probe.depth == 0:
            yield from self._children(response.url, followed or ())

    def _children(self, index: str, children: tuple[str, ...]) -> Iterator[scrapy.Request]:
        """Requests for the newest children of a sitemap index (the kind lists them newest first)."""
        for child in children[:MAX_CHILDREN]:
            request = self._request(child, _Probe("sitemap", f"sitemap index {index}", depth=1), self.parse_document)
            if request is not None:
                yield request

    def _document(self, response: Response, probe: _Probe) -> tuple[str, ...] | None:
        """Read a response as a feed, else as a sitemap (what a common path serves is not known in advance);
        record it as a candidate. Its child sitemaps, or None when it is neither."""
        kinds = {"feed": ("feed", "sitemap"), "sitemap": ("sitemap", "feed")}.get(probe.purpose, ("feed", "sitemap"))
        problems = []
        for kind in kinds:
            try:
                parsed = SOURCE_KINDS[kind].parse(response.body, response.url, _content_type(response),
                                                  _spec(kind, response.url), probe.depth, self.limits)
            except SourceParseError as exc:
                problems.append(f"{kind}: {exc.code}: {exc.message}")
                continue
            self._check(response.url, probe.purpose, "ok", f"a {kind}")
            self.result.candidates.append(self._candidate(kind, response.url, probe, parsed))
            return parsed.follow
        self._check(response.url, probe.purpose, "unusable", "; ".join(problems))
        return None

    def _candidate(self, kind: str, url: str, probe: _Probe, parsed: ParseResult) -> Candidate:
        # Canonical, as the crawler looks links up: an RSS and an Atom feed of one channel tag links differently.
        links = tuple(dict.fromkeys(canonicalise_url(link.url) for link in parsed.links))
        language = next((link.language for link in parsed.links if link.language), None)
        # Only a Google News entry gives a sitemap link its title (<news:title>).
        news = kind == "sitemap" and any(link.title for link in parsed.links)
        index = kind == "sitemap" and bool(parsed.follow)
        return Candidate(kind=kind, url=url, found_by=probe.found_by, title=probe.title, language=language,
                         items=len(parsed.follow) if index else len(links), news=news, index=index,
                         sample=(parsed.follow if index else links)[:SAMPLE], links=frozenset(links))
