"""Extraction workers: a pool broken by a dead worker, at any moment, is replaced for the next page."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analysis.claims.sentences import KnownClaims
from analysis.relevance import DEFAULT_TOPIC
from crawler import reactor, workers
from crawler.processing import FetchedPage
from crawler.workers import PageWorkers
from labourwatch.config import read_claims

HTML = ("<html><head><title>North Korean workers in Russia</title></head><body><article>"
        + "<p>More than 10,000 North Korean workers entered Russia in 2024, officials said.</p>" * 8
        + "</article></body></html>")

SLOW_HTML = ("<html><body><article>"
             + "".join(f"<p>North Korean workers, paragraph {n}, with enough words to count as article text.</p>"
                       for n in range(20_000))
             + "</article></body></html>")


def page() -> FetchedPage:
    return FetchedPage(source_id=None, url="https://example.org/a", discovered_url="https://example.org/a",
                       status=200, headers={}, body=b"", text=HTML, fetched_at=datetime.now(UTC))


def test_a_pool_broken_before_it_started_is_replaced() -> None:
    workers.shutdown()
    try:
        pool = workers._executor(1, False)
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
        slow = PageWorkers(1, DEFAULT_TOPIC, None, timeout=0.05)
        # About 2 s of extraction: the limit passes long before, however slowly the loop turns on a loaded machine
        # (with the small page and a 0.1 ms limit, a loop that woke up late found the page done and no timeout).
        with pytest.raises(workers.ProcessingTimeoutError, match="took longer than"):
            reactor.run(slow.process(replace(page(), text=SLOW_HTML)))
        for process in processes:  # killed, not left running the stuck page
            process.join(timeout=10)
            assert not process.is_alive()
        assert reactor.run(PageWorkers(1, DEFAULT_TOPIC, None).process(page())).relevance.relevant
        assert workers._pool is not stuck
    finally:
        workers.shutdown()


ZH_SENTENCE = "据估计，仍在中国务工的朝鲜人已不足1000人。"  # K18 says tens of thousands: an update
ZH_HTML = ("<html><head><title>朝鲜海外劳工人数下降</title></head><body><article>"
           "<p>联合国安理会决议禁止各国雇用朝鲜劳工，但部分劳工仍留在海外。</p>"
           f"<p>{ZH_SENTENCE}</p><p>专家表示，这些劳工的大部分工资被上缴给朝鲜政府。</p>"
           "<p>边境地区的工厂近年来已减少招聘外国工人，当地官员拒绝置评。</p></article></body></html>")


@pytest.mark.parametrize("semantic", [True, False])
def test_workers_match_with_the_semantic_signal_as_the_crawl_is_configured(semantic: bool) -> None:
    claims = read_claims(Path(__file__).resolve().parents[1] / "analysis" / "claims" / "data" / "known_claims.yaml")
    known = {flag: KnownClaims.of(claims, semantic=flag) for flag in (True, False)}
    # The digest a match is stored with says whether the signal was used: it tells the two matchers apart.
    assert known[True].digest != known[False].digest
    zh_page = replace(page(), text=ZH_HTML)
    processed = reactor.run(PageWorkers(1, DEFAULT_TOPIC, known[semantic]).process(zh_page))
    assert processed.claims_digest == known[semantic].digest
    [found] = [found for found in processed.matches if found.sentence == ZH_SENTENCE]
    assert found.match == known[semantic].matcher.match(ZH_SENTENCE)
