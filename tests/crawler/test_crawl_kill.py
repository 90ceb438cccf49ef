"""Crash safety of the crawl: the daemon killed with SIGKILL mid-crawl, again and again, on a web that changes
between restarts (new articles, edited figures, corrections, headlines), then run to the end, leaves every
article whole or absent, no orphan row, no duplicate event and no alert lost; checked directly in the database
by short runs of ``bench/crawl_kill_bench.py`` (5 kills on SQLite, 3 on PostgreSQL)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.daemonproc import run_tree
from tests.databases import PG_ADMIN_URL

BENCH = Path(__file__).resolve().parents[2] / "bench" / "crawl_kill_bench.py"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]
SHORT = ["--sites", "4", "--articles", "8", "--window", "1.0", "--json"]


def kill_run(kills: int, *extra: str) -> dict[str, Any]:
    result = run_tree([sys.executable, str(BENCH), "--kills", str(kills), *SHORT, *extra], timeout=380)
    # Exit 1 with figures is a finding; without (an exception) the run itself failed.
    assert result.returncode in (0, 1) and result.stdout.strip(), result.stderr[-5000:]
    figures: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == (0 if figures["ok"] else 1)
    return figures


def assert_whole(f: dict[str, Any], kills: int) -> None:
    # The kills landed: each after the killed run had stored something; the web changed under them, and edits
    # were stored as versions with diffs (so re-checks were among what the kills hit).
    assert f["kills"] == kills and f["kills_after_writes"] >= 1, f
    assert f["web_states"] >= kills - 1 and f["diffs"] > 0 and f["events_by_type"].get("article_edited"), f
    # The database as a whole.
    assert f["integrity_check"] in ("ok", "enforced") and f["foreign_key_violations"] == 0, f
    assert f["orphans"] == 0, f["orphans_by_column"]
    # Every article whole (versions, URLs, raw responses, diffs, claim matches, events as the crawl makes them
    # now) or absent, and no change with two events.
    assert f["partial_articles"] == 0 and f["problems"] == {}, f["examples"]
    assert f["duplicate_events"] == 0, f["examples"]
    assert f["versions"] >= f["relevant_articles"] > 0 and f["events"] > 0, f
    # Nothing missing against a clean crawl of the final web, and every latest version the same as its (the
    # killed run may hold more: articles that older states listed).
    assert 0 < f["control_articles"] <= f["articles"] and f["missing_articles"] == f["stale_articles"] == 0, f
    # Every delivery sent, and received at least once under its own key; re-sends are counted, never new keys.
    assert f["deliveries"] > 0 and f["unsent"] == 0, f
    assert f["lost"] == 0 and f["unknown_keys"] == 0 and f["received"] == f["deliveries"] + f["raw_resends"], f
    # No worker process outlived a kill; the last run stopped cleanly; the daemon logged no traceback.
    assert f["leftover_processes"] == 0 and f["final_exit"] == 0 and f["tracebacks"] == 0, f
    assert f["ok"], f


def test_daemon_sigkilled_mid_crawl_leaves_every_article_whole_or_absent_on_sqlite() -> None:
    figures = kill_run(5)
    assert figures["plan"]["database"] == "sqlite" and figures["integrity_check"] == "ok"
    assert_whole(figures, 5)


def test_daemon_sigkilled_mid_crawl_leaves_every_article_whole_or_absent_on_postgresql(pg_database: str) -> None:
    # pg_database: PostgreSQL is there (else skipped, or failed in CI); the bench makes a database of its own.
    figures = kill_run(3, "--database", "postgresql", "--pg-url", PG_ADMIN_URL)
    assert figures["plan"]["database"] == "postgresql"
    assert_whole(figures, 3)
