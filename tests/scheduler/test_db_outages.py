"""Database outages under ``labourwatch run``: a PostgreSQL server of its own stopped and started again, and SQLite
on a tmpfs that fills up. Short runs of ``bench/db_outage_bench.py`` (which the 60 s bench runs too); plus how the
daemon tells an outage from a bug, on real database errors."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.engine import Database, database_unavailable, error_summary
from tests.daemonproc import run_tree
from tests.receivers import free_port

BENCH = Path(__file__).resolve().parents[2] / "bench" / "db_outage_bench.py"
PG_BIN = Path(os.environ.get("LABOURWATCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
# Seconds; the bench's default is the 60 s the issue asks for. The full disk is shorter: it lasts until /healthz
# has said so anyway (after a job's third failed run), which a stopped server does at once.
PG_OUTAGE, DISK_OUTAGE = "15", "8"
RECOVERY_GOAL = 30.0  # the bound on recovery after the database returns (measured: about 1-2 s)


def require(ok: bool, problem: str) -> None:
    """Skip when ``ok`` is false, but fail in CI: there the outage tests must run."""
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


def outage_run(workdir: Path, *extra: str) -> dict[str, Any]:
    result = run_tree([sys.executable, str(BENCH), "--json", "--workdir", str(workdir), *extra], timeout=400)
    assert result.returncode in (0, 1) and result.stdout, result.stderr[-4000:]
    figures: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == (0 if figures["ok"] else 1)
    return figures


def assert_survived_and_recovered(figures: dict[str, Any], reason: str, log: Path) -> None:
    text = log.read_text(errors="replace")
    try:
        check(figures, reason)
        # The log says when a failing job works again.
        assert "works again after" in text
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- daemon.log (end) ---\n{text[-6000:]}") from None


def check(figures: dict[str, Any], reason: str) -> None:
    outage, recovery, alerts, errors = figures["outage"], figures["recovery"], figures["alerts"], figures["errors"]
    # Up all along, and unhealthy while the database was away, saying why.
    assert not outage["daemon_exited"] and figures["exit_code"] == 0, figures
    assert outage["by_status"].get("503", 0) >= 1, outage
    assert any(reason in line for line in outage["reasons"]), outage["reasons"]
    # The failures were recorded: failed runs logged one line each, no traceback repeated (no storm).
    assert sum(errors["job_errors"].values()) >= 1, errors
    assert errors["repeated_tracebacks"] == 0, errors
    # Back by themselves: poll and dispatch ran well again, health said ok, alerts flowed.
    assert recovery["all_jobs_s"] is not None and recovery["all_jobs_s"] <= RECOVERY_GOAL, recovery
    assert recovery["health_ok_s"] is not None and recovery["first_alert_s"] is not None, recovery
    # Nothing lost: every change the web made (before, during and after the outage) has its event, every delivery
    # was sent and arrived. Nothing doubled: one event per change; a raw repeat (a send whose outcome could not be
    # recorded) carries the key of the delivery it repeats, so de-duplicating by key leaves each delivery once.
    assert [change for change in alerts["changes"] if change["new"] + change["edited"] == 0] == [], alerts
    assert alerts["missing_events"] == [] and alerts["duplicate_events"] == 0, alerts
    assert alerts["by_status"] == {"sent": alerts["deliveries"]}, alerts
    assert alerts["lost"] == 0 and alerts["unknown_keys"] == 0, alerts
    assert alerts["received_distinct"] == alerts["deliveries"], alerts
    # What a pass held when the database went away is given back by the next pass, not after the 300 s lease.
    assert alerts["backlog_s"] is None or alerts["backlog_s"] <= RECOVERY_GOAL, alerts
    assert alerts["received"] == alerts["deliveries"] + alerts["duplicates"], alerts
    assert figures["drained"] and figures["ok"], figures


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(400)
def test_postgresql_stopped_mid_crawl_and_dispatch_then_restarted(tmp_path: Path) -> None:
    require((PG_BIN / "initdb").exists(), f"no PostgreSQL binaries in {PG_BIN}")
    require(os.geteuid() != 0 or shutil.which("runuser") is not None, "runuser is needed to run initdb as postgres")
    figures = outage_run(tmp_path, "--scenario", "postgresql", "--stop-mode", "fast", "--outage", PG_OUTAGE)
    assert_survived_and_recovered(figures, "the last database check failed", tmp_path / "daemon.log")
    assert figures["outage"]["seconds"] >= float(PG_OUTAGE)


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_sqlite_on_a_full_disk_then_room_again(tmp_path: Path) -> None:
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    figures = outage_run(tmp_path, "--scenario", "sqlite-full", "--outage", DISK_OUTAGE)
    assert_survived_and_recovered(figures, "database or disk is full", tmp_path / "daemon.log")
    assert figures["errors"]["integrity_check"] == "ok", figures["errors"]


# --- telling an outage from a bug, on real errors ----------------------------------------------------------------

def raised(db: Database, statement: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught, db.write() as session:
        session.execute(text(statement))
    return caught.value


def test_a_full_sqlite_database_and_a_refused_server_are_outages_a_wrong_statement_is_not(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'small.db'}")
    raised_full = None
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (x TEXT)"))
        # max_page_count caps the file as a full disk would: the next page SQLite needs is refused with SQLITE_FULL.
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA max_page_count = 3")
            with pytest.raises(DBAPIError) as caught:
                connection.exec_driver_sql("INSERT INTO t VALUES (?)", (os.urandom(20000).hex(),))
            raised_full = caught.value
        wrong = raised(db, "INSERT INTO no_such_table VALUES (1)")
    finally:
        db.dispose()
    assert isinstance(raised_full.orig, sqlite3.OperationalError) and database_unavailable(raised_full)
    assert error_summary(raised_full) == "OperationalError: database or disk is full"
    assert not database_unavailable(wrong) and "no such table" in error_summary(wrong)

    refused = Database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    try:
        with pytest.raises(DBAPIError) as caught, refused.read() as session:
            session.execute(text("SELECT 1"))
    finally:
        refused.dispose()
    assert database_unavailable(caught.value)
    summary = error_summary(caught.value)
    assert summary.startswith("OperationalError: connection failed") and "\n" not in summary, summary
    assert "[SQL" not in summary and "sqlalche.me" not in summary
    assert not database_unavailable(ValueError("not a database error"))
