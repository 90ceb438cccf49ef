"""Frozen values the crawler is configured with; the shell builds them from the validated config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

DEFAULT_REVISIT: tuple[timedelta, ...] = (
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=7),
)


@dataclass(frozen=True)
class SourceSpec:
    """One configured source: where to look for new articles, and how."""

    id: str
    kind: str
    url: str
    name: str | None = None
    language: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    every: timedelta | None = None
    cron: str | None = None
    jitter: timedelta = timedelta(0)
    enabled: bool = True
    baseline: bool = False  # its first successful poll is stored without story alerts (see db.story)


@dataclass(frozen=True)
class CrawlOptions:
    """How to fetch: politeness, safety limits and the article re-check schedule."""

    user_agent: str = "labourwatch/0.1 (+https://github.com/labourwatch/labourwatch)"
    allow_private_networks: bool = False
    autothrottle: bool = True
    per_domain_concurrency: int = 2
    concurrency: int = 16
    delay: float = 1.0
    timeout: float = 30.0
    max_size: int = 10 * 1024 * 1024
    document_max_pages: int = 300  # a PDF of more pages is refused (document_too_many_pages)
    retries: int = 2
    revisit: tuple[timedelta, ...] = DEFAULT_REVISIT
    keep_raw: bool = True
    raw_retention: timedelta | None = timedelta(days=365)
    offtopic_retention: timedelta | None = timedelta(days=30)  # off-topic article rows, then kept as URL keys
    offtopic_link_retention: timedelta | None = timedelta(days=365)  # those URL keys
    max_articles_per_source: int = 200
    max_feed_age: timedelta | None = timedelta(days=30)
    workers: int | None = None  # extraction processes; None: one per spare core; 0: a thread instead
    workers_idle: timedelta | None = timedelta(minutes=5)  # the daemon stops them after this long without a page
    browser_sources: frozenset[str] = frozenset()  # ids of the sources with ``render: browser``
    browser_pages: int = 2  # pages the browser renders at once
    browser_timeout: float = 30.0  # seconds a page has to load in the browser
    browser_memory: int = 1024 * 1024 * 1024  # bytes the browser's processes may hold before it is restarted
