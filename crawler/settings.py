"""Scrapy settings from ``CrawlOptions``: every default labourwatch changes, in one place, with the reason."""

from __future__ import annotations

from typing import Any

from crawler.browser import browser_settings
from crawler.types import CrawlOptions


def scrapy_settings(options: CrawlOptions, browser: bool = False) -> dict[str, Any]:
    """The settings of one labourwatch crawl; with ``browser``, requests marked ``playwright`` are rendered in
    headless Chromium (only a crawl with ``render: browser`` requests asks for it: crawler/browser.py)."""
    settings = _settings(options)
    if browser:
        settings.update(browser_settings(options, settings["DOWNLOAD_HANDLERS"]))
    return settings


def _settings(options: CrawlOptions) -> dict[str, Any]:
    return {
        "BOT_NAME": "labourwatch",
        "USER_AGENT": options.user_agent,
        # Both consoles execute code sent to them: never on in a long-running monitor.
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_TIMEOUT": options.timeout,
        # Bounds decompressed bodies too (gzip and brotli bombs stop here).
        "DOWNLOAD_MAXSIZE": options.max_size,
        "DOWNLOAD_WARNSIZE": 0,
        "CONCURRENT_REQUESTS": options.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": options.per_domain_concurrency,
        "DOWNLOAD_DELAY": options.delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if options.delay > 0 else 0.0,
        "AUTOTHROTTLE_ENABLED": options.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(options.delay, 0.5),
        "AUTOTHROTTLE_MAX_DELAY": 60.0,
        "RETRY_ENABLED": options.retries > 0,
        "RETRY_TIMES": options.retries,
        "REDIRECT_MAX_TIMES": 5,
        "METAREFRESH_ENABLED": False,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "DNS_TIMEOUT": min(options.timeout, 15.0),
        # Names are resolved and checked once per crawl and connections pinned to the checked addresses
        # (crawler/resolver.py). Scrapy installs this resolver itself only under CrawlerProcess; labourwatch's
        # AsyncCrawlerRunner crawls get it from AddressGuardMiddleware, which installs it on the reactor.
        "TWISTED_DNS_RESOLVER": "crawler.resolver.PinnedResolver",
        # A proxy (http_proxy in the environment) would resolve the target itself, outside the address guard.
        "HTTPPROXY_ENABLED": False,
        # Only http(s): a source or redirect must never reach file://, data:, ftp:// or s3://.
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "crawler.middlewares.StrictRobotsTxtMiddleware": 100,
            "crawler.middlewares.AddressGuardMiddleware": 50,
        },
        "LABOURWATCH_ALLOW_PRIVATE_NETWORKS": options.allow_private_networks,
        "ITEM_PIPELINES": {"crawler.pipeline.StorePipeline": 300},
        "CONCURRENT_ITEMS": 16,
        "EXTENSIONS": {"scrapy.extensions.telnet.TelnetConsole": None},
        "LOGSTATS_INTERVAL": 0,
        "STATS_DUMP": False,
        "LOG_ENABLED": False,
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
    }


def default_request_headers(options: CrawlOptions) -> dict[str, str]:
    """The headers Scrapy gives every labourwatch request unless one is set on it (a re-check adds
    If-None-Match / If-Modified-Since): the user agent, Scrapy's default Accept and Accept-Language, and the
    encodings its compression middleware accepts. The WARC export writes them as the request's headers, since
    the crawl does not record the request."""
    from scrapy.downloadermiddlewares.httpcompression import ACCEPTED_ENCODINGS
    from scrapy.settings.default_settings import DEFAULT_REQUEST_HEADERS

    return {"User-Agent": options.user_agent, **{str(k): str(v) for k, v in DEFAULT_REQUEST_HEADERS.items()},
            "Accept-Encoding": b", ".join(ACCEPTED_ENCODINGS).decode("ascii")}
