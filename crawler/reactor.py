"""The asyncio reactor, installed once per process, and a way to run coroutines on its loop.

Scrapy's Twisted reactor cannot be restarted, so labourwatch installs the asyncio reactor first thing,
marks it running, and drives its asyncio loop itself; any number of crawls then run on that loop.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
SWITCH_INTERVAL = 0.001  # seconds; see ensure_reactor


def ensure_reactor() -> asyncio.AbstractEventLoop:
    """Install the asyncio reactor if it is not installed yet; return its event loop."""
    from scrapy.utils.reactor import install_reactor, is_reactor_installed

    if not is_reactor_installed():
        install_reactor(REACTOR)
        # The database writer thread releases the GIL on every SQLite call and must win it back from
        # the busy event loop; at the default 5 ms switch interval each statement can wait that long
        # (the "convoy effect"), which made a cold crawl of 1,500 articles 1.5x slower. 1 ms cuts it to
        # what a crawl without storage takes (bench/crawl_bench.py; README, Performance).
        sys.setswitchinterval(SWITCH_INTERVAL)
    from twisted.internet import reactor

    if not reactor.running:
        # Fires Twisted's startup triggers (its thread pool, used by DNS resolution) without
        # handing the loop to reactor.run(): we drive the asyncio loop ourselves.
        reactor.startRunning(installSignalHandlers=False)
    # Private, with no public accessor (Scrapy reads it too): tests/test_private_apis.py guards it, and
    # pyproject.toml bounds Twisted to the major version it was checked on.
    return reactor._asyncioEventloop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on the reactor's loop (not re-entrant)."""
    loop = ensure_reactor()
    return loop.run_until_complete(coro)


def shutdown() -> None:
    """Stop the reactor: fire Twisted's shutdown triggers (joining its thread pool) so the process can exit;
    stop the extraction worker processes."""
    from scrapy.utils.reactor import is_reactor_installed

    from crawler import workers

    workers.shutdown()

    if not is_reactor_installed():
        return
    from twisted.internet import reactor

    running: Any = reactor  # the module-level reactor object is untyped in Twisted's stubs
    if running.running:
        loop = running._asyncioEventloop
        # Tasks a stopped crawl left behind are cancelled and finished, as asyncio.run() does, rather than
        # destroyed pending when the loop closes.
        leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in leftovers:
            task.cancel()
        if leftovers and not loop.is_running():
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        running.stop()
        # The shutdown triggers run on the loop and end with crash(), which stops it again.
        loop.run_forever()
        loop.close()
