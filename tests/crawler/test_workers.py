"""Extraction workers: a pool broken by a dead worker, at any moment, is replaced for the next page."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime

import pytest

from analysis.relevance import DEFAULT_TOPIC
from crawler import reactor, workers
from crawler.processing import FetchedPage
from crawler.workers import PageWorkers

HTML = ("<html><head><title>North Korean workers in Russia</title></head><body><article>"
        + "<p>More than 10,000 North Korean workers entered Russia in 2024, officials said.</p>" * 8
        + "</article></body></html>")


def page() -> FetchedPage:
    return FetchedPage(source_id=None, url="https://example.org/a", discovered_url="https://example.org/a",
                       status=200, headers={}, body=b"", text=HTML, fetched_at=datetime.now(UTC))


def test_a_pool_broken_before_it_started_is_replaced() -> None:
    workers.shutdown()
    try:
        pool = workers._executor(1)
        # A worker that dies (out of memory, killed) before the pool has started breaks it for good.
        with pytest.raises(Exception):  # noqa: B017 (BrokenProcessPool or the worker's exit, by timing)
            pool.submit(os._exit, 1).result(timeout=60)
        processed = reactor.run(PageWorkers(1, DEFAULT_TOPIC, None).process(page()))
        assert processed.relevance.relevant
        assert workers._pool is not pool
    finally:
        workers.shutdown()


def test_a_worker_killed_between_pages_costs_at_most_one_page() -> None:
    workers.shutdown()
    try:
        runner = PageWorkers(1, DEFAULT_TOPIC, None)
        assert reactor.run(runner.process(page())).relevance.relevant
        for pid in workers.worker_pids():
            os.kill(pid, signal.SIGKILL)
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append(reactor.run(runner.process(page())).relevance.relevant)
            except Exception as exc:
                outcomes.append(type(exc).__name__)
        assert outcomes[1:] == [True, True], outcomes
    finally:
        workers.shutdown()


def test_a_page_over_the_time_limit_stops_its_worker_and_the_next_page_works() -> None:
    workers.shutdown()
    try:
        assert reactor.run(PageWorkers(1, DEFAULT_TOPIC, None).process(page())).relevance.relevant
        stuck = workers._pool
        assert stuck is not None
        processes = list(stuck._processes.values())  # type: ignore[attr-defined]
        slow = PageWorkers(1, DEFAULT_TOPIC, None, timeout=0.0001)  # no page is extracted that fast
        with pytest.raises(workers.ProcessingTimeoutError, match="took longer than"):
            reactor.run(slow.process(page()))
        for process in processes:  # killed, not left running the stuck page
            process.join(timeout=10)
            assert not process.is_alive()
        assert reactor.run(PageWorkers(1, DEFAULT_TOPIC, None).process(page())).relevance.relevant
        assert workers._pool is not stuck
    finally:
        workers.shutdown()
