"""``labourwatch events list``: what the monitor noticed, newest first."""

from __future__ import annotations

import click

from db import events as event_store
from labourwatch.context import AppContext, pass_app
from labourwatch.moments import parse_moment
from labourwatch.output import FORMATS, print_rows


@click.group()
def events() -> None:
    """Events: new and edited articles, claim verdicts, source health."""


@events.command("list")
@click.option("--type", "types", type=click.Choice(event_store.EVENT_TYPES), multiple=True,
              help="Only events of this type (repeatable).")
@click.option("--since", default=None, metavar="ISO",
              help="Only events created at or after this time (UTC when no zone).")
@click.option("--source", "source_id", default=None, metavar="ID", help="Only events of this source.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many [table: 50].")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def events_list(app: AppContext, types: tuple[str, ...], since: str | None, source_id: str | None,
                limit: int | None, fmt: str) -> None:
    """Stored events, newest first; JSON items carry id, type, created_at, source_id, url, title, summary, details."""
    with app.database().read() as session:
        rows = event_store.event_rows(session, types=types, since=parse_moment(since, "--since"), source_id=source_id,
                                      limit=limit or (50 if fmt == "table" else None))
    print_rows(rows, [("id", "id", None), ("type", "type", None), ("created_at", "created", 19),
                      ("source_id", "source", None), ("summary", "summary", 70), ("title", "title", 40)], fmt)
