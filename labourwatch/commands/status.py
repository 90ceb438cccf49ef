"""``labourwatch status``: how the monitor is doing, from the database alone; ``--check`` for cron and monitoring."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import click
from rich.text import Text

from db import claims as claim_queries
from db import status as status_queries
from db.outbox import STATUSES
from labourwatch.context import AppContext, pass_app
from labourwatch.output import FORMATS, console, print_json, print_rows

_SOURCE_COLUMNS = [
    ("id", "source", None), ("kind", "kind", None), ("health", "health", None),
    ("consecutive_failures", "fails", None), ("last_poll", "last poll (UTC)", None),
    ("next_poll", "next poll (UTC)", None), ("last_error", "last error", 60),
]
_LOCKED_SHOWN = 10  # locked keys named in the table (JSON has them all)
_ERROR_COLUMNS = [("at", "at (UTC)", None), ("source_id", "source", None), ("code", "code", None),
                  ("message", "message", 70)]


def _when(iso: str | None) -> str:
    """An ISO timestamp of the report (UTC) to the second, for a table cell."""
    return iso[:19].replace("T", " ") if iso else ""


def _next_poll(row: dict[str, Any]) -> str:
    if row["next_poll_at"] is None:
        return "—"
    overdue = row["overdue_seconds"]
    return f"{_when(row['next_poll_at'])} (overdue {overdue} s)" if overdue else _when(row["next_poll_at"])


def _source_table_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**row, "last_poll": _when(row["last_polled_at"]), "next_poll": _next_poll(row),
             "last_error": f"{row['last_error_code']}: {row['last_error']}" if row["health"] == "failing" else ""}
            for row in report["sources"]]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "none"


def _last_run_line(run: dict[str, Any] | None) -> str:
    if run is None:
        return "last run: none recorded"
    finished = f"finished {_when(run['finished_at'])}" if run["finished_at"] else "not finished"
    return (f"last run: #{run['id']} ({run['trigger']}) {run['status']}, started {_when(run['started_at'])}, "
            f"{finished}, {run['error_count']} error(s); {_counts(run['stats'])}")


def _cluster_lines(cluster: dict[str, Any] | None) -> list[str]:
    """The cluster as a few lines; none on SQLite, or on PostgreSQL when no node ever ran."""
    if cluster is None or not (cluster["nodes"] or any(cluster["jobs"].values())):
        return []
    nodes = "; ".join(
        f"worker {n['worker_id']} heartbeat {_when(n['last_heartbeat'])} ({n['heartbeat_age_seconds']:.0f} s ago"
        f"{', SILENT' if n['silent'] else ''}), {n['running_jobs']} running" for n in cluster["nodes"]) or "none"
    locked = cluster["locked_keys"]
    keys = ", ".join(f"{k['key']} (worker {k['worker_id']})" for k in locked[:_LOCKED_SHOWN])
    more = f", … {len(locked) - _LOCKED_SHOWN} more" if len(locked) > _LOCKED_SHOWN else ""
    return [f"cluster nodes: {len(cluster['nodes'])}: {nodes}",
            f"cluster jobs: {_counts(cluster['jobs'])}",
            f"cluster keys locked: {len(locked)}{': ' + keys + more if locked else ''}",
            f"deadlocks (PostgreSQL, retried): {cluster['deadlocks']}"]


def _print_table(report: dict[str, Any]) -> None:
    print_rows(_source_table_rows(report), _SOURCE_COLUMNS, "table",
               title=f"sources ({_counts(report['health_counts'])})")
    out = console()
    deliveries = report["deliveries"]
    oldest = deliveries["oldest_pending_at"]
    waiting = f"; oldest waiting since {_when(oldest)}" if oldest else ""
    statuses = ", ".join(f"{status} {deliveries[status]}" for status in STATUSES)
    rechecks = report["rechecks"]
    upcoming = f"; next at {_when(rechecks['next_at'])}" if rechecks["next_at"] else ""
    for line in (f"deliveries: {statuses}{waiting}", f"re-checks due now: {rechecks['due']}{upcoming}",
                 f"events in the last 24 h: {_counts(report['events_24h'])}", _last_run_line(report["last_run"])):
        out.print(Text(line))  # Text, not markup: error codes and stats names are shown as written
    for line in _cluster_lines(report["cluster"]):
        out.print(Text(line))
    if report["recent_errors"]:
        errors = [{**error, "at": _when(error["at"])} for error in report["recent_errors"]]
        print_rows(errors, _ERROR_COLUMNS, "table", title="recent errors")
    else:
        out.print(Text("recent errors: none"))


@click.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--errors", "error_limit", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many recent crawl errors to show.")
@click.option("--check", is_flag=True,
              help="Exit 1 when an enabled source is failing or overdue by more than 15 minutes, or a delivery "
                   "is dead; the reasons go to stderr.")
@pass_app
def status(app: AppContext, fmt: str, error_limit: int, check: bool) -> None:
    """How the monitor is doing: source health worst first, outbox, re-checks, the last run, recent events and
    errors, and on PostgreSQL the cluster (nodes and heartbeats, jobs by state, keys locked, deadlocks). JSON keys:
    sources, health_counts, rechecks, deliveries, recent_errors, last_run, events_24h, cluster (null on SQLite),
    problems, known_claims, warnings (a database without known claims)."""
    with app.database().read() as session:
        report = status_queries.status_report(session, datetime.now(UTC), error_limit=error_limit,
                                              stall_window=app.config.model.daemon.cluster.stall_window)
        claims = claim_queries.active_claim_count(session)
    problems = status_queries.check_problems(report)
    warnings = [] if claims else [claim_queries.NO_CLAIMS_WARNING]
    if fmt == "json":
        print_json({**report, "known_claims": claims, "problems": problems, "warnings": warnings})
    else:
        _print_table(report)
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
    if check:
        # stderr, so the JSON on stdout stays one parseable document.
        for problem in problems:
            click.echo(f"check failed: {problem}", err=True)
        if problems:
            sys.exit(1)
