"""The one spider of a crawl pass: source documents by kind, then new article pages and due re-checks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import scrapy
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from analysis.urls import canonicalise_url, is_http_url, politeness_key
from crawler.browser import browser_event, renders
from crawler.documents import DocumentFetch, document_type, sniff
from crawler.errors import classify_failure
from crawler.kinds import SOURCE_KINDS, DiscoveredLink, ParseLimits, ParseResult, SourceParseError
from crawler.ledger import CrawlLedger, SourceResult
from crawler.processing import FetchedPage
from crawler.store import CrawlStore
from crawler.types import CrawlOptions, SourceSpec
from db.pending import DOCUMENT, Pending

logger = logging.getLogger(__name__)

Validators = dict[str, tuple[str | None, str | None]]


@dataclass(frozen=True)
class Recheck:
    """An article due for a re-check."""

    article_id: int
    url: str
    source_id: str | None
    content_hash: str | None = None


@dataclass
class CrawlPlan:
    """What one crawl pass fetches, with the validators known before it starts. A crawl of one politeness ``key``
    (cluster mode) fetches the article pages and child documents its sources lead to on that key and leaves the
    others, durably, to their own key's crawl, which fetches them as ``pending`` (a pending document for its source
    in ``specs``)."""

    sources: list[SourceSpec]
    rechecks: list[Recheck] = field(default_factory=list)
    validators: Validators = field(default_factory=dict)
    follow_urls: dict[str, list[str]] = field(default_factory=dict)
    key: str | None = None
    pending: list[Pending] = field(default_factory=list)
    specs: Mapping[str, SourceSpec] = field(default_factory=dict)


def conditional_headers(validators: Validators, url: str) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a URL we fetched before."""
    etag, last_modified = validators.get(url, (None, None))
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class MonitorSpider(scrapy.Spider):
    """Fetches each planned source document, follows its links to unseen articles, re-checks due ones."""

    name = "labourwatch"
    handle_httpstatus_list: ClassVar[list[int]] = [304]

    def __init__(self, plan: CrawlPlan, store: CrawlStore, ledger: CrawlLedger, options: CrawlOptions,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan, self.store, self.ledger, self.options = plan, store, ledger, options
        self._queued: set[str] = {page.url for page in plan.pending if page.kind != DOCUMENT}
        self._polled = {spec.id for spec in plan.sources}
        self._per_source: dict[str, int] = {}
        # (source, URL) of every source document requested: a sitemap index that lists itself, or two
        # indexes listing each other, costs one fetch per document, never a fan-out.
        self._documents: set[tuple[str, str]] = set()
        self._limits = ParseLimits(max_size=options.max_size)
        self.stopping = False  # set by the runner when the crawl is told to stop (crawler.runner._stop_engine)

    def _render(self, source_id: str | None, meta: dict[str, Any], headers: dict[str, str]) -> dict[str, str]:
        """Mark a request of a ``render: browser`` source for the browser; its headers (no conditional ones
        for such a source: the page's HTML may not change while what its scripts load does)."""
        if not renders(self.options, source_id):
            return headers
        meta["playwright"] = True
        return {}

    def _browser_event(self, source_id: str | None, url: str, code: str, message: str) -> None:
        """A request the browser refused (or a restart over its memory cap): a warning on the page's source."""
        self.ledger.error(source_id, url, code, message, severity="warning")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.crawler.signals.connect(self._browser_event, signal=browser_event)
        for spec in self.plan.sources:
            self.ledger.source(spec.id)
            yield self._document_request(spec, spec.url, 0, self.plan.validators)
        # A document source's poll is the re-check of its one article: not fetched twice.
        watched = {canonicalise_url(spec.url) for spec in self.plan.sources if spec.kind == "document"}
        for recheck in self.plan.rechecks:
            if recheck.url in watched:
                continue
            self._queued.add(recheck.url)
            meta = {"lw_source": recheck.source_id, "lw_article": recheck.article_id, "lw_discovered": recheck.url,
                    "lw_hash": recheck.content_hash}
            headers = self._render(recheck.source_id, meta, conditional_headers(self.plan.validators, recheck.url))
            yield scrapy.Request(recheck.url, callback=self.parse_article, errback=self.on_error, dont_filter=True,
                                 headers=headers, meta=meta)
        for page in self.plan.pending:
            if page.kind == DOCUMENT and page.source_id is not None:
                yield self._document_request(self.plan.specs[page.source_id], page.url, page.depth,
                                             self.plan.validators, baseline=page.baseline,
                                             lw_pending_document=page.url)
                continue
            yield self._article_request(page.source_id, page.url, page.language, page.title,
                                        lw_pending=True, lw_baseline=page.baseline)

    def _document_request(self, spec: SourceSpec, url: str, depth: int, validators: Validators, *,
                          baseline: bool = False, **more: Any) -> scrapy.Request:
        """The request of a document of ``spec`` (``depth`` 0: its own; ``baseline``: found by its baseline poll,
        carried to its links; ``more``: meta, ``lw_pending_document`` the URL of a pending document's row)."""
        self._documents.add((spec.id, url))
        meta: dict[str, Any] = {"lw_source": spec.id, "lw_depth": depth, "lw_spec": spec, "lw_baseline": baseline,
                                **more}
        headers = conditional_headers(validators, url)
        if spec.kind == "listing":  # a feed or sitemap is XML, read as served: only its article pages are rendered
            headers = self._render(spec.id, meta, headers)
        return scrapy.Request(url, callback=self.parse_document, errback=self.on_error, dont_filter=True,
                              priority=10, headers=headers, meta=meta)

    async def parse_document(self, response: Response) -> AsyncIterator[scrapy.Request | FetchedPage]:
        """A feed, sitemap or listing page: parse it (in a thread) and queue unseen article links; a ``document``
        source's response is its article.

        An unexpected error (a database error while looking links up, a corrupt gzip child sitemap) is
        recorded on the source as ``internal_error`` and its validators are dropped, so the next poll reads
        the document again instead of a 304 hiding links never queued."""
        spec: SourceSpec = response.meta["lw_spec"]
        try:
            async for request in self._parse_document(response):
                yield request
        except Exception as exc:  # isolation boundary: one source document
            logger.exception("source %s: reading %s failed", spec.id, response.url)
            self._result(spec.id).validators.clear()
            self._result(spec.id).incomplete = True
            self._document_failed(spec, response.meta["lw_depth"], response.url, "internal_error",
                                  f"{type(exc).__name__}: {exc}")

    async def _parse_document(self, response: Response) -> AsyncIterator[scrapy.Request | FetchedPage]:
        spec: SourceSpec = response.meta["lw_spec"]
        depth: int = response.meta["lw_depth"]
        baseline = response.meta.get("lw_baseline", False) or spec.id in self.store.baseline
        result = self._result(spec.id)
        result.documents += 1
        self.ledger.counts["documents"] += 1
        if response.status == 304:
            for request in await self._not_modified(spec, depth):
                yield request
            self._read(response)
            return
        if spec.kind == "document":
            for page in await self._watched_document(spec, response):
                yield page
            return
        try:
            parsed = await asyncio.to_thread(
                SOURCE_KINDS[spec.kind].parse, response.body, response.url,
                _header(response, "Content-Type"), spec, depth, self._limits)
        except SourceParseError as exc:
            self._document_failed(spec, depth, response.url, exc.code, exc.message)
            return
        for code, message in parsed.warnings:
            self.ledger.error(spec.id, response.url, code, message, severity="warning")
        result.validators.append((response.url, _header(response, "ETag"), _header(response, "Last-Modified")))
        if depth == 0:
            result.follow_urls = list(parsed.follow) if spec.kind == "sitemap" else None
            self.ledger.source_succeeded(spec.id)
        for request in await self._follow(spec, parsed.follow, depth, baseline):
            yield request
        for request in await self._article_requests(spec, parsed, baseline):
            yield request
        self._read(response)

    def _result(self, source_id: str) -> SourceResult:
        """Where a source document's outcome goes: the source's poll, or, for a source this crawl does not poll
        (a child sitemap another key's crawl left to this one), what was read for it."""
        return self.ledger.source(source_id) if source_id in self._polled else self.ledger.followed_source(source_id)

    def _read(self, response: Response) -> None:
        """A pending document was read (its links are queued or pending in turn): its row goes with the crawl."""
        url = response.meta.get("lw_pending_document")
        if url is not None:
            self.ledger.documents_read.append(url)

    async def _not_modified(self, spec: SourceSpec, depth: int) -> list[scrapy.Request]:
        """A source document answered 304: the source succeeded; what it led to before may still be followed."""
        self.ledger.counts["documents_not_modified"] += 1
        if depth > 0:
            return []
        self.ledger.source(spec.id).not_modified = True
        self.ledger.source_succeeded(spec.id)
        if spec.kind == "document":  # its one article was checked too: its re-check schedule moves on
            url = canonicalise_url(spec.url)
            article_id = (await self.store.article_ids([url])).get(url)
            if article_id is not None:
                self.ledger.article_done(spec.id, article_id, not_modified=True)
        # A sitemap index that did not change may still have children that did.
        return await self._follow(spec, self.plan.follow_urls.get(spec.id, []), depth,
                                  spec.id in self.store.baseline)

    async def _watched_document(self, spec: SourceSpec, response: Response) -> list[FetchedPage]:
        """A ``document`` source's response is its one article, extracted as it is (never fetched twice): a new
        article the first time, a re-check of it (a new version when its text changed) afterwards."""
        try:
            SOURCE_KINDS[spec.kind].parse(response.body, response.url, _header(response, "Content-Type"), spec, 0,
                                          self._limits)
        except SourceParseError as exc:
            self._document_failed(spec, 0, response.url, exc.code, exc.message)
            return []
        result = self.ledger.source(spec.id)
        result.validators.append((response.url, _header(response, "ETag"), _header(response, "Last-Modified")))
        self.ledger.source_succeeded(spec.id)
        url = canonicalise_url(spec.url)
        result.items += 1
        article_id = (await self.store.article_ids([url])).get(url)
        if article_id is None:
            result.new += 1
        self._queued.add(url)
        response.meta.update(lw_discovered=url, lw_language=spec.language)
        page = self._fetched(response, spec.id, article_id)
        return [] if page is None else [page]

    async def _follow(self, spec: SourceSpec, urls: Iterable[str], depth: int, baseline: bool) -> list[scrapy.Request]:
        """Requests of the documents a document of ``spec`` at ``depth`` leads to (a sitemap index's children); in a
        crawl of one key, those on another key are left, durably, to their own key's crawl."""
        wanted = [url for url in dict.fromkeys(urls) if is_http_url(url) and (spec.id, url) not in self._documents]
        away = [url for url in wanted if self.plan.key is not None and politeness_key(url) != self.plan.key]
        if away:
            self._documents.update((spec.id, url) for url in away)
            await self.store.defer([Pending(url, politeness_key(url), spec.id, spec.language, baseline=baseline,
                                            kind=DOCUMENT, depth=depth + 1) for url in away])
            self.ledger.documents_deferred(len(away))
            wanted = [url for url in wanted if url not in away]
        if not wanted:
            return []
        validators = await self.store.validators(wanted)
        return [self._document_request(spec, url, depth + 1, validators, baseline=baseline) for url in wanted]

    def _fresh(self, link: DiscoveredLink, now: datetime) -> bool:
        limit = self.options.max_feed_age
        return limit is None or link.published is None or now - link.published <= limit

    async def _article_requests(self, spec: SourceSpec, parsed: ParseResult,
                                baseline: bool) -> list[scrapy.Request]:
        result = self._result(spec.id)
        now = datetime.now(UTC)
        links: dict[str, DiscoveredLink] = {}
        for link in parsed.links:
            url = canonicalise_url(link.url)
            if is_http_url(url) and self._fresh(link, now):
                links.setdefault(url, link)
        result.items += len(links)
        known = await self.store.known_urls(list(links) + [link.url for link in links.values()])
        requests, deferred = [], []
        for url, link in links.items():
            if url in known or link.url in known or url in self._queued:
                continue
            if self._per_source.get(spec.id, 0) >= self.options.max_articles_per_source:
                self.ledger.error(spec.id, url, "article_cap",
                                  f"more than {self.options.max_articles_per_source} new links; rest next poll",
                                  severity="warning")
                result.incomplete = True
                break
            self._queued.add(url)
            self._per_source[spec.id] = self._per_source.get(spec.id, 0) + 1
            result.new += 1
            key = politeness_key(url)
            if self.plan.key is not None and key != self.plan.key:
                deferred.append(Pending(url, key, spec.id, link.language or spec.language, link.title,
                                        baseline=baseline))
                continue
            requests.append(self._article_request(spec.id, url, link.language or spec.language, link.title,
                                                  lw_baseline=baseline))
        if deferred:
            await self.store.defer(deferred)
            self.ledger.articles_deferred(spec.id, len(deferred))
        return requests

    def _article_request(self, source_id: str | None, url: str, language: str | None, title: str | None,
                         **meta: Any) -> scrapy.Request:
        """The request of a new article page ``source_id`` led to (``meta``: more for the page's store)."""
        meta |= {"lw_source": source_id, "lw_discovered": url, "lw_language": language, "lw_title": title}
        headers = self._render(source_id, meta, {})
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error, dont_filter=True,
                              headers=headers, meta=meta)

    async def parse_article(self, response: Response) -> AsyncIterator[FetchedPage]:
        """An article page: a 304 on a re-check only moves its schedule; anything else goes to the store."""
        source_id = response.meta.get("lw_source")
        article_id = response.meta.get("lw_article")
        if response.status == 304:
            self.ledger.counts["articles_not_modified"] += 1
            self.ledger.article_done(source_id, article_id, not_modified=True)
            return
        page = self._fetched(response, source_id, article_id)
        if page is not None:
            yield page

    def _fetched(self, response: Response, source_id: str | None, article_id: int | None) -> FetchedPage | None:
        """The store's input for an article response: an HTML page, or a PDF or DOCX document (extracted from its
        bytes in the workers); anything else is ``not_html``."""
        kind = document_type(_header(response, "Content-Type"), response.url)
        if kind is None and not isinstance(response, TextResponse):
            kind = sniff(response.body)  # a document served as a binary type that says nothing
        if kind is None and not isinstance(response, TextResponse):
            self.ledger.article_failed(source_id, response.url, "not_html", "the article is neither a text page nor "
                                       "a PDF or DOCX document", article_id)
            return None
        self.ledger.counts["articles_fetched"] += 1
        headers = {key.decode("latin-1").lower(): values[-1].decode("latin-1")
                   for key, values in response.headers.items() if values}
        document = None if kind is None else DocumentFetch(kind, self.options.document_max_pages,
                                                           self.options.max_size)
        return FetchedPage(
            source_id=source_id, url=response.url, discovered_url=response.meta.get("lw_discovered", response.url),
            status=response.status, headers=headers, body=response.body,
            text=response.text if document is None and isinstance(response, TextResponse) else "",
            fetched_at=datetime.now(UTC), language_hint=response.meta.get("lw_language"),
            link_title=response.meta.get("lw_title"), article_id=article_id,
            previous_hash=response.meta.get("lw_hash"), document=document,
            pending=response.meta.get("lw_pending", False), baseline=response.meta.get("lw_baseline", False),
        )

    def _document_failed(self, spec: SourceSpec, depth: int, url: str, code: str, message: str) -> None:
        self.ledger.error(spec.id, url, code, message)
        if depth == 0:
            self.ledger.source_failed(spec.id, code, message)

    def on_error(self, failure: Failure) -> None:
        """Record a failed request on its source; a failed source document fails the source, a failed
        re-check is rescheduled (or marked gone) at the end of the crawl."""
        request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, DownloadCancelledError) and (self.stopping or not self.crawler.crawling):
            return  # dropped because the crawl is stopping: no outcome, fetched again next poll
        code, message = classify_failure(failure)
        spec: SourceSpec | None = request.meta.get("lw_spec")
        if spec is not None:
            self._document_failed(spec, request.meta.get("lw_depth", 0), request.url, code, message)
        else:
            self.ledger.article_failed(request.meta.get("lw_source"), request.url, code, message,
                                       request.meta.get("lw_article"))
