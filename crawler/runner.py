"""One crawl pass: plan from the database, run the spider on ``AsyncCrawlerRunner``, record the outcome."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from analysis.types import Topic
from crawler import reuse
from crawler.browser import needs_browser
from crawler.ledger import ARTICLES_FAILING, GONE_ERRORS, CrawlLedger, SourceResult, http_status
from crawler.memory import release_free_memory
from crawler.settings import scrapy_settings
from crawler.spider import CrawlPlan, MonitorSpider, Recheck
from crawler.store import CrawlStore
from crawler.types import CrawlOptions, SourceSpec
from crawler.workers import crawling
from db import events, pending, polls, story
from db import repository as repo
from db.engine import Database
from db.events import EventDraft, Router
from db.models import Source

logger = logging.getLogger(__name__)
# The status of a crawl that raised or was cancelled (and of runs a dead process left running).
ABORTED = "aborted"


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


# Due re-checks cluster mode's plan reads to find the politeness keys with one due (a key's crawl reads its own).
KEY_RECHECKS = 5000


def _plan(db: Database, sources: Sequence[SourceSpec], options: CrawlOptions, rechecks: bool,
          restrict_rechecks: bool, key: str | None = None, dry_run: bool = False,
          specs: Mapping[str, SourceSpec] | None = None) -> CrawlPlan:
    now = datetime.now(UTC)
    # Documents pending for a source (child sitemaps) are read with the source's spec: without ``specs`` none is
    # taken.
    kinds = (pending.ARTICLE,) if specs is None else (pending.ARTICLE, pending.DOCUMENT)
    restrict = [s.id for s in sources] if restrict_rechecks else None
    with db.read() as session:
        due = repo.due_rechecks(session, now, 500, source_ids=restrict, key=key) if rechecks else []
        # Pages found on another key are fetched with the re-checks (a single daemon's crawl takes any key's: those
        # a cluster left behind).
        found = pending.due(session, now, key=key, source_ids=restrict, kinds=kinds) if rechecks else []
        urls = [s.url for s in sources] + [url for _, url, _, _ in due] + \
            [page.url for page, _ in found if page.kind == pending.DOCUMENT]
        follow = {s.id: list(row.follow_urls or []) for s in sources
                  if (row := session.get(Source, s.id)) is not None}
        validators = repo.validators_for(session, urls)
    # A document of a source no longer configured (or disabled) is not read for it.
    orphans = [page.url for page, _ in found if page.kind == pending.DOCUMENT and page.source_id not in (specs or {})]
    if orphans and not dry_run:
        db.in_write(pending.done, orphans)
    found = [(page, attempts) for page, attempts in found if page.url not in orphans]
    taken = db.in_write(pending.take, found, now) if found and not dry_run else [page for page, _ in found]
    return CrawlPlan(sources=list(sources), rechecks=[Recheck(*row) for row in due],
                     validators=validators, follow_urls=follow, key=key, pending=taken, specs=specs or {})


def _start(db: Database, sources: Sequence[SourceSpec], trigger: str,
           owner: str | None = None) -> tuple[int, frozenset[str]]:
    """Record the run; its id, and which of ``sources`` this crawl polls for their baseline (never polled
    successfully before, and their config asks for one)."""
    _close_unclosed(db)

    def work(session: Session) -> tuple[int, frozenset[str]]:
        repo.sync_sources(session, sources, disable_missing=False)
        baseline = frozenset(polls.first_polls(session, [s.id for s in sources if s.baseline]))
        return repo.start_run(session, trigger, [s.id for s in sources], owner=owner), baseline

    return db.in_write(work)


def _status(ledger: CrawlLedger, failing: Mapping[str, str]) -> str:
    """``failed`` when every source failed, ``partial`` when some did, else ``ok``; a source whose article
    pages failed systematically counts as failed, polled in this crawl or not."""
    results = [r.ok for r in ledger.sources.values()] + [False for s in failing if s not in ledger.sources]
    if results and not any(results):
        return "failed"
    return "partial" if any(r is False for r in results) else "ok"


@dataclass(frozen=True)
class _Outcome:
    """What the end-of-crawl transaction records, besides the ledger."""

    run_id: int
    status: str
    failing: Mapping[str, str]
    options: CrawlOptions
    sources: Sequence[SourceSpec]
    router: Router | None
    failing_after: int
    baseline: frozenset[str] = frozenset()
    stopped: bool = False  # ``stop`` was set: a source that had not answered was cut off, it did not fail
    key: str | None = None  # a cluster's crawl of one politeness key: its baselines are summarised by the plan


def _source_drafts(session: Session, outcome: _Outcome, result: SourceResult, now: datetime) -> list[EventDraft]:
    """Record a polled source's health (and, when it is safe, its validators); its health events."""
    message = result.error if result.ok is not None else "the crawl ended before the source answered"
    failures = repo.record_source_result(
        session, result.source_id, ok=bool(result.ok), at=now, items=result.items, new=result.new,
        not_modified=result.not_modified, error_code=result.error_code, error=message,
        follow_urls=result.follow_urls)
    return _health_events(session, outcome, result.source_id, failures, result.error_code, message, now)


def _health_events(session: Session, outcome: _Outcome, source_id: str, failures: tuple[int, int] | None,
                   code: str | None, message: str | None, now: datetime) -> list[EventDraft]:
    """``source_failing`` or ``source_recovered`` when a source's failure streak crossed the threshold."""
    if failures is None:
        return []
    before, after = failures
    if after < outcome.failing_after and not (after == 0 and before > 0):
        return []  # neither failing nor recovering: no need to ask whether a failing report is open
    spec = next((s for s in outcome.sources if s.id == source_id), None)
    return events.source_events(
        source_id, spec.name if spec else None, spec.url if spec else "", failures_before=failures[0],
        failures_after=failures[1], threshold=outcome.failing_after,
        error=f"{code}: {message}" if code else message, at=now,
        reported=events.failing_reported(session, source_id))


def _record_sources(session: Session, ledger: CrawlLedger, outcome: _Outcome, now: datetime) -> list[EventDraft]:
    """Source health of the crawl and the events it makes: polled sources (in an aborted or stopped crawl only those
    that answered), then sources not polled whose article pages failed systematically."""
    drafts = []
    for result in ledger.sources.values():
        if result.ok is None and (outcome.status == ABORTED or outcome.stopped):
            continue  # the crawl broke or was stopped before this source answered: not the source's failure
        drafts += _source_drafts(session, outcome, result, now)
        # Validators make the next crawl skip what did not change: kept only when every article the source led to
        # was stored, and never from a crawl cut short, where a document (a child sitemap) may have been fetched
        # before all of its links were even scheduled: its 304 next time would hide them for good.
        if result.ok and ledger.complete(result.source_id) and outcome.status != ABORTED:
            for url, etag, last_modified in result.validators:
                repo.save_validators(session, url, etag, last_modified)
    for result in ledger.followed.values():
        # Documents read for a source another key's crawl polled (child sitemaps): what they found is the
        # source's, and their validators are kept on the same terms; the source's poll was recorded by that crawl.
        repo.add_found(session, result.source_id, items=result.items, new=result.new)
        if ledger.complete(result.source_id, followed=True) and outcome.status != ABORTED:
            for url, etag, last_modified in result.validators:
                repo.save_validators(session, url, etag, last_modified)
    pending.done(session, ledger.documents_read)
    for source_id, reason in outcome.failing.items():
        if source_id not in ledger.sources:  # not polled in this crawl: a re-check pass found it failing
            failures = repo.record_source_failure(session, source_id, at=now, error_code=ARTICLES_FAILING,
                                                  error=reason)
            drafts += _health_events(session, outcome, source_id, failures, ARTICLES_FAILING, reason, now)
    # A baseline is taken when the source's poll succeeded; one that failed is polled for its baseline again.
    taken = [r.source_id for r in ledger.sources.values() if r.ok and r.source_id in outcome.baseline]
    if taken and outcome.key is not None:
        # One summary for the baselines the cluster's crawls take together, as a single daemon's one crawl makes.
        polls.baselines_taken(session, taken, outcome.run_id)
    elif taken:
        names = {s.id: s.name for s in outcome.sources}
        drafts.append(story.baseline_draft(outcome.run_id, polls.baseline_counts(session, taken, names)))
    return drafts


def _record_rechecks(session: Session, ledger: CrawlLedger, revisit: Sequence[timedelta], now: datetime) -> None:
    """Reschedule the re-checks that answered 304 and those that failed (or mark them gone)."""
    for article_id in ledger.not_modified_articles:
        repo.record_not_modified(session, article_id, now, revisit)
    for article_id, code in ledger.failed_rechecks.items():
        repo.record_failed_check(session, article_id, now, revisit, status=http_status(code),
                                 gone=code in GONE_ERRORS)


def _record(db: Database, ledger: CrawlLedger, outcome: _Outcome) -> None:
    """The end-of-crawl transaction: source health, re-check schedules, errors, events and the run."""
    now = datetime.now(UTC)

    def work(session: Session) -> None:
        drafts = _record_sources(session, ledger, outcome, now)
        _record_rechecks(session, ledger, outcome.options.revisit, now)
        for error in ledger.errors:
            repo.record_error(session, run_id=outcome.run_id, source_id=error.source_id, url=error.url,
                              code=error.code, message=error.message, severity=error.severity, at=now)
        events.record_events(session, drafts, outcome.router, now)
        repo.finish_run(session, outcome.run_id, outcome.status, dict(ledger.counts), len(ledger.errors))

    db.in_write(work)  # run again when PostgreSQL aborts it for a race with another writer (db.retries)


# Runs this process could not close, not even as aborted (the database was away): (run id, stats, errors),
# closed by the next crawl, so a run is not left ``running`` until the daemon restarts.
_unclosed: dict[int, tuple[dict[str, int], int]] = {}
_unclosed_lock = threading.Lock()


def _record_or_abort(db: Database, ledger: CrawlLedger, outcome: _Outcome) -> None:
    """Record the crawl; when that fails, close its run as ``aborted`` at least (never left ``running``; when
    even that fails, the next crawl closes it), then raise."""
    try:
        _record(db, ledger, outcome)
    except Exception:
        logger.exception("recording crawl run %s failed; closing it as aborted", outcome.run_id)
        counts = (dict(ledger.counts), len(ledger.errors))
        try:
            with db.write() as session:
                repo.finish_run(session, outcome.run_id, ABORTED, *counts)
        except Exception:
            with _unclosed_lock:
                _unclosed[outcome.run_id] = counts
        raise


def _close_unclosed(db: Database) -> None:
    """Close, as aborted, the runs an earlier crawl of this process could not close; kept for later on failure."""
    with _unclosed_lock:
        pending = dict(_unclosed)
    if not pending:
        return
    with db.write() as session:
        for run_id, (stats, errors) in pending.items():
            repo.finish_run(session, run_id, ABORTED, stats, errors)
    with _unclosed_lock:
        for run_id in pending:
            _unclosed.pop(run_id, None)
    logger.info("closed %d crawl run(s) left running by a failed crawl, as aborted", len(pending))


# Single-class settings that name a component no labourwatch crawl loads (the HTTP cache is off).
_UNUSED_CLASSES = frozenset({"HTTPCACHE_POLICY", "HTTPCACHE_STORAGE"})


def preload() -> None:
    """Import the Scrapy components a labourwatch crawl loads (download handlers, middlewares, extensions, the
    scheduler's classes), and none it does not: an import stays in the daemon's memory for its life.

    A crawl imports them on first use, on the event loop: about a second of stall for a daemon's first
    poll. Called once at daemon start, before the loop has other work."""
    from scrapy.settings import Settings
    from scrapy.utils.conf import build_component_list
    from scrapy.utils.misc import load_object

    settings = Settings(scrapy_settings(CrawlOptions()))
    # The download handlers by scheme (None: switched off); the components by order, without those set to None.
    paths: list[Any] = [path for path in settings.getwithbase("DOWNLOAD_HANDLERS").values() if path]
    for name in ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "ITEM_PIPELINES"):
        paths += build_component_list(settings.getwithbase(name))
    # The single classes a crawl loads by setting (scheduler, queues, resolver, stats …).
    paths += [value for name, value in settings.items()
              if name not in _UNUSED_CLASSES and isinstance(value, str) and value.startswith("scrapy.")]
    for path in paths:
        try:
            load_object(path)
        except Exception:  # an optional component whose dependency is missing: the crawl skips it too
            logger.debug("preload: cannot import %s", path)
    # The HTTP handler imports its TLS context factory on first use; importing it makes deprecated aliases whose
    # creation walks the calling stack with its source lines (inspect.stack): 0.17 CPU s under a crawl's deep stack.
    importlib.import_module("scrapy.core.downloader.contextfactory")
    freeze_imports()


_frozen = False  # freeze_imports ran in this process
_frozen_lock = threading.Lock()


def freeze_imports() -> None:
    """Leave what the process holds now (its imported modules, functions, classes) out of every later garbage
    collection: they live as long as the process. Each full collection walked them all again, about 150 ms of CPU
    in a daemon's process, four times in a cold crawl of 1,500 pages (bench/crawl_bench.py; README, Performance).
    Collected first, so no garbage is kept for good.

    Once per process: ``preload`` runs at every daemon start and crawl command, and a process that runs several (a
    test process, a daemon started again in-process) would otherwise pay a full collection each time and freeze
    whatever the earlier ones left alive, so that a cycle among those is never freed."""
    global _frozen
    with _frozen_lock:
        if _frozen:
            return
        _frozen = True
    gc.collect()
    gc.freeze()


async def _stop_when_set(stop: asyncio.Event, crawler: Crawler) -> None:
    await stop.wait()
    await _stop_engine(crawler)


async def _stop_engine(crawler: Crawler) -> None:
    """Stop the crawl gracefully, without the downloads that wait in a host's queue for the request delay:
    Scrapy's engine closes only when every queued download is done, so a node told to stop would go on fetching
    for queue length times the delay. Those are dropped as cancelled (no outcome: fetched again next time).

    Only this crawl's crawler: the runner it was started on is shared with the process's other crawls."""
    if isinstance(crawler.spider, MonitorSpider):
        crawler.spider.stopping = True  # a cancelled download is the stop's, not a failure of its page
    stopping = asyncio.ensure_future(crawler.stop_async())
    # Until the engine has closed: a download the engine handed over before it saw the stop joins a queue too.
    while not stopping.done():
        if getattr(crawler, "_engine", None) is not None:
            _drop_queued_downloads(crawler.engine.downloader)
        await asyncio.wait([stopping], timeout=0.05)
    await stopping


def _drop_queued_downloads(downloader: Any) -> None:
    for slot in list(downloader.slots.values()):
        while slot.queue:
            _, queued = slot.queue.popleft()
            queued.errback(Failure(DownloadCancelledError("the crawl is stopping")))


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
                    failing_after: int = 3, stop: asyncio.Event | None = None,
                    key: str | None = None, owner: str | None = None,
                    specs: Mapping[str, SourceSpec] | None = None) -> CrawlReport:
    """Poll ``sources`` once and re-check the articles that are due; must run on the reactor's loop.

    With ``match_claims``, the claim sentences of every new version are matched against the active known
    claims in the database and stored with it. Every stored change is recorded as an event, with one
    delivery per destination that ``router`` picks; a source that fails ``failing_after`` times in a row
    makes a ``source_failing`` event, and ``source_recovered`` when it works again. A source whose article
    pages mostly fail (``PageTally.systematic``) fails with ``articles_failing``. With ``key``, cluster mode's crawl
    of one politeness key (``analysis.urls.politeness_key``): only that key's due re-checks and pending pages are
    fetched, and new article pages on other keys are left to their own key's crawl (``db.pending``). ``owner`` is
    recorded with the run (cluster mode: the engine's job), so that the run can be closed if the process running it
    dies (``repository.abort_runs_of``). ``specs``: the configured sources by id, for the child documents (sitemaps)
    other keys' crawls left pending for them (``db.pending``), which this crawl then reads for their sources.

    Setting ``stop`` ends the crawl early and cleanly: requests in flight are dropped, pages already fetched
    are stored, and the sources that did not answer are left as they were (cut off, not failed: the caller puts
    their poll back). A crawl that raises or is
    cancelled is recorded as ``aborted`` with what it had (see ``_record_sources``), then the error goes on."""
    started = time.perf_counter()
    run_id, baseline = ((None, frozenset[str]()) if dry_run
                        else await asyncio.to_thread(_start, db, sources, trigger, owner))
    ledger = CrawlLedger(on_progress=on_progress)
    try:
        with crawling():  # the extraction workers are not stopped for being idle while the crawl runs
            await _crawl(db, sources, options, topic, ledger, rechecks=rechecks, restrict_rechecks=restrict_rechecks,
                         dry_run=dry_run, match_claims=match_claims, router=router, stop=stop, baseline=baseline,
                         key=key, specs=specs)
    except BaseException as exc:
        failing = ledger.judge_articles()
        if run_id is not None:
            await _record_aborted(db, ledger, _Outcome(run_id, ABORTED, failing, options, sources, router,
                                                       failing_after, baseline, key=key))
        _log(run_id, key, f"{ABORTED} ({type(exc).__name__})", time.perf_counter() - started, ledger, failing)
        raise
    failing = ledger.judge_articles()
    status = _status(ledger, failing)
    if run_id is not None:
        await asyncio.to_thread(_record_or_abort, db, ledger, _Outcome(
            run_id, status, failing, options, sources, router, failing_after, baseline,
            stopped=stop is not None and stop.is_set(), key=key))
    # The crawl's pages and responses are freed now (they lived in _crawl): hand their pages back to the system,
    # or the daemon keeps its busiest crawl's size for good.
    await asyncio.to_thread(release_free_memory)
    seconds = time.perf_counter() - started
    _log(run_id, key, status, seconds, ledger, failing)
    return CrawlReport(run_id=run_id, status=status, seconds=seconds, ledger=ledger)


def _log(run_id: int | None, key: str | None, status: str, seconds: float, ledger: CrawlLedger,
         failing: Mapping[str, str]) -> None:
    """The crawl's closing line: ``crawl <run>[ of <key>]: <status> in <seconds>s <counts>``."""
    logger.log(logging.INFO if status == "ok" else logging.WARNING, "crawl %s%s: %s in %.1fs %s", run_id,
               f" of {key}" if key is not None else "", status, seconds, dict(ledger.counts))
    for source_id, reason in failing.items():
        logger.error("source %s: %s", source_id, reason)


async def _record_aborted(db: Database, ledger: CrawlLedger, outcome: _Outcome) -> None:
    """Record a crawl that raised or was cancelled; shielded, so a second cancellation cannot interrupt the
    transaction (the thread finishes it). A failure here is logged, never raised over the crawl's own."""
    try:
        await asyncio.shield(asyncio.to_thread(_record_or_abort, db, ledger, outcome))
    except Exception:
        logger.exception("could not record aborted crawl run %s", outcome.run_id)


async def _crawl(db: Database, sources: Sequence[SourceSpec], options: CrawlOptions, topic: Topic,
                 ledger: CrawlLedger, *, rechecks: bool, restrict_rechecks: bool, dry_run: bool, match_claims: bool,
                 router: Router | None, stop: asyncio.Event | None, baseline: frozenset[str],
                 key: str | None = None, specs: Mapping[str, SourceSpec] | None = None) -> None:
    """Plan, run the spider until it ends (or ``stop`` is set), and close the store; fills ``ledger``."""
    plan = await asyncio.to_thread(_plan, db, sources, options, rechecks, restrict_rechecks, key, dry_run, specs)
    claims = await asyncio.to_thread(reuse.known_claims, db) if match_claims else None
    store = CrawlStore(db, options, topic, dry_run=dry_run, claims=claims, router=router, baseline=baseline)
    # The browser's handler only for a crawl with pages to render: any other crawl never starts Playwright.
    browser = needs_browser(options, [s.id for s in plan.sources] + [r.source_id for r in plan.rechecks]
                            + [page.source_id for page in plan.pending])
    runner = reuse.scrapy_runner(options, browser)
    crawler = runner.create_crawler(MonitorSpider)
    watcher = asyncio.ensure_future(_stop_when_set(stop, crawler)) if stop is not None else None
    crawling = runner.crawl(crawler, plan=plan, store=store, ledger=ledger, options=options)
    try:
        # Shielded: a cancellation stops the engine the way ``stop`` does (Scrapy's own tasks cancelled
        # mid-step may swallow it and leave work behind), so no request carries on after the run is recorded.
        await asyncio.shield(crawling)
    except asyncio.CancelledError:
        await _stop_crawler(crawler, crawling)
        raise
    finally:
        if watcher is not None:
            watcher.cancel()
        # A stopped crawl returns while its last pages may still be in the workers: give them a moment.
        await store.wait_idle(timeout=5.0)
        # Waits for the writer thread to store the last pages: off the loop.
        await asyncio.to_thread(store.close)
    if stop is not None and stop.is_set() and plan.pending and not dry_run:
        # Stopped (its node is shutting down): the pages it took and did not store are due again now, for the next
        # crawl of the key on any node, rather than when their lease ends.
        await asyncio.to_thread(db.in_write, pending.release, [page.url for page in plan.pending],
                                datetime.now(UTC))
    _count_statuses(ledger, crawler.stats.get_stats() if crawler.stats else {})


async def _stop_crawler(crawler: Crawler, crawling: asyncio.Task[None]) -> None:
    """Stop a cancelled crawl's engine; if it has not ended within a second (a download hanging), cancel it.

    A cancellation is the last resort (the daemon's shutdown grace is over), so this waits only briefly."""
    stopping = asyncio.ensure_future(_stop_quietly(crawler))
    await asyncio.wait([stopping, crawling], timeout=1.0)
    if not crawling.done():
        logger.warning("the cancelled crawl did not stop within 1 s; cancelling its downloads")
        crawling.cancel()
        await asyncio.wait([crawling], timeout=1.0)


async def _stop_quietly(crawler: Crawler) -> None:
    try:
        await _stop_engine(crawler)
    except Exception:  # the engine was already stopping or cancelled: it ends either way
        logger.debug("stopping a cancelled crawl", exc_info=True)
