"""Large batches split over forked processes: same verdicts, in order, and only where forking is safe."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from analysis.claims.parallel import MIN_PARALLEL, can_fork, split_map

# The thread method of pytest-timeout runs a watchdog thread, and a process with a second thread never forks.
pytestmark = pytest.mark.timeout(120, method="signal")
DATA = Path(__file__).parent / "data"


def _pids(items: Sequence[str]) -> list[tuple[str, int]]:
    return [(item, os.getpid()) for item in items]


def test_split_map_uses_several_processes_and_keeps_order() -> None:
    # In a fresh interpreter: the test process may have threads left by other tests (Twisted's pool), and a
    # process with threads never forks.
    code = (
        "import os, sys\n"
        "from analysis.claims.parallel import MIN_PARALLEL, split_map\n"
        "items = [f'sentence {n}' for n in range(MIN_PARALLEL * 2)]\n"
        "results = split_map(lambda chunk: [(item, os.getpid()) for item in chunk], items, processes=2)\n"
        "assert [item for item, _ in results] == items\n"
        "print(len({pid for _, pid in results}), os.getpid() in {pid for _, pid in results})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["2", "True"], out.stderr


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


def test_parallel_verdicts_equal_serial() -> None:
    # A fresh interpreter, so that the batch really is split (see above).
    code = (
        "import json, pathlib, yaml\n"
        "from analysis.claims import ClaimMatcher, claims_from_yaml_data\n"
        "from analysis.claims.parallel import MIN_PARALLEL, can_fork\n"
        f"data = pathlib.Path({str(DATA)!r})\n"
        "matcher = ClaimMatcher(claims_from_yaml_data(yaml.safe_load((data / 'known_claims.yaml').read_text())))\n"
        "sentences = [json.loads(l)['sentence'] for l in (data / 'eval_dev.jsonl').read_text().splitlines() if l]\n"
        "batch = [f'{s} ({n})' for n in range(MIN_PARALLEL // len(sentences) + 2) for s in sentences]\n"
        "assert can_fork() and len(batch) >= MIN_PARALLEL\n"
        "split, serial = matcher.match_many(batch, processes=2), matcher.match_many(batch)\n"
        "print(len(batch), split == serial, sum(m.label != 'new' for m in serial))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    size, same, matched = out.stdout.split()
    assert int(size) >= MIN_PARALLEL and same == "True" and int(matched) > 0, out.stderr
