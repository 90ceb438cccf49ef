"""Helpers for crawl tests: source specs from the fixture web and fast crawl options for loopback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from crawler import reactor
from crawler.runner import CrawlReport, run_crawl
from crawler.types import CrawlOptions, SourceSpec
from db.engine import Database
from labourwatch.config import parse_config

# Every fixture site shares 127.0.0.1, so the polite defaults (2 per host, 1 s apart) are lowered here.
FAST = CrawlOptions(
    allow_private_networks=True, autothrottle=False, per_domain_concurrency=8, concurrency=16, delay=0.0,
    timeout=2.0, retries=0, revisit=(timedelta(0), timedelta(0), timedelta(0)), max_feed_age=None,
)


def specs(entries: list[dict[str, Any]]) -> list[SourceSpec]:
    """Source specs validated through the real config loader."""
    return parse_config("", environ={}).sources if not entries else _load(entries)


def _load(entries: list[dict[str, Any]]) -> list[SourceSpec]:
    import yaml

    return parse_config(yaml.safe_dump({"sources": entries}), environ={}).sources


def crawl(db: Database, sources: list[SourceSpec], options: CrawlOptions = FAST, **kwargs: Any) -> CrawlReport:
    """One crawl pass on the process's reactor loop."""
    return reactor.run(run_crawl(db, sources, options, _topic(), **kwargs))


def _topic():  # type: ignore[no-untyped-def]
    from analysis.relevance import DEFAULT_TOPIC

    return DEFAULT_TOPIC
