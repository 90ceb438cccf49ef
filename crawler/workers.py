"""CPU-bound page work (extraction, topic scoring, claim matching) in worker processes.

Threads share one interpreter lock: extraction in a thread competes with the event loop and the database
writer for the same core, however many cores the machine has. Worker processes run it in parallel and keep
the loop responsive. Workers start from a fork server that has imported the extraction code (and, with the
semantic signal, loaded its model) once.

The pool is made on demand, by the first page to process, and kept while it earns its memory: ``configure(idle=)``
(the daemon's ``crawl.workers_idle``) stops it, fork server included, once no page has been processed for that
long and no page is in flight and no crawl runs (``crawling()``); the next page starts it again. Without it (the
one-shot ``crawl``) the pool lives as long as the process. ``shutdown()`` stops it — ``crawler.reactor.shutdown``
calls it.

With ``workers=0`` the same function runs in a thread instead (for debugging and tiny machines).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import multiprocessing
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace
from multiprocessing import forkserver, resource_tracker
from pathlib import Path
from typing import Any

from analysis.claims.sentences import KnownClaims
from analysis.types import Topic
from crawler.processing import FetchedPage, ProcessedPage, process_page
from crawler.procstat import cpu_seconds

logger = logging.getLogger(__name__)

# How long one page may take in a worker. Extraction takes milliseconds; a page that takes minutes has hit a
# pathological case (a parser or regex that does not end), and would hold its crawl, and every later poll
# behind it, for ever.
PROCESS_TIMEOUT = 120.0


class ProcessingTimeoutError(Exception):
    """A page took longer than the limit in its worker; the worker was stopped."""

_lock = threading.Lock()  # guards the state below; never held while waiting for a process
# Held while a pool is made and started and while an idle pool and its fork server are stopped: a start never
# overlaps a stop (the fork server ends only when every worker forked from it has, and would wait for ever on
# the workers of a pool started meanwhile). Taken before ``_lock``, only in threads, never on the event loop.
_lifecycle = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_started_pool: ProcessPoolExecutor | None = None  # the pool once all its processes are up
_pool_size = 0
_pages = 0  # pages in flight (and a warm-up), in every crawl of the process
_crawls = 0  # crawls running (``crawling()``): the pool is never stopped under one
_last_page = 0.0  # time.monotonic() when the last page (or the pool's start) finished
_idle_after: float | None = None  # seconds without a page before the pool stops; None: never
_timer: tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle] | None = None  # the idle check, on the loop


def default_workers() -> int:
    """One worker per core beyond the one the loop and the database writer use; at least one, at most four."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def _executor(workers: int, model: bool) -> ProcessPoolExecutor:
    global _pool, _pool_size, _last_page
    with _lock:
        # A pool whose worker died is broken for good (every submit raises): replace it, however it broke.
        if _pool is None or _pool_size != workers or getattr(_pool, "_broken", False):
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            context = multiprocessing.get_context("forkserver")
            # The fork server builds what every worker needs once, shared by the workers it forks: the matcher's
            # lexicons (crawler.warm) and, when the crawl will use it (claims to match, claims.semantic on), the
            # semantic model (crawler.warm_model); otherwise the model is never loaded. The fork server outlives
            # a pool replaced after a dead or stuck worker: its preload is decided by the pool that started it
            # (the first of the process, or the first after an idle stop). trafilatura is imported by extraction
            # only (the daemon's own process never extracts), so the fork server imports it for the workers; so
            # too numpy, with the near-copy sketch (analysis.minhash) the workers make and the daemon only compares.
            context.set_forkserver_preload(["crawler.quiet_forkserver", "crawler.processing", "trafilatura",
                                            "trafilatura.utils", "analysis.minhash", "crawler.warm",
                                            *(["crawler.warm_model"] if model else [])])
            _pool, _pool_size = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                    initializer=_exit_with_owner, initargs=(os.getpid(),)), workers
            _last_page = time.monotonic()
        return _pool


def _noop(number: int) -> int:
    return number


def _started(workers: int, model: bool) -> ProcessPoolExecutor:
    global _started_pool
    with _lifecycle:  # an idle stop under way ends first
        with _lock:
            if _pool is _started_pool and _pool is not None and _pool_size == workers:
                return _pool  # another page started it meanwhile
        cpu, wall = _tree_cpu(), time.perf_counter()
        pool = _executor(workers, model)
        # One round trip per worker: every process is up (the fork server has imported the extraction code).
        try:
            list(pool.map(_noop, range(workers)))
        except BrokenProcessPool:
            _discard(pool)  # a worker died while starting: the next page starts a new pool
            raise
        with _lock:
            _started_pool = pool
        logger.info("extraction workers started: %d process(es) from fork server %s (semantic model %s) in %.1f s, "
                    "%.1f CPU s", workers, forkserver_pid(), "loaded" if model else "not loaded",
                    time.perf_counter() - wall, _tree_cpu() - cpu)
    return pool


def _tree_cpu() -> float:
    """CPU seconds the running fork server and workers have used (so: what starting a pool cost, for the log)."""
    total = 0.0
    for pid in (forkserver_pid(), *worker_pids()):
        if pid is None:
            continue  # no fork server
        try:
            total += cpu_seconds(Path(f"/proc/{pid}/stat"))
        except OSError:
            continue  # gone
    return total


async def _ready(workers: int, model: bool) -> ProcessPoolExecutor:
    """The pool, started in a thread the first time: starting the fork server waits for it to import the
    extraction code (about a second), and a submit meanwhile waits on the pool's lock; neither may stall
    the event loop."""
    with _lock:
        pool = _pool if _pool is _started_pool and _pool_size == workers else None
    return pool if pool is not None else await asyncio.to_thread(_started, workers, model)


async def warm_up(workers: int | None, *, model: bool) -> None:
    """Start the worker pool now, ahead of the first crawl: its fork server imports the extraction code and,
    with ``model``, loads the semantic model (a second or two of CPU), which the first poll would otherwise
    wait for. A failure is logged; the first crawl tries again. With an idle stop configured, a pool that no
    page uses is stopped after the idle period like any other."""
    count = default_workers() if workers is None else workers
    if count <= 0:
        return
    try:
        with _holding_page():
            await _ready(count, model)
    except Exception as exc:  # the crawl starts the pool itself and reports what goes wrong there
        logger.warning("extraction workers could not be started ahead of the first crawl: %s", exc)


# --- stopping an idle pool -----------------------------------------------------------------------

def configure(*, idle: float | None) -> None:
    """Stop the pool and its fork server once no page has been processed for ``idle`` seconds (and none is in
    flight, and no crawl runs); None keeps the pool for the life of the process. Called on the event loop."""
    global _idle_after
    if idle is not None and idle <= 0:
        raise ValueError(f"idle must be positive, not {idle}")
    with _lock:
        _idle_after = idle
    _arm()


@contextmanager
def crawling() -> Iterator[None]:
    """Hold the pool for a crawl: it is not stopped while the crawl runs, however long between its pages (the
    idle time still counts from the last page: a crawl with nothing to extract does not keep the pool)."""
    global _crawls
    with _lock:
        _crawls += 1
    try:
        yield
    finally:
        with _lock:
            _crawls -= 1
        _arm()


@contextmanager
def _holding_page() -> Iterator[None]:
    """Hold the pool for a page in flight; the idle time counts from the end of the last one."""
    global _pages, _last_page
    with _lock:
        _pages += 1
    try:
        yield
    finally:
        with _lock:
            _pages -= 1
            _last_page = time.monotonic()
        _arm()


def _idle_for() -> float | None:
    """Seconds until the pool may be stopped (0: now); None when there is nothing to stop or it is held.
    Called with ``_lock`` held."""
    if _idle_after is None or _pages or _crawls or (_pool is None and forkserver_pid() is None):
        return None
    return max(0.0, _last_page + _idle_after - time.monotonic())


def _arm() -> None:
    """Make sure an idle check is due on the running loop when the pool may next be stopped (no loop running,
    as in a thread: nothing to do; the next page or crawl on the loop arms it)."""
    global _timer
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    with _lock:
        wait = _idle_for()
    if wait is None:
        return
    if _timer is not None:
        armed_loop, handle = _timer
        if armed_loop is loop and not handle.cancelled() and handle.when() <= loop.time() + wait + 1.0:
            return  # one is due by then (early is fine: it re-arms for the rest)
        handle.cancel()
    _timer = loop, loop.call_later(wait, _check_idle)


def _check_idle() -> None:
    """The idle check, on the loop: stop the pool in a thread when it has been idle long enough, else re-arm."""
    global _timer
    _timer = None
    with _lock:
        wait = _idle_for()
    if wait is None:
        return  # held (a page or a crawl re-arms when it ends) or nothing to stop
    if wait > 0:
        _arm()
        return
    try:
        stopping = asyncio.get_running_loop().run_in_executor(None, stop_if_idle)
    except RuntimeError:  # the loop's threads are shutting down with the process: so is the pool
        return
    stopping.add_done_callback(_stopped)


def _stopped(stopping: asyncio.Future[bool]) -> None:
    if not stopping.cancelled() and stopping.exception() is not None:
        logger.warning("stopping the idle extraction workers failed: %s", stopping.exception())


def stop_if_idle() -> bool:
    """Stop the pool and its fork server if no page has been processed for the configured idle time, none is in
    flight and no crawl runs; True when something was stopped. Blocks until the processes have ended (call it in
    a thread); a pool start waits meanwhile, so the next page gets a new pool and a new fork server."""
    global _pool, _started_pool
    with _lifecycle:
        with _lock:
            if _idle_for() != 0.0:
                return False  # a page came (or is in flight) since the check was planned
            pool, _pool, _started_pool = _pool, None, None
            idle = time.monotonic() - _last_page
        count = len(getattr(pool, "_processes", None) or {})
        server = forkserver_pid()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)  # nothing is queued: the workers exit at once
        # Closes this process's end of the fork server's 'alive' pipe and waits for it to exit, which it does
        # once no worker forked from it runs (the pool's have ended; a replaced pool's were killed or told to stop).
        stop_server: Callable[[], None] = forkserver._forkserver._stop  # type: ignore[attr-defined]
        stop_server()
        del pool
        _stop_resource_tracker()
    logger.info("extraction workers stopped after %.0f s without a page: %d worker(s) and fork server %s; the next "
                "page starts them again", idle, count, server)
    return True


def _stop_resource_tracker() -> None:
    """Stop multiprocessing's resource tracker, a process of its own (13 MiB RSS) that the fork server started and
    that would otherwise outlive it for the daemon's life; the next pool's fork server starts a new one."""
    # The stopped pool's queues hand their semaphores back (unregister) as they are collected: the tracker must
    # not find them at its exit, or it warns of leaked semaphores and unlinks them itself.
    gc.collect()
    stop_tracker: Callable[[], None] = resource_tracker._resource_tracker._stop  # type: ignore[attr-defined]
    stop_tracker()


def _discard(broken: Executor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool whose worker is stuck: its processes are killed (a stuck one would never take a stop)."""
    _discard(pool)
    processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
    for process in list(processes.values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the worker processes (idempotent); waits for an idle stop under way."""
    global _pool, _timer
    with _lifecycle, _lock:
        pool, _pool = _pool, None
        timer, _timer = _timer, None
    if timer is not None:
        timer[1].cancel()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


# --- the worker side -----------------------------------------------------------------------------

def _exit_with_owner(owner: int) -> None:
    """Worker initializer: end this worker when the process that made the pool ends, however it ends.

    A worker is a child of the fork server, not of the pool's owner, and holds the pipes that keep the fork
    server and the resource tracker alive: a daemon or ``crawl`` killed with SIGKILL (or by the OOM killer)
    left all three running for good, about 150 MB for every kill. A pidfd names that one process (no pid
    reuse), and becomes readable when it exits.

    Ctrl-C is ignored here: it reaches the whole process group, and the owner handles it (its shutdown stops
    the pool); a worker that took it printed a KeyboardInterrupt traceback under the daemon's clean stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        watched = os.pidfd_open(owner)
    except ProcessLookupError:
        os._exit(0)  # the owner is gone already
    except (AttributeError, OSError):
        return  # no pidfd (not Linux 5.3+): nothing watches, as before
    threading.Thread(target=_wait_and_exit, args=(watched,), name="labourwatch-owner-watch", daemon=True).start()


def _wait_and_exit(watched: int) -> None:
    select.select([watched], [], [])
    os._exit(0)  # no clean-up to do: the owner that would take the results is gone


_setup: dict[str, tuple[Topic, KnownClaims | None]] = {}


def _set_up(key: str, setup: bytes) -> tuple[Topic, KnownClaims | None]:
    # Built once per worker and crawl setup (topic, claims, semantic signal): building the matcher analyses every
    # claim. The setup travels pickled once per crawl, as bytes: pickling the claims' objects with every page cost
    # both processes more than the bytes do.
    found = _setup.get(key)
    if found is None:
        topic, digest, claims, semantic = pickle.loads(setup)  # noqa: S301 - our own process pickled it
        known = KnownClaims.of(claims, semantic=semantic) if digest is not None else None
        _setup.clear()
        found = _setup[key] = (topic, known)
    return found


def _process(page: FetchedPage, key: str, setup: bytes) -> ProcessedPage:
    topic, claims = _set_up(key, setup)
    return process_page(page, topic, claims)


# --- the crawl side ------------------------------------------------------------------------------

class PageWorkers:
    """Runs ``process_page`` for one crawl: in the process pool, or in a thread when ``workers == 0``."""

    def __init__(self, workers: int, topic: Topic, claims: KnownClaims | None, *,
                 timeout: float = PROCESS_TIMEOUT) -> None:
        self.workers = workers
        self.timeout = timeout
        self.topic = topic
        self.claims = claims
        # The worker processes do not share this process's settings: they build their matcher as ours is.
        self._semantic = claims.matcher.semantic if claims else False
        self._setup = pickle.dumps((topic, claims.digest if claims else None,
                                    tuple(claims.matcher.claims) if claims else (), self._semantic),
                                   protocol=pickle.HIGHEST_PROTOCOL)
        self._setup_key = hashlib.sha256(self._setup).hexdigest()

    async def process(self, page: FetchedPage) -> ProcessedPage:
        """Extract, score and match one page. Raises ExtractionError, or ProcessingTimeoutError after
        ``timeout`` seconds in a worker (the pool is then killed and the next page starts a new one; pages
        in the same pool fail with it and are fetched again on the next poll)."""
        if self.workers <= 0:
            return await asyncio.to_thread(process_page, page, self.topic, self.claims)
        # The worker needs the text, not the raw body: don't pickle the bytes twice (a document's text is in its body).
        light = page if page.document is not None else _without_body(page)
        with _holding_page():  # from before the pool is looked up to the result: never stopped under a page
            return await self._in_pool(page, light)

    async def _in_pool(self, page: FetchedPage, light: FetchedPage) -> ProcessedPage:
        pool = await _ready(self.workers, self._semantic)
        loop = asyncio.get_running_loop()
        try:
            processed: ProcessedPage = await asyncio.wait_for(loop.run_in_executor(
                pool, _process, light, self._setup_key, self._setup), self.timeout)
        except TimeoutError:
            logger.warning("extracting %s took longer than %g s: stopping the workers", page.url, self.timeout)
            await asyncio.to_thread(_kill, pool)
            raise ProcessingTimeoutError(f"extraction took longer than {self.timeout:g} s; the page was "
                                         "abandoned and its worker stopped") from None
        except BrokenProcessPool:
            # A worker died (out of memory, killed): start a new pool for the next pages; this page fails.
            _discard(pool)
            logger.warning("an extraction worker died; starting new ones")
            raise
        return processed


def _without_body(page: FetchedPage) -> FetchedPage:
    return replace(page, body=b"")


def forkserver_pid() -> int | None:
    """The process id of the fork server the workers are forked from, if it runs (for benchmarks: it loads the
    extraction code and the semantic model, CPU that no worker's own usage shows)."""
    return getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)


def worker_pids() -> list[int]:
    """The process ids of the running workers (for benchmarks and ``status``)."""
    with _lock:
        pool = _pool
    processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
    return sorted(processes)
