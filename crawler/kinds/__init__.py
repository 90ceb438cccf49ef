"""The registry of source kinds. A new kind is one ``SourceKind`` subclass added to ``SOURCE_KINDS``."""

from __future__ import annotations

from crawler.kinds.base import MAX_ITEMS, DiscoveredLink, ParseLimits, ParseResult, SourceKind, SourceParseError
from crawler.kinds.document import DocumentKind
from crawler.kinds.feed import FeedKind
from crawler.kinds.listing import ListingKind
from crawler.kinds.sitemap import SitemapKind

SOURCE_KINDS: dict[str, SourceKind] = {kind.name: kind for kind in (FeedKind(), ListingKind(), SitemapKind(),
                                                                    DocumentKind())}

__all__ = ["MAX_ITEMS", "SOURCE_KINDS", "DiscoveredLink", "ParseLimits", "ParseResult", "SourceKind",
           "SourceParseError"]
