"""Running one discovery on the reactor's loop, with the crawler's own Scrapy settings and guards."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner

from crawler.discovery.choose import recommend
from crawler.discovery.probe import DiscoverySpider
from crawler.discovery.types import Discovery
from crawler.kinds import ParseLimits
from crawler.settings import scrapy_settings
from crawler.types import CrawlOptions

# Discovery is interactive and reads small documents: tighter than a crawl's defaults, never looser.
MAX_TIMEOUT = 15.0
MAX_SIZE = 5 * 1024 * 1024


def discovery_options(options: CrawlOptions) -> CrawlOptions:
    """The crawl options a discovery runs with: the config's politeness and address policy, one request at a
    time per host, no retries, a timeout of at most 15 s and bodies of at most 5 MiB."""
    return replace(options, per_domain_concurrency=1, concurrency=4, retries=0, autothrottle=False,
                   timeout=min(options.timeout, MAX_TIMEOUT), max_size=min(options.max_size, MAX_SIZE))


def discovery_settings(options: CrawlOptions) -> dict[str, Any]:
    """A crawl's Scrapy settings (address guard, pinned resolver, robots.txt, size cap, timeouts), without its
    store: a discovery stores nothing."""
    settings = scrapy_settings(options)
    settings["ITEM_PIPELINES"] = {}
    return settings


async def discover(url: str, options: CrawlOptions) -> Discovery:
    """Discover the sources of the site at ``url``; must run on the reactor's loop (``crawler.reactor.run``).

    ``error`` is set on the result when the page itself could not be fetched or read."""
    polite = discovery_options(options)
    result = Discovery(url=url)
    runner = AsyncCrawlerRunner(discovery_settings(polite))
    await runner.crawl(DiscoverySpider, url=url, result=result, limits=ParseLimits(max_size=polite.max_size))
    result.candidates = recommend(result.candidates)
    return result
