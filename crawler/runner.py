"""One crawl pass: plan from the database, run the spider on ``AsyncCrawlerRunner``, record the outcome."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner

from analysis.claims.sentences import KnownClaims
from analysis.types import Topic
from crawler.ledger import CrawlLedger
from crawler.settings import scrapy_settings
from crawler.spider import CrawlPlan, MonitorSpider, Recheck
from crawler.store import CrawlStore
from crawler.types import CrawlOptions, SourceSpec
from db import claims as claim_queries
from db import events
from db import repository as repo
from db.engine import Database
from db.events import Router
from db.models import Source

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrawlReport:
    """The outcome of one crawl pass."""

    run_id: int | None
    status: str
    seconds: float
    ledger: CrawlLedger

    @property
    def stats(self) -> dict[str, Any]:
        """Counters of the pass (documents, 304s, articles by outcome, errors)."""
        return dict(sorted(self.ledger.counts.items()))


def _plan(db: Database, sources: Sequence[SourceSpec], options: CrawlOptions, rechecks: bool,
          restrict_rechecks: bool) -> CrawlPlan:
    now = datetime.now(UTC)
    with db.read() as session:
        due = repo.due_rechecks(session, now, source_ids=[s.id for s in sources] if restrict_rechecks else None) \
            if rechecks else []
        urls = [s.url for s in sources] + [url for _, url, _, _ in due]
        follow = {s.id: list(row.follow_urls or []) for s in sources
                  if (row := session.get(Source, s.id)) is not None}
        validators = repo.validators_for(session, urls)
    return CrawlPlan(sources=list(sources), rechecks=[Recheck(*row) for row in due],
                     validators=validators, follow_urls=follow)


def _known_claims(db: Database) -> KnownClaims | None:
    with db.read() as session:
        active = claim_queries.list_claims(session, "active")
    return KnownClaims.of(active) if active else None


def _start(db: Database, sources: Sequence[SourceSpec], trigger: str) -> int:
    with db.write() as session:
        repo.sync_sources(session, sources, disable_missing=False)
        return repo.start_run(session, trigger, [s.id for s in sources])


def _status(ledger: CrawlLedger) -> str:
    results = [r.ok for r in ledger.sources.values()]
    if results and not any(results):
        return "failed"
    return "partial" if ledger.errors and any(r is False for r in results) else "ok"


def _record(db: Database, run_id: int, ledger: CrawlLedger, status: str, options: CrawlOptions,
            sources: Sequence[SourceSpec], router: Router | None, failing_after: int) -> None:
    now = datetime.now(UTC)
    with db.write() as session:
        drafts = []
        for result in ledger.sources.values():
            message = result.error if result.ok is not None else "the crawl ended before the source answered"
            failures = repo.record_source_result(
                session, result.source_id, ok=bool(result.ok), at=now, items=result.items, new=result.new,
                not_modified=result.not_modified, error_code=result.error_code, error=message,
                follow_urls=result.follow_urls)
            if failures is not None:
                spec = next((s for s in sources if s.id == result.source_id), None)
                drafts += events.source_events(
                    result.source_id, spec.name if spec else None, spec.url if spec else "",
                    failures_before=failures[0], failures_after=failures[1], threshold=failing_after,
                    error=f"{result.error_code}: {message}" if result.error_code else message, at=now)
            if result.ok and not result.article_failures:
                for url, etag, last_modified in result.validators:
                    repo.save_validators(session, url, etag, last_modified)
        for article_id in ledger.not_modified_articles:
            repo.record_not_modified(session, article_id, now, options.revisit)
        for error in ledger.errors:
            repo.record_error(session, run_id=run_id, source_id=error.source_id, url=error.url, code=error.code,
                              message=error.message, severity=error.severity, at=now)
        events.record_events(session, drafts, router, now)
        repo.finish_run(session, run_id, status, dict(ledger.counts), len(ledger.errors))
        if options.raw_retention is not None:
            repo.prune_raw(session, now - options.raw_retention)


def preload() -> None:
    """Import every Scrapy component a crawl loads (download handlers, middlewares, extensions).

    A crawl imports them on first use, on the event loop: about a second of stall for a daemon's first
    poll. Called once at daemon start, before the loop has other work."""
    from scrapy.settings import default_settings
    from scrapy.utils.misc import load_object

    for name in ("DOWNLOAD_HANDLERS_BASE", "DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE",
                 "EXTENSIONS_BASE", "ITEM_PIPELINES_BASE"):
        for path in getattr(default_settings, name, {}):
            try:
                load_object(path)
            except Exception:  # an optional component whose dependency is missing: the crawl skips it too
                logger.debug("preload: cannot import %s", path)


async def _stop_when_set(stop: asyncio.Event, runner: AsyncCrawlerRunner) -> None:
    await stop.wait()
    await runner.stop()


def _count_statuses(ledger: CrawlLedger, stats: dict[str, Any]) -> None:
    """Responses by HTTP status (Scrapy's downloader stats) as ``http_<status>`` counters of the ledger."""
    prefix = "downloader/response_status_count/"
    for key, value in stats.items():
        if key.startswith(prefix):
            ledger.counts[f"http_{key[len(prefix):]}"] += int(value)


async def run_crawl(db: Database, sources: Sequence[SourceSpec], options: CrawlOptions, topic: Topic, *,
                    rechecks: bool = True, restrict_rechecks: bool = False, dry_run: bool = False,
                    trigger: str = "cli", on_progress: Callable[[str], None] | None = None,
                    match_claims: bool = True, router: Router | None = None,
                    failing_after: int = 3, stop: asyncio.Event | None = None) -> CrawlReport:
    """Poll ``sources`` once and re-check the articles that are due; must run on the reactor's loop.

    With ``match_claims``, the claim sentences of every new version are matched against the active known
    claims in the database and stored with it. Every stored change is recorded as an event, with one
    delivery per destination that ``router`` picks; a source that fails ``failing_after`` times in a row
    makes a ``source_failing`` event, and ``source_recovered`` when it works again.

    Setting ``stop`` ends the crawl early and cleanly: requests in flight are dropped, pages already fetched
    are stored, and the sources that did not answer are recorded as such."""
    started = time.perf_counter()
    run_id = None if dry_run else await asyncio.to_thread(_start, db, sources, trigger)
    plan = await asyncio.to_thread(_plan, db, sources, options, rechecks, restrict_rechecks)
    claims = await asyncio.to_thread(_known_claims, db) if match_claims else None
    ledger = CrawlLedger(on_progress=on_progress)
    store = CrawlStore(db, options, topic, dry_run=dry_run, claims=claims, router=router)
    runner = AsyncCrawlerRunner(scrapy_settings(options))
    crawler = runner.create_crawler(MonitorSpider)
    watcher = asyncio.ensure_future(_stop_when_set(stop, runner)) if stop is not None else None
    try:
        await runner.crawl(crawler, plan=plan, store=store, ledger=ledger, options=options)
    finally:
        if watcher is not None:
            watcher.cancel()
        # A stopped crawl returns while its last pages may still be in the workers: give them a moment.
        await store.wait_idle(timeout=5.0)
        # Waits for the writer thread to store the last pages: off the loop.
        await asyncio.to_thread(store.close)
    _count_statuses(ledger, crawler.stats.get_stats() if crawler.stats else {})
    status = _status(ledger)
    if run_id is not None:
        await asyncio.to_thread(_record, db, run_id, ledger, status, options, sources, router,
                                failing_after)
    seconds = time.perf_counter() - started
    logger.info("crawl %s: %s in %.1fs %s", run_id, status, seconds, dict(ledger.counts))
    return CrawlReport(run_id=run_id, status=status, seconds=seconds, ledger=ledger)
