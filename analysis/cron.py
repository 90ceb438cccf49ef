"""Cron expressions: the one parser that config validation, source schedules, jobs and digests share."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@functools.lru_cache(maxsize=256)
def cron_trigger(expression: str) -> CronTrigger:
    """The UTC trigger of a standard 5-field cron expression; ValueError naming the problem when it is not one.

    Accepted exactly as APScheduler's ``CronTrigger.from_crontab`` accepts it (ranges, steps, lists, month and
    weekday names), so whatever validates here is what runs."""
    if not isinstance(expression, str) or len(expression.split()) != 5:
        raise ValueError(f"not a 5-field cron expression (minute hour day month weekday): {expression!r}")
    try:
        trigger = CronTrigger.from_crontab(expression, timezone=UTC)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a valid cron expression: {expression!r} ({exc})") from exc
    if trigger.get_next_fire_time(None, _EPOCH) is None:  # "0 0 30 2 *": valid fields, no such day
        raise ValueError(f"cron expression {expression!r} never fires")
    return trigger


def next_fire(expression: str, after: datetime) -> datetime | None:
    """The first time at or after ``after`` that the cron expression fires (None if it never does)."""
    fire: datetime | None = cron_trigger(expression).get_next_fire_time(None, after)
    return fire
