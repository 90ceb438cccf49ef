"""CPU-bound page work (extraction, topic scoring, claim matching) in worker processes.

Threads share one interpreter lock: extraction in a thread competes with the event loop and the database
writer for the same core, however many cores the machine has. Worker processes run it in parallel and keep
the loop responsive. The pool is made on first use and kept for the life of the process (a crawl pass is
seconds; starting workers costs about as much), and ``shutdown()`` stops it — ``crawler.reactor.shutdown``
calls it. Workers start from a fork server that has imported the extraction code once.

With ``workers=0`` the same function runs in a thread instead (for debugging and tiny machines).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import signal
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from analysis.claims.model import Claim
from analysis.claims.sentences import KnownClaims
from analysis.types import Topic
from crawler.processing import FetchedPage, ProcessedPage, process_page

logger = logging.getLogger(__name__)

# How long one page may take in a worker. Extraction takes milliseconds; a page that takes minutes has hit a
# pathological case (a parser or regex that does not end), and would hold its crawl, and every later poll
# behind it, for ever.
PROCESS_TIMEOUT = 120.0


class ProcessingTimeoutError(Exception):
    """A page took longer than the limit in its worker; the worker was stopped."""

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_started_pool: ProcessPoolExecutor | None = None  # the pool once all its processes are up
_pool_size = 0


def default_workers() -> int:
    """One worker per core beyond the one the loop and the database writer use; at least one, at most four."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def _executor(workers: int, model: bool) -> ProcessPoolExecutor:
    global _pool, _pool_size
    with _lock:
        # A pool whose worker died is broken for good (every submit raises): replace it, however it broke.
        if _pool is None or _pool_size != workers or getattr(_pool, "_broken", False):
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            context = multiprocessing.get_context("forkserver")
            # The fork server builds what every worker needs once, shared by the workers it forks: the matcher's
            # lexicons (crawler.warm) and, when the crawl will use it (claims to match, claims.semantic on), the
            # semantic model (crawler.warm_model); otherwise the model is never loaded. The fork server outlives
            # the pool: its preload is decided by the first pool of the process.
            context.set_forkserver_preload(["crawler.quiet_forkserver", "crawler.processing", "crawler.warm",
                                            *(["crawler.warm_model"] if model else [])])
            _pool, _pool_size = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                    initializer=_exit_with_owner, initargs=(os.getpid(),)), workers
        return _pool


def _noop(number: int) -> int:
    return number


def _started(workers: int, model: bool) -> ProcessPoolExecutor:
    global _started_pool
    pool = _executor(workers, model)
    # One round trip per worker: every process is up (the fork server has imported the extraction code).
    try:
        list(pool.map(_noop, range(workers)))
    except BrokenProcessPool:
        _discard(pool)  # a worker died while starting: the next page starts a new pool
        raise
    with _lock:
        _started_pool = pool
    return pool


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
    wait for. A failure is logged; the first crawl tries again."""
    count = default_workers() if workers is None else workers
    if count <= 0:
        return
    try:
        await _ready(count, model)
    except Exception as exc:  # the crawl starts the pool itself and reports what goes wrong there
        logger.warning("extraction workers could not be started ahead of the first crawl: %s", exc)


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
    """Stop the worker processes (idempotent)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
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


_known: dict[tuple[str, bool], KnownClaims] = {}


def _claims(digest: str | None, claims: tuple[Claim, ...], semantic: bool) -> KnownClaims | None:
    # Built once per worker and claim set: building the matcher analyses every claim.
    if digest is None:
        return None
    found = _known.get((digest, semantic))
    if found is None:
        _known.clear()
        found = _known[digest, semantic] = KnownClaims.of(claims, semantic=semantic)
    return found


def _process(page: FetchedPage, topic: Topic, digest: str | None, claims: tuple[Claim, ...],
             semantic: bool) -> ProcessedPage:
    return process_page(page, topic, _claims(digest, claims, semantic))


# --- the crawl side ------------------------------------------------------------------------------

class PageWorkers:
    """Runs ``process_page`` for one crawl: in the process pool, or in a thread when ``workers == 0``."""

    def __init__(self, workers: int, topic: Topic, claims: KnownClaims | None, *,
                 timeout: float = PROCESS_TIMEOUT) -> None:
        self.workers = workers
        self.timeout = timeout
        self.topic = topic
        self.claims = claims
        self._claim_list = tuple(claims.matcher.claims) if claims else ()
        # The worker processes do not share this process's settings: they build their matcher as ours is.
        self._semantic = claims.matcher.semantic if claims else False

    async def process(self, page: FetchedPage) -> ProcessedPage:
        """Extract, score and match one page. Raises ExtractionError, or ProcessingTimeoutError after
        ``timeout`` seconds in a worker (the pool is then killed and the next page starts a new one; pages
        in the same pool fail with it and are fetched again on the next poll)."""
        if self.workers <= 0:
            return await asyncio.to_thread(process_page, page, self.topic, self.claims)
        # The worker needs the text, not the raw body: don't pickle the bytes twice.
        light = _without_body(page)
        digest = self.claims.digest if self.claims else None
        pool = await _ready(self.workers, self._semantic)
        loop = asyncio.get_running_loop()
        try:
            processed: ProcessedPage = await asyncio.wait_for(loop.run_in_executor(
                pool, _process, light, self.topic, digest, self._claim_list, self._semantic), self.timeout)
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
    from multiprocessing import forkserver

    return getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)


def worker_pids() -> list[int]:
    """The process ids of the running workers (for benchmarks and ``status``)."""
    with _lock:
        pool = _pool
    processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
    return sorted(processes)
