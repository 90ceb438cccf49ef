"""Stall detection from each job's real trigger: long cron schedules stay healthy, stalls still show, reloads are
remembered or forgotten as they should be. The triggers are APScheduler's own; the clock is a fake one."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client.parser import text_string_to_metric_families

from analysis.cron import cron_trigger
from scheduler.health import Health, fire_after
from scheduler.http import ObservabilityServer
from scheduler.metrics import Metrics

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday
STALL_AFTER = timedelta(minutes=10)


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def cron(expression: str) -> CronTrigger:
    return cron_trigger(expression)


def healthy_daemon(clock: Clock) -> Health:
    health = Health(STALL_AFTER, clock)
    health.scheduler_running(True)
    return health


def run_like_the_scheduler(health: Health, clock: Clock, jobs: dict[str, tuple[CronTrigger, timedelta]],
                           until: datetime, check_every: timedelta) -> int:
    """Fire every job at each of its trigger's fire times (each run taking its duration) until ``until``,
    asserting that health has no reason at every ``check_every`` tick and just before and after every run;
    the number of checks made."""
    fires = {job: fire_after(trigger, clock.now) for job, (trigger, _) in jobs.items()}
    checks = 0
    tick = clock.now
    while True:
        job, fire = min(((job, at) for job, at in fires.items() if at is not None), key=lambda item: item[1])
        while tick < min(fire, until):  # idle time between runs
            clock.now = tick
            assert health.reasons() == [], (clock.now, health.snapshot())
            tick += check_every
            checks += 1
        if fire >= until:
            return checks
        trigger, duration = jobs[job]
        clock.now = fire
        assert health.reasons() == [], (clock.now, health.snapshot())
        health.started(job)
        clock.now = fire + duration
        health.finished(job, ok=True)
        assert health.reasons() == [], (clock.now, health.snapshot())
        checks += 2
        fires[job] = fire_after(trigger, fire)


def test_monthly_weekly_and_weekday_crons_stay_healthy_for_a_year() -> None:
    clock = Clock()
    health = healthy_daemon(clock)
    jobs = {
        "digest:monthly": (cron("0 7 1 * *"), timedelta(seconds=20)),  # 28 to 31 days apart
        "prune": (cron("17 3 * * sun"), timedelta(minutes=4)),  # weekly, on Sundays
        "digest:weekdays": (cron("30 6 * * 1-5"), timedelta(seconds=5)),  # 1 day apart, 3 over a weekend
    }
    for job, (trigger, _) in jobs.items():
        health.expect(job, trigger)
    checks = run_like_the_scheduler(health, clock, jobs, START + timedelta(days=400), timedelta(hours=3))
    assert checks > 3000
    snapshot = health.snapshot()["jobs"]
    assert snapshot["prune"]["every_seconds"] == 7 * 86400
    assert 28 * 86400 <= snapshot["digest:monthly"]["every_seconds"] <= 31 * 86400


def test_a_monthly_digest_expects_its_real_gap() -> None:
    clock = Clock(datetime(2026, 1, 31, 8, 0, tzinfo=UTC))
    health = healthy_daemon(clock)
    health.expect("digest:monthly", cron("0 7 1 * *"))
    jobs = health.snapshot()["jobs"]["digest:monthly"]
    # Due on 1 February; the gap after it is February's 28 days; stalled two gaps after the due time.
    assert jobs["due_at"] == "2026-02-01T07:00:00+00:00"
    assert jobs["every_seconds"] == 28 * 86400
    assert jobs["stalled_at"] == "2026-03-29T07:00:00+00:00"


def test_a_weekly_prune_that_stops_running_is_stalled_two_weeks_after_it_was_due() -> None:
    clock = Clock()
    health = healthy_daemon(clock)
    health.expect("prune", cron("17 3 * * sun"))
    clock.now = datetime(2026, 1, 11, 3, 17, tzinfo=UTC)  # a Sunday
    health.started("prune")
    clock.now += timedelta(minutes=3)
    health.finished("prune", ok=True)
    # Next due Sunday 18 January 03:17; a lost run and a late next one are tolerated until 1 February 03:17.
    clock.now = datetime(2026, 2, 1, 3, 17, tzinfo=UTC)
    assert health.reasons() == []
    clock.now += timedelta(seconds=1)
    [reason] = health.reasons()
    assert reason.startswith("job 'prune' last finished 20d 23h 57m 1s ago (due 2026-01-18T03:17:00+00:00"), reason
    assert "expected every 7d, stalled 14d after due" in reason, reason


def test_a_hung_run_is_not_a_finish() -> None:
    clock = Clock()
    health = healthy_daemon(clock)
    health.expect("digest:daily", cron("0 7 * * *"))
    clock.now = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
    health.started("digest:daily")  # and never finishes
    clock.now = datetime(2026, 1, 8, 7, 0, tzinfo=UTC)  # due 6 Jan 07:00 + 2 days
    assert health.reasons() == []
    clock.now += timedelta(seconds=1)
    assert [reason.split(" (")[0] for reason in health.reasons()] == [
        "job 'digest:daily' has not finished since it was scheduled 2d 19h 1s ago"]
    assert health.snapshot()["jobs"]["digest:daily"]["running"] is True


def test_a_stalled_cron_job_makes_healthz_503_and_names_it() -> None:
    clock = Clock()
    health = healthy_daemon(clock)
    health.expect("prune", cron("17 3 * * sun"))
    health.expect("dispatch", IntervalTrigger(seconds=10, timezone=UTC))

    async def main() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        server = ObservabilityServer("127.0.0.1", 0, health, Metrics())
        await server.start()
        try:
            healthy = await fetch(server.port)
            clock.now = datetime(2026, 1, 25, 3, 17, 1, tzinfo=UTC)  # prune due 11 Jan, never ran
            health.finished("dispatch", ok=True)  # the other jobs are fine
            return healthy, await fetch(server.port)
        finally:
            await server.stop()

    (status, _), (stalled_status, body) = asyncio.run(main())
    assert status == 200
    assert stalled_status == 503
    snapshot = json.loads(body)
    assert [reason.split(" (")[0] for reason in snapshot["reasons"]] == [
        "job 'prune' has not finished since it was scheduled 19d 15h 17m 1s ago"]
    assert snapshot["jobs"]["prune"]["schedule"] == "cron[month='*', day='*', day_of_week='sun', hour='3', minute='17']"


async def fetch(port: int) -> tuple[int, bytes]:
    """GET /healthz over a real socket: (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_a_reload_with_the_same_schedule_does_not_hide_a_stall() -> None:
    clock = Clock()
    health = healthy_daemon(clock)
    health.expect("prune", cron("17 3 * * *"))
    clock.now += timedelta(days=3)
    assert health.reasons()  # due 6 Jan 03:17, stalled 8 Jan 03:17
    health.expect("prune", cron("17 3 * * *"))  # SIGHUP, same config
    assert health.reasons()


def test_a_new_schedule_restarts_the_reference_at_the_reload() -> None:
    clock = Clock()
    health = healthy_daemon(clock)
    health.expect("prune", cron("17 3 * * sun"))
    clock.now = datetime(2026, 1, 11, 3, 20, tzinfo=UTC)
    health.finished("prune", ok=True)
    clock.now = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
    # Weekly → hourly: measured from the last (weekly) run, the job would be days overdue at once.
    health.expect("prune", cron("0 * * * *"))
    assert health.reasons() == []
    clock.now += timedelta(hours=1, minutes=10)
    assert health.reasons() == []  # due 13:00, stalled max(10 min, 2 h) later
    clock.now += timedelta(hours=2)
    assert "has not finished since it was scheduled 3h 10m ago" in health.reasons()[0]


def test_jobs_removed_by_a_reload_are_forgotten_by_health_and_metrics() -> None:
    clock = Clock()
    health = healthy_daemon(clock)
    metrics = Metrics()
    for job in ("dispatch", "digest:morning", "digest:monthly"):
        health.expect(job, cron("0 7 1 * *") if job == "digest:monthly" else cron("0 7 * * *"))
        metrics.job_error(job)
    health.started("digest:morning")
    assert health.retain(["dispatch", "digest:monthly"]) == ["digest:morning"]
    for job in ("digest:morning", "poll"):
        metrics.forget_job(job)  # poll never had an error: nothing to forget, no error either
    health.finished("digest:morning", ok=False, error="a run that was in flight when the route went")
    assert sorted(health.snapshot()["jobs"]) == ["digest:monthly", "dispatch"]
    families = text_string_to_metric_families(metrics.render().decode())
    errors = {sample.labels["job"] for family in families if family.name == "labourwatch_job_errors"
              for sample in family.samples if sample.name.endswith("_total")}
    assert errors == {"dispatch", "digest:monthly"}


def test_a_rare_job_is_unhealthy_after_one_failed_run_a_frequent_one_after_three() -> None:
    clock = Clock()
    health = healthy_daemon(clock)
    health.expect("prune", cron("17 3 * * *"))
    health.expect("dispatch", IntervalTrigger(seconds=10, timezone=UTC))
    for _ in range(2):
        health.started("dispatch")
        health.finished("dispatch", ok=False, error="OperationalError: database is locked")
    assert health.reasons() == []  # two failed dispatch passes in a row: retried in ten seconds
    health.started("prune")
    health.finished("prune", ok=False, error="OperationalError: disk full")
    assert any("'prune' failed its last 1 runs: OperationalError: disk full" in r for r in health.reasons())
    health.started("dispatch")
    health.finished("dispatch", ok=False, error="OperationalError: database is locked")
    assert any("'dispatch' failed its last 3 runs" in r for r in health.reasons())
