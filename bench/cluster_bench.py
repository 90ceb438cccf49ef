"""Cluster mode (issue 18) on the fixture web: polls per minute and duplicate fetches with 1, 2… nodes.

Each run gets a PostgreSQL database of its own and a fixture web of ``--sites`` sites with one RSS feed each,
polled every ``--every``; ``--nodes`` nodes (``labourwatch run`` with ``daemon.mode: cluster``) run for
``--seconds`` once every feed has been polled twice (the ingest: the first crawl of each site stores its
articles), and the fixture server's request log gives the figures:

- the ingest's time;
- feed polls per minute, and article pages (first fetches and re-checks) per minute;
- fetches of one URL less than a second apart: a second fetch of one due poll shows so, and so does a poll on
  schedule right after one that started late (the schedule runs start to start, ``scheduler.schedule``): the
  single-node daemon (``single``, the baseline) shows how many of the second kind the load makes;
- polls run twice: (source, due time) pairs found more than once in the nodes' logs (one due poll run twice);
  fetches less than a second apart with none run twice are late polls followed by their successors;
- polls late: how many feed polls came more than two periods after the one before.

Loopback only, bounded, stops by itself. Run from the repository root:
``python -m bench.cluster_bench --runs single 1 2``.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import yaml

from bench.killing import print_result, scratch_database
from db.engine import Database
from db.migrate import upgrade
from labourwatch.fixtureweb import FixtureWeb
from labourwatch.fixtureweb.sites import SiteSpec
from scheduler.jobs import polls_run_twice
from tests.daemonproc import DaemonProcess

CLAIMS = Path(__file__).resolve().parents[1] / "tests" / "analysis" / "claims" / "data" / "known_claims.yaml"
# Seconds the first crawls get to store every article (and start the extraction workers): the measure starts when
# every feed has been polled twice, or after this.
INGEST_LIMIT = 180.0


def wait_for_polls(web: FixtureWeb, feeds: set[tuple[str, str]], count: int, limit: float) -> bool:
    """Wait until each of the ``feeds`` ((site id, path) pairs) was fetched ``count`` times; False when ``limit``
    s went by first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        fetched = Counter((record.site_id, record.path) for record in web.requests.records())
        if min((fetched[feed] for feed in feeds), default=count) >= count:
            return True
        time.sleep(0.5)
    return False


def write_config(path: Path, url: str, sources: list[dict[str, Any]], port: int, every: str = "4s",
                 routes: list[dict[str, Any]] | None = None, concurrency: int = 2,
                 crawl: dict[str, Any] | None = None, alerts: dict[str, Any] | None = None, **daemon: Any) -> Path:
    """A node's config: the fixture web's ``sources`` every ``every``, cluster mode on ``url`` with a short
    planning period, heartbeat and stall window and ``concurrency`` jobs (``daemon``, ``crawl`` and ``alerts``
    override any key of theirs)."""
    path.write_text(yaml.safe_dump({
        "database": {"url": url},
        "claims": {"file": str(CLAIMS), "semantic": False},  # no model to load: the nodes start faster
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s", "per_domain_concurrency": 4,
                  "timeout": "10s", "retries": 0, "revisit": ["3s"] * 20, "max_feed_age": None, **(crawl or {})},
        "daemon": {"mode": "cluster", "shutdown_timeout": "5s", "poll_every": "1s", "revisit_every": "1s",
                   "listen": f"127.0.0.1:{port}",
                   "cluster": {"concurrency": concurrency, "plan_every": "1s", "heartbeat": "1s", "stall_window": "8s"},
                   **daemon},
        "alerts": {"routes": routes or [], **(alerts or {})},
        "sources": [{**source, "every": every} for source in sources],
    }))
    return path


def measure(run: str, sites: int, every: float, seconds: float, folder: Path, concurrency: int) -> dict[str, Any]:
    """One run on a fresh database and fixture web: ``single`` (today's daemon, the baseline) or a number of
    cluster nodes; its figures."""
    nodes = 1 if run == "single" else int(run)
    specs = [SiteSpec(f"site{n:03d}", f"Site {n}", sitemap=False, listing=False, articles=6) for n in range(sites)]
    with scratch_database("postgresql", folder) as url, FixtureWeb(specs) as web:
        db = Database(url)
        upgrade(db)
        db.dispose()
        daemons = []
        for n in range(nodes):
            (folder / f"{run}-{n}").mkdir()
            daemon = DaemonProcess(folder / f"{run}-{n}" / "config.yaml")
            write_config(daemon.config, url, web.sources({"feed"}), daemon.port, every=f"{every:g}s",
                         mode="single" if run == "single" else "cluster", concurrency=concurrency)
            daemons.append(daemon)
        with ThreadPoolExecutor(nodes) as pool:
            list(pool.map(lambda d: d.start(), daemons))
        try:
            began = time.time()
            ingested = wait_for_polls(web, {(spec.id, "/rss.xml") for spec in specs}, 2, INGEST_LIMIT)
            ingest = time.time() - began
            start = time.time()
            time.sleep(seconds)
            end = time.time()
        finally:
            for daemon in daemons:
                daemon.stop()
        twice = polls_run_twice(daemon.output() for daemon in daemons)
        times: dict[str, list[float]] = {}
        for record in web.requests.records():
            if record.path != "/robots.txt":
                times.setdefault(f"{record.site_id}{record.path}", []).append(record.at.timestamp())
    minutes = (end - start) / 60
    window = {url: [t for t in stamps if start <= t < end] for url, stamps in times.items()}
    feeds = sum(len(stamps) for url, stamps in window.items() if url.endswith("/rss.xml"))
    pages = sum(len(stamps) for url, stamps in window.items() if not url.endswith("/rss.xml"))
    gaps = {url: [b - a for a, b in pairwise(sorted(stamps))] for url, stamps in times.items()}
    name = "single" if run == "single" else f"nodes{nodes}"
    return {
        f"{name}_ingest_s": round(ingest, 1) if ingested else f"> {INGEST_LIMIT:g}",
        f"{name}_feed_polls_per_minute": round(feeds / minutes, 1),
        f"{name}_article_fetches_per_minute": round(pages / minutes, 1),
        f"{name}_fetches_under_1s_apart": sum(1 for g in gaps.values() for gap in g if gap < 1.0),
        f"{name}_examples": sorted({url for url, g in gaps.items() if any(gap < 1.0 for gap in g)})[:3],
        # One due poll run more than once across the nodes (the cluster's crawl lines name each due time).
        f"{name}_polls_run_twice": None if run == "single" else twice,
        f"{name}_feed_polls_late": sum(1 for url, g in gaps.items() if url.endswith("/rss.xml")
                                       for gap in g[1:] if gap > 2 * every),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", default=["single", "1", "2"],
                        help="'single' (today's daemon) or a number of cluster nodes, one run each")
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--every", type=float, default=4.0, help="seconds between two polls of a feed")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured time per run, after the warm-up")
    parser.add_argument("--concurrency", type=int, default=4, help="daemon.cluster.concurrency of each node")
    parser.add_argument("--logs", type=Path, help="keep the nodes' configs and logs in this folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"sites": args.sites, "every_s": args.every, "seconds": args.seconds,
                              "concurrency": args.concurrency,
                              "ideal_feed_polls_per_minute": round(args.sites * 60 / args.every, 1)}
    with TemporaryDirectory(prefix="cluster-bench-") as scratch:
        folder = args.logs or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for run in args.runs:
            result |= measure(run, args.sites, args.every, args.seconds, folder, args.concurrency)
    result["ok"] = True  # figures to read, not a pass/fail check
    return print_result(result, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
