"""Cron expressions: the one parser that config validation, source schedules, jobs and digests share."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab's numbering: 0 (and 7) is Sunday


@functools.lru_cache(maxsize=256)
def cron_trigger(expression: str) -> CronTrigger:
    """The UTC trigger of a standard 5-field cron expression; ValueError naming the problem when it is not one.

    Fields as crontab(5) reads them (ranges, steps, lists, month and weekday names; day of week 0 or 7 is
    Sunday), built into APScheduler's trigger here and only here, so whatever validates is what runs."""
    if not isinstance(expression, str) or len(expression.split()) != 5:
        raise ValueError(f"not a 5-field cron expression (minute hour day month weekday): {expression!r}")
    minute, hour, day, month, weekday = expression.split()
    try:
        weekday = _weekday_names(weekday)
        trigger = CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=UTC)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a valid cron expression: {expression!r} ({exc})") from exc
    if trigger.get_next_fire_time(None, _EPOCH) is None:  # "0 0 30 2 *": valid fields, no such day
        raise ValueError(f"cron expression {expression!r} never fires")
    return trigger


def _day(token: str) -> int:
    if token.lower()[:3] in _DAYS:
        return _DAYS.index(token.lower()[:3])
    if not token.isdigit() or int(token) > 7:
        raise ValueError(f"bad day of week {token!r} (0-7 or sun-sat)")
    return int(token)


def _weekday_names(field: str) -> str:
    """A crontab day-of-week field (0 and 7 are Sunday) as APScheduler's day names.

    APScheduler 3 numbers days from Monday = 0, even in ``from_crontab``: "0 7 * * 1-5" would fire Tuesday to
    Saturday. Names mean the same to both, so the field is spelled out in names."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        base, slash, step = item.partition("/")
        every = int(step) if step.isdigit() and int(step) > 0 else None
        if slash and every is None:
            raise ValueError(f"bad step in day of week {item!r}")
        if base in ("*", "?"):
            low, high = 0, 6
        elif "-" in base:
            first, last = base.split("-", 1)
            low, high = _day(first), _day(last)
        else:
            low = _day(base)
            high = 6 if slash else low
        if low > high:
            raise ValueError(f"bad range in day of week {item!r}")
        days.update(day % 7 for day in range(low, high + 1, every or 1))
    return ",".join(_DAYS[day] for day in sorted(days))


def next_fire(expression: str, after: datetime) -> datetime | None:
    """The first time at or after ``after`` that the cron expression fires (None if it never does)."""
    fire: datetime | None = cron_trigger(expression).get_next_fire_time(None, after)
    return fire


def every_cron(every: timedelta) -> str:
    """A period as the cron expression that fires on each of its multiples in the minute (6 fields, seconds last,
    as croniter reads them) or in the hour (5 fields); ValueError unless it divides a minute or an hour.

    Cluster mode's periodic tasks are deduplicated by their fire time, the same on every node: a period has
    to fall on the clock's grid to be one."""
    seconds = every.total_seconds()
    if seconds == int(seconds) and 1 <= seconds < 60 and 60 % int(seconds) == 0:
        return f"* * * * * */{int(seconds)}"
    minutes = seconds / 60
    if minutes == int(minutes) and 1 <= minutes <= 60 and 60 % int(minutes) == 0:
        return "0 * * * *" if minutes == 60 else f"*/{int(minutes)} * * * *"
    raise ValueError("must divide a minute or an hour (1s, 2s, 5s, 10s, 15s, 30s, 1m, 2m, 5m, ... 1h)")
