"""The daemon's health: what its jobs and database checks last did, and whether that adds up to healthy.

``/healthz`` answers 200 only when ``reasons()`` is empty. Unhealthy means one of: the scheduler is not
running; a job expected every X has not finished for longer than max(stall_after, 3×X) (counted from the
daemon's start until its first finish, which is the grace a fresh daemon gets); the last database check
failed; a job's last 3 runs all failed; or the daemon is stopping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from db.models import utcnow

FAILED_RUNS = 3  # this many failed runs in a row make the daemon unhealthy


@dataclass
class JobState:
    """What one job last did."""

    every: timedelta | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_ok: bool | None = None
    last_error: str | None = None
    running: bool = False
    failures: int = 0  # consecutive failed runs


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def human(delta: timedelta) -> str:
    """``delta`` as a short duration such as ``2h 5m`` or ``40s``."""
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{seconds}s" if seconds else ""]
    return " ".join(part for part in parts if part) or "0s"


class Health:
    """Job progress and database checks, as the daemon reports them; ``snapshot()`` is the /healthz body.

    The scheduler counts as not running until ``scheduler_running(True)``."""

    def __init__(self, stall_after: timedelta, clock: Callable[[], datetime] = utcnow) -> None:
        self.stall_after = stall_after
        self.clock = clock
        self.started_at = clock()
        self.jobs: dict[str, JobState] = {}
        self._scheduler_running = False
        self._stopping = False
        self._database_ok: bool | None = None
        self._database_error: str | None = None
        self._database_checked_at: datetime | None = None

    def _job(self, job: str) -> JobState:
        return self.jobs.setdefault(job, JobState())

    def expect(self, job: str, every: timedelta) -> None:
        """``job`` should finish at least once every ``every``."""
        self._job(job).every = every

    def started(self, job: str) -> None:
        """A run of ``job`` began."""
        state = self._job(job)
        state.last_started_at, state.running = self.clock(), True

    def finished(self, job: str, ok: bool, error: str | None = None, *, idle: bool = False) -> None:
        """A run of ``job`` ended, well or with ``error``. An ``idle`` run (nothing to do) keeps the job alive
        but neither clears nor extends its streak of failures."""
        state = self._job(job)
        state.last_finished_at, state.running = self.clock(), False
        if idle:
            return
        state.last_ok, state.last_error = ok, None if ok else (error or "unknown error")
        state.failures = 0 if ok else state.failures + 1

    def database_ok(self, ok: bool, error: str | None = None) -> None:
        """The outcome of the latest database check."""
        self._database_ok, self._database_error = ok, None if ok else (error or "unknown error")
        self._database_checked_at = self.clock()

    def scheduler_running(self, running: bool) -> None:
        """Whether the scheduler is running."""
        self._scheduler_running = running

    def stopping(self) -> None:
        """The daemon is shutting down: health says so from now on."""
        self._stopping = True

    def reasons(self) -> list[str]:
        """Why the daemon is unhealthy; empty when it is healthy."""
        now = self.clock()
        reasons = ["the daemon is stopping"] if self._stopping else []
        if not self._scheduler_running:
            reasons.append("the scheduler is not running")
        for job, state in sorted(self.jobs.items()):
            reasons.extend(self._job_reasons(job, state, now))
        if self._database_ok is False:
            reasons.append(f"the last database check failed: {self._database_error}")
        return reasons

    def _job_reasons(self, job: str, state: JobState, now: datetime) -> list[str]:
        reasons = []
        if state.every is not None:
            limit = max(self.stall_after, 3 * state.every)
            since = state.last_finished_at or self.started_at
            if now - since > limit:
                what = "last finished" if state.last_finished_at else "has not finished since the daemon started"
                reasons.append(f"job {job!r} {what} {human(now - since)} ago "
                               f"(expected every {human(state.every)}, limit {human(limit)})")
        if state.failures >= FAILED_RUNS:
            reasons.append(f"job {job!r} failed its last {state.failures} runs: {state.last_error}")
        return reasons

    def snapshot(self) -> dict[str, Any]:
        """The JSON-able state: ``status`` (ok, unhealthy or stopping), ``reasons``, and what each job did."""
        reasons = self.reasons()
        status = "stopping" if self._stopping else "unhealthy" if reasons else "ok"
        return {
            "status": status,
            "reasons": reasons,
            "started_at": _iso(self.started_at),
            "now": _iso(self.clock()),
            "scheduler_running": self._scheduler_running,
            "database": {"ok": self._database_ok, "error": self._database_error,
                         "checked_at": _iso(self._database_checked_at)},
            "jobs": {job: {
                "every_seconds": state.every.total_seconds() if state.every is not None else None,
                "running": state.running,
                "last_started_at": _iso(state.last_started_at),
                "last_finished_at": _iso(state.last_finished_at),
                "last_ok": state.last_ok,
                "last_error": state.last_error,
                "consecutive_failures": state.failures,
            } for job, state in sorted(self.jobs.items())},
        }
