"""Downloader middlewares for safety: block private targets on every hop, read a 5xx robots.txt as disallow."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Link-local covers cloud metadata endpoints (169.254.169.254); never a news site, so refused even
# when private networks are allowed (as they are for tests on 127.0.0.1).
_ALWAYS_BLOCKED = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class BlockedAddressError(IgnoreRequest):
    """A request to a private, loopback, link-local or otherwise non-public address was refused."""


def is_public(address: IPAddress) -> bool:
    """Whether an address is a routable public one (not private, loopback, link-local, reserved…)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def blocked_reason(address: IPAddress, allow_private: bool) -> str | None:
    """Why a request to ``address`` must be refused, or None when it may go ahead."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_unspecified or address.is_multicast or any(address in net for net in _ALWAYS_BLOCKED):
        return f"{address} is a link-local, multicast or unspecified address"
    if not allow_private and not is_public(address):
        return f"{address} is not a public address (crawl.allow_private_networks is off)"
    return None


class AddressGuardMiddleware:
    """Refuse requests whose host resolves to a non-public address; runs for every redirect hop too,
    since Scrapy sends each redirected request through the downloader middlewares again."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._cache: dict[str, list[IPAddress]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.getbool("LABOURWATCH_ALLOW_PRIVATE_NETWORKS"))

    async def process_request(self, request: Request) -> None:
        parsed = urlparse_cached(request)
        if parsed.scheme not in ("http", "https"):
            raise BlockedAddressError(f"only http(s) URLs are fetched, not {parsed.scheme}:")
        host = parsed.hostname or ""
        for address in await self._resolve(host):
            reason = blocked_reason(address, self.allow_private)
            if reason:
                raise BlockedAddressError(f"refused {request.url}: {reason}")

    async def _resolve(self, host: str) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        if host not in self._cache:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except OSError:
                return []  # the download itself reports the DNS failure
            self._cache[host] = [ipaddress.ip_address(info[4][0]) for info in infos]
        return self._cache[host]


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """robots.txt as RFC 9309 reads it: a 5xx answer means the whole host is disallowed.

    Scrapy parses the body of an error page as rules, which allows everything."""

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            logger.info("robots.txt of %s answered %s: treating the host as disallowed", netloc, response.status)
            response = response.replace(body=DISALLOW_ALL)
        await super()._parse_robots(response, netloc, request)
