"""The daemon's jobs: poll due sources, re-check due articles, send the outbox, prune. One object, one loop.

Every job runs on the event loop and sends blocking work (database, extraction, matching) to threads or
worker processes. Crawls take a lock, so a poll and a revisit never run side by side: one crawl at a time
keeps the per-host politeness slots of Scrapy's downloader meaningful.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from alerts.dispatch import Dispatcher
from alerts.routes import Router
from analysis.urls import politeness_key
from crawler.runner import KEY_RECHECKS, CrawlReport, run_crawl
from crawler.types import SourceSpec
from db import events, offtopic, pending, polls, story
from db import repository as repo
from db.engine import Database
from db.models import utcnow
from scheduler.metrics import Metrics
from scheduler.schedule import first_poll, interval, next_poll, schedule_base
from scheduler.types import Settings

logger = logging.getLogger(__name__)
# A poll job keeps crawling while sources fall due, but not forever: the other jobs' turn comes in between.
MAX_ROUNDS = 5
MAX_LATE_NAMED = 10  # sources named in the log line of a late poll


@dataclass(frozen=True)
class Wiring:
    """The settings the jobs run with and the alert objects built from them; swapped whole on reload."""

    settings: Settings
    dispatcher: Dispatcher
    router: Router


def describe_due(due: list[tuple[str, datetime | None]]) -> str:
    """Sources and their due times for a log line: ``due <id>@<ISO time> …`` (``never`` for a source with no due
    time), or ``article pages only`` (re-checks, pages found by other keys' crawls)."""
    if not due:
        return "article pages only"
    return "due " + " ".join(f"{source_id}@{at.isoformat() if at is not None else 'never'}" for source_id, at in due)


# A crawl's log line in cluster mode (``Jobs.crawl_key``): its job, node and each source's due time.
_CRAWL_LINE = re.compile(r"crawl of \S+ \((job \d+ on node \S+)\): due (.*)$", re.MULTILINE)


# A stopping node's crawl handing back the due polls it had not made (``Jobs._after_poll``).
_HANDED_BACK_LINE = re.compile(r"crawl stopped: \d+ due poll\(s\) not made go back to their due times: due (.*)$",
                               re.MULTILINE)


def logged_polls(log: str) -> list[tuple[str, str, str]]:
    """The polls a node's log records, as (source id, due time as logged, job and node): one due poll is one
    (source id, due time) pair, so a pair found twice across the nodes' logs is one poll run twice."""
    return [(source_id, at, job) for job, due in _CRAWL_LINE.findall(log)
            for source_id, _, at in (entry.rpartition("@") for entry in due.split())]


def polls_run_twice(logs: Iterable[str]) -> int:
    """Due polls (source id, due time) that more than one crawl made across the nodes' logs. A poll that a stopping
    node's crawl handed back unmade (SIGTERM before the source answered) and the next crawl made is not one."""
    texts = list(logs)
    started = Counter((source_id, at) for log in texts for source_id, at, _ in logged_polls(log))
    handed_back = Counter((source_id, at) for log in texts for due in _HANDED_BACK_LINE.findall(log)
                          for source_id, _, at in (entry.rpartition("@") for entry in due.split()))
    return sum(1 for poll, count in started.items() if count - handed_back[poll] > 1)


class Jobs:
    """The job bodies and the state they share: settings, metrics, the crawl lock and the stop signal."""

    def __init__(self, db: Database, settings: Settings, metrics: Metrics, *,
                 clock: Callable[[], datetime] = utcnow, rand: Callable[[], float] = random.random) -> None:
        self.db = db
        self.metrics = metrics
        self.clock = clock
        self.rand = rand
        self.crawl_lock = asyncio.Lock()
        self.dispatch_lock = asyncio.Lock()
        # Set at shutdown: running crawls stop cleanly (fetched pages are stored, the run is recorded).
        self.stop_crawls = asyncio.Event()
        self.settings = settings
        self.dispatcher = Dispatcher(db, settings.routes, settings.alerts, clock=clock)
        self.router = Router(settings.routes)

    def wire(self, settings: Settings) -> Wiring:
        """What the jobs would run with under ``settings``, built but not in use yet (a reload builds it before
        it changes anything, so a failure leaves the jobs as they were)."""
        return Wiring(settings, Dispatcher(self.db, settings.routes, settings.alerts, clock=self.clock),
                      Router(settings.routes))

    def use(self, wiring: Wiring) -> None:
        """Run with ``wiring`` from now on; running jobs finish with the old one."""
        self.settings, self.dispatcher, self.router = wiring.settings, wiring.dispatcher, wiring.router

    # --- source schedules ------------------------------------------------------------------------

    def schedule_new_sources(self) -> None:
        """``schedule_sources`` for the current settings, in a transaction of its own. Blocking: call in a
        thread."""
        self.db.in_write(self.schedule_sources, self.settings.enabled)

    def schedule_sources(self, session: Session, enabled: Mapping[str, SourceSpec]) -> None:
        """Give every enabled source a next poll time: never-scheduled ones now (spread by their jitter),
        and ones whose stored time is further away than their schedule now allows (after a reload that
        shortened it) at their new regular time. In the caller's transaction. Each time moves only where it is
        still as read: cluster nodes start together, and one node's crawl may take a source's first poll
        between another node's read and its write (which then made that poll due again at once)."""
        now = self.clock()
        current = dict(polls.due_sources(session, datetime.max.replace(tzinfo=UTC), enabled))
        moves: dict[str, tuple[datetime | None, datetime]] = {}
        for source_id, spec in enabled.items():
            at = current.get(source_id)
            if at is None:
                moves[source_id] = (None, first_poll(spec, now, self.rand))
            elif at > now + interval(spec, now) + spec.jitter:
                moves[source_id] = (at, now + interval(spec, now))
        polls.move_next_polls(session, moves)

    def _after_poll(self, session: Session, due: list[tuple[str, datetime | None]], started: datetime) -> None:
        """Each polled source's next poll, on its schedule from its due time (with backoff when it failed). When the
        daemon is stopping, a source the stopped crawl did not poll (no answer recorded since ``started``) goes
        back to its due time instead: the next crawl, on this node after a restart or on another node of a
        cluster, polls it, and the poll is neither lost nor counted as a failure."""
        enabled = self.settings.enabled
        failures = polls.failures(session, [source_id for source_id, _ in due])
        cut_off = set(polls.not_polled_since(session, [source_id for source_id, _ in due], started)) \
            if self.stop_crawls.is_set() else set()
        when = {}
        for source_id, at in due:
            spec = enabled.get(source_id)
            if spec is None:
                continue
            if source_id in cut_off:
                if at is not None:
                    when[source_id] = at
                continue
            when[source_id] = next_poll(spec, schedule_base(spec, at, started), failures.get(source_id, 0),
                                        self.settings.daemon.max_backoff, self.rand)
        if cut_off:
            # Not a poll run twice when the next crawl makes it (``polls_run_twice``): this one never fetched it.
            logger.info("crawl stopped: %d due poll(s) not made go back to their due times: %s", len(cut_off),
                        describe_due([(source_id, at) for source_id, at in due if source_id in cut_off]))
        polls.set_next_polls(session, when)

    def next_due(self) -> datetime | None:
        """The earliest next poll of an enabled source. Blocking: call in a thread."""
        with self.db.read() as session:
            return polls.next_due(session, self.settings.enabled)

    # --- jobs ------------------------------------------------------------------------------------

    async def poll(self) -> bool:
        """Crawl every source that is due, in one batched crawl; repeat while more fall due. False when
        nothing was due."""
        worked = False
        for _ in range(MAX_ROUNDS):
            if self.stop_crawls.is_set() or not await self._poll_once():
                break
            worked = True
        return worked

    async def _due(self, ids: Iterable[str] | None = None) -> list[tuple[str, datetime | None]]:
        """The enabled sources (among ``ids``, when given) due now (and, when that would not poll them noticeably
        early, within the batch window), with their due times."""
        settings = self.settings
        enabled = settings.enabled
        now = self.clock()
        due = await asyncio.to_thread(self.db.in_read, polls.due_sources, now + settings.daemon.batch_window,
                                      enabled if ids is None else ids)
        # A source due within the batch window joins this crawl, unless that would poll it noticeably early.
        return [(source_id, at) for source_id, at in due
                if at is None or at <= now + min(settings.daemon.batch_window, interval(enabled[source_id], at) / 10)]

    async def _poll_once(self) -> bool:
        due = await self._due()
        if not due:
            return False
        async with self.crawl_lock:
            if self.stop_crawls.is_set():
                return False  # the daemon began stopping while this poll waited for the other crawl
            await self._poll(due)
        return True

    async def _poll(self, due: list[tuple[str, datetime | None]], key: str | None = None,
                    owner: str | None = None) -> None:
        """Crawl the ``due`` sources (and, with ``key``, that key's due re-checks and pending pages, the key's crawl in
        cluster mode), count their lag and reschedule them."""
        settings = self.settings
        specs = [settings.enabled[source_id] for source_id, _ in due]
        # Lag is measured when the poll really starts, after any wait for a revisit crawl.
        started = self.clock()
        late = []
        for spec, (_, at) in zip(specs, due, strict=True):
            lag = max(0.0, (started - at).total_seconds()) if at is not None else 0.0
            self.metrics.poll_started(lag)
            if at is not None and started - at > interval(spec, at):
                # A whole regular poll went by without this source being fetched.
                self.metrics.poll_missed()
                late.append(f"{spec.id} {lag:.0f}s")
        if late:
            # One line per poll: after an outage every source is late, and a line each would flood the log.
            logger.warning("%d source(s) polled late, a scheduled poll was missed: %s", len(late),
                           ", ".join(late[:MAX_LATE_NAMED]) + (", …" if len(late) > MAX_LATE_NAMED else ""))
        try:
            report = await run_crawl(
                self.db, specs, settings.crawl, settings.topic, rechecks=key is not None,
                trigger="daemon", router=self.router, failing_after=settings.alerts.failing_after,
                stop=self.stop_crawls, key=key, owner=owner, specs=settings.enabled)
        finally:
            # Even a crawl that raised gets its sources rescheduled (with backoff), never a hot loop.
            await asyncio.to_thread(self.db.in_write, self._after_poll, due, started)
        self._observe("poll", report)

    # --- cluster mode: one job per politeness key ------------------------------------------------

    def due_keys(self) -> set[str]:
        """The politeness keys (``analysis.urls.politeness_key``) with a source, a re-check or a pending page (found
        by another key's crawl) due: one crawl job each. Blocking: call in a thread."""
        settings = self.settings
        now = self.clock()
        with self.db.read() as session:
            due = polls.due_sources(session, now + settings.daemon.batch_window, settings.enabled)
            return {politeness_key(settings.enabled[source_id].url) for source_id, _ in due} | \
                self._articles_due(session, now)

    @staticmethod
    def _articles_due(session: Session, now: datetime) -> set[str]:
        """The politeness keys with a re-check or a pending page due."""
        rechecks = repo.due_rechecks(session, now, KEY_RECHECKS)
        return {politeness_key(url) for _, url, _, _ in rechecks} | pending.due_keys(session, now)

    @staticmethod
    def _key_pages_due(session: Session, now: datetime, key: str) -> bool:
        """Whether ``key`` has a re-check or a pending page due."""
        return bool(repo.due_rechecks(session, now, 1, key=key) or pending.due(session, now, key=key, limit=1))

    def report_baselines(self) -> int:
        """The one summary of the baselines a cluster's crawls took (each key's crawl takes its own sources'), once
        none of the sources polled for a baseline is still awaiting its first poll: what a single daemon's first
        crawl reports. The number of sources reported. Blocking: call in a thread."""
        settings = self.settings
        now = self.clock()
        waiting = [source_id for source_id, spec in settings.enabled.items() if spec.baseline]

        def work(session: Session) -> int:
            runs = polls.unreported_baselines(session)
            if not runs or polls.awaiting_baseline(session, waiting, now + settings.daemon.cluster.stall_window):
                return 0
            names = {source_id: spec.name for source_id, spec in settings.enabled.items()}
            counts = polls.baseline_counts(session, sorted(runs), names)
            events.record_events(session, [story.baseline_draft(min(runs.values()), counts)], self.router, now)
            polls.baselines_reported(session, list(runs))
            return len(runs)

        return self.db.in_write(work)

    async def crawl_key(self, key: str, job: str = "", owner: str | None = None) -> bool:
        """Crawl the sources and re-checks of politeness key ``key`` that are due now, in one crawl, without the
        node's crawl lock (the job engine runs one job per key at a time across the cluster). False when nothing
        of the key was due: another node's job did it first, or the job was queued twice.

        Logs one line per crawl naming ``job`` (the engine's job and node) and each source's due time: one due
        poll of a source is one (source, due time) pair, so a poll run twice shows as the same pair twice.
        ``owner`` is recorded with the crawl run (the engine's job: its runs are closed if the job is handed over)."""
        if self.stop_crawls.is_set():
            return False
        due = await self._due(self.settings.enabled_by_key.get(key, ()))
        if due:
            # The database decides who polls: a source whose due time another job moved since it was read (the
            # same poll running elsewhere, or done already) is left out, whatever the engine's lock did.
            lease = self.clock() + self.settings.daemon.cluster.stall_window
            taken = set(await asyncio.to_thread(self.db.in_write, polls.claim_polls, due, lease))
            if len(taken) < len(due):
                logger.info("crawl of %s (%s): %d due poll(s) taken by another job: %s", key, job,
                            len(due) - len(taken), describe_due([d for d in due if d[0] not in taken]))
            due = [(source_id, at) for source_id, at in due if source_id in taken]
        if not due and not await asyncio.to_thread(self.db.in_read, self._key_pages_due, self.clock(), key):
            logger.debug("crawl of %s (%s): nothing due", key, job)
            return False
        logger.info("crawl of %s (%s): %s", key, job, describe_due(due))
        await self._poll(due, key=key, owner=owner)
        return True

    async def revisit(self) -> bool:
        """Re-check the articles that are due (the revisit schedule), when there are any (False: none)."""
        settings = self.settings
        due = await asyncio.to_thread(self.db.in_read, repo.due_rechecks, self.clock(), 1)
        if not due or self.stop_crawls.is_set():
            return False
        async with self.crawl_lock:
            if self.stop_crawls.is_set():
                return False
            report = await run_crawl(
                self.db, [], settings.crawl, settings.topic, rechecks=True, trigger="revisit", router=self.router,
                failing_after=settings.alerts.failing_after, stop=self.stop_crawls, specs=settings.enabled)
        self._observe("revisit", report)
        return True

    def _observe(self, job: str, report: CrawlReport) -> None:
        sources = {source_id: result.ok for source_id, result in report.ledger.sources.items()}
        self.metrics.crawl_finished(job, report.stats, sources, report.seconds)

    async def dispatch(self) -> None:
        """Send the deliveries that are due, and the digests whose time has come."""
        async with self.dispatch_lock:
            started = asyncio.get_running_loop().time()
            report = await self.dispatcher.dispatch()
            seconds = asyncio.get_running_loop().time() - started
        self.metrics.dispatch_finished(report.sent, report.failed, report.dead, report.deferred, seconds,
                                       released=report.released, lease_lost=report.lease_lost)
        if report.sent or report.failed or report.dead or report.released or report.lease_lost:
            logger.info("dispatch: %d sent, %d failed, %d dead, %d deferred, %d released, %d lost to another "
                        "dispatcher, %d digests in %.1fs", report.sent, report.failed, report.dead, report.deferred,
                        report.released, report.lease_lost, report.digests, seconds)

    async def prune(self) -> None:
        """Retention: old errors, runs, sent deliveries and raw bodies; off-topic articles compacted to the keys
        of their URLs, and old keys forgotten (``db.offtopic``)."""
        settings = self.settings
        now = self.clock()

        def work(session: Session) -> dict[str, int]:
            counts = polls.prune(session, errors_before=now - settings.daemon.keep_errors,
                                 sent_before=now - settings.daemon.keep_sent)
            if settings.crawl.raw_retention is not None:
                counts["raw"] = repo.prune_raw(session, now - settings.crawl.raw_retention)
            return counts

        counts = await asyncio.to_thread(self.db.in_write, work)
        crawl = settings.crawl
        counts |= await asyncio.to_thread(
            offtopic.prune, self.db, stop=self.stop_crawls.is_set,
            rows_before=now - crawl.offtopic_retention if crawl.offtopic_retention is not None else None,
            links_before=now - crawl.offtopic_link_retention if crawl.offtopic_link_retention is not None else None)
        logger.info("prune: %s", counts)
