"""``labourwatch alerts``: test destinations, list the outbox, dispatch, retry, preview a message."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime

import click

from alerts.dispatch import Dispatcher
from alerts.render import FORMATS as BODY_FORMATS
from alerts.render import MARKDOWN, notice, render_event
from alerts.routes import destinations
from alerts.send import send
from db import events as event_store
from db import outbox
from db.models import Event
from labourwatch.context import AppContext, pass_app
from labourwatch.output import FORMATS as OUTPUT_FORMATS
from labourwatch.output import console, print_json, print_rows


@click.group()
def alerts() -> None:
    """Alert delivery: the outbox of messages to the configured routes."""


@alerts.command("test")
@click.option("--route", "route_name", default=None, help="Only this route.")
@pass_app
def alerts_test(app: AppContext, route_name: str | None) -> None:
    """Send a test message to every destination (of one route); print the result per destination."""
    configured = app.config.routes_to_send("alerts test")
    routes = [r for r in configured if route_name is None or r.name == route_name]
    if not routes:
        known = ", ".join(r.name for r in configured) or "none configured"
        raise click.UsageError(f"no route {route_name!r} (routes: {known})" if route_name else
                               "no alert routes configured (alerts.routes in the config)")
    options = app.config.alert_options
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    message = notice("[labourwatch] test message", f"A test message from labourwatch, sent {now}. Nothing happened.")
    # A fresh key per run: a receiver that drops repeated keys (as the README advises) must still see each test.
    run_id = uuid.uuid4().hex

    async def run() -> list[tuple[str, str, bool, str]]:
        targets = list(destinations(routes).values())
        results = await asyncio.gather(*(send(d.url, message, f"test-{run_id}-{d.key}", options.timeout)
                                         for d in targets))
        return [(d.route.name, d.label, r.ok, r.status) for d, r in zip(targets, results, strict=True)]

    outcomes = asyncio.run(run())
    print_rows([{"route": route, "destination": label, "result": "ok" if ok else "FAILED", "detail": detail}
                for route, label, ok, detail in outcomes],
               [("route", "route", None), ("destination", "destination", None), ("result", "result", None),
                ("detail", "detail", 60)], "table")
    if not all(ok for _, _, ok, _ in outcomes):
        sys.exit(1)


@alerts.command("list")
@click.option("--status", type=click.Choice(outbox.STATUSES), default=None)
@click.option("--route", default=None)
@click.option("--event", "event_id", type=int, default=None, help="Only the deliveries of this event.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many [table: 50].")
@click.option("--format", "fmt", type=OUTPUT_FORMATS, default="table", show_default=True)
@pass_app
def alerts_list(app: AppContext, status: str | None, route: str | None, event_id: int | None, limit: int | None,
                fmt: str) -> None:
    """Deliveries, newest first: route, destination (redacted), status, attempts, last error."""
    with app.database().read() as session:
        rows = outbox.delivery_rows(session, status=status, route=route, event_id=event_id,
                                    limit=limit or (50 if fmt == "table" else None))
    print_rows(rows, [("id", "id", None), ("event_id", "event", None), ("event_type", "type", None),
                      ("route", "route", None), ("destination", "destination", 30), ("mode", "mode", None),
                      ("status", "status", None), ("attempts", "tries", None), ("last_error", "last error", 50)], fmt)


@alerts.command("dispatch")
@click.option("--format", "fmt", type=OUTPUT_FORMATS, default="table", show_default=True)
@pass_app
def alerts_dispatch(app: AppContext, fmt: str) -> None:
    """Send what is due now (immediate deliveries, digests whose time has come) and exit."""
    config = app.config
    report = asyncio.run(Dispatcher(app.database(), config.routes_to_send("alerts dispatch"),
                                    config.alert_options).dispatch())
    if fmt == "json":
        print_json(vars(report))
        return
    click.echo(f"sent {report.sent} ({report.digests} digest message(s)), failed {report.failed} (will retry), "
               f"dead {report.dead}, deferred to a digest {report.deferred}")
    for error in report.errors:
        click.echo(f"  {error}", err=True)


@alerts.command("retry")
@click.argument("ids", type=int, nargs=-1)
@click.option("--dead", is_flag=True, help="Every dead delivery.")
@pass_app
def alerts_retry(app: AppContext, ids: tuple[int, ...], dead: bool) -> None:
    """Queue failed or dead deliveries (by ID, or all dead ones) again, with a fresh attempt budget."""
    if not ids and not dead:
        raise click.UsageError("give delivery IDs or --dead")
    with app.database().write() as session:
        count = outbox.retry(session, datetime.now(UTC), ids, dead)
    click.echo(f"{count} deliveries queued again; they go out on the next dispatch")


@alerts.command("preview")
@click.argument("event_id", type=int)
@click.option("--format", "fmt", type=OUTPUT_FORMATS, default="table", show_default=True)
@click.option("--body-format", type=click.Choice(BODY_FORMATS), default=MARKDOWN, show_default=True,
              help="The body as a channel showing this format gets it.")
@pass_app
def alerts_preview(app: AppContext, event_id: int, fmt: str, body_format: str) -> None:
    """Show the message an event makes (title and body); nothing is sent."""
    with app.database().read() as session:
        event = session.get(Event, event_id)
        if event is None:
            raise click.UsageError(f"no event {event_id} (see 'labourwatch events list')")
        data = event_store.event_dict(event)
    message = render_event(data, app.config.alert_options.web_url)
    body, _ = message.body_for(body_format)
    if fmt == "json":
        print_json({"event_id": event_id, "title": message.title, "body": body})
        return
    out = console()
    out.print(message.title, markup=False, highlight=False)
    out.print("", markup=False)
    out.print(body, markup=False, highlight=False)
