"""Large batches split over forked processes: same verdicts, in order, and only where forking is safe."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import pytest

from analysis.claims import ClaimMatcher, Example
from analysis.claims.parallel import MIN_PARALLEL, can_fork, split_map

# The thread method of pytest-timeout runs a watchdog thread, and a process with a second thread never forks.
pytestmark = pytest.mark.timeout(120, method="signal")


def _pids(items: Sequence[str]) -> list[tuple[str, int]]:
    return [(item, os.getpid()) for item in items]


def test_split_map_uses_several_processes_and_keeps_order() -> None:
    items = [f"sentence {number}" for number in range(MIN_PARALLEL * 2)]
    results = split_map(_pids, items, processes=2)
    assert [item for item, _ in results] == items
    pids = {pid for _, pid in results}
    assert len(pids) == 2 and os.getpid() in pids


def test_small_batches_stay_in_process() -> None:
    results = split_map(_pids, ["a", "b", "c"], processes=4)
    assert {pid for _, pid in results} == {os.getpid()}


def test_no_fork_while_other_threads_run() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not can_fork()
        results = split_map(_pids, [f"s{n}" for n in range(MIN_PARALLEL * 2)], processes=2)
        assert {pid for _, pid in results} == {os.getpid()}
    finally:
        release.set()
        thread.join()


def test_parallel_verdicts_equal_serial(matcher: ClaimMatcher, dev_examples: list[Example]) -> None:
    sentences = [example.sentence for example in dev_examples]
    # Repeat with a numbered tail so that the batch is large enough to split and every sentence is distinct.
    batch = [f"{sentence} ({number})" for number in range(MIN_PARALLEL // len(sentences) + 2) for sentence in sentences]
    assert len(batch) >= MIN_PARALLEL
    assert matcher.match_many(batch, processes=2) == matcher.match_many(batch)
