"""Scrapy settings from ``CrawlOptions``: every default labourwatch changes, in one place, with the reason."""

from __future__ import annotations

from typing import Any

from scrapy.settings import default_settings

from crawler.browser import browser_settings
from crawler.types import CrawlOptions

# Scrapy's default components that the settings below switch off (COOKIES_ENABLED, HTTPPROXY_ENABLED,
# METAREFRESH_ENABLED, HTTPCACHE_ENABLED, TELNETCONSOLE_ENABLED, REMOTE_CONTROL_ENABLED) or replace (robots.txt).
_OFF_MIDDLEWARES = frozenset({
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware",
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware",
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
})
_OFF_EXTENSIONS = frozenset({
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
})


def _without(components: dict[str, int], off: frozenset[str]) -> dict[str, int]:
    return {path: order for path, order in components.items() if path not in off}


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
            "crawler.middlewares.StrictRobotsTxtMiddleware": 100,
            "crawler.middlewares.AddressGuardMiddleware": 50,
        },
        # Scrapy's defaults without the components switched off here: Scrapy imports every component it is given,
        # even one set to None (to compare names), only to be told it is off, and an import stays for the daemon's
        # life (the cookies middleware imports tldextract and requests, the remote control aiohttp: 19 MiB).
        "DOWNLOADER_MIDDLEWARES_BASE": _without(default_settings.DOWNLOADER_MIDDLEWARES_BASE, _OFF_MIDDLEWARES),
        "EXTENSIONS_BASE": _without(default_settings.EXTENSIONS_BASE, _OFF_EXTENSIONS),
        "LABOURWATCH_ALLOW_PRIVATE_NETWORKS": options.allow_private_networks,
        "ITEM_PIPELINES": {"crawler.pipeline.StorePipeline": 300},
        "CONCURRENT_ITEMS": 16,
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
