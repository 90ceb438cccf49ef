"""``labourwatch demo``: the whole cycle offline in about a minute.

A bundled fixture news web is served on 127.0.0.1, a fresh SQLite database is made in a new folder, and the
real daemon runs on it with fast schedules. The demo then changes the web a few times (new articles, an edited
figure, a corrected paragraph, a changed headline) and shows, as they happen, the events the daemon records
and the alerts it sends — to a console destination, a small apprise plugin registered for the demo only.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from sqlalchemy import func, select

from db.engine import Database
from db.models import Delivery, Event
from labourwatch.fixtureweb import FixtureWeb
from labourwatch.fixtureweb.sites import StateChange

SCHEME = "lwdemo"
CLAIMS_FILE = Path(__file__).resolve().parents[1] / "known_claims.yaml"
# Where the console destination sends messages; set by register_console (apprise plugins are global).
_show: list[Callable[[str, str], None]] = []


def register_console(show: Callable[[str, str], None]) -> None:
    """Make ``lwdemo://`` an apprise destination that calls ``show(title, body)`` for each message."""
    if not _show:
        from apprise.decorators import notify

        @notify(on=SCHEME, name="labourwatch demo console")
        def _deliver(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
            _show[-1](title, body)
            return True

    _show.append(show)


def demo_config(web: FixtureWeb, folder: Path, every: str = "3s") -> dict[str, Any]:
    """A config for the fixture web: fast schedules, loopback allowed, one console alert route."""
    return {
        "database": {"url": "sqlite:///labourwatch.db"},
        "claims": {"file": str(CLAIMS_FILE) if CLAIMS_FILE.exists() else None},
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s", "per_domain_concurrency": 4,
                  "timeout": "10s", "retries": 0, "revisit": ["3s"] * 60, "max_feed_age": None},
        "daemon": {"poll_every": "1s", "revisit_every": "2s", "dispatch_every": "1s", "shutdown_timeout": "5s",
                   "listen": None},
        # The route a newsroom gets by default: a baseline summary for the first crawl, then one message per story
        # change; every event is still listed as it is recorded.
        "alerts": {"routes": [{"name": "demo", "urls": [f"{SCHEME}://console"]}]},
        "sources": [{**source, "every": every} for source in web.sources()],
        "logging": {"level": "WARNING"},
    }


def write_config(web: FixtureWeb, folder: Path) -> Path:
    """Write the demo config into ``folder``; its path."""
    path = folder / "config.yaml"
    path.write_text("# Written by `labourwatch demo`; the fixture web it points at is gone when the demo ends.\n"
                    + yaml.safe_dump(demo_config(web, folder), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def drop_routes(path: Path) -> None:
    """Remove the alert routes from a demo config (its console destination is gone with the demo)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["alerts"]["routes"] = []
    path.write_text("# Written by `labourwatch demo` for browsing its database; its fixture web and console "
                    "alerts are gone.\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@dataclass
class EventFeed:
    """Prints every event the daemon records, as it is recorded (a summary when many arrive at once)."""

    db: Database
    console: Console
    last_id: int = 0

    def _new(self) -> list[tuple[int, str, str | None, str]]:
        with self.db.read() as session:
            rows = session.execute(select(Event.id, Event.type, Event.source_id, Event.title)
                                   .where(Event.id > self.last_id).order_by(Event.id))
            return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def show_new(self) -> Counter[str]:
        """Print the events recorded since the last call; their counts by type."""
        rows = await asyncio.to_thread(self._new)
        if not rows:
            return Counter()
        self.last_id = rows[-1][0]
        counts = Counter(row[1] for row in rows)
        if len(rows) > 12:
            summary = ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
            self.console.print(f"[cyan]events[/] {summary}")
        else:
            for _, kind, source, title in rows:
                self.console.print(f"[cyan]event[/] {kind:<19} {escape(source or '-'):<22} {escape(title[:70])}")
        return counts

    def totals(self) -> tuple[Counter[str], Counter[str]]:
        """Events by type and deliveries by status, over the whole demo."""
        with self.db.read() as session:
            events = Counter(dict(session.execute(select(Event.type, func.count()).group_by(Event.type)).all()))
            sent = Counter(dict(session.execute(select(Delivery.status, func.count())
                                                .group_by(Delivery.status)).all()))
        return events, sent


def narrate(console: Console, change: StateChange) -> None:
    """Say what one step of the fixture web changed."""
    console.rule(f"[bold]the news web moves to state {change.state}")
    console.print(f"  {len(change.new)} new article(s) published")
    for url, (old, new) in change.figure_edits.items():
        console.print(f"  figure edited: {escape(old)} → {escape(new)}  [dim]{escape(url)}[/]")
    for url, (old, new) in change.headline_changes.items():
        console.print(f"  headline changed: {escape(old[:50])} → {escape(new[:50])}  [dim]{escape(url)}[/]")
    for url in change.corrections:
        console.print(f"  correction added  [dim]{escape(url)}[/]")


def show_alert(console: Console, alerts_file: Path) -> Callable[[str, str], None]:
    """The console destination: a panel per message, also appended to ``alerts_file``."""

    def show(title: str, body: str) -> None:
        # Titles and bodies come from fetched pages: escaped for rich markup, rendered as markdown text.
        console.print(Panel(Markdown(body), title=f"[bold]alert[/] {escape(title)}", title_align="left",
                            border_style="green"))
        with alerts_file.open("a", encoding="utf-8") as handle:
            handle.write(f"## {title}\n\n{body}\n\n")

    return show
