"""``labourwatch run``: one process, one event loop, APScheduler jobs on it, signals, reload and shutdown.

The asyncio reactor is installed by the caller before anything else; this module puts an APScheduler 3.x
``AsyncIOScheduler`` on that loop with jobs of fixed ids — ``poll``, ``revisit``, ``dispatch``, one
``digest:<route>`` per digest route and ``prune`` — all with ``max_instances=1``, ``coalesce=True`` and the
configured misfire grace time. SIGTERM/SIGINT stop it within ``daemon.shutdown_timeout``; SIGHUP reloads the
configuration without a restart, all or nothing: the new config and claims file are read and validated, the
new jobs and alert objects built, then the database side (sources, known claims, poll times of new sources)
is written in one transaction; only when all of that succeeded do the config, log redaction, settings and
jobs switch. At start, crawl runs left ``running`` by a process that died are closed as ``aborted``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.orm import Session

from analysis.claims import semantic
from analysis.cron import cron_trigger
from crawler import workers
from crawler.runner import preload
from db import repository as repo
from db.engine import Database, database_unavailable, error_summary
from db.models import utcnow
from scheduler.health import Health
from scheduler.http import ObservabilityServer, off_loop
from scheduler.jobs import Jobs
from scheduler.looplag import watch_loop_lag
from scheduler.metrics import Metrics
from scheduler.types import Settings, StagedConfig

logger = logging.getLogger(__name__)
# After a poll, wake up again when the next source is due, but not sooner than this (the poll job is still
# finishing its own run, and APScheduler would skip a run that overlaps it).
_MIN_WAKE = timedelta(seconds=1)

JobFunc = Callable[[], Awaitable[bool | None]]
Plan = list[tuple[str, JobFunc, BaseTrigger]]


def _every(delta: timedelta) -> IntervalTrigger:
    return IntervalTrigger(seconds=delta.total_seconds(), timezone=UTC)


def _reason(exc: BaseException) -> str:
    """An exception as one log line: its type and message (a config error's problems joined by ``;``)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {'; '.join(lines)}" if lines else type(exc).__name__


def _configure_workers(settings: Settings) -> None:
    """The extraction workers' idle stop, as ``crawl.workers_idle`` says."""
    idle = settings.crawl.workers_idle
    workers.configure(idle=None if idle is None else idle.total_seconds())


class Daemon:
    """The long-running monitor. ``await run()`` returns after a clean shutdown."""

    def __init__(self, db: Database, settings: Settings, load: Callable[[], StagedConfig], *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """``settings``: the configuration already applied; ``load``: reads and validates the config again
        (blocking, raises when it is invalid) for a reload."""
        self.db = db
        self.settings = settings
        self._load = load
        self.clock = clock
        self.metrics = Metrics(db)
        self.health = Health(settings.daemon.stall_after, clock)
        self.jobs: Jobs | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self.server: ObservabilityServer | None = None
        self._stopping: asyncio.Event | None = None
        self._running: set[asyncio.Task[Any]] = set()
        self._reloading: asyncio.Task[bool] | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Start the jobs and the health endpoint, serve until a stop signal, then shut down cleanly."""
        loop = asyncio.get_running_loop()
        preload()
        self._stopping = asyncio.Event()
        await self._close_stale_runs()
        self.jobs = Jobs(self.db, self.settings, self.metrics, clock=self.clock)
        await asyncio.to_thread(self.jobs.schedule_new_sources)
        self.scheduler = AsyncIOScheduler(event_loop=loop, timezone=UTC)
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        self._install(self._plan(self.settings))
        self.scheduler.start()
        await self._start_engine()
        self.health.scheduler_running(True)
        self._install_signals(loop)
        # The workers (and the semantic model) come up while the health endpoint starts and the first poll waits.
        # The semantic model is loaded ahead unless the config switches the signal off (claims.semantic). They
        # are stopped after crawl.workers_idle without a page, and the next page starts them again.
        _configure_workers(self.settings)
        warming = asyncio.ensure_future(workers.warm_up(self.settings.crawl.workers, model=semantic.enabled()))
        self._running.add(warming)
        warming.add_done_callback(self._running.discard)
        lag = asyncio.ensure_future(watch_loop_lag(self.metrics))
        listen = self.settings.daemon.listen
        if listen is not None:
            self.server = ObservabilityServer(listen[0], listen[1], self.health, self.metrics, self._check_database)
            await self.server.start()
            logger.info("health and metrics on http://%s:%d/healthz and /metrics", listen[0], self.server.port)
        logger.info("daemon started: %d sources enabled, %d routes", len(self.settings.enabled),
                    len(self.settings.routes))
        try:
            await self._stopping.wait()
        finally:
            await self._shutdown(lag)

    def stop(self) -> None:
        """Ask the daemon to shut down (what SIGTERM and SIGINT do)."""
        if self._stopping is not None and not self._stopping.is_set():
            logger.info("stopping: no new jobs; in-flight work has %ss", self.settings.daemon.shutdown_timeout
                        .total_seconds())
            self._stopping.set()

    def reload(self) -> None:
        """Reload the configuration in the background (what SIGHUP does); see ``apply_reload``."""
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.ensure_future(self.apply_reload())

    async def _close_stale_runs(self) -> None:
        """Close the crawl runs a process that died left ``running`` (this daemon has not crawled yet).

        Assumes no other process is crawling this database right now; a ``labourwatch crawl`` that is would
        still record its own outcome when it finishes."""
        closed = await asyncio.to_thread(self.db.in_write, repo.abort_stale_runs, self.clock())
        logger.log(logging.WARNING if closed else logging.INFO,
                   "start-up: closed %d crawl run(s) left running by a process that did not finish them "
                   "(marked aborted)", closed)

    async def _start_engine(self) -> None:
        """Start what runs jobs besides the scheduler: nothing for one node (cluster mode's engine worker)."""

    async def _stop_engine(self) -> None:
        """Stop what ``_start_engine`` started, its running jobs finished or abandoned within the shutdown bound
        (crawls have been told to stop)."""

    async def _reconfigure_engine(self, before: Settings) -> None:
        """Apply a reload's settings to what ``_start_engine`` started (``before``: the settings it replaced)."""

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    async def _shutdown(self, lag: asyncio.Future[None]) -> None:
        self.health.stopping()
        assert self.scheduler is not None and self.jobs is not None
        # Pause, not shut down, while running jobs finish: APScheduler's shutdown cancels the job tasks at once.
        self.scheduler.pause()
        # Crawls stop at once and cleanly; sends in flight finish (each is bounded by alerts.timeout).
        self.jobs.stop_crawls.set()
        await self._stop_engine()
        running = {task for task in self._running if not task.done()}
        if running:
            _, pending = await asyncio.wait(running, timeout=self.settings.daemon.shutdown_timeout.total_seconds())
            for task in pending:
                # Safe to abandon: claimed deliveries return to the queue when their lease ends, and a crawl's
                # stored pages are already committed.
                task.cancel()
            if pending:
                logger.warning("shutdown: abandoned %d job(s) still running after %ss", len(pending),
                               self.settings.daemon.shutdown_timeout.total_seconds())
                await asyncio.wait(pending, timeout=5)
        self.scheduler.shutdown(wait=False)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            asyncio.get_running_loop().remove_signal_handler(signum)
        if self.server is not None:
            await self.server.stop()
        lag.cancel()
        await asyncio.gather(lag, return_exceptions=True)
        logger.info("daemon stopped")

    # --- jobs ------------------------------------------------------------------------------------

    def _plan(self, settings: Settings) -> Plan:
        """The jobs ``settings`` call for, with their triggers (nothing is scheduled yet)."""
        assert self.jobs is not None
        options, jobs = settings.daemon, self.jobs
        plan: Plan = [
            ("poll", jobs.poll, _every(options.poll_every)),
            ("revisit", jobs.revisit, _every(options.revisit_every)),
            ("dispatch", jobs.dispatch, _every(options.dispatch_every)),
            ("prune", jobs.prune, cron_trigger(options.prune_cron)),
        ]
        plan += [(f"digest:{route.name}", jobs.dispatch, cron_trigger(route.cron))
                 for route in settings.routes if route.mode == "digest" and route.cron]
        return plan

    def _install(self, plan: Plan) -> None:
        """Schedule exactly the jobs of ``plan``: others are removed, and forgotten by health and metrics."""
        assert self.scheduler is not None
        options = self.settings.daemon
        self.health.stall_after = options.stall_after
        defaults = {"max_instances": 1, "coalesce": True, "replace_existing": True,
                    "misfire_grace_time": int(options.misfire_grace.total_seconds())}
        now = self.clock()
        wanted = {job_id for job_id, _, _ in plan}
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
        for job_id in self.health.retain(wanted):
            self.metrics.forget_job(job_id)
        for job_id, func, trigger in plan:
            self.health.expect(job_id, trigger)
            # Interval jobs run once at start rather than one interval later.
            first = now if isinstance(trigger, IntervalTrigger) and job_id != "revisit" else None
            self.scheduler.add_job(self._runner(job_id, func), trigger, id=job_id, name=job_id,
                                   next_run_time=first or trigger.get_next_fire_time(None, now), **defaults)

    def _runner(self, job_id: str, func: JobFunc) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            self.health.started(job_id)
            try:
                worked = await func()
            except asyncio.CancelledError:
                if self._stopping is None or not self._stopping.is_set():
                    raise
                # Cancelled by the shutdown bound: the crawl recorded itself as aborted; nothing to report.
                logger.info("job %s cancelled at shutdown", job_id)
                self.health.finished(job_id, False, "cancelled at shutdown")
                return
            except Exception as exc:
                # A job that fails is recorded and tried again on its schedule; the daemon never dies of it.
                self._log_failure(job_id, exc)
                self.metrics.job_error(job_id)
                self.health.finished(job_id, False, error_summary(exc))
                # A failed poll is not woken early, it waits for its next regular run: on a full SQLite disk the
                # next poll time could still be read but not rescheduled, and the wake-up retried every second.
                return
            else:
                # A run that found nothing to do (no source due) proves nothing about the job's health: it
                # counts as alive but does not clear a streak of failures.
                streak = self._streak(job_id)
                self.health.finished(job_id, True, idle=worked is False)
                if streak and worked is not False:
                    logger.info("job %s works again after %d failed run(s)", job_id, streak)
            finally:
                if task is not None:
                    self._running.discard(task)
            if job_id == "poll":
                await self._wake_poll()

        return run

    def _streak(self, job_id: str) -> int:
        """How many runs of ``job_id`` in a row have failed so far."""
        state = self.health.jobs.get(job_id)
        return state.failures if state is not None else 0

    def _log_failure(self, job_id: str, exc: Exception) -> None:
        """Log a failed run: with its traceback when it starts a streak of failures, unless the database is
        unavailable (an outage, not a bug: a traceback every run would bury the log); otherwise one line."""
        streak = self._streak(job_id) + 1
        if streak == 1 and not database_unavailable(exc):
            logger.error("job %s failed", job_id, exc_info=exc)
            return
        cause = "the database is unavailable: " if database_unavailable(exc) else ""
        logger.error("job %s failed (%d run(s) in a row): %s%s", job_id, streak, cause, error_summary(exc))

    async def _wake_poll(self) -> None:
        """Move the next poll run forward to when the next source is due, so that polls start on time
        rather than up to ``poll_every`` late."""
        if self.scheduler is None or self.jobs is None or self._stopping is None or self._stopping.is_set():
            return
        try:
            due = await asyncio.to_thread(self.jobs.next_due)
        except Exception as exc:
            if not database_unavailable(exc):
                logger.exception("cannot read the next poll time")
            return
        job = self.scheduler.get_job("poll")
        if due is None or job is None or job.next_run_time is None:
            return
        wake = max(due, self.clock() + _MIN_WAKE)
        if wake < job.next_run_time:
            job.modify(next_run_time=wake)

    def _on_skipped(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MAX_INSTANCES:
            # The previous run is still going (a long crawl): it picks up what fell due meanwhile itself.
            logger.debug("job %s: still running, a scheduled run was skipped", event.job_id)
        else:
            logger.warning("job %s: a scheduled run was missed (later than daemon.misfire_grace)", event.job_id)

    # --- reload and health -----------------------------------------------------------------------

    async def apply_reload(self) -> bool:
        """Reload the configuration, all or nothing; True when it was applied.

        Everything that can fail happens first and changes nothing: reading and validating the config and
        its claims file, building the jobs' triggers and alert objects, and writing the database side
        (sources, known claims, first poll times) in one transaction. Only then do the config, the log
        redaction, the settings and the jobs switch. On any failure the log says the reload was refused and
        why, and the daemon runs on exactly as before."""
        assert self.jobs is not None
        try:
            staged = await asyncio.to_thread(self._load)
            plan = self._plan(staged.settings)
            wiring = self.jobs.wire(staged.settings)
            await asyncio.to_thread(self.db.in_write, self._write, staged)
        except Exception as exc:
            logger.error("reload refused, nothing changed (still running the previous configuration): %s",
                         _reason(exc))
            return False
        staged.switch()
        before, self.settings = self.settings, staged.settings
        _configure_workers(staged.settings)
        self.jobs.use(wiring)
        if self._stopping is not None and not self._stopping.is_set():
            self._install(plan)
            await self._reconfigure_engine(before)
        if staged.settings.daemon.mode != before.daemon.mode:
            # The process is a single daemon or a cluster node for good: which one is decided when it starts.
            logger.warning("reload: daemon.mode %s → %s needs a restart; this process goes on as it started",
                           before.daemon.mode, staged.settings.daemon.mode)
        logger.info("configuration reloaded: %d sources enabled, %d routes", len(staged.settings.enabled),
                    len(staged.settings.routes))
        return True

    def _write(self, session: Session, staged: StagedConfig) -> None:
        assert self.jobs is not None
        staged.write(session)
        self.jobs.schedule_sources(session, staged.settings.enabled)

    async def _check_database(self) -> None:
        def ping() -> None:
            with self.db.read() as session:
                session.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(off_loop(ping), timeout=5)
        except Exception as exc:
            self.health.database_ok(False, error_summary(exc))
        else:
            self.health.database_ok(True)
