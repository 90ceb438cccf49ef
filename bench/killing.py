"""What the SIGKILL benches share: a scratch database per run, killing a process tree, tallying received keys.

Used by ``bench/alerts_kill_bench.py`` (dispatchers killed mid-send) and ``bench/crawl_kill_bench.py`` (the
daemon killed mid-crawl).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tests.databases import PG_ADMIN_URL as PG_URL
from tests.databases import throwaway_database


@contextmanager
def scratch_database(kind: str, folder: str | Path, pg_url: str = PG_URL) -> Iterator[str]:
    """The URL of an empty database for one run: a file in ``folder``, or a PostgreSQL database dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/kill.db"
        return
    with throwaway_database(pg_url, "labourwatch_kill") as url:
        yield url


def print_result(result: dict[str, Any], as_json: bool) -> int:
    """A bench's figures on stdout (one JSON line, or a key per line); its exit code: 0 when they are ``ok``."""
    if as_json:
        print(json.dumps(result))
    else:
        width = max(map(len, result), default=0) + 2
        for key, value in result.items():
            print(f"{key:{width}s} {value}")
    return 0 if result["ok"] else 1


def key_tally(expected: Iterable[str], received: Iterable[str | None]) -> dict[str, Any]:
    """Idempotency keys a receiver got against the keys the outbox holds: how many were lost (expected, never
    received), re-sent (received more than once, counted per extra copy) and unknown (no such delivery)."""
    wanted = set(expected)
    counts = Counter(received)
    return {"deliveries": len(wanted), "received": sum(counts.values()), "distinct_received": len(counts),
            "lost": len(wanted - set(counts)), "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "duplicates_with_unknown_key": sum(1 for key in counts if key not in wanted)}


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_tree(process: subprocess.Popen[Any], tree: list[int], grace: float = 15.0) -> list[int]:
    """SIGKILL ``process`` alone, as the OOM killer or ``kill -9`` would, and wait for it. Its descendants
    (``tree``: found before the kill) must end by themselves within ``grace`` seconds; those that did not are
    returned, after being killed by their pid so that they cannot pile up over many kills."""
    process.kill()
    process.wait()
    others = [pid for pid in tree if pid != process.pid]
    deadline = time.monotonic() + grace
    while any(map(alive, others)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in others if alive(pid)]
    for pid in left:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left
