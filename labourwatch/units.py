"""Parsing of the human-written units in config files: durations (``30s``, ``15m``) and sizes (``10MiB``)."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Durations are added to timestamps later (next poll, retention cut-offs): past ~100 years that overflows
# datetime at run time, so longer values are refused here.
MAX_DURATION = timedelta(days=36500)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3,
}


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"30s"``, ``"15m"``, ``"1h"``, ``"7d"``, ``"2w"``, ``"250ms"`` → timedelta; bare numbers are seconds."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a duration: {value!r} (write it like 30s, 15m, 1h or 7d)")
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"not a duration: {value!r} (write it like 30s, 15m, 1h or 7d)")
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds != seconds:  # NaN
        raise ValueError(f"not a duration: {value!r}")
    if seconds < 0:
        raise ValueError(f"duration must not be negative: {value!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration too long: {value!r} (at most {MAX_DURATION.days}d)")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration in the units ``parse_duration`` reads."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m", "s"):
        size = _DURATION_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"


_MAX_SIZE = 1024**4  # larger values overflow the C integers Scrapy hands sizes to


def parse_size(value: str | int) -> int:
    """``"10MiB"``, ``"500KB"``, ``1048576`` → a number of bytes."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not a size: {value!r} (write it like 10MiB or 500KB)")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"not a size: {value!r} (write it like 10MiB or 500KB)")
        size = int(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()])
    if size <= 0:
        raise ValueError(f"size must be positive: {value!r}")
    if size > _MAX_SIZE:
        raise ValueError(f"size too large: {value!r} (at most 1TiB)")
    return size
