"""Moments given on the command line (``--since``, ``--until``): ISO 8601 dates or times, UTC when no zone."""

from __future__ import annotations

from datetime import UTC, datetime

import click


def parse_moment(value: str | None, param_hint: str) -> datetime | None:
    """``value`` as an aware UTC datetime (None stays None); click.BadParameter, naming ``param_hint``, if it is
    not an ISO date or time."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO date or time (e.g. 2026-11-27 or 2026-11-27T09:00Z)",
                                 param_hint=param_hint) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
