"""Downloader middlewares for safety: block private targets on every hop, read a 5xx robots.txt as disallow."""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawler.resolver import AddressGuard, BlockedAddressError, PinnedResolver, installed

__all__ = ["AddressGuardMiddleware", "BlockedAddressError", "StrictRobotsTxtMiddleware"]

logger = logging.getLogger(__name__)
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class AddressGuardMiddleware:
    """Refuse requests whose host is, or resolves to, a refused address (crawler/addresses.py); runs for every
    redirect hop too, since Scrapy sends each redirected request through the downloader middlewares again.

    The addresses checked here are the ones the connection uses: the crawl's ``AddressGuard`` keeps them and
    the reactor's ``PinnedResolver`` answers the connection with them (crawler/resolver.py)."""

    def __init__(self, guard: AddressGuard, resolver: PinnedResolver | None = None) -> None:
        self.guard = guard
        self.resolver = resolver

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        guard = AddressGuard(settings.getbool("LABOURWATCH_ALLOW_PRIVATE_NETWORKS"),
                             timeout=settings.getfloat("DNS_TIMEOUT"))
        middleware = cls(guard, installed())
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_closed(self) -> None:
        if self.resolver is not None:
            self.resolver.deactivate(self.guard)

    async def process_request(self, request: Request) -> None:
        parsed = urlparse_cached(request)
        if parsed.scheme not in ("http", "https"):
            raise BlockedAddressError(f"only http(s) URLs are fetched, not {parsed.scheme}:")
        if self.resolver is not None:
            # Activated here, not at creation: the crawl's pins answer connections only while it is running.
            self.resolver.activate(self.guard)
        try:
            await self.guard.check(parsed.hostname or "")
        except BlockedAddressError as exc:
            raise BlockedAddressError(f"refused {request.url}: {exc}") from exc


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """robots.txt as RFC 9309 reads it: a 5xx answer means the whole host is disallowed.

    Scrapy parses the body of an error page as rules, which allows everything."""

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            logger.info("robots.txt of %s answered %s: treating the host as disallowed", netloc, response.status)
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        # RFC 9309 2.3.1.4: a robots.txt that cannot be reached (timeout, refused, reset) means disallow;
        # Scrapy's own handler allows everything. The host is tried again on the next crawl.
        logger.info("robots.txt of %s could not be fetched (%s): treating the host as disallowed", netloc,
                    type(exc).__name__)
        pending = self._parsers.get(netloc)
        parser = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)
        self._parsers[netloc] = parser
        if isinstance(pending, Deferred):
            pending.callback(parser)
