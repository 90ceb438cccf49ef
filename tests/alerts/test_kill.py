"""Crash safety: dispatchers killed with SIGKILL at random moments lose nothing (short kill runs, under 60 s each):
one dispatcher on SQLite, and two at once on PostgreSQL, where they claim deliveries with SKIP LOCKED."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.daemonproc import run_tree
from tests.databases import PG_ADMIN_URL

BENCH = Path(__file__).resolve().parents[2] / "bench" / "alerts_kill_bench.py"
pytestmark = pytest.mark.slow
# Receivers answer in 0.2 s, so most kills land while a dispatcher is sending.
SHORT = ["--kills", "8", "--events", "20", "--window", "1.0", "--delay", "0.2", "--json"]


def kill_run(*extra: str) -> dict[str, Any]:
    result = run_tree([sys.executable, str(BENCH), *SHORT, *extra], timeout=300)
    assert result.returncode in (0, 1), result.stderr
    counts: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == (0 if counts["ok"] else 1)
    return counts


def assert_nothing_lost(counts: dict[str, Any]) -> None:
    # At least once: every delivery arrived and was marked sent; a repeat (a kill between the send and its
    # bookkeeping) carries the key of the delivery it repeats, so de-duplicating by key leaves exactly 40.
    assert counts["lost"] == 0 and counts["duplicates_with_unknown_key"] == 0, counts
    assert counts["statuses"] == {"sent": 40} and counts["distinct_received"] == 40, counts
    assert counts["received"] == 40 + counts["duplicates"], counts
    assert counts["final_exit"] == 0 and counts["ok"], counts


def test_sigkilled_dispatchers_lose_nothing_and_duplicates_keep_their_key() -> None:
    assert_nothing_lost(kill_run())


def test_two_dispatchers_on_postgresql_sigkilled_at_random_lose_nothing(pg_database: str) -> None:
    # pg_database: PostgreSQL is there (else skipped, or failed in CI); the bench makes a database of its own.
    counts = kill_run("--database", "postgresql", "--dispatchers", "2", "--pg-url", PG_ADMIN_URL)
    assert (counts["database"], counts["dispatchers"]) == ("postgresql", 2)
    assert_nothing_lost(counts)
