"""Cron expressions read as crontab(5) reads them, by the one parser every schedule uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analysis.cron import cron_trigger, next_fire

WEDNESDAY = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "days"), [
    ("0 8 * * 0", {"Sun"}),
    ("0 8 * * 7", {"Sun"}),
    ("0 8 * * 1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
    ("0 8 * * mon-fri", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
    ("0 8 * * 5-7", {"Fri", "Sat", "Sun"}),
    ("0 8 * * */2", {"Sun", "Tue", "Thu", "Sat"}),
    ("0 8 * * 1,3", {"Mon", "Wed"}),
    ("0 8 * * SAT", {"Sat"}),
    ("0 8 * * *", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
])
def test_days_of_week_are_crontabs(expression: str, days: set[str]) -> None:
    fired, after = set(), WEDNESDAY
    for _ in range(14):
        fire = next_fire(expression, after)
        assert fire is not None and fire.hour == 8
        fired.add(fire.strftime("%a"))
        after = fire.replace(minute=1)
    assert fired == days


@pytest.mark.parametrize(("expression", "message"), [
    ("99 * * * *", "not a valid cron expression"),
    ("0 8 * * 8", "bad day of week"),
    ("0 8 * * 5-1", "bad range"),
    ("0 8 * * */0", "bad step"),
    ("0 0 30 2 *", "never fires"),
    ("@daily", "not a 5-field"),
    ("0 8 * *", "not a 5-field"),
])
def test_bad_expressions_say_why(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cron_trigger(expression)
