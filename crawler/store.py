"""The crawl's view of the database: blocking repository calls run in worker threads, never on the loop.

Article writes go through one writer thread with group commit: pages that arrive while it is busy are
stored together in one transaction (a commit costs as much as storing an article), and the batch shares its
statements where that stores the same rows as its pages one after another (new articles, validators, grouping's
candidate updates, events). When a batch fails, it is rolled back and its pages are stored one transaction each,
so one bad page never takes others with it.

In a dry run every read works as usual and every write is skipped, so ``crawl --dry-run`` stores nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from analysis.claims.sentences import KnownClaims
from analysis.diff import diff_versions
from analysis.types import Topic
from crawler.processing import FetchedPage, ProcessedPage
from crawler.types import CrawlOptions
from crawler.workers import PageWorkers, default_workers
from db import background, candidates, copies, events, pending, story
from db import repository as repo
from db.engine import Database
from db.events import Router
from db.repository import StoreOptions


@dataclass(frozen=True)
class PageResult:
    """What happened to one article page: ``new``, ``new_offtopic``, ``changed``, ``unchanged`` or ``duplicate``
    (it leads to another source's article), and the notices to record on its source."""

    page: ProcessedPage
    action: str
    stored: repo.StoreOutcome | None = None

    @property
    def notices(self) -> tuple[repo.Notice, ...]:
        """What extraction and storing found worth a row on the page's source."""
        return self.page.notices + (self.stored.notices if self.stored else ())


# Pages per write transaction at most: large enough to amortise the commit, small enough that a
# failed batch is cheap to redo page by page.
MAX_BATCH = 50
# A short batch waits this long at most for the pages still in the workers, up to GATHER of them: the writer is
# faster than pages arrive, so without waiting a crawl's transactions held one or two pages, each paying the
# statements a batch shares (1 page 3.4 ms of writer CPU, 5 pages 2.3 ms each: bench/parts_bench.py --batch).
GATHER = 10
GATHER_WAIT = 0.05


@dataclass(frozen=True)
class _Job:
    page: FetchedPage
    processed: ProcessedPage
    future: asyncio.Future[PageResult]


def _settle(future: asyncio.Future[PageResult], outcome: PageResult | Exception) -> None:
    if future.cancelled():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class StoreClosedError(RuntimeError):
    """A page finished processing after its crawl was stopped and the store closed: it is not stored (the
    next poll fetches it again)."""


class CrawlStore:
    """Async access to the repository for one crawl."""

    def __init__(self, db: Database, options: CrawlOptions, topic: Topic, *, dry_run: bool = False,
                 claims: KnownClaims | None = None, router: Router | None = None,
                 baseline: frozenset[str] = frozenset()) -> None:
        self.db = db
        self.baseline = baseline  # sources polled for their baseline: changes stored, never sent
        self._claims_by_id = {claim.id: claim for claim in claims.matcher.claims} if claims else {}
        count = default_workers() if options.workers is None else options.workers
        self._pages = PageWorkers(count, topic, claims)
        self.router = router
        self.dry_run = dry_run
        self._closed = False
        self._inflight = 0
        self._idle = asyncio.Event()
        self.store_options = StoreOptions(revisit=options.revisit, keep_raw=options.keep_raw)
        # One writer thread: concurrent writers would only queue on the database's write lock (SQLite
        # sleeps in its busy handler while it waits); extraction still runs in parallel beside it.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labourwatch-db-writer")
        self._pending: list[_Job] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)  # a page joined ``_pending``
        self._draining = False

    def close(self) -> None:
        """Finish pending writes and stop the writer thread; pages still being processed are abandoned."""
        self._closed = True
        self._writer.shutdown(wait=True)

    async def known_urls(self, urls: Sequence[str]) -> set[str]:
        """Which URLs already lead to a stored article."""
        return await asyncio.to_thread(self.db.in_read, repo.known_urls, urls)

    async def article_ids(self, urls: Sequence[str]) -> dict[str, int]:
        """The stored article each URL leads to, by URL."""
        return await asyncio.to_thread(self.db.in_read, repo.article_ids, urls)

    async def validators(self, urls: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """Stored validators of the given URLs."""
        return await asyncio.to_thread(self.db.in_read, repo.validators_for, urls)

    async def defer(self, pages: Sequence[pending.Pending]) -> None:
        """Leave ``pages`` (found on other politeness keys) to the crawls of their keys: recorded durably before the
        crawl goes on (``db.pending``)."""
        if pages and not self.dry_run:
            await asyncio.to_thread(self.db.in_write, pending.add, pages, datetime.now(UTC))

    async def store_page(self, page: FetchedPage) -> PageResult:
        """Extract, score and match one page in a worker process, then store it in the writer thread.

        Raises ExtractionError."""
        self._inflight += 1
        try:
            return await self._store_page(page)
        finally:
            self._inflight -= 1
            if not self._inflight:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no page is being processed or stored (at most ``timeout`` seconds); True when idle."""
        if self._inflight:
            self._idle.clear()
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except TimeoutError:
                return False
        return True

    async def _store_page(self, page: FetchedPage) -> PageResult:
        processed = await self._pages.process(page)
        if self._closed:
            raise StoreClosedError("the crawl stopped before the page was stored")
        if self.dry_run:
            fetch = processed.to_fetch(page)
            action = await asyncio.to_thread(self.db.in_read, repo.classify_article, fetch.doc.canonical_url,
                                             fetch.content_hash)
            return PageResult(processed, action)
        loop = asyncio.get_running_loop()
        job = _Job(page, processed, loop.create_future())
        with self._lock:
            self._pending.append(job)
            self._arrived.notify()
            start, self._draining = not self._draining, True
        if start:
            self._writer.submit(self._drain, loop)
        return await job.future

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """Writer thread: store queued pages, a batch per transaction, until the queue is empty."""
        while True:
            with self._lock:
                self._gather()
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if not batch:
                    self._draining = False
                    return
            for job, outcome in zip(batch, self._store_batch(batch), strict=True):
                loop.call_soon_threadsafe(_settle, job.future, outcome)

    def _gather(self) -> None:
        """Writer thread, holding the lock: wait up to GATHER_WAIT for more pages while fewer than GATHER are queued
        and more are being processed (``_inflight``, read across threads: a hint, the wait is bounded anyway)."""
        deadline = time.monotonic() + GATHER_WAIT
        while 0 < len(self._pending) < GATHER and self._inflight > len(self._pending) and not self._closed:
            left = deadline - time.monotonic()
            if left <= 0 or not self._arrived.wait(left):
                return

    def _store_batch(self, batch: list[_Job]) -> list[PageResult | Exception]:
        try:
            # Run again when PostgreSQL aborts it for a race with another writer (db.retries).
            return [*self.db.in_write(self._store_jobs, batch)]
        except Exception as exc:  # handed to the page's own caller, which records it on the source
            if len(batch) == 1:
                return [exc]
        # The batch was rolled back as a whole: store each page on its own, so only the culprit fails.
        return [outcome for job in batch for outcome in self._store_batch([job])]

    def _store_jobs(self, session: Session, batch: list[_Job]) -> list[PageResult]:
        """Store a batch of pages in one transaction, each as if alone and in order, with statements shared by the
        batch where they can be (``repo.store_articles``; validators, pending pages and events once a batch)."""
        fetches = [job.processed.to_fetch(job.page) for job in batch]
        grouping = candidates.Grouping(session)
        results, changes = [], []
        for job, fetch, stored in zip(batch, fetches, repo.store_articles(session, fetches, self.store_options,
                                                                          diff_versions), strict=True):
            page, processed = job.page, job.processed
            drafts = story.change_events(events.StoredArticle(
                action=stored.action, article_id=stored.article_id, version_id=stored.version_id,
                version_number=stored.version_number, source_id=page.source_id, url=fetch.doc.canonical_url,
                title=fetch.doc.title, relevance=processed.relevance.score, diff=stored.diff,
                previous_title=stored.previous_title), processed.matches, self._claims_by_id,
                self._context(session, page, stored, processed, grouping))
            changes.append((drafts, page.fetched_at))
            results.append(PageResult(processed, stored.action, stored))
        grouping.finish()
        # Under the URL a re-check requests (where the article was found), not the canonical URL it names.
        repo.save_many_validators(session, [(job.page.discovered_url, job.page.headers.get("etag"),
                                             job.page.headers.get("last-modified")) for job in batch])
        # Stored: no crawl takes them again.
        pending.done(session, [job.page.discovered_url for job in batch if job.page.pending])
        # The events of these changes commit with them: a crash can lose neither one without the other.
        events.record_changes(session, changes, self.router)
        return results

    def _context(self, session: Session, page: FetchedPage, stored: repo.StoreOutcome, processed: ProcessedPage,
                 grouping: candidates.Grouping) -> story.ChangeContext:
        """What decides which of a change's events are sent: the source's baseline, whether the article copies
        another outlet's, the sentences its outlet printed before and the new claims other articles reported
        first (each recorded here for the articles that come after)."""
        if stored.version_id is None or stored.action not in ("new", "changed"):
            return story.ChangeContext()
        matches, now = processed.matches, page.fetched_at
        known = None if processed.sketch is None else copies.Stored(
            processed.sketch, processed.doc.canonical_url, (stored.version_id, processed.content_hash),
            new=stored.action == "new")
        original = copies.link_copy(session, stored.article_id, page.source_id, processed.doc.text, now, known)
        repeated = background.record_sentences(session, page.source_id, stored.article_id,
                                               [(m.index, m.sentence) for m in matches], now)
        grouped = grouping.group(
            article_id=stored.article_id, version_id=stored.version_id, source_id=page.source_id,
            sentences=[m for m in matches if m.match.label == "new"], now=now, keys=dict(processed.claim_keys),
            new_article=stored.action == "new")
        return story.ChangeContext(
            baseline=page.baseline or page.source_id in self.baseline,
            copy_of=copies.copy_dict(original) if original else None,
            background=repeated.repeats, repeats=frozenset(i for i, g in grouped.items() if not g.alert))
