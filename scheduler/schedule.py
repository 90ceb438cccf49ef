"""When a source is polled next: its interval or cron, a failure backoff, and jitter. Pure functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from analysis.cron import cron_trigger
from crawler.types import SourceSpec

DEFAULT_EVERY = timedelta(minutes=30)


def regular_next(spec: SourceSpec, after: datetime) -> datetime:
    """The source's next regular poll after ``after``: ``after + every``, or the cron's next fire time."""
    if spec.cron:
        fire = cron_trigger(spec.cron).get_next_fire_time(None, after + timedelta(seconds=1))
        if fire is not None:
            return fire
    return after + (spec.every or DEFAULT_EVERY)


def interval(spec: SourceSpec, at: datetime) -> timedelta:
    """The gap between two regular polls around ``at`` (for a cron source, the gap after ``at``)."""
    return regular_next(spec, at) - at


def schedule_base(spec: SourceSpec, due: datetime | None, started: datetime) -> datetime:
    """What the next poll of a poll due at ``due`` that started at ``started`` is counted from (``next_poll``'s
    ``started``): its due time, so that waiting for a crawl slot does not delay every later poll; the next period's
    due time when the next poll would come less than half a period after this one started (a poll late enough to
    stand for two periods: the next is not fetched moments after it, and a node catching up on a backlog is not
    sent the same feeds again); its start after an outage (a period or more late) or when it never was due."""
    if due is None or started - due >= interval(spec, due):
        return started
    following = regular_next(spec, due)
    return following if following - started < (following - due) / 2 else due


def next_poll(spec: SourceSpec, started: datetime, failures: int, max_backoff: timedelta,
              rand: Callable[[], float]) -> datetime:
    """When to poll ``spec`` again, after a poll that started at ``started`` and left ``failures``
    consecutive failures.

    A healthy source is polled on its schedule (start to start, so crawl time does not make it drift). A
    failing one waits its interval × 2^failures, capped at ``max_backoff`` (never shorter than its interval),
    so a dead outlet is not hammered and a flaky one is back on schedule after one success. ``jitter``
    adds up to that much (``rand()`` in [0, 1)) so that sources do not all fire on the same second.
    """
    regular = regular_next(spec, started)
    if failures > 0:
        gap = regular - started
        wait = min(gap * 2 ** min(failures, 20), max(max_backoff, gap))
        regular = started + wait
    return regular + spec.jitter * rand()


def first_poll(spec: SourceSpec, now: datetime, rand: Callable[[], float]) -> datetime:
    """When to poll a source that has never been scheduled: now, spread by its jitter."""
    return now + spec.jitter * rand()
