"""Safety guards: private and special addresses refused, 5xx robots.txt read as disallow, settings hardened."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scrapy import Request

from crawler.addresses import blocked_reason
from crawler.middlewares import AddressGuardMiddleware, BlockedAddressError
from crawler.resolver import AddressGuard
from crawler.settings import scrapy_settings
from crawler.types import CrawlOptions
from db.engine import Database
from tests.crawler.helpers import FAST, crawl, specs
from tests.crawler.newssite import SLOW, news_site

# The SSRF corpus: every form must be refused when private networks are not allowed.
BLOCKED_URLS = [
    "http://127.0.0.1/", "http://127.1/", "http://0177.0.0.1/", "http://2130706433/", "http://0x7f000001/",
    "http://localhost/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://10.0.0.8/", "http://172.16.3.4/",
    "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://0.0.0.0/",
    "http://100.64.0.1/", "http://[fd00::1]/", "http://224.0.0.1/", "http://198.18.0.1/",
]


def guard(allow_private: bool) -> AddressGuardMiddleware:
    return AddressGuardMiddleware(AddressGuard(allow_private))


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@pytest.mark.parametrize("url", BLOCKED_URLS)
def test_private_and_special_targets_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        run(guard(False).process_request(Request(url)))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "data:text/plain,hi"])
def test_non_http_schemes_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        run(guard(True).process_request(Request(url)))


def test_loopback_is_allowed_only_when_configured() -> None:
    run(guard(True).process_request(Request("http://127.0.0.1:8080/feed.xml")))
    with pytest.raises(BlockedAddressError):
        run(guard(False).process_request(Request("http://127.0.0.1:8080/feed.xml")))


@pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "0.0.0.0", "224.0.0.251"])
def test_metadata_link_local_and_multicast_are_refused_even_when_private_is_allowed(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address), allow_private=True) is not None


def test_public_addresses_pass() -> None:
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert blocked_reason(ipaddress.ip_address(address), allow_private=False) is None


def test_scrapy_settings_are_hardened_and_polite() -> None:
    settings = scrapy_settings(CrawlOptions())
    assert settings["TELNETCONSOLE_ENABLED"] is False and settings["REMOTE_CONTROL_ENABLED"] is False
    assert settings["ROBOTSTXT_OBEY"] is True and settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2 and settings["DOWNLOAD_DELAY"] == 1.0
    assert settings["DOWNLOAD_TIMEOUT"] == 30.0 and settings["DOWNLOAD_MAXSIZE"] == 10 * 1024 * 1024
    assert all(settings["DOWNLOAD_HANDLERS"][scheme] is None for scheme in ("file", "data", "ftp", "s3"))
    assert settings["USER_AGENT"].startswith("labourwatch/")
    # Connections pinned to checked addresses: no proxy resolving names behind the guard's back.
    assert settings["HTTPPROXY_ENABLED"] is False
    assert settings["TWISTED_DNS_RESOLVER"] == "crawler.resolver.PinnedResolver"


def test_a_robots_txt_that_never_answers_disallows_the_host(sqlite_database: Database) -> None:
    # RFC 9309: unreachable robots.txt means complete disallow; Scrapy's own middleware allows everything.
    with news_site(3, delay=4.0) as site:
        site.robots = SLOW  # longer than FAST's 2 s timeout
        report = crawl(sqlite_database, specs([{"id": "slow-robots", "kind": "feed", "url": site.feed}]))
        assert report.ledger.sources["slow-robots"].error_code == "robots_disallowed"
        assert site.hits["/rss.xml"] == 0 and not any(path.startswith("/a") for path in site.hits)
        site.robots = 404  # reachable again: no rules, everything allowed
        report = crawl(sqlite_database, specs([{"id": "slow-robots", "kind": "feed", "url": site.feed}]))
        assert report.ledger.sources["slow-robots"].ok and site.hits["/rss.xml"] == 1


class _EndlessHandler(BaseHTTPRequestHandler):
    """A feed whose body never ends and has no Content-Length (the size is only known by counting)."""

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        with contextlib.suppress(OSError):
            for _ in range(2000):
                self.wfile.write(b"<!-- " + b"x" * 65536 + b" -->")
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_body_stopped_at_the_size_limit_is_too_large_with_a_message(sqlite_database: Database) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/rss.xml"
        report = crawl(sqlite_database, specs([{"id": "endless", "kind": "feed", "url": url}]),
                       replace(FAST, max_size=1024 * 1024, timeout=10.0))
    finally:
        server.shutdown()
        server.server_close()
    result = report.ledger.sources["endless"]
    assert result.error_code == "too_large" and result.error
