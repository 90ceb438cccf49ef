"""The daemon's health: what its jobs and database checks last did, and whether that adds up to healthy.

``/healthz`` answers 200 only when ``reasons()`` is empty. Unhealthy means one of: the scheduler is not
running; a job is stalled (below); the last database check failed; a job's last 3 runs all failed; or the
daemon is stopping.

**Stalls.** Each job is expected on its APScheduler trigger. A job's *reference* is its last finish, or, until
it has finished under its current schedule, the time that schedule was given to it (daemon start, or the reload
that added the job or changed its schedule). The job is *due* at the trigger's first fire after the reference:

- interval trigger: reference + interval (an upper bound: interval triggers fire on a grid, and the daemon may
  wake the poll job earlier);
- cron trigger: its next fire time, so a monthly digest is due about a month after its last run.

Its *gap* is the time from that due fire to the one after it (the interval; for a cron the real gap, e.g. 28 to
31 days for a monthly one, 1 or 3 days for a weekday one). The job is stalled when it has not finished by

    due + max(stall_after, 2 × gap)

``stall_after`` is how long one run may take (a big crawl, a slow database). ``2 × gap`` lets one scheduled run
be lost — skipped because the previous run still ran (``max_instances=1``), or missed after the loop was blocked
past ``misfire_grace`` — and the next run be late, without a false alarm; for interval jobs the rule is the
earlier "3 × interval since the last finish". A run still going is not a finish: a hung run stalls its job by
the same deadline. The multiple is of the job's own gap, never a fixed number of days, so weekly and monthly
schedules are as healthy as daily ones.

**Reloads.** ``expect()`` with the same schedule (same trigger string) changes nothing, so periodic SIGHUPs
cannot hide a stall; a new schedule restarts the reference at the reload (a finish under a weekly schedule,
measured against a new daily one, would be a false stall). ``retain()`` forgets the jobs a reload removed, and
runs of a job Health does not expect (one removed while it ran) are not recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from db.models import utcnow

FAILED_RUNS = 3  # this many failed runs in a row make the daemon unhealthy (one, for jobs rarer than stall_after)
GAP_MULTIPLE = 2  # a job may lose one scheduled run and be late for the next (see the module docstring)
_TICK = timedelta(microseconds=1)


def fire_after(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The trigger's first fire strictly after ``after`` (interval: ``after`` + its interval); None: never."""
    if isinstance(trigger, IntervalTrigger):
        return after + trigger.interval
    fire: datetime | None = trigger.get_next_fire_time(None, after + _TICK)
    return fire


@dataclass(frozen=True)
class Deadline:
    """When a job is due, the gap after that fire, and when it counts as stalled."""

    due: datetime
    gap: timedelta
    stall_at: datetime


@dataclass
class JobState:
    """What one job is expected to do and last did."""

    trigger: BaseTrigger
    since: datetime  # when the job got its current schedule
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_ok: bool | None = None
    last_error: str | None = None
    running: bool = False
    failures: int = 0  # consecutive failed runs

    @property
    def reference(self) -> datetime:
        """The last finish under the current schedule, else when the job got it."""
        if self.last_finished_at is not None and self.last_finished_at > self.since:
            return self.last_finished_at
        return self.since

    def deadline(self, stall_after: timedelta) -> Deadline | None:
        """The job's next due time and stall deadline (None: its trigger never fires again)."""
        due = fire_after(self.trigger, self.reference)
        following = fire_after(self.trigger, due) if due is not None else None
        if due is None or following is None:
            return None
        gap = following - due
        return Deadline(due, gap, due + max(stall_after, GAP_MULTIPLE * gap))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def human(delta: timedelta) -> str:
    """``delta`` as a short duration such as ``3d 2h``, ``2h 5m`` or ``40s``."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else "",
             f"{seconds}s" if seconds else ""]
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
        # Cluster mode's engine worker: None on a single node, else whether it is taking jobs, and its last error.
        self._engine_running: bool | None = None
        self._engine_error: str | None = None

    def expect(self, job: str, trigger: BaseTrigger) -> None:
        """``job`` runs on ``trigger`` from now on (a new schedule restarts its stall reference; the same one
        changes nothing)."""
        state = self.jobs.get(job)
        if state is None:
            self.jobs[job] = JobState(trigger, self.clock())
        elif str(state.trigger) != str(trigger):
            state.trigger, state.since = trigger, self.clock()

    def retain(self, jobs: Iterable[str]) -> list[str]:
        """Forget every job not in ``jobs`` (removed by a reload); the forgotten ids."""
        keep = set(jobs)
        gone = sorted(job for job in self.jobs if job not in keep)
        for job in gone:
            del self.jobs[job]
        return gone

    def started(self, job: str) -> None:
        """A run of ``job`` began."""
        state = self.jobs.get(job)
        if state is not None:
            state.last_started_at, state.running = self.clock(), True

    def finished(self, job: str, ok: bool, error: str | None = None, *, idle: bool = False) -> None:
        """A run of ``job`` ended, well or with ``error``. An ``idle`` run (nothing to do) keeps the job alive
        but neither clears nor extends its streak of failures."""
        state = self.jobs.get(job)
        if state is None:
            return  # removed by a reload while it ran
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

    def engine_running(self, running: bool, error: str | None = None) -> None:
        """Cluster mode: whether this node's engine worker is taking jobs (with why not)."""
        self._engine_running, self._engine_error = running, None if running else error

    def stopping(self) -> None:
        """The daemon is shutting down: health says so from now on."""
        self._stopping = True

    def reasons(self) -> list[str]:
        """Why the daemon is unhealthy; empty when it is healthy."""
        now = self.clock()
        reasons = ["the daemon is stopping"] if self._stopping else []
        if not self._scheduler_running:
            reasons.append("the scheduler is not running")
        if self._engine_running is False:
            reasons.append(f"the cluster engine worker is not running: {self._engine_error or 'stopped'}")
        for job, state in sorted(self.jobs.items()):
            reasons.extend(self._job_reasons(job, state, now))
        if self._database_ok is False:
            reasons.append(f"the last database check failed: {self._database_error}")
        return reasons

    def _job_reasons(self, job: str, state: JobState, now: datetime) -> list[str]:
        reasons = []
        deadline = state.deadline(self.stall_after)
        if deadline is not None and now > deadline.stall_at:
            since = state.reference
            what = ("last finished" if since == state.last_finished_at
                    else "has not finished since it was scheduled")
            reasons.append(f"job {job!r} {what} {human(now - since)} ago (due {_iso(deadline.due)}, expected "
                           f"every {human(deadline.gap)}, stalled {human(deadline.stall_at - deadline.due)} "
                           f"after due)")
        # A job that runs less often than stall_after (daily retention, digests) is unhealthy after one failed
        # run: three failed days of retention would go unseen otherwise. Frequent jobs get three runs.
        allowed = 1 if deadline is not None and deadline.gap >= self.stall_after else FAILED_RUNS
        if state.failures >= allowed:
            reasons.append(f"job {job!r} failed its last {state.failures} runs: {state.last_error}")
        return reasons

    def _job_snapshot(self, state: JobState) -> dict[str, Any]:
        deadline = state.deadline(self.stall_after)
        return {
            "schedule": str(state.trigger),
            "every_seconds": deadline.gap.total_seconds() if deadline is not None else None,
            "due_at": _iso(deadline.due if deadline is not None else None),
            "stalled_at": _iso(deadline.stall_at if deadline is not None else None),
            "running": state.running,
            "last_started_at": _iso(state.last_started_at),
            "last_finished_at": _iso(state.last_finished_at),
            "last_ok": state.last_ok,
            "last_error": state.last_error,
            "consecutive_failures": state.failures,
        }

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
            "engine_worker": None if self._engine_running is None else {"running": self._engine_running,
                                                                        "error": self._engine_error},
            "database": {"ok": self._database_ok, "error": self._database_error,
                         "checked_at": _iso(self._database_checked_at)},
            "jobs": {job: self._job_snapshot(state) for job, state in sorted(self.jobs.items())},
        }
