"""Source poll times: interval and cron schedules, failure backoff with a cap, jitter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.types import SourceSpec
from scheduler.schedule import first_poll, interval, next_poll, regular_next, schedule_base

T0 = datetime(2026, 11, 27, 10, 7, 30, tzinfo=UTC)
HOUR = timedelta(hours=6)


def spec(**kwargs: object) -> SourceSpec:
    return SourceSpec(id="s", kind="feed", url="https://example.org/feed", **kwargs)  # type: ignore[arg-type]


def test_interval_source_is_polled_start_to_start() -> None:
    source = spec(every=timedelta(minutes=15))
    assert next_poll(source, T0, 0, HOUR, lambda: 0.0) == T0 + timedelta(minutes=15)


def test_cron_source_fires_on_the_cron() -> None:
    source = spec(cron="*/30 * * * *")
    assert regular_next(source, T0) == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    # Exactly on a fire time, the next one is the following fire, not the same instant.
    on_time = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    assert regular_next(source, on_time) == datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    assert interval(source, on_time) == timedelta(minutes=30)


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    source = spec(every=timedelta(minutes=15))
    waits = [next_poll(source, T0, failures, HOUR, lambda: 0.0) - T0 for failures in range(6)]
    assert waits == [timedelta(minutes=m) for m in (15, 30, 60, 120, 240, 360)]
    assert next_poll(source, T0, 50, HOUR, lambda: 0.0) - T0 == HOUR


def test_backoff_never_shortens_a_long_interval() -> None:
    source = spec(every=timedelta(days=1))
    assert next_poll(source, T0, 3, HOUR, lambda: 0.0) - T0 == timedelta(days=1)


def test_recovery_returns_to_the_schedule() -> None:
    source = spec(every=timedelta(minutes=15))
    assert next_poll(source, T0, 0, HOUR, lambda: 0.0) - T0 == timedelta(minutes=15)


def test_jitter_spreads_within_its_bound() -> None:
    source = spec(every=timedelta(minutes=15), jitter=timedelta(minutes=2))
    assert next_poll(source, T0, 0, HOUR, lambda: 0.5) == T0 + timedelta(minutes=16)
    assert first_poll(source, T0, lambda: 0.25) == T0 + timedelta(seconds=30)
    assert first_poll(spec(), T0, lambda: 0.9) == T0


def test_a_late_poll_counts_its_next_from_its_due_time_unless_that_is_moments_away() -> None:
    source = spec(every=timedelta(minutes=1))
    due = T0
    # On time, or late by less than half a period: the grid holds (waiting for a slot does not shift later polls).
    assert schedule_base(source, due, due + timedelta(seconds=2)) == due
    assert schedule_base(source, due, due + timedelta(seconds=29)) == due
    # Late by more: its next is the following period's, not a fetch seconds after this one.
    base = schedule_base(source, due, due + timedelta(seconds=45))
    assert base == due + timedelta(minutes=1)
    assert next_poll(source, base, 0, HOUR, lambda: 0.0) - (due + timedelta(seconds=45)) == timedelta(seconds=75)
    # A period or more late (an outage), or never due: from the start.
    assert schedule_base(source, due, due + timedelta(minutes=3)) == due + timedelta(minutes=3)
    assert schedule_base(source, None, due) == due
    # A cron source alike: due 10:30, started 10:52 → counted from 11:00, next poll 11:30.
    cron = spec(cron="*/30 * * * *")
    at = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    assert schedule_base(cron, at, at + timedelta(minutes=22)) == datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    assert schedule_base(cron, at, at + timedelta(minutes=10)) == at
