"""Cluster mode (issue 18) at scale and under faults: the single-node daemon and 1, 2, 4… nodes on one workload.

The workload (``Workload``; ``--quick`` is a small one for the test): ``sites`` fixture sites of ``feeds`` RSS feeds
each (``/rss.xml`` and section feeds), every answer after ``latency`` seconds, every feed polled every ``every``
seconds, ``crawl.delay`` between two requests to a host, ``concurrency`` jobs per node; one politeness key (host
and port) per site. Each run migrates a fresh PostgreSQL database, starts its nodes as real processes (each
``labourwatch run``, ``daemon.mode: cluster``, or ``single`` for today's daemon, the baseline), waits until every
feed was polled (the ingest) and ``settle`` seconds more (the polls the ingest delayed are made), then measures
for ``seconds``, the web advancing (new articles, edits: the
scripted changes) every ``advance_every`` seconds, every event routed to a loopback ``json://`` receiver. After the
window it waits (up to ``drain`` s) for every change's event and every alert, stops the nodes with SIGTERM and
reads the figures:

- ``polls_per_minute`` (feed fetches in the window) against ``ideal_polls_per_minute``, ``pages_per_minute``
  (article pages: first fetches and re-checks), ``efficiency`` (polls a minute per node against one node's);
- ``cpu_s_per_1000_polls`` (the nodes' process trees, from ``/proc``), ``machine_busy`` (all cores, from
  ``/proc/stat``, the bench's own fixture web included), ``bench_cpu_s``, ``rss_mib`` (each node's tree, the most
  sampled), ``db_connections`` (``pg_stat_activity`` of the run's database, the most sampled);
- ``job_overhead_ms`` (a crawl job's wall time, Procrastinate's ``lasted``, minus its crawl runs' time: planning,
  claiming, waiting for the host's delay, bookkeeping), p50 and p95;
- ``lag``: the daemon's own ``labourwatch_poll_lag_seconds`` (due time to the poll picking the source up,
  p50/p95 over every node, since the start: the ingest's backlog included), the same from the cluster's crawl
  lines over the whole run and (``window_*``, the steady state the lag goal is about) over the polls started in the
  window, and from the request log the feed gaps over ``every`` (p50/p95/max); ``missed``: gaps longer than two
  periods, the polls started in the window a period or more late (cluster) and the daemon's missed-poll counter
  (since the start);
- ``duplicates``: fetches of one feed less than half a period apart (one due period fetched twice), of one
  article page less than a second apart, and (cluster) due polls run twice by the nodes' logs (a poll a stopping
  node handed back unmade, then made elsewhere, is not one: ``scheduler.jobs.polls_run_twice``);
- ``hosts``: the most requests one host had in flight at once (against ``per_domain_concurrency``), the gaps
  before a crawl's first request (its robots.txt: the hand-over from the key's last crawl) under ``crawl.delay``,
  and all gaps between two requests to a host under the delay and under half of it (Scrapy's jitter waits
  0.5–1.5 times the delay, so half of it is what a crawl keeps itself), with the closest pairs. The times are the
  fixture server's, when a handler thread read the request: on a loaded machine a request read late makes a gap
  look shorter than it was;
- ``events``: changes the web made with no event (``missing``), doubled events and events of no change
  (``extra``); ``alerts``: deliveries against what the receiver got (lost, duplicates, duplicates with a key
  the outbox does not have);
- ``jobs_table``: rows and dead tuples of ``procrastinate_jobs`` and ``procrastinate_events`` at the end.

``--faults`` runs the nodes on a PostgreSQL server of the bench's own (``bench/db_outage_bench.py``'s
``PgServer``; root or the postgres user) and, every ``fault_every`` seconds of the window, in turn: SIGKILL of a
random node, SIGTERM of one, SIGKILL of the node running ``dispatch`` (caught mid-send when the logs show one),
a PostgreSQL restart (``pg_ctl stop -m fast``, ``pg_down`` s, start) and SIGKILL of a random node again; each
stopped node is started again 5 s later. Per fault: ``detect_s`` (from the kill to the first ``stalled job`` line
of another node about one of its jobs), ``rerun_s`` (to the last of its in-flight keys started on another
node), ``lag_recovered_s`` (to the last feed fetch more than ``lag_goal`` s late after it).

The fixture server's request log is kept beside the nodes' logs (``<run>-requests.jsonl``) with ``--logs``.

Loopback only, bounded, stops by itself. From the repository root:
``python -m bench.cluster_scale_bench --runs single 1 2 4 --json`` (``--quick`` for the short one).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import text

from alerts.send import KEY_HEADER
from bench.cluster_bench import wait_for_polls, write_config
from bench.db_outage_bench import PgServer, as_utc, connect, doubled_events, missing_events
from bench.killing import key_tally, kill_tree, print_result, scratch_database
from bench.soak_bench import histogram_quantile, percentile
from crawler.procstat import cpu_seconds, descendants, rss_bytes
from db.engine import Database
from db.migrate import upgrade
from labourwatch.fixtureweb import FixtureWeb, RequestRecord, SiteSpec
from scheduler.jobs import polls_run_twice
from tests.daemonproc import DaemonProcess
from tests.receivers import HttpReceiver

SAMPLE_EVERY = 2.0  # seconds between two samples of CPU, RSS and database connections
RESTART_AFTER = 5.0  # seconds a stopped node stays down in the fault phase
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", re.MULTILINE)
_STARTED = re.compile(r"^(\S+ \S+) INFO\s+procrastinate\.worker[^:]*:\d+: Starting job labourwatch\.(\w+)\[(\d+)\]"
                      r"\((?:key='([^']*)')?", re.MULTILINE)
_ENDED = re.compile(r"^(\S+ \S+) INFO\s+procrastinate\.worker: Job labourwatch\.(\w+)\[(\d+)\]\(.*?\) ended "
                    r"with status: \w+, lasted ([\d.]+) s", re.MULTILINE)
_STALLED = re.compile(r"^(\S+ \S+) WARNING\s+scheduler\.cluster: stalled job (\d+) ", re.MULTILINE)
_CRAWL_DUE = re.compile(r"^(\S+ \S+) INFO\s+scheduler\.jobs: crawl of \S+ \(job (\d+) on .*?\): due (.*)$",
                        re.MULTILINE)
_LAG = "labourwatch_poll_lag_seconds"


@dataclass(frozen=True)
class Workload:
    """What every run of one bench polls, and how."""

    sites: int = 200
    feeds: int = 5  # per site: /rss.xml and feeds - 1 section feeds
    articles: int = 3  # per site at the start
    every: float = 60.0  # seconds between two polls of a feed
    # Each poll up to this much later than its period (sources.jitter): without it the 1,000 feeds stay due at
    # the same moment, a burst each period.
    jitter: float = 10.0
    latency: tuple[float, float] = (0.1, 0.2)  # seconds each answer takes
    delay: float = 0.25  # crawl.delay: seconds between two requests to a host
    per_domain: int = 4  # crawl.per_domain_concurrency
    concurrency: int = 12  # daemon.cluster.concurrency (its default)
    plan_every: float = 2.0  # daemon.cluster.plan_every: a poll starts up to this late
    heartbeat: float = 2.0  # daemon.cluster.heartbeat
    stall_window: float = 15.0  # daemon.cluster.stall_window: longer than a loaded node's longest loop stall
    # Re-checks of an article page, each a period after the last: the scripted edits are found by them.
    revisit: tuple[str, ...] = ("60s",) * 5
    seconds: float = 180.0  # the measured window, after the ingest: whole periods, so polls a minute is fair
    advance_every: float = 40.0  # the web's scripted changes, every this many seconds of the window
    ingest_limit: float = 240.0
    # Seconds between the ingest and the window: the polls the ingest delayed (every key's first crawl storing its
    # articles) are made first, so that the window measures the steady state the lag goal is about.
    settle: float = 60.0
    drain: float = 60.0  # the most to wait for the last events and alerts after the window
    lag_goal: float = 10.0
    fault_every: float = 45.0
    pg_down: float = 10.0
    # Seconds a node's start may take (until /healthz answers): over a minute at load 40+ (60 s failed a fault run).
    start_wait: float = 180.0

    @property
    def sources(self) -> int:
        """Feeds polled."""
        return self.sites * self.feeds

    @property
    def ideal_polls_per_minute(self) -> float:
        """Polls a minute on schedule: a source is polled again a period and up to ``jitter`` after its poll
        started (``scheduler.schedule.next_poll``), half of it on average."""
        return round(self.sources * 60 / (self.every + self.jitter / 2), 1)

    def specs(self) -> list[SiteSpec]:
        """The fixture sites."""
        return [SiteSpec(f"site{n:03d}", f"Site {n}", sitemap=False, listing=False, articles=self.articles,
                         sections=self.feeds - 1, latency=self.latency) for n in range(self.sites)]


# The drain is as long as the full bench's: on a CI machine running other tests beside two nodes, the last
# changes' events were not all there 30 s after the window (two edits, once in four runs); a lost one still fails.
QUICK = Workload(sites=6, feeds=2, articles=2, every=6.0, jitter=0.0, latency=(0.05, 0.1), delay=0.2, plan_every=1.0,
                 heartbeat=1.0, stall_window=8.0, revisit=("6s",) * 20,
                 seconds=24.0, advance_every=8.0, ingest_limit=90.0, settle=0.0, drain=60.0, fault_every=12.0,
                 pg_down=3.0)


@dataclass
class Node:
    """One node (or the single daemon) and its earlier lives: each start gets a folder and log of its own."""

    name: str
    folder: Path
    make: Callable[[Path], DaemonProcess]
    lives: list[DaemonProcess] = field(default_factory=list)
    start_wait: float = 60.0  # seconds a start waits for /healthz (``Workload.start_wait``)

    @property
    def daemon(self) -> DaemonProcess:
        return self.lives[-1]

    def start(self) -> None:
        """Start a new life, its config the first one's."""
        folder = self.folder / f"life{len(self.lives)}"
        folder.mkdir(parents=True)
        self.lives.append(self.make(folder / "config.yaml").start(wait=self.start_wait))

    def running(self) -> bool:
        proc = self.daemon.proc
        return proc is not None and proc.poll() is None

    def tree(self) -> list[int]:
        """The live process and its descendants (extraction workers)."""
        proc = self.daemon.proc
        return [proc.pid, *descendants(proc.pid)] if proc is not None and self.running() else []

    def output(self) -> str:
        return "".join(life.output() for life in self.lives)


class Sampler(threading.Thread):
    """CPU seconds and RSS of every node's tree and the database's connections, every ``SAMPLE_EVERY`` s."""

    def __init__(self, nodes: list[Node], url: str) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.nodes, self.url = nodes, url
        self.done = threading.Event()
        self.cpu: dict[tuple[str, int], float] = {}  # (node, pid) -> CPU seconds last seen
        self.rss: dict[str, int] = {}
        self.connections = 0
        self.by_application: dict[str, int] = {}

    def sample(self) -> None:
        for node in self.nodes:
            rss = 0
            for pid in node.tree():
                try:
                    self.cpu[(node.name, pid)] = cpu_seconds(Path(f"/proc/{pid}/stat"))
                except OSError:
                    continue
                rss += rss_bytes(pid)
            self.rss[node.name] = max(self.rss.get(node.name, 0), rss)
        try:
            with connect(self.url) as db:
                rows = db.execute(text("SELECT coalesce(application_name, ''), count(*) FROM pg_stat_activity "
                                       "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                       "GROUP BY 1")).all()
        except Exception:  # the database restarting in the fault phase
            return
        total = sum(n for _, n in rows)
        if total > self.connections:
            self.connections, self.by_application = total, {name or "-": n for name, n in rows}

    def cpu_total(self) -> float:
        return sum(self.cpu.values())

    def run(self) -> None:
        while not self.done.wait(SAMPLE_EVERY):
            self.sample()


def busy_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def own_cpu() -> float:
    """CPU seconds of this process (the fixture web's threads and the receiver)."""
    return cpu_seconds(Path(f"/proc/{os.getpid()}/stat"))


def log_time(stamp: str) -> float:
    """A log line's time (the daemon logs local time) as a Unix time."""
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def job_overheads(url: str, logs: list[str]) -> list[float]:
    """Per crawl job that polled: its wall time (Procrastinate's ``lasted``) minus its crawl run's, in ms. A run
    does not name its job once finished, so a job's run is the first to start after the job's ``crawl of`` line
    with the same sources."""
    lasted = {job: float(seconds) for log in logs for _, task, job, seconds in _ENDED.findall(log)
              if task == "crawl"}
    with connect(url) as db:
        rows = db.execute(text("SELECT started_at, finished_at, sources FROM crawl_runs "
                               "WHERE finished_at IS NOT NULL ORDER BY started_at")).all()
    runs: dict[frozenset[str], list[tuple[float, float]]] = {}
    for started, finished, sources in rows:
        begun = as_utc(started).timestamp()
        runs.setdefault(frozenset(sources), []).append((begun, as_utc(finished).timestamp() - begun))
    out = []
    for log in logs:
        for stamp, job, due in _CRAWL_DUE.findall(log):
            sources = frozenset(entry.rpartition("@")[0] for entry in due.split())
            since = log_time(stamp) - 0.01  # the log's stamp is taken before the run's row
            took = next((took for begun, took in runs.get(sources, ()) if begun >= since), None)
            if job in lasted and took is not None:
                out.append(1000 * (lasted[job] - took))
    return out


def host_figures(records: list[RequestRecord], delay: float) -> dict[str, Any]:
    """The most requests one host had in flight at once and the gaps between two requests to a host (with the
    closest pairs: host, path, when)."""
    by_host: dict[str, list[tuple[float, float, str]]] = {}
    for record in records:
        begun = (record.started or record.at).timestamp()
        by_host.setdefault(record.site_id, []).append((begun, record.at.timestamp(), record.path))
    most, gaps = 0, []
    for host, spans in by_host.items():
        edges = sorted([(b, 1) for b, _, _ in spans] + [(e, -1) for _, e, _ in spans])
        level = 0
        for _, step in edges:
            level += step
            most = max(most, level)
        gaps += [(b[0] - a[0], host, a[2], b[2], b[0]) for a, b in pairwise(sorted(spans))]
    close = sorted(gap for gap in gaps if gap[0] < delay / 2)
    # A crawl's first request is its robots.txt (each crawl job is a Scrapy crawl of its own): the gap before it
    # is the hand-over from the key's last crawl, on this node or another.
    handovers = [gap[0] for gap in gaps if gap[3] == "/robots.txt"]
    return {"most_in_flight": most, "handovers": len(handovers),
            "handover_gaps_under_delay": sum(1 for g in handovers if g < delay),
            "least_handover_gap_s": round(min(handovers), 3) if handovers else None,
            "gaps_under_delay": sum(1 for g in gaps if g[0] < delay),
            "gaps_under_half_delay": len(close), "least_gap_s": round(min(gaps)[0], 3) if gaps else None,
            "closest": [f"{host} {a} -> {b} {gap:.3f}s at {datetime.fromtimestamp(at).time()}"
                        for gap, host, a, b, at in close[:5]]}


def event_figures(url: str, web: FixtureWeb, advances: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
    """Events against the web's changes: missing ones, doubled ones, and events of no change (``new_article`` of an
    off-topic or unknown page, ``article_edited`` of a page no change edited)."""
    on_topic = {info.url for info in web.articles() if info.on_topic}
    edited = {u for _, change in advances for u in change["edited"]}
    with connect(url) as db:
        rows = db.execute(text("SELECT type, url FROM events WHERE type IN ('new_article', 'article_edited')")).all()
        doubled = doubled_events(db)
    missing = missing_events(url, web, advances)
    return {"changes": sum(len(c["new"]) + len(c["edited"]) for _, c in advances), "events": len(rows),
            "missing": len(missing), "missing_examples": missing[:3], "doubled": doubled,
            "extra": sum(1 for kind, u in rows if (kind == "new_article" and u not in on_topic)
                         or (kind == "article_edited" and u not in edited))}


class Run:
    """One run: ``single`` (today's daemon) or ``nodes`` cluster nodes on a fresh database and fixture web;
    ``faults`` adds the fault phase (on a PostgreSQL server of the run's own)."""

    def __init__(self, work: Workload, run: str, folder: Path, faults: bool = False, seed: int = 0) -> None:
        self.work, self.run, self.folder, self.faults = work, run, folder, faults
        self.single = run == "single"
        self.count = 1 if self.single else int(run)
        self.rng = random.Random(seed)
        self.advances: list[tuple[float, dict[str, Any]]] = []
        self.fault_log: list[dict[str, Any]] = []
        self._restarts: list[tuple[float, Node]] = []  # stopped nodes and when they start again
        self.pg: PgServer | None = None

    def measure(self) -> dict[str, Any]:
        """Set up, run and tear down; the figures."""
        if not self.faults:
            with scratch_database("postgresql", self.folder) as url:
                return self._with_database(url)
        self.pg = PgServer()
        try:
            self.pg.start()
            return self._with_database(self.pg.create_database("labourwatch_faults"))
        finally:
            self.pg.close()

    def _with_database(self, url: str) -> dict[str, Any]:
        work = self.work
        db = Database(url)
        upgrade(db)
        db.dispose()
        # Poll interval: 200 sites' serving threads waking 20 times a second took CPU from the nodes. Own hosts: on
        # one address the single daemon's Scrapy took the 200 sites for one host (one download slot, one request
        # per delay for all of them: no article stored in 4 minutes).
        with FixtureWeb(work.specs(), poll_interval=0.5, own_hosts=True) as web, HttpReceiver() as receiver:
            sources = [{**source, "jitter": f"{work.jitter:g}s"} for source in web.sources({"feed"})]
            routes = [{"name": "all", "urls": [receiver.url()]}]

            def make(config: Path) -> DaemonProcess:
                daemon = DaemonProcess(config)
                write_config(config, url, sources, daemon.port, every=f"{work.every:g}s", routes=routes,
                             concurrency=work.concurrency, mode="single" if self.single else "cluster",
                             crawl={"delay": f"{work.delay:g}s", "per_domain_concurrency": work.per_domain,
                                    "revisit": list(work.revisit)},
                             # A killed dispatcher's claimed alerts go out again after the lease (300 s by
                             # default): short here, so that the drain sees them.
                             alerts={"lease": "20s", "timeout": "5s"}, dispatch_every="1s",
                             cluster={"concurrency": work.concurrency, "plan_every": f"{work.plan_every:g}s",
                                      "heartbeat": f"{work.heartbeat:g}s",
                                      "stall_window": f"{work.stall_window:g}s"})
                return daemon

            nodes = [Node(f"node{n}", self.folder / f"{self.run}-{n}", make, start_wait=work.start_wait)
                     for n in range(self.count)]
            with ThreadPoolExecutor(len(nodes)) as pool:
                list(pool.map(lambda node: node.start(), nodes))
            sampler = Sampler(nodes, url)
            try:
                began = time.time()
                feeds = {(spec.id, path) for spec in work.specs()
                         for path in ("/rss.xml", *(spec.section_path(k) for k in range(spec.sections)))}
                # Once: each key's first crawl stored its articles (a saturated node takes long to poll all twice).
                ingested = wait_for_polls(web, feeds, 1, work.ingest_limit)
                ingest = time.time() - began
                time.sleep(work.settle)
                figures = self._window(web, nodes, sampler, url)
                drained = self._drain(url, web, receiver)
                metrics = self._metrics(nodes)
            finally:
                sampler.done.set()
                stopping = time.time()  # fetches after this may be a stopped crawl's dropped requests made again
                for node in nodes:
                    if node.running():
                        node.daemon.stop()
            arrivals = [record.header(KEY_HEADER) for record in receiver.records]
            with (self.folder / f"{self.run}-requests.jsonl").open("w") as out:  # the fixture server's log, kept
                out.writelines(json.dumps({"site": r.site_id, "path": r.path, "status": r.status,
                                           "started": (r.started or r.at).timestamp(), "at": r.at.timestamp()}) + "\n"
                               for r in web.requests.records())
            return {**figures, **self._after(url, web, nodes, arrivals, metrics,
                                             (figures["window_start"], figures["window_end"]), stopping),
                    "ingest_s": round(ingest, 1) if ingested else f"> {work.ingest_limit:g}",
                    "drained": drained}

    def _window(self, web: FixtureWeb, nodes: list[Node], sampler: Sampler, url: str) -> dict[str, Any]:
        """The measured window: advance the web on schedule, run the faults, sample; the throughput figures."""
        work = self.work
        sampler.sample()
        cpu0, bench0, machine0 = sampler.cpu_total(), own_cpu(), busy_cpu()
        sampler.start()
        start = time.time()
        faults = [self._kill_random, self._terminate, self._kill_dispatcher, self._restart_database,
                  self._kill_random] if self.faults else []
        next_advance, next_fault = start + work.advance_every, start + work.fault_every
        # The fault phase lasts until every fault was made and a period after the last one, at least: on a loaded
        # machine a fault may take longer than its turn (waiting for a dispatch to kill, a server to restart), and
        # a fixed window then ended before the last fault. Bounded: each fault waits a bounded time.
        until = start + max(work.seconds, (len(faults) + 1) * work.fault_every)
        self._restarts = []
        while faults or time.time() < until:
            now = time.time()
            if now >= next_advance:
                self.advances.append((now, asdict(web.advance())))
                next_advance += work.advance_every
            if faults and now >= next_fault:
                stopped = faults.pop(0)(nodes, url, web)
                if stopped is not None:
                    self._restarts.append((time.time() + RESTART_AFTER, stopped))
                next_fault = max(next_fault + work.fault_every, time.time())
                until = max(until, time.time() + work.fault_every)
            self._start_due()
            time.sleep(0.2)
        end = time.time()
        for _, node in self._restarts:
            node.start()
        self._restarts = []
        sampler.sample()
        cpu1, bench1, machine1 = sampler.cpu_total(), own_cpu(), busy_cpu()
        minutes = (end - start) / 60
        window = [r for r in web.requests.records() if start <= r.at.timestamp() < end]
        polls = sum(1 for r in window if r.path.endswith(".xml"))
        pages = sum(1 for r in window if r.path.startswith("/articles/"))
        node_cpu = cpu1 - cpu0
        return {
            "window_s": round(end - start, 1), "window_start": start, "window_end": end,
            "polls_per_minute": round(polls / minutes, 1), "pages_per_minute": round(pages / minutes, 1),
            "nodes_cpu_s": round(node_cpu, 1), "bench_cpu_s": round(bench1 - bench0, 1),
            "cpu_s_per_1000_polls": round(1000 * node_cpu / polls, 1) if polls else None,
            "machine_busy": round((machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1]), 2),
            "rss_mib": {name: round(rss / 2**20) for name, rss in sampler.rss.items()},
            "db_connections": sampler.connections, "db_connections_by_application": sampler.by_application,
        }

    def _drain(self, url: str, web: FixtureWeb, receiver: HttpReceiver) -> bool:
        """Wait until every change has its event and every delivery arrived; False after ``drain`` s."""
        deadline = time.monotonic() + self.work.drain
        while time.monotonic() < deadline:
            with connect(url) as db:
                keys = {key for (key,) in db.execute(text("SELECT idempotency_key FROM deliveries"))}
            received = {record.header(KEY_HEADER) for record in receiver.records}
            if not missing_events(url, web, self.advances) and keys <= received:
                return True
            time.sleep(1.0)
        return False

    @staticmethod
    def _metrics(nodes: list[Node]) -> dict[str, float]:
        """Every running node's /metrics, summed sample by sample."""
        total: Counter[str] = Counter()
        for node in nodes:
            if node.running():
                total.update(node.daemon.metrics())
        return dict(total)

    def _after(self, url: str, web: FixtureWeb, nodes: list[Node], arrivals: list[str | None],
               metrics: dict[str, float], window: tuple[float, float], stopping: float) -> dict[str, Any]:
        """Figures read once the nodes have stopped: lag, duplicates, hosts, events, alerts, jobs, faults."""
        work = self.work
        logs = [node.output() for node in nodes]
        records = web.requests.records()
        feeds: dict[tuple[str, str], list[float]] = {}
        pages: dict[tuple[str, str], list[float]] = {}
        for r in records:
            if r.path.endswith(".xml") or r.path.startswith("/articles/"):
                (feeds if r.path.endswith(".xml") else pages).setdefault((r.site_id, r.path), []).append(
                    r.at.timestamp())
        gaps = [b - a - work.every for stamps in feeds.values() for a, b in pairwise(sorted(stamps))]
        # Feed fetches under half a period after the one before: (seconds apart, feed, when the second was).
        close = sorted((b - a, f"{site}{path}", b) for (site, path), stamps in feeds.items()
                       for a, b in pairwise(sorted(stamps)) if b - a - work.every < -work.every / 2)
        page_gaps = [b - a for stamps in pages.values() for a, b in pairwise(sorted(stamps))]
        lags = [log_time(stamp) - datetime.fromisoformat(entry.rpartition("@")[2]).timestamp()
                for log in logs for stamp, _, due in _CRAWL_DUE.findall(log) for entry in due.split()]
        # The lag goal is about the steady state: the polls started in the window, not the ingest's.
        in_window = [log_time(stamp) - datetime.fromisoformat(entry.rpartition("@")[2]).timestamp()
                     for log in logs for stamp, _, due in _CRAWL_DUE.findall(log)
                     if window[0] <= log_time(stamp) < window[1] for entry in due.split()]
        overheads = job_overheads(url, logs) if not self.single else []
        with connect(url) as db:
            jobs = {name: {"live": live, "dead": dead} for name, live, dead in db.execute(text(
                "SELECT relname, n_live_tup, n_dead_tup FROM pg_stat_user_tables "
                "WHERE relname IN ('procrastinate_jobs', 'procrastinate_events')"))}
            expected = [key for (key,) in db.execute(text("SELECT idempotency_key FROM deliveries"))]
        return {
            "lag": {"daemon_p50_s": _round(histogram_quantile(metrics, _LAG, 0.5)),
                    "daemon_p95_s": _round(histogram_quantile(metrics, _LAG, 0.95)),
                    "crawl_lines_p50_s": _round(percentile(lags, 0.5)),
                    "crawl_lines_p95_s": _round(percentile(lags, 0.95)),
                    "crawl_lines_max_s": _round(max(lags, default=None)),
                    "window_p50_s": _round(percentile(in_window, 0.5)),
                    "window_p95_s": _round(percentile(in_window, 0.95)),
                    "window_max_s": _round(max(in_window, default=None)),
                    "gap_over_period_p50_s": _round(percentile(gaps, 0.5)),
                    "gap_over_period_p95_s": _round(percentile(gaps, 0.95)),
                    "gap_over_period_max_s": _round(max(gaps, default=None))},
            "missed": {"gaps_over_two_periods": sum(1 for g in gaps if g > work.every),
                       "window_polls_a_period_late": sum(1 for lag in in_window if lag > work.every),
                       "daemon_counter": metrics.get("labourwatch_polls_missed_total")},
            "duplicates": {"feed_fetches_within_half_period": len(close),
                           # Of those, the ones once the nodes were being stopped (a SIGTERMed crawl drops its
                           # requests in flight; their polls are due again for the nodes still running).
                           "feed_fetches_within_half_period_at_stop": sum(1 for _, _, at in close if at >= stopping),
                           "feed_fetches_close_examples": [
                               f"{feed} {gap:.2f}s apart, at {at - window[1]:+.1f}s from the window's end"
                               for gap, feed, at in close[:8]],
                           "page_fetches_under_1s_apart": sum(1 for g in page_gaps if g < 1.0),
                           "polls_run_twice": None if self.single else polls_run_twice(logs)},
            "hosts": host_figures(records, work.delay),
            "job_overhead_ms": {"jobs": len(overheads), "p50": _round(percentile(overheads, 0.5)),
                                "p95": _round(percentile(overheads, 0.95))},
            "events": event_figures(url, web, self.advances),
            "alerts": key_tally(expected, arrivals),
            "jobs_table": jobs,
            "faults": [self._fault_figures(fault, logs, records) for fault in self.fault_log],
            "node_exit_codes": [life.returncode for node in nodes for life in node.lives],
        }

    # -- the fault phase --------------------------------------------------------------------------------------

    def _in_flight(self, node: Node) -> list[tuple[int, str]]:
        """The crawl jobs (id, key) the node's current life started and has not ended."""
        log = node.daemon.output()
        ended = {int(job) for _, _, job, _ in _ENDED.findall(log)}
        return [(int(job), key) for _, task, job, key in _STARTED.findall(log) if task == "crawl"
                and int(job) not in ended]

    def _kill(self, node: Node, what: str) -> Node:
        proc = node.daemon.proc
        assert proc is not None
        in_flight = self._in_flight(node)
        at = time.time()
        kill_tree(proc, [proc.pid, *descendants(proc.pid)])
        node.daemon.stop()  # reaped already: closes its log
        self.fault_log.append({"fault": what, "node": node.name, "at": at, "pid": proc.pid, "in_flight": in_flight})
        return node

    def _live(self, nodes: list[Node]) -> list[Node]:
        return [node for node in nodes if node.running()]

    def _kill_random(self, nodes: list[Node], url: str, web: FixtureWeb) -> Node | None:
        live = self._live(nodes)
        return self._kill(self.rng.choice(live), "SIGKILL a random node") if live else None

    def _terminate(self, nodes: list[Node], url: str, web: FixtureWeb) -> Node | None:
        live = self._live(nodes)
        if not live:
            return None
        node = self.rng.choice(live)
        at = time.time()
        code = node.daemon.stop()
        self.fault_log.append({"fault": "SIGTERM a node", "node": node.name, "at": at,
                               "exit_code": code, "stopped_in_s": round(time.time() - at, 1), "in_flight": []})
        return node

    def _start_due(self) -> None:
        """Start again the stopped nodes whose restart time has come."""
        now = time.time()
        for due, node in [r for r in self._restarts if r[0] <= now]:
            self._restarts.remove((due, node))
            node.start()

    def _kill_dispatcher(self, nodes: list[Node], url: str, web: FixtureWeb) -> Node | None:
        """SIGKILL the node running ``dispatch``: the web advances (alerts to send) and the logs are watched for a
        dispatch job started and not ended for up to 20 s; else the node that started the last one. While no live
        node has started a dispatch yet (the nodes stopped by earlier faults are still starting on a loaded
        machine) it goes on waiting, up to 90 s, starting the stopped nodes when their time comes."""
        self.advances.append((time.time(), asdict(web.advance())))
        start = time.monotonic()
        deadline = start + 20
        while time.monotonic() < deadline or (time.monotonic() < start + 90 and not self._dispatchers(nodes)):
            self._start_due()
            for node in self._live(nodes):
                log = node.daemon.output()
                ended = {job for _, task, job, _ in _ENDED.findall(log) if task == "dispatch"}
                if any(task == "dispatch" and job not in ended for _, task, job, _ in _STARTED.findall(log)):
                    killed = self._kill(node, "SIGKILL the dispatcher's node")
                    self.fault_log[-1]["mid_dispatch"] = True
                    return killed
            time.sleep(0.02)
        last = max(self._dispatchers(nodes), default=None, key=lambda pair: pair[0])
        if last is None:
            return None
        killed = self._kill(last[1], "SIGKILL the dispatcher's node")
        self.fault_log[-1]["mid_dispatch"] = False
        return killed

    def _dispatchers(self, nodes: list[Node]) -> list[tuple[float, Node]]:
        """(start time, node) of every dispatch job the live nodes' current lives started."""
        starts = [(log_time(stamp), node) for node in self._live(nodes)
                  for stamp, task, _, _ in _STARTED.findall(node.daemon.output()) if task == "dispatch"]
        return [(at, node) for at, node in starts if at is not None]

    def _restart_database(self, nodes: list[Node], url: str, web: FixtureWeb) -> Node | None:
        assert self.pg is not None
        at = time.time()
        self.pg.stop("fast")
        time.sleep(self.work.pg_down)
        self.pg.start()
        self.fault_log.append({"fault": "PostgreSQL restart", "at": at, "back_at": time.time(), "in_flight": []})
        return None

    def _fault_figures(self, fault: dict[str, Any], logs: list[str], records: list[RequestRecord]) -> dict[str, Any]:
        """What one fault cost: detection, re-run elsewhere, poll lag recovery."""
        at = fault["at"]
        jobs = {job for job, _ in fault["in_flight"]}
        detected = [log_time(stamp) for log in logs for stamp, job in _STALLED.findall(log)
                    if int(job) in jobs and log_time(stamp) >= at]
        rerun = []
        for _, key in fault["in_flight"]:
            # After the kill: on another node, or on the killed one's next life.
            starts = [log_time(stamp) for log in logs for stamp, task, _, k in _STARTED.findall(log)
                      if task == "crawl" and k == key and log_time(stamp) > at]
            rerun.append(min(starts, default=None))
        late = [r.at.timestamp() for r, gap in self._feed_gaps(records) if r.at.timestamp() >= at
                and gap - self.work.every > self.work.lag_goal and r.at.timestamp() <= at + 4 * self.work.fault_every]
        since = fault.get("back_at", at)
        out = {k: v for k, v in fault.items() if k not in ("at", "pid", "in_flight", "back_at")}
        return {**out, "in_flight_jobs": len(jobs),
                "detect_s": _round(min(detected) - at) if detected else None,
                "rerun_s": _round(max(rerun) - at) if rerun and None not in rerun else None,
                "not_rerun": sum(1 for t in rerun if t is None),
                "lag_recovered_s": _round(max(late) - since) if late else 0.0}

    def _feed_gaps(self, records: list[RequestRecord]) -> list[tuple[RequestRecord, float]]:
        """Each feed fetch after the first with the gap since the one before."""
        last: dict[tuple[str, str], float] = {}
        out = []
        for r in sorted((r for r in records if r.path.endswith(".xml")), key=lambda r: r.at):
            key, at = (r.site_id, r.path), r.at.timestamp()
            if key in last:
                out.append((r, at - last[key]))
            last[key] = at
        return out


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def bench(work: Workload, runs: list[str], folder: Path, faults: str | None) -> dict[str, Any]:
    """Every run of ``runs`` (and the fault phase with ``faults`` nodes), one after the other; the figures."""
    result: dict[str, Any] = {"workload": {**asdict(work), "sources": work.sources,
                                           "ideal_polls_per_minute": work.ideal_polls_per_minute}}
    for run in runs:
        result[run] = Run(work, run, folder).measure()
        print(f"run {run}: {json.dumps(result[run])}", file=sys.stderr, flush=True)
    if faults is not None:
        result[f"faults-{faults}"] = Run(work, faults, folder / "faults", faults=True).measure()
        print(f"faults: {json.dumps(result[f'faults-{faults}'])}", file=sys.stderr, flush=True)
    one = result.get("1", {}).get("polls_per_minute")
    result["efficiency"] = {run: round(result[run]["polls_per_minute"] / (int(run) * one), 2)
                            for run in runs if run not in ("single", "1") and one}
    result["ok"] = True  # figures to read, not a pass/fail check
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="*", default=["single", "1", "2", "4"],
                        help="'single' (today's daemon) or a number of cluster nodes, one run each")
    parser.add_argument("--faults", metavar="NODES", help="also the fault phase with this many nodes")
    parser.add_argument("--quick", action="store_true", help="the small workload the test runs")
    for name, value in asdict(Workload()).items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            parser.add_argument(f"--{name.replace('_', '-')}", type=type(value))
    parser.add_argument("--logs", type=Path, help="keep the nodes' configs and logs in this folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = QUICK if args.quick else Workload()
    work = replace(work, **{name: getattr(args, name) for name in asdict(work)
                            if getattr(args, name, None) is not None})
    with TemporaryDirectory(prefix="cluster-scale-") as scratch:
        folder = args.logs or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        return print_result(bench(work, args.runs, folder, args.faults), args.json)


if __name__ == "__main__":
    raise SystemExit(main())
