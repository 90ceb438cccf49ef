"""Cluster mode as the database sees it: the engine's workers (one per node) and their heartbeats, its jobs by
state, the keys whose job is running (``crawl:<host:port>``, ``dispatch``, ``prune``), and PostgreSQL's count of
deadlocks. Read from Procrastinate's tables (migration 0012) for ``labourwatch status`` and ``/metrics``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from db.queries import _iso

# Procrastinate's job states (its procrastinate_job_status type; 'aborting' is unused since its 3.0).
JOB_STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")

_WORKERS = text("""
    SELECT w.id, w.last_heartbeat, count(j.id) AS running
      FROM procrastinate_workers w LEFT JOIN procrastinate_jobs j ON j.worker_id = w.id AND j.status = 'doing'
     GROUP BY w.id, w.last_heartbeat ORDER BY w.id""")
_JOBS = text("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY status")
_LOCKED = text("""
    SELECT lock, worker_id FROM procrastinate_jobs WHERE status = 'doing' AND lock IS NOT NULL ORDER BY lock""")
_DEADLOCKS = text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
_HAS_ENGINE = text("SELECT to_regclass('procrastinate_workers') IS NOT NULL")


def has_engine(session: Session) -> bool:
    """Whether the database has the engine's tables: PostgreSQL at migration 0012 or later."""
    return session.get_bind().dialect.name == "postgresql" and bool(session.scalar(_HAS_ENGINE))


def cluster_report(session: Session, now: datetime, stall_window: timedelta | None = None) -> dict[str, Any] | None:
    """The cluster's nodes, jobs by state, locked keys and deadlocks, as JSON-able data; None on SQLite (no
    cluster). A node is ``silent`` when its last heartbeat is older than ``stall_window``: its running jobs are
    handed to another node at the next planning."""
    if not has_engine(session):
        return None
    nodes = []
    for worker_id, heartbeat, running in session.execute(_WORKERS):
        age = max(0.0, (now - heartbeat).total_seconds())
        nodes.append({"worker_id": worker_id, "last_heartbeat": _iso(heartbeat), "heartbeat_age_seconds": round(age, 1),
                      "running_jobs": running,
                      "silent": stall_window is not None and age > stall_window.total_seconds()})
    jobs = dict.fromkeys(JOB_STATES, 0) | {state: count for state, count in session.execute(_JOBS)}
    locked = [{"key": key, "worker_id": worker_id} for key, worker_id in session.execute(_LOCKED)]
    return {"nodes": nodes, "jobs": jobs, "locked_keys": locked, "deadlocks": int(session.scalar(_DEADLOCKS) or 0)}
