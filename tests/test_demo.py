"""``labourwatch demo``: offline, it shows events and alerts as the fixture web changes, then exits 0."""

from __future__ import annotations

import os
import shlex
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_demo_runs_offline_and_leaves_a_database_to_browse(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "labourwatch", "demo", "--steps", "1", "--dir", str(folder)],
                            capture_output=True, text=True, timeout=280,
                            env={**os.environ, "COLUMNS": "160", "LABOURWATCH_CONFIG": str(tmp_path / "none.yaml")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert "the news web moves to state 1" in out
    assert "figure edited:" in out and "event article_edited" in out
    # The first crawl is the sources' baseline: one summary, then one message per story change.
    assert out.count("alert [labourwatch] Baseline of ") == 1
    assert str(folder / "labourwatch.db") in out
    with closing(sqlite3.connect(folder / "labourwatch.db")) as db:
        types = dict(db.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall())
        statuses = dict(db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall())
    # One step edits three articles (a figure, a correction, a headline): all three are noticed.
    assert types.get("article_edited", 0) >= 3 and types.get("new_article", 0) > 0
    assert statuses.get("sent", 0) > 1 and set(statuses) == {"sent"}
    with closing(sqlite3.connect(folder / "labourwatch.db")) as db:
        sent = dict(db.execute("SELECT e.type, count(*) FROM deliveries d JOIN events e ON e.id = d.event_id "
                               "GROUP BY e.type").fetchall())
    assert set(sent) == {"baseline", "story"} and sent["baseline"] == 1
    alerts = (folder / "alerts.md").read_text(encoding="utf-8")
    assert alerts.count("## [labourwatch]") == statuses["sent"]
    # The commands the demo prints for looking around run as printed, on the config it leaves behind.
    (printed,) = [line.strip() for line in out.splitlines() if line.strip().endswith(" events list")]
    browse = subprocess.run([*shlex.split(printed), "--format", "json"], capture_output=True, text=True, timeout=60)
    assert browse.returncode == 0, browse.stderr
    assert "article_edited" in browse.stdout
