"""Large ``match_many`` batches split over forked processes.

Most of the matcher's time is Python (sentence analysis, the gate, slot comparison), which one process runs on
one core; the fuzzy search itself is already multi-threaded native code. A forked child inherits the built
matcher for free, so a batch large enough to pay for a fork (a few milliseconds) is cut into one chunk per
process and the verdicts come back in order.

Forking is only safe in a single-threaded process (a lock held by another thread at fork time stays held in the
child), so the split happens only when the calling process has one thread and the platform can fork; anything
else runs in the calling process. Verdicts are identical either way: each sentence is decided on its own.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
# Below this many sentences a fork costs more than it saves.
MIN_PARALLEL = 2_000

# The work of the current split, set in the parent just before forking; the children inherit it.
_work: Callable[[Sequence[str]], list[object]] | None = None


def can_fork() -> bool:
    """True when splitting over forked processes is available and safe here."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _run_chunk(chunk: Sequence[str]) -> list[object]:
    assert _work is not None
    return _work(chunk)


def split_map(work: Callable[[Sequence[str]], list[T]], items: Sequence[str], processes: int) -> list[T]:
    """``work(items)``, computed in up to ``processes`` forked processes when it pays; results in input order."""
    global _work
    processes = min(processes, max(1, len(items) // (MIN_PARALLEL // 2)))
    if processes < 2 or not can_fork():
        return work(items)
    size = -(-len(items) // processes)
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    _work = work  # type: ignore[assignment]
    try:
        with multiprocessing.get_context("fork").Pool(len(chunks) - 1) as pool:
            pending = pool.map_async(_run_chunk, chunks[1:])
            # The parent takes the first chunk itself rather than waiting idle.
            results: list[T] = work(chunks[0])
            for part in pending.get():
                results.extend(part)  # type: ignore[arg-type]
    finally:
        _work = None
    return results


def default_processes() -> int:
    """One process per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
