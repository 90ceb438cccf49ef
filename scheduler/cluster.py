"""Cluster mode (``daemon.mode: cluster``, issue 18): several nodes share the daemon's work through Procrastinate,
a job queue on the PostgreSQL database they already share.

Every node runs the same process: the daemon of ``scheduler.daemon`` (its event loop and Scrapy's reactor, the
extraction workers, the health endpoint), with no APScheduler jobs, and a Procrastinate worker on the same loop.
The work units are Procrastinate jobs:

- ``plan``, periodic every ``daemon.cluster.plan_every``: Procrastinate defers one job per fire time for the whole
  cluster (its periodic defers are unique in the database). It hands the jobs of workers silent for longer than
  the stall window back to the queue, then defers one ``crawl`` job per politeness key (host and port) with a
  source, a re-check or a page found by another key's crawl due, and one ``dispatch``; once the crawls that took
  sources' baselines are over, it reports those baselines in one summary (``Jobs.report_baselines``).
- ``crawl(key)``: the crawl of that key's due sources, re-checks and pages other keys' crawls found on it (an
  article a feed on host A links on host B is fetched by B's crawl, and a child sitemap on B of an index on A is
  read there for the index's source: ``db.pending``), through the daemon's own poll code. Deferred with the
  queueing lock ``crawl:<key>`` (a key waits in the queue once) and the lock ``crawl:<key>`` (a key's jobs never
  run side by side, on one node or two).
- ``dispatch``: the alert outbox and the digests that are due, under the lock ``dispatch`` (one node at a time).
- ``prune``, periodic on ``daemon.prune_cron``: retention, and the engine's own finished jobs.

A job that runs again is harmless: it reads what is due when it starts (a key's sources are rescheduled by the job
that polled them), and the store keeps one row per URL, version and event key.

A reload (SIGHUP) that changes the engine's settings (``daemon.cluster.*``, ``daemon.prune_cron``,
``daemon.shutdown_timeout``) swaps the node's engine: a new app (its pool and periodic crons) and worker start with
them, and the previous worker takes no more jobs and stops once its running jobs are done, heartbeating meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException, UniqueViolation
from procrastinate.job_context import JobContext
from procrastinate.jobs import Job, Status
from procrastinate.tasks import Task
from procrastinate.worker import Worker
from sqlalchemy.engine import make_url

from analysis.cron import every_cron
from db import politeness
from db import repository as repo
from db.engine import Database, error_summary
from db.models import utcnow
from scheduler.daemon import Daemon, Plan
from scheduler.types import DaemonOptions, Settings, StagedConfig

logger = logging.getLogger(__name__)
QUEUE = "labourwatch"
# Finished jobs of the engine older than this are deleted by the prune job (succeeded ones are deleted at once).
KEEP_FINISHED_HOURS = 24 * 7
RESTART_AFTER = 1.0  # seconds before a worker that stopped by itself is started again
# Procrastinate runs the queued job of highest priority first (then the oldest). Crawls are 0: planning (which
# also hands a dead node's jobs back), sending alerts and pruning go before a backlog of them. At one priority
# a node behind on its crawls took 66 s instead of the 15 s stall window to hand a killed node's jobs back
# (bench/cluster_scale_bench.py): its plan waited behind the queued crawls.
HOUSEKEEPING_PRIORITY = 10
CRAWL_LOCK = "crawl:"  # a key's crawl jobs' lock and queueing lock: this and the key
CRAWL_TASK = "labourwatch.crawl"


def engine_conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://…``), for the engine's
    own connection pool."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def node_name() -> str:
    """This node in the logs: host name and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def engine_changes(before: DaemonOptions, after: DaemonOptions) -> list[str]:
    """The settings the engine's app and worker are built with that differ between ``before`` and ``after``, as
    ``name old → new``."""
    pairs = [(f"daemon.cluster.{name}", getattr(before.cluster, name), getattr(after.cluster, name))
             for name in ("concurrency", "plan_every", "heartbeat", "stall_window")]
    pairs += [(f"daemon.{name}", getattr(before, name), getattr(after, name))
              for name in ("prune_cron", "shutdown_timeout")]
    return [f"{name} {old} → {new}" for name, old, new in pairs if old != new]


@dataclass(eq=False)
class _Engine:
    """One Procrastinate app of this node (its connection pool and periodic tasks) and the worker running on it."""

    app: App
    crawl: Task[Any, Any, Any]  # the app's crawl and dispatch tasks, deferred by the plan
    dispatch: Task[Any, Any, Any]
    task: asyncio.Task[None] | None = None  # ``ClusterDaemon._work``
    worker: Worker | None = None


class ClusterDaemon(Daemon):
    """The daemon of one node of a cluster: the jobs come from the engine's queue, not from a local scheduler."""

    def __init__(self, db: Database, settings: Settings, load: Callable[[], StagedConfig], *, url: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        """``url``: the SQLAlchemy URL of the PostgreSQL database (the engine opens its own pool on it)."""
        super().__init__(db, settings, load, clock=clock)
        self.options = settings.daemon.cluster
        self._url = url
        self.engine = self._build_engine(url)
        self._draining: set[asyncio.Task[None]] = set()  # engines a reload replaced, finishing their jobs

    @property
    def app(self) -> App:
        """The app jobs are deferred and managed with (the newest, after a reload swapped the engine)."""
        return self.engine.app

    # --- the engine ------------------------------------------------------------------------------

    def _build_engine(self, url: str) -> _Engine:
        """A Procrastinate app with this node's tasks, periodic ones on the configured crons (a reload that
        changes them swaps the engine: ``_reconfigure_engine``); its worker starts with ``_work``."""
        app = App(connector=PsycopgConnector(conninfo=engine_conninfo(url), min_size=1,
                                             max_size=self.options.concurrency + 3))

        @app.periodic(cron=every_cron(self.options.plan_every), periodic_id="plan", queueing_lock="plan")
        @app.task(name="labourwatch.plan", queue=QUEUE, priority=HOUSEKEEPING_PRIORITY)
        async def plan(timestamp: int) -> None:
            await self._runner("plan", self._plan_tick)()

        @app.task(name=CRAWL_TASK, queue=QUEUE, pass_context=True)
        async def crawl(context: JobContext, key: str) -> None:
            await self._runner("crawl", lambda: self._crawl(key, context.job.id))()

        @app.task(name="labourwatch.dispatch", queue=QUEUE, priority=HOUSEKEEPING_PRIORITY)
        async def dispatch() -> None:
            assert self.jobs is not None
            await self._runner("dispatch", self.jobs.dispatch)()

        @app.periodic(cron=self.settings.daemon.prune_cron, periodic_id="prune", queueing_lock="prune", lock="prune")
        @app.task(name="labourwatch.prune", queue=QUEUE, priority=HOUSEKEEPING_PRIORITY)
        async def prune(timestamp: int) -> None:
            await self._runner("prune", self._prune)()

        return _Engine(app, crawl=crawl, dispatch=dispatch)

    async def _start_engine(self) -> None:
        await self.app.open_async()
        self.engine.task = asyncio.ensure_future(self._work(self.engine))
        options = self.options
        logger.info("cluster node %s: engine worker started (%d concurrent jobs, planning every %ss, heartbeat "
                    "%ss, stall window %ss)", node_name(), options.concurrency, options.plan_every.total_seconds(),
                    options.heartbeat.total_seconds(), options.stall_window.total_seconds())

    async def _work(self, engine: _Engine) -> None:
        """Run the engine's worker until cancelled; one that stops by itself (a side task of it failed: its
        database connection, say) is started again, so the node never goes on without taking jobs."""
        options = self.options
        while True:
            self.health.engine_running(True)
            try:
                # Built here rather than by ``App.run_worker_async``: a reload's drain reads its id and bound.
                engine.worker = Worker(
                    app=engine.app, queues=[QUEUE], name=f"labourwatch {node_name()}",
                    concurrency=options.concurrency,
                    install_signal_handlers=False,  # the daemon's handlers stop the worker, with everything else
                    update_heartbeat_interval=options.heartbeat.total_seconds(),
                    stalled_worker_timeout=options.stall_window.total_seconds(),
                    shutdown_graceful_timeout=self.settings.daemon.shutdown_timeout.total_seconds(),
                    delete_jobs="successful")  # the job table keeps what is waiting, running or went wrong
                await engine.worker.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.error("cluster node %s: the engine worker failed (%s); starting it again in %ss", node_name(),
                             error_summary(exc), RESTART_AFTER)
                self.health.engine_running(False, error_summary(exc))
            else:
                logger.error("cluster node %s: the engine worker stopped by itself; starting it again in %ss",
                             node_name(), RESTART_AFTER)
                self.health.engine_running(False, "stopped by itself")
            await asyncio.sleep(RESTART_AFTER)

    async def _stop_engine(self) -> None:
        task, self.engine.task = self.engine.task, None
        if task is not None:
            # A cancelled worker stops fetching jobs and waits for its running ones (their crawls were told to
            # stop) up to the shutdown bound, then unregisters from the database.
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.app.close_async()
        if self._draining:
            # Engines a reload replaced wait for their jobs without a bound; told to stop, those end promptly.
            _, late = await asyncio.wait(self._draining, timeout=self.settings.daemon.shutdown_timeout.total_seconds())
            if late:
                for job in [job for job in self._running if not job.done()]:
                    job.cancel()  # what is left runs on a replaced engine (this one's are over)
                await asyncio.wait(late, timeout=5)
        logger.info("cluster node %s: engine worker stopped", node_name())

    async def _reconfigure_engine(self, before: Settings) -> None:
        """Apply a reload's engine settings: when any changed, a new engine (app with the new pool size and periodic
        crons, worker with the new concurrency, heartbeat and stall window) starts taking jobs, and the previous one
        is drained (``_drain``): no job is stopped, re-run or lost, and none waits while the swap happens."""
        changes = engine_changes(before.daemon, self.settings.daemon)
        self.options = self.settings.daemon.cluster  # the plan's stall window, at once
        if not changes or self.engine.task is None:
            return
        try:
            engine = self._build_engine(self._url)
            await engine.app.open_async()
        except Exception as exc:
            logger.error("cluster node %s: reload changed %s, but a new engine could not be opened (%s); the engine "
                         "runs on with its previous settings until the next reload or a restart", node_name(),
                         "; ".join(changes), error_summary(exc))
            return
        previous, self.engine = self.engine, engine
        engine.task = asyncio.ensure_future(self._work(engine))
        drain = asyncio.ensure_future(self._drain(previous))
        self._draining.add(drain)
        drain.add_done_callback(self._draining.discard)
        logger.info("cluster node %s: reload changed %s: a new engine worker takes the jobs; the previous one takes "
                    "no more and stops when its running jobs are done", node_name(), "; ".join(changes))

    async def _drain(self, engine: _Engine) -> None:
        """Stop a replaced engine's worker once its running jobs are done, with no bound (they end as they would
        have), and close its app. The worker's heartbeat is kept up meanwhile: Procrastinate stops it first, and a
        worker silent for the stall window would have its jobs run again on another node."""
        worker, task = engine.worker, engine.task
        if worker is not None:
            worker.shutdown_graceful_timeout = None
        beating = asyncio.ensure_future(self._heartbeat(engine))
        try:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        finally:
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            await engine.app.close_async()
        logger.info("cluster node %s: the previous engine worker stopped, its jobs done", node_name())

    async def _heartbeat(self, engine: _Engine) -> None:
        while True:
            await asyncio.sleep(self.options.heartbeat.total_seconds())
            worker_id = engine.worker.worker_id if engine.worker is not None else None
            if worker_id is None:  # unregistered: its jobs are done
                return
            try:
                await engine.app.job_manager.update_heartbeat(worker_id)
            except Exception as exc:  # the database away: the next beat tries again
                logger.warning("cluster node %s: heartbeat of the previous engine worker failed (%s)", node_name(),
                               error_summary(exc))

    # --- the daemon's hooks ----------------------------------------------------------------------

    def _plan(self, settings: Settings) -> Plan:
        return []  # every job comes from the engine

    async def _close_stale_runs(self) -> None:
        # Other nodes may be crawling: a run left "running" here may be theirs.
        logger.info("start-up: crawl runs left running are not closed in cluster mode (other nodes may own them)")

    # --- jobs ------------------------------------------------------------------------------------

    async def _plan_tick(self) -> bool:
        """Hand stalled jobs back, defer a crawl per due politeness key and a dispatch, report the baselines the
        crawls took once the first poll they came with is over; False when no key was due."""
        assert self.jobs is not None
        await self._retry_stalled()
        keys = await asyncio.to_thread(self.jobs.due_keys)
        queued = 0
        # A key whose crawl waits in the queue already would only have its defer refused (a round trip and a unique
        # violation each: most of the plan's CPU when the keys wait a tick or two). One that starts meanwhile gets a
        # new job next tick, as before; one queued meanwhile is refused as before.
        for key in sorted(keys - await self._queued_keys()):
            if await _defer(self.engine.crawl.configure(lock=CRAWL_LOCK + key, queueing_lock=CRAWL_LOCK + key),
                            key=key):
                queued += 1
        await _defer(self.engine.dispatch.configure(lock="dispatch", queueing_lock="dispatch"))
        reported = await asyncio.to_thread(self.jobs.report_baselines)
        if reported:
            logger.info("plan: the baselines of %d source(s) reported in one summary", reported)
        if keys:
            logger.info("plan: %d key(s) due, %d crawl job(s) deferred (the others were queued already)",
                        len(keys), queued)
        return bool(keys)

    async def _queued_keys(self) -> set[str]:
        """The politeness keys with a crawl job waiting in the queue (holding its queueing lock ``crawl:<key>``)."""
        waiting = await self.app.job_manager.list_jobs_async(queue=QUEUE, task=CRAWL_TASK, status="todo")
        return {job.queueing_lock.removeprefix(CRAWL_LOCK) for job in waiting
                if job.queueing_lock and job.queueing_lock.startswith(CRAWL_LOCK)}

    async def _crawl(self, key: str, job_id: int | None) -> bool:
        """The crawl of ``key``, no sooner than the request delay after its last crawl ended on any node (a crawl
        keeps the delay between its own requests; the hand-over between nodes must too)."""
        assert self.jobs is not None
        delay = self.settings.crawl.delay
        if delay > 0:
            wait = await asyncio.to_thread(self.db.in_read, politeness.seconds_to_wait, key, delay, self.clock())
            if wait > 0:
                logger.debug("crawl of %s waits %.2f s: its last crawl ended less than %g s ago", key, wait, delay)
                with contextlib.suppress(TimeoutError):  # set: the node stops, and the crawl then does nothing
                    await asyncio.wait_for(self.jobs.stop_crawls.wait(), wait)
        crawled = await self.jobs.crawl_key(key, job=f"job {job_id} on node {node_name()}", owner=f"job {job_id}")
        if crawled and delay > 0:
            await asyncio.to_thread(self.db.in_write, politeness.crawl_ended, key, self.clock())
        return crawled

    async def _prune(self) -> None:
        assert self.jobs is not None
        await self.jobs.prune()
        await self.app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS, queue=QUEUE, include_failed=True,
                                                   include_cancelled=True, include_aborted=True)

    async def _retry_stalled(self) -> None:
        """Jobs of workers silent for longer than the stall window (their node died) back to the queue, to run
        again on a live node; their workers forgotten."""
        manager = self.app.job_manager
        window = self.options.stall_window.total_seconds()
        for job in await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=window):
            # The crawl run the silent node opened for the job will never be closed by it.
            closed = await asyncio.to_thread(self.db.in_write, repo.abort_runs_of, f"job {job.id}", self.clock())
            if closed:
                logger.warning("closed %d crawl run(s) of stalled job %s as aborted", closed, job.id)
            try:
                await manager.retry_job(job)
            except UniqueViolation:
                # The key is queued already (the queueing lock allows one waiting job): that job does the work,
                # and this one is closed so that it no longer holds the key's lock.
                try:
                    await manager.finish_job(job, status=Status.FAILED, delete_job=False)
                except ConnectorException as exc:
                    _handled_elsewhere(job, exc)
                    continue
                logger.warning("stalled job %s (%s) closed: the same work is queued already", job.id,
                               _describe(job))
            except ConnectorException as exc:
                _handled_elsewhere(job, exc)  # no longer doing: not ours to close, it may be queued again already
            else:
                logger.warning("stalled job %s (%s) of a silent node queued again", job.id, _describe(job))
        await manager.prune_stalled_workers(window)


def _handled_elsewhere(job: Job, exc: ConnectorException) -> None:
    """Log that a stalled job changed state since it was read (the engine refused it), or raise ``exc`` if the
    database failed otherwise. Two periods' plans can overlap on a busy cluster, both reading the same stalled jobs:
    the other got there first."""
    if not isinstance(exc.__cause__, psycopg.errors.RaiseException):  # the engine's "not in doing status"
        raise exc
    logger.info("stalled job %s (%s) handled by another node", job.id, _describe(job))


def _describe(job: Job) -> str:
    args = ", ".join(f"{name}={value}" for name, value in job.task_kwargs.items())
    return f"{job.task_name}({args})"


async def _defer(deferrer: Any, **kwargs: Any) -> bool:
    """Defer a job; False when its queueing lock says the same job is waiting already."""
    try:
        await deferrer.defer_async(**kwargs)
    except AlreadyEnqueued:
        return False
    return True
