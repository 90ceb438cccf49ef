"""Kill test of the crawl: SIGKILL the daemon (``labourwatch run``) mid-crawl, again and again, on a changing web.

    .venv/bin/python bench/crawl_kill_bench.py                       # 50 kills, 16 sites x 25 articles, SQLite
    .venv/bin/python bench/crawl_kill_bench.py --kills 8 --sites 6 --articles 12 --window 1.5 --json   # the test
    .venv/bin/python bench/crawl_kill_bench.py --database postgresql --kills 50

A generated fixture news web (``--sites`` sites with a feed, and most with a sitemap or listing too, of
``--articles`` articles each) and a ``json://`` receiver (answering in 0.05 s) run in this process. The real
daemon runs on a fresh database (SQLite in a temporary folder, or a throw-away PostgreSQL database on the
server of ``--pg-url``) with fast schedules: every source polled every 2 s, every relevant article re-checked
every second, the outbox sent every second (lease 3 s). ``--kills`` times: the web moves 1..``--advances``
states forward (new articles, a figure edit, a correction, a headline change), the daemon is started, and once
a crawl is running and has stored a page it is killed with SIGKILL 0..``--window`` s later, while pages are
fetched, extracted, matched and stored and alerts sent (the first run is let finish its cold crawl, and
killed in a later one, so that edits meet stored articles). Its worker processes must end on their own.
Then the daemon runs once more, without a kill, until every source was polled and every article re-checked
since it started and every delivery is sent, and stops on SIGTERM.

Afterwards, directly in the database (``bench/crawl_audit.py``): ``PRAGMA integrity_check`` and
``foreign_key_check`` (SQLite), rows whose parent is missing for every foreign key, articles that are not
whole (versions 1..n, URLs, raw responses, each diff, claim matches and events as the crawl makes them now),
events duplicated by their natural key, events without exactly their deliveries. Against the receiver:
every delivery's idempotency key arrived at least once (re-sends counted). Against a clean control crawl
(``labourwatch crawl`` on a fresh database, same web, final state): no article missing, every latest version
the same. Prints the figures (JSON with ``--json``); exits 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The daemon and the control crawl run the code this bench runs (a copy of the tree, say), whatever the
# working directory: the audit re-runs the matcher and would see code changed meanwhile as wrong matches.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))

from alerts.send import KEY_HEADER  # noqa: E402
from bench.crawl_audit import audit  # noqa: E402
from bench.killing import PG_URL, key_tally, kill_tree, print_result, scratch_database  # noqa: E402
from bench.soak_bench import process_tree  # noqa: E402
from db.engine import Database  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Article, ArticleVersion, CrawlRun, Delivery, Event, Source  # noqa: E402
from labourwatch.config import load_config  # noqa: E402
from labourwatch.fixtureweb import FixtureWeb, generate_sites  # noqa: E402
from tests.daemonproc import DaemonProcess  # noqa: E402
from tests.receivers import HttpReceiver  # noqa: E402

CLAIMS = ROOT / "known_claims.yaml"


@dataclass(frozen=True)
class Plan:
    """What one kill run does."""

    kills: int = 50
    sites: int = 16
    articles: int = 25
    advances: int = 2  # the web moves 1..advances states before each restart
    window: float = 3.0  # kill 0..window s after a crawl is seen running
    seed: int = 1
    database: str = "sqlite"
    pg_url: str = PG_URL
    settle: float = 300.0  # how long the last run may take to catch up (a bound on a hang, not a timing goal)


def write_config(path: Path, url: str, sources: list[dict[str, str]], *, listen: str | None = None,
                 hook: str | None = None) -> Path:
    """The daemon's config: fast schedules, loopback politeness, and a route to ``hook`` (when given) taking
    every newsroom event."""
    path.write_text(yaml.safe_dump({
        "database": {"url": url},
        "claims": {"file": str(CLAIMS)},
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s", "per_domain_concurrency": 8,
                  "timeout": "10s", "retries": 0, "revisit": ["1s"] * 2000, "max_feed_age": None,
                  "max_articles_per_source": 10_000},
        "daemon": {"poll_every": "1s", "revisit_every": "1s", "dispatch_every": "1s", "shutdown_timeout": "10s",
                   "listen": listen},
        "alerts": {"routes": [{"name": "kill", "urls": [hook]}] if hook else [], "timeout": "2s", "lease": "3s",
                   "backoff": "1s", "max_backoff": "2s"},
        "sources": [{**source, "every": "2s", "jitter": "0s"} for source in sources],
    }, sort_keys=False, allow_unicode=True))
    return path


def count(db: Database, query: Any) -> int:
    with db.read() as session:
        return int(session.scalar(query) or 0)


RUNNING = select(func.count()).select_from(CrawlRun).where(CrawlRun.status == "running")
FINISHED = select(func.count()).select_from(CrawlRun).where(CrawlRun.status != "running")
VERSIONS = select(func.count()).select_from(ArticleVersion)
EVENTS = select(func.count()).select_from(Event)


def progress(db: Database) -> tuple[Any, ...]:
    """What changes whenever the crawl stores a page: articles, versions, the latest check."""
    with db.read() as session:
        articles, checked = session.execute(select(func.count(), func.max(Article.last_checked_at))).one()
        return articles, checked, session.scalar(VERSIONS)


class Killer:
    """Starts the daemon and kills it mid-crawl, counting what each kill hit and left behind."""

    def __init__(self, daemon: DaemonProcess, db: Database, rng: random.Random, window: float,
                 settle: float) -> None:
        self.daemon, self.db, self.rng, self.window, self.settle = daemon, db, rng, window, settle
        self.kills = self.mid_crawl = self.after_writes = 0
        self.leftover: list[int] = []
        self.tracebacks = 0

    def cycle(self) -> None:
        daemon = self.daemon
        daemon.start(wait=120)
        assert daemon.proc is not None
        if not self.kills:
            # The first run finishes its cold crawl (then it is killed in a later crawl): every later run has
            # articles to re-check, so edits meet stored articles and kills land among versions and diffs too.
            daemon.wait_until(lambda: count(self.db, FINISHED), self.settle, "the cold crawl", every=0.1)
        daemon.wait_until(lambda: count(self.db, RUNNING), 120, "a crawl to start", every=0.05)
        # Then the first page this run stores (a crawl first fetches, and its workers start): the kill lands
        # while pages are stored, re-checked, matched and alerted on, not always before the first write.
        before, deadline = progress(self.db), time.monotonic() + 15
        while (wrote := progress(self.db) != before) is False and time.monotonic() < deadline:
            time.sleep(0.05)
        self.after_writes += wrote
        time.sleep(self.rng.uniform(0, self.window))
        self.mid_crawl += count(self.db, RUNNING) > 0  # read just before the kill: a crawl was still running
        self.leftover += kill_tree(daemon.proc, process_tree(daemon.proc.pid))
        daemon.stop()  # reaped already: closes the log
        self.kills += 1
        self.tracebacks += daemon.output().count("Traceback")


def settled(db: Database, since: datetime) -> bool:
    """Every enabled source polled and every article due for re-checks re-checked since ``since``, and no
    delivery left unsent."""
    stale_sources = select(func.count()).select_from(Source).where(
        Source.enabled.is_(True), (Source.last_polled_at.is_(None)) | (Source.last_polled_at < since))
    unchecked = select(func.count()).select_from(Article).where(
        Article.relevant.is_(True), Article.gone_at.is_(None), Article.next_check_at.is_not(None),
        Article.last_checked_at < since)
    unsent = select(func.count()).select_from(Delivery).where(Delivery.status != "sent")
    return not (count(db, stale_sources) or count(db, unchecked) or count(db, unsent) or count(db, RUNNING))


def latest_versions(url: str) -> dict[str, tuple[bool, str | None]]:
    """canonical URL → (relevant, content hash of the latest version) of every stored article."""
    db = Database(url)
    try:
        with db.read() as session:
            rows = session.execute(select(Article.canonical_url, Article.relevant, Article.content_hash))
            return {row[0]: (bool(row[1]), row[2] if row[1] else None) for row in rows}
    finally:
        db.dispose()


def control_crawl(workdir: Path, sources: list[dict[str, str]]) -> dict[str, tuple[bool, str | None]]:
    """A clean ``labourwatch crawl`` of the web as it is now, on a fresh SQLite database: what the killed
    daemon's database must hold too."""
    config = write_config(workdir / "control.yaml", f"sqlite:///{workdir}/control.db", sources)
    for args in (("db", "upgrade"), ("crawl",)):
        subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args], check=True,
                       capture_output=True, timeout=600)
    return latest_versions(f"sqlite:///{workdir}/control.db")


def compare(killed: dict[str, tuple[bool, str | None]], control: dict[str, tuple[bool, str | None]]) -> dict[str, int]:
    """Articles of the control crawl missing from the killed run's database, or stored with another latest
    version (or relevance)."""
    missing = [url for url in control if url not in killed]
    differ = [url for url in control if url in killed and killed[url] != control[url]]
    return {"control_articles": len(control), "missing_articles": len(missing), "stale_articles": len(differ)}


def kill_and_settle(plan: Plan, web: FixtureWeb, daemon: DaemonProcess, db: Database) -> tuple[Killer, int]:
    """The kills, then the last run to the end; what the kills did and the last run's exit code."""
    rng = random.Random(plan.seed)
    killer = Killer(daemon, db, rng, plan.window, plan.settle)
    for number in range(plan.kills):
        for _ in range(rng.randint(1, max(1, plan.advances)) if number else 0):
            web.advance()
        killer.cycle()
        print(f"kill {killer.kills}/{plan.kills}: web state {web.state}, {count(db, VERSIONS)} versions, "
              f"{count(db, EVENTS)} events, {killer.mid_crawl} kills mid-crawl", file=sys.stderr, flush=True)
    last_start = datetime.now(UTC)
    daemon.start(wait=120)
    daemon.wait_until(lambda: settled(db, last_start), plan.settle, "the last run to catch up")
    final_exit = daemon.stop()
    killer.tracebacks += daemon.output().count("Traceback")
    return killer, final_exit


def run(plan: Plan, workdir: Path) -> dict[str, Any]:
    """One kill run in ``workdir``; the figures."""
    started = time.perf_counter()
    with FixtureWeb(generate_sites(plan.sites, plan.articles, plan.seed)) as web, \
            HttpReceiver("hang", hang_seconds=0.05) as receiver, \
            scratch_database(plan.database, workdir, plan.pg_url) as url:
        daemon = DaemonProcess(workdir / "config.yaml")
        write_config(daemon.config, url, web.sources(), listen=f"127.0.0.1:{daemon.port}",
                     hook=receiver.url(timeout=2.0))
        db = Database(url)
        upgrade(db)
        try:
            killer, final_exit = kill_and_settle(plan, web, daemon, db)
        finally:
            if daemon.proc is not None and daemon.proc.poll() is None:
                daemon.stop()  # the bench failed: leave no daemon behind
            db.dispose()
        config = load_config(daemon.config)
        found = audit(url, config.routes, config.topic)
        keys = key_tally(found.pop("delivery_keys"), (r.header(KEY_HEADER) for r in receiver.records))
        versus = compare(latest_versions(url), control_crawl(workdir, web.sources()))
        state = web.state
    figures = {
        "plan": asdict(plan) | {"pg_url": None}, "kills": killer.kills, "kills_mid_crawl": killer.mid_crawl,
        "kills_after_writes": killer.after_writes,
        "web_states": state, **found,
        "received": keys["received"], "lost": keys["lost"], "raw_resends": keys["duplicates"],
        "unknown_keys": keys["duplicates_with_unknown_key"],
        "unsent": found["deliveries"] - found["deliveries_by_status"].get("sent", 0),
        **versus, "leftover_processes": len(killer.leftover), "tracebacks": killer.tracebacks, "final_exit": final_exit,
        "seconds": round(time.perf_counter() - started, 1),
    }
    figures["ok"] = ok(figures)
    return figures


def ok(f: dict[str, Any]) -> bool:
    """Whether the run found nothing wrong."""
    zero = ("foreign_key_violations", "orphans", "partial_articles", "duplicate_events", "lost", "unknown_keys",
            "unsent", "missing_articles", "stale_articles", "leftover_processes", "tracebacks", "final_exit")
    return (f["integrity_check"] in ("ok", "enforced") and not f["problems"] and not any(f[k] for k in zero)
            and f["kills"] == f["plan"]["kills"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--sites", type=int, default=16, help="sites of the fixture web")
    parser.add_argument("--articles", type=int, default=25, help="articles per site at the start")
    parser.add_argument("--advances", type=int, default=2, help="the web moves 1..N states before each restart")
    parser.add_argument("--window", type=float, default=3.0, help="kill 0..WINDOW s after a crawl is running")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server for --database postgresql")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the config, database and logs in DIR")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    plan = Plan(args.kills, args.sites, args.articles, args.advances, args.window, args.seed, args.database,
                args.pg_url)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run(plan, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="lw-crawl-kill-") as tmp:
            result = run(plan, Path(tmp))
    return print_result(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
