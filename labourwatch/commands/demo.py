"""``labourwatch demo``: a fixture news web, a temporary database and the real daemon, offline."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import click
from rich.console import Console

from db.migrate import upgrade
from labourwatch.commands.run import prepare, stage_reload
from labourwatch.context import AppContext
from labourwatch.demo import EventFeed, drop_routes, narrate, register_console, show_alert, write_config
from labourwatch.fixtureweb import FixtureWeb

# Quiet time that ends a wait: the daemon has had time to poll, re-check and dispatch (all every 1-3 s).
_QUIET = 4.0


@click.command()
@click.option("--steps", type=click.IntRange(1, 20), default=3, show_default=True,
              help="How many times the fixture web changes.")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the database, config and alerts (default: a new temporary folder, kept).")
@click.option("--step-timeout", type=click.FloatRange(5, 600), default=60.0, show_default=True,
              help="Seconds to wait for the daemon to notice one change.")
def demo(steps: int, folder: Path | None, step_timeout: float) -> None:
    """See labourwatch work, offline, in about a minute: a bundled news site changes and the daemon reports it.

    Serves a fixture news web on 127.0.0.1, makes a SQLite database in a new folder, runs the daemon with
    fast schedules, changes the web STEPS times (new articles, an edited figure, a correction, a changed
    headline) and shows the events and alerts as they happen. The database is kept for browsing afterwards."""
    from crawler import reactor
    from scheduler.daemon import Daemon

    folder = folder or Path(tempfile.mkdtemp(prefix="labourwatch-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    console = Console(highlight=False)
    alerts_file = folder / "alerts.md"
    alerts_file.write_text("# Alerts sent by labourwatch demo\n\n", encoding="utf-8")
    # Registered before the config is loaded: loading checks that apprise knows every route's scheme.
    register_console(show_alert(console, alerts_file))
    with FixtureWeb() as web:
        app = AppContext(config_file=write_config(web, folder))
        upgrade(app.database(at_head=False))
        settings = prepare(app)
        console.rule("[bold]labourwatch demo")
        console.print(f"fixture news web: {len(web.sources())} sources on 127.0.0.1; database in {folder}")
        loop = reactor.ensure_reactor()
        daemon = Daemon(app.database(), settings, lambda: stage_reload(app))
        feed = EventFeed(app.database(), console)
        try:
            loop.run_until_complete(_drive(daemon, web, feed, console, steps, step_timeout))
        finally:
            reactor.shutdown()
    # The console destination exists only inside this process: the config left for browsing has no routes.
    drop_routes(folder / "config.yaml")
    events, deliveries = feed.totals()
    console.rule("[bold]done")
    console.print("events: " + ", ".join(f"{n} {kind}" for kind, n in events.most_common()))
    console.print(f"alerts sent: {deliveries.get('sent', 0)} (also in {alerts_file})")
    console.print(f"database: {folder / 'labourwatch.db'}")
    config = folder / "config.yaml"
    console.print("look around:")
    program = _program()
    for command in ("events list", "diffs list", "claims matches", "status"):
        console.print(f"  {program} --config {shlex.quote(str(config))} {command}", soft_wrap=True)


def _program() -> str:
    """How to run labourwatch again as this process was run: ``labourwatch`` when that is the one on PATH, else the
    script's absolute path (``.venv/bin/labourwatch`` after the README's install), else ``python -m labourwatch``."""
    script = Path(sys.argv[0])
    if script.name == "labourwatch" and script.exists():
        found = shutil.which("labourwatch")
        if found and Path(found).resolve() == script.resolve():
            return "labourwatch"
        return shlex.quote(str(script.absolute()))
    return f"{shlex.quote(sys.executable)} -m labourwatch"


async def _drive(daemon: object, web: FixtureWeb, feed: EventFeed, console: Console, steps: int,
                 timeout: float) -> None:
    from scheduler.daemon import Daemon

    assert isinstance(daemon, Daemon)
    running = asyncio.ensure_future(daemon.run())
    try:
        console.rule("[bold]first poll of every source")
        await _settle(feed, running, timeout, lambda seen: seen["new_article"] > 0)
        for _ in range(steps):
            if running.done():
                break
            change = await asyncio.to_thread(web.advance)
            narrate(console, change)
            edits = len(change.edited)
            await _settle(feed, running, timeout, lambda seen, edits=edits: seen["article_edited"] >= edits)
    finally:
        daemon.stop()
        await running


async def _settle(feed: EventFeed, running: asyncio.Future[None], timeout: float,
                  enough: object) -> Counter[str]:
    """Show events until ``enough(seen)`` holds and nothing new came for a few seconds, or the time is up."""
    assert callable(enough)
    loop = asyncio.get_running_loop()
    seen: Counter[str] = Counter()
    deadline = loop.time() + timeout
    quiet_since = loop.time()
    while loop.time() < deadline and not running.done():
        new = await feed.show_new()
        if new:
            seen += new
            quiet_since = loop.time()
        elif enough(seen) and loop.time() - quiet_since >= _QUIET:
            break
        await asyncio.sleep(0.5)
    return seen
