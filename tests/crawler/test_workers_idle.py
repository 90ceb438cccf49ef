"""Extraction workers stop when idle: after ``idle`` seconds without a page (none in flight, no crawl running) the
pool and its fork server end, and the next page starts them again; a stop never happens under a page or a crawl."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from multiprocessing import resource_tracker
from pathlib import Path

import pytest
from sqlalchemy import select

from analysis.relevance import DEFAULT_TOPIC
from bench.killing import alive
from crawler import reactor, workers
from crawler.runner import CrawlReport, run_crawl
from crawler.types import SourceSpec
from crawler.workers import PageWorkers
from db.engine import Database
from db.models import Article, ArticleVersion
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import FAST, specs
from tests.crawler.test_workers import page

ONE = replace(FAST, workers=1)
IDLE = 0.2  # seconds: short, so that the tests wait little; nothing below depends on how long a step takes


@pytest.fixture(autouse=True)
def fresh_pool() -> Iterator[None]:
    """Each test starts without a pool and ends with none, the idle stop switched off again."""
    workers.shutdown()
    try:
        yield
    finally:
        workers.configure(idle=None)
        workers.shutdown()


def wait_on_loop(predicate: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Run the reactor's loop (the idle check is a timer on it) until ``predicate()`` holds; the timeout bounds a
    hang, it is not a timing assertion."""

    async def waiting() -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.05)

    reactor.run(waiting())


class PoolWatch:
    """The pool's processes as seen while a crawl ran, looked at on the loop every few milliseconds (the pool may
    be stopped by the time the crawl has returned, when its last page was longer than the idle time before)."""

    def __init__(self) -> None:
        self.fork_servers: set[int] = set()
        self.workers: set[int] = set()

    def look(self) -> None:
        server = workers.forkserver_pid()
        if server is not None:
            self.fork_servers.add(server)
        self.workers.update(workers.worker_pids())

    @property
    def pids(self) -> set[int]:
        return self.fork_servers | self.workers


def crawl_watched(db: Database, sources: list[SourceSpec]) -> tuple[CrawlReport, PoolWatch]:
    """One crawl with one worker, and the pool's processes it used."""
    watch = PoolWatch()

    async def crawling() -> CrawlReport:
        task = asyncio.ensure_future(run_crawl(db, sources, ONE, DEFAULT_TOPIC))
        while not task.done():
            watch.look()
            await asyncio.sleep(0.01)
        return await task

    return reactor.run(crawling()), watch


def tracker_pid() -> int | None:
    """The pid of this process's multiprocessing resource tracker, None when none runs."""
    return getattr(resource_tracker._resource_tracker, "_pid", None)


def test_the_pool_stops_when_idle_and_the_next_crawl_starts_it_again_and_stores_the_new_articles(
        database: Database, web: FixtureWeb, capfd: pytest.CaptureFixture[str]) -> None:
    workers.configure(idle=IDLE)
    sources = specs(web.sources())
    report, first = crawl_watched(database, sources)
    assert report.status == "ok", report.ledger.errors
    assert len(first.fork_servers) == 1 and len(first.workers) == 1, (first.fork_servers, first.workers)
    tracker = tracker_pid()
    assert tracker is not None and alive(tracker)

    # The resource tracker the fork server started goes with it (it would hold 13 MiB for the process's life).
    wait_on_loop(lambda: workers.forkserver_pid() is None and tracker_pid() is None, "the idle pool to stop")
    assert workers.worker_pids() == []
    assert not any(alive(pid) for pid in first.pids), [pid for pid in first.pids if alive(pid)]  # ended, reaped
    assert not alive(tracker)

    change = web.advance()
    assert change.new
    report, again = crawl_watched(database, sources)
    assert report.status == "ok", report.ledger.errors
    assert len(again.fork_servers) == 1 and not again.fork_servers & first.fork_servers  # a new fork server
    expected = {info.url: info for info in web.articles()}
    with database.read() as session:
        stored = {a.canonical_url: a for a in session.scalars(select(Article))}
        versioned = set(session.scalars(select(Article.canonical_url).join(ArticleVersion)))
    assert set(change.new) <= set(stored)
    for url in change.new:  # extracted and scored in the new workers as in the first ones
        assert stored[url].relevant == expected[url].on_topic, url
        assert (url in versioned) == expected[url].on_topic, url
    for url in change.edited:
        assert stored[url].version_count == 2, url

    assert tracker_pid() not in (None, tracker)  # the new fork server's

    wait_on_loop(lambda: workers.forkserver_pid() is None and tracker_pid() is None, "the pool to stop again")
    assert not any(alive(pid) for pid in again.pids)
    # The stopped pools' semaphores were unregistered before their tracker ended: it had none to clean up.
    assert "leaked" not in capfd.readouterr().err


def test_no_stop_while_a_page_is_in_flight(tmp_path: Path) -> None:
    workers.configure(idle=IDLE)
    runner = PageWorkers(1, DEFAULT_TOPIC, None)
    assert reactor.run(runner.process(page())).relevance.relevant
    [worker] = workers.worker_pids()
    server = workers.forkserver_pid()
    assert server is not None

    async def page_held_in_its_worker() -> None:
        os.kill(worker, signal.SIGSTOP)  # the worker takes the page and cannot finish it until SIGCONT
        try:
            processing = asyncio.ensure_future(runner.process(page()))
            # Held well past the idle time: the idle check has run on the loop meanwhile, and asked directly,
            # the stop refuses too.
            await asyncio.sleep(IDLE * 5)
            assert not await asyncio.to_thread(workers.stop_if_idle)
            assert workers.forkserver_pid() == server and workers.worker_pids() == [worker]
            assert not processing.done()
        finally:
            os.kill(worker, signal.SIGCONT)
        assert (await processing).relevance.relevant

    reactor.run(page_held_in_its_worker())
    assert alive(server) and alive(worker)
    wait_on_loop(lambda: workers.forkserver_pid() is None, "the pool to stop once the page is done")
    assert not alive(server) and not alive(worker)


def test_no_stop_while_a_crawl_runs_however_long_since_its_last_page() -> None:
    workers.configure(idle=IDLE)
    assert reactor.run(PageWorkers(1, DEFAULT_TOPIC, None).process(page())).relevance.relevant
    server = workers.forkserver_pid()

    async def crawl_without_pages() -> None:
        with workers.crawling():
            await asyncio.sleep(IDLE * 5)
            assert not await asyncio.to_thread(workers.stop_if_idle)
            assert workers.forkserver_pid() == server

    reactor.run(crawl_without_pages())
    # The crawl did not restart the idle time (it processed nothing): the pool stops soon after it ends.
    wait_on_loop(lambda: workers.forkserver_pid() is None, "the pool to stop after the crawl")
    assert server is not None and not alive(server)


def test_pages_arriving_while_the_idle_stop_runs_get_a_working_pool() -> None:
    workers.configure(idle=0.01)
    runner = PageWorkers(1, DEFAULT_TOPIC, None)

    async def race() -> None:
        for _ in range(3):
            assert (await runner.process(page())).relevance.relevant
            await asyncio.sleep(0.05)  # idle for longer than 0.01 s: the stop and the next pages overlap
            stopped, *processed = await asyncio.gather(
                asyncio.to_thread(workers.stop_if_idle), runner.process(page()), runner.process(page()))
            assert all(p.relevance.relevant for p in processed)
            server = workers.forkserver_pid()
            # Either the stop came first (and the pages started a new pool) or the pages did (no stop): the
            # fork server the module knows of runs, or there is none, never a dead one.
            assert server is None or alive(server), (stopped, server)

    reactor.run(race())


def test_without_an_idle_time_the_pool_stays() -> None:
    assert reactor.run(PageWorkers(1, DEFAULT_TOPIC, None).process(page())).relevance.relevant
    server = workers.forkserver_pid()
    reactor.run(asyncio.sleep(IDLE * 3))
    assert not workers.stop_if_idle()
    assert workers.forkserver_pid() == server and server is not None and alive(server)


@pytest.mark.parametrize("value", ["0s", "soon", "-5m"])
def test_a_bad_workers_idle_is_refused_at_load_with_its_path(tmp_path: Path, value: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"crawl:\n  workers_idle: {value}\nsources:\n  - {{id: x, kind: feed, url: 'https://e.org/rss'}}\n")
    for command in (["check-config"], ["run"]):
        result = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *command],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, (command, result.stderr)
        assert "crawl.workers_idle: " in result.stderr and "Traceback" not in result.stderr


def test_null_keeps_the_workers_and_a_duration_is_read() -> None:
    from labourwatch.config import parse_config

    assert parse_config("crawl: {workers_idle: null}", environ={}).crawl_options.workers_idle is None
    assert parse_config("crawl: {workers_idle: 90s}", environ={}).crawl_options.workers_idle == timedelta(seconds=90)
    assert parse_config("", environ={}).crawl_options.workers_idle is not None  # on by default
