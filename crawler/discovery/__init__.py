"""``sources discover``: from a site's home page to proposed feed, sitemap and listing sources.

``page`` reads the home page (feed links, the listing candidate), ``probe`` fetches what it points to through
Scrapy with the crawler's own safety settings, ``choose`` decides which proposals to switch on, ``run`` ties
them together."""

from crawler.discovery.run import discover
from crawler.discovery.types import Candidate, Check, Discovery

__all__ = ["Candidate", "Check", "Discovery", "discover"]
