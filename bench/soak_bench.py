"""Soak test of ``labourwatch run``: the real daemon for an hour against a changing loopback news web.

Run from the repository root (2-core machine, nothing else busy; all traffic is 127.0.0.1):

    .venv/bin/python bench/soak_bench.py                  # 60 min, 200 feeds polled every 2m, web advances every 5m
    .venv/bin/python bench/soak_bench.py --minutes 10     # the same, 10 minutes (warm-up at minute 10/6)
    .venv/bin/python bench/soak_bench.py --quick          # 2 min, 40 feeds every 20s, advance every 30s, poll_every 5s

What it does:

* Serves a generated fixture web of ``--sources`` sites with one feed each (``--articles`` articles per site) and
  an ``HttpReceiver`` (json:// apprise route "soak", every newsroom event type) from this process.
* Starts ``labourwatch --config C run`` as a subprocess on a fresh migrated SQLite database in a temporary
  directory. Every source has ``every = --every`` and ``jitter: 0s`` (so due times are exact); ``daemon.poll_every
  = --poll-every`` (default 30s, the daemon's default); ``daemon.revisit_every = every`` and ``crawl.revisit =
  [every, 2.5 x every, 7.5 x every]`` (2m, 5m, 15m by default); politeness lowered for loopback (no delay, no
  AutoThrottle, 16 connections per host: every site is 127.0.0.1); ``max_feed_age: null`` (the web's clock is 2026).
* Every ``--advance-every`` the web moves to its next state (``web.advance()``: new articles on about 1 in 8
  sites, a figure edit, a correction and a headline change), which makes events and alerts.
* Every ``--sample-every`` (10 s) it samples the daemon and its descendants (the extraction workers, their fork
  server, the resource tracker; found from the parent pids in /proc): RSS (VmRSS) and PSS (smaps_rollup) of each,
  by role, open FDs, threads, CPU, the ``/healthz`` status and the ``/metrics`` values.
* ``--workers-idle D`` writes ``crawl.workers_idle: D`` (``off``: null, the pool kept for the daemon's life);
  without it the config leaves the key out (the daemon's default; a build without the setting runs too).
* At the end it waits (up to ``--drain`` s) for the outbox to empty, then sends SIGTERM and times the exit.

Figures, and how they are computed:

* Steady-state memory: median, p95 and max of the tree's RSS and PSS over the samples after warm-up, in MiB, and
  the median of each role (main, workers, fork server, resource tracker) while it runs. PSS splits the pages the
  workers share with their fork server (the model, the lexicons) between them: the tree's PSS is what the tree
  costs the machine, its RSS counts those pages once per process.
* Growth per hour: the least-squares slope of RSS over the samples after warm-up (tree, main process, tree PSS,
  and the tree's idle floor, the lowest sample of each poll cycle), in MB per hour. A pool started or stopped
  moves the tree by hundreds of MB, so the main process's slope and the idle floor's are the leak figures.
* Idle CPU: the tree's CPU seconds over the sample intervals after warm-up in which the web served no request
  (no crawl ran), per hour of such intervals; beside it all CPU after warm-up, per hour.
* Worker pool starts and stops: fork server processes appearing and disappearing between samples, and the
  daemon's own log lines (``extraction workers started`` / ``stopped after``).

* RSS growth: median tree RSS over one poll interval from the warm-up point (duration / 6: minute 10 of 60)
  against the median over the last poll interval. Medians of a whole poll cycle compare like with like (RSS is
  higher mid-crawl). The single samples at those two points are reported too.
* FDs and threads: min/max of the tree after warm-up, against the warm-up median (flat: within +-10).
* Missed polls, from the web's request log (independent of the daemon): a feed request gap longer than
  ``every + poll_every + tolerance`` (tolerance = min(30 s, every / 2), so that one skipped poll, a gap of
  2 x every, always counts), a first request later than that after the start, or a last request that long before
  SIGTERM. Also the daemon's own ``labourwatch_polls_missed_total``.
* Poll-start lag, from the request log: ``gap - every`` for consecutive requests of each feed (the daemon plans
  the next poll at crawl start + every, so this is how late the next crawl reached the feed, including any wait
  for the crawl lock), p95 over all gaps; beside it the p95 of the daemon's ``labourwatch_poll_lag_seconds``
  histogram (due time to the poll job picking the source up). Loop lag: p99 of its histogram and the max gauge.
* Alerts: every delivery row ``sent`` must have arrived (by ``X-Labourwatch-Key``), no key twice, and at least one
  alert must be about an article the web added or edited while the daemon ran.

Prints a markdown table (goals, PASS/MISS) and writes JSON to ``bench/results/soak.json`` (``soak-<N>m.json`` for
other durations, ``soak-quick.json`` with ``--quick``); ``bench/results/`` is git-ignored. The core is
``run_soak(minutes, sources, ...)``, which ``tests/scheduler/test_soak_short.py`` calls.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.receivers and tests.daemonproc, as bench/alerts_kill_bench.py does

from alerts.send import KEY_HEADER  # noqa: E402
from crawler.procstat import cpu_seconds  # noqa: E402
from labourwatch.fixtureweb import FixtureWeb, RequestRecord, SiteSpec, generate_sites  # noqa: E402
from labourwatch.units import format_duration  # noqa: E402
from tests.daemonproc import DaemonProcess  # noqa: E402
from tests.receivers import HttpReceiver  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FEED_PATHS = ("/rss.xml", "/atom.xml")
MB = 1_000_000
SHUTDOWN_MARGIN = 5.0  # seconds allowed beyond daemon.shutdown_timeout for the process to exit
FLAT = 10  # FDs and threads must stay within this of their warm-up value
TREE_GOAL_MIB = 160  # issue 15: the daemon's process tree after warm-up
GROWTH_GOAL_MB = 10  # ... and its growth per hour
_LOG_LEVEL = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL)\s+(\S+): (.*)$")
_KEPT_METRICS = ("labourwatch_polls_total", "labourwatch_polls_missed_total", "labourwatch_loop_lag_max_seconds",
                 "labourwatch_deliveries{", "labourwatch_job_errors_total", "labourwatch_crawl_problems_total")


# --- settings and results --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SoakConfig:
    """One soak run; durations in seconds."""

    minutes: float = 60.0
    sources: int = 200
    every: float = 120.0
    advance_every: float = 300.0
    poll_every: float = 30.0
    warmup: float | None = None  # None: duration / 6
    sample_every: float = 10.0
    articles: int = 10
    shutdown_timeout: float = 20.0
    lag_goal: float = 30.0
    drain: float = 60.0
    workers_idle: str | None = None  # crawl.workers_idle: a duration, "off" (null), None: not written

    @property
    def duration(self) -> float:
        return self.minutes * 60

    @property
    def warmup_at(self) -> float:
        return self.warmup if self.warmup is not None else self.duration / 6

    @property
    def tolerance(self) -> float:
        return min(30.0, self.every / 2)

    @property
    def missed_after(self) -> float:
        """A feed gap longer than this is a missed poll."""
        return self.every + self.poll_every + self.tolerance

    @property
    def window(self) -> float:
        """The width of the warm-up and end windows: one poll cycle (at least two samples)."""
        return max(self.every, 2 * self.sample_every)

    @property
    def revisit(self) -> list[str]:
        return [format_duration(timedelta(seconds=self.every * k)) for k in (1, 2.5, 7.5)]


QUICK = SoakConfig(minutes=2, sources=40, every=20, advance_every=30, poll_every=5, warmup=30, sample_every=5,
                   lag_goal=10)


@dataclass(frozen=True)
class Sample:
    """One look at the daemon, ``t`` seconds after it was started; the ``tree_*`` values include descendants."""

    t: float
    rss_kib: int
    tree_rss_kib: int
    fds: int
    tree_fds: int
    threads: int
    tree_threads: int
    processes: int
    tree_cpu_s: float
    health: int  # /healthz status, 0 when it did not answer
    health_reasons: list[str]
    metrics: dict[str, float]
    tree_pss_kib: int = 0
    roles_rss_kib: dict[str, int] = field(default_factory=dict)  # main, workers, fork_server, resource_tracker
    roles_pss_kib: dict[str, int] = field(default_factory=dict)
    fork_server: int | None = None  # its pid, None when no fork server runs
    workers: int = 0


@dataclass(frozen=True)
class Check:
    """One goal: ``passed`` is None for figures reported without a goal."""

    name: str
    goal: str
    value: str
    passed: bool | None


@dataclass
class SoakResult:
    """Everything a soak run measured."""

    config: SoakConfig
    figures: dict[str, Any]
    checks: list[Check]
    samples: list[Sample]
    advances: list[dict[str, Any]]
    log_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.passed is not False for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"config": asdict(self.config), "ok": self.ok, "checks": [asdict(c) for c in self.checks],
                "figures": self.figures, "advances": self.advances, "log_problems": self.log_problems,
                "samples": [asdict(s) for s in self.samples]}


# --- the process tree, from /proc ------------------------------------------------------------------------------



def _parents() -> dict[int, int]:
    """Every process's parent pid, from /proc/*/stat."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def process_tree(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    """``pid`` and all its descendants (by the parent pids in /proc/*/stat; this kernel has no .../children)."""
    children: dict[int, list[int]] = defaultdict(list)
    for child, ppid in (parents if parents is not None else _parents()).items():
        children[ppid].append(child)
    tree, index = [pid], 0
    while index < len(tree):  # breadth-first
        tree.extend(children.get(tree[index], ()))
        index += 1
    return tree


def pss_kib(pid: int) -> int:
    """Proportional set size (KiB) of a process: its private pages plus its share of pages it shares; 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def roles(root: int, tree: list[int], parents: dict[int, int]) -> dict[int, str]:
    """What each process of the daemon's tree is: main, fork_server, workers (children of the fork server),
    resource_tracker or other, from their command lines (a worker's is its fork server's: told by its parent)."""
    found = {}
    for pid in tree:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            cmdline = b""
        found[pid] = ("main" if pid == root else "fork_server" if b"multiprocessing.forkserver" in cmdline
                      else "resource_tracker" if b"multiprocessing.resource_tracker" in cmdline else "other")
    for pid in tree:
        if found.get(parents.get(pid, -1)) == "fork_server":
            found[pid] = "workers"
    return found


def proc_stats(pid: int) -> tuple[int, int, int, float] | None:
    """(VmRSS KiB, threads, open FDs, CPU seconds) of a process, None when it is gone."""
    try:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if ":" in line)
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        cpu = cpu_seconds(Path(f"/proc/{pid}/stat"))
    except (OSError, ValueError):
        return None
    rss = int(status.get("VmRSS", "0 kB").split()[0])  # absent for a zombie
    return rss, int(status.get("Threads", "0")), fds, cpu


def sample(daemon: DaemonProcess, t: float) -> Sample:
    """RSS, FDs, threads and CPU of the daemon's process tree, its health and its metrics."""
    assert daemon.proc is not None
    parents = _parents()
    stats = {pid: s for pid in process_tree(daemon.proc.pid, parents) if (s := proc_stats(pid)) is not None}
    role = roles(daemon.proc.pid, list(stats), parents)
    pss = {pid: pss_kib(pid) for pid in stats}
    by_role_rss: Counter[str] = Counter()
    by_role_pss: Counter[str] = Counter()
    for pid, s in stats.items():
        by_role_rss[role[pid]] += s[0]
        by_role_pss[role[pid]] += pss[pid]
    own = stats.get(daemon.proc.pid, (0, 0, 0, 0.0))
    try:
        health = daemon.health()
    except (OSError, ValueError):
        health = None
    try:
        metrics = daemon.metrics()
    except (OSError, ValueError, AssertionError):
        metrics = {}
    status, body = health if health is not None else (0, {})
    return Sample(
        t=round(t, 1), rss_kib=own[0], tree_rss_kib=sum(s[0] for s in stats.values()), fds=own[2],
        tree_fds=sum(s[2] for s in stats.values()), threads=own[1], tree_threads=sum(s[1] for s in stats.values()),
        processes=len(stats), tree_cpu_s=round(sum(s[3] for s in stats.values()), 2), health=status,
        health_reasons=[] if status == 200 else list(body.get("reasons", [])),
        metrics={k: v for k, v in metrics.items() if k.startswith(_KEPT_METRICS)} | _quantiles(metrics),
        tree_pss_kib=sum(pss.values()), roles_rss_kib=dict(by_role_rss), roles_pss_kib=dict(by_role_pss),
        fork_server=next((pid for pid, r in role.items() if r == "fork_server"), None),
        workers=sum(1 for r in role.values() if r == "workers"),
    )


def _quantiles(metrics: dict[str, float]) -> dict[str, float]:
    out = {}
    for name, key, q in (("labourwatch_poll_lag_seconds", "poll_lag_p95", 0.95),
                         ("labourwatch_loop_lag_seconds", "loop_lag_p99", 0.99)):
        value = histogram_quantile(metrics, name, q)
        if value is not None:
            out[key] = round(value, 4)
    return out


# --- the run ---------------------------------------------------------------------------------------------------

def one_feed_sites(n_sites: int, articles: int) -> list[SiteSpec]:
    """``generate_sites`` with exactly one feed per site (RSS 2.0 where there was none), as crawl_bench does."""
    return [replace(spec, feed=spec.feed or "rss2", atom_too=False) for spec in generate_sites(n_sites, articles)]


def write_config(path: Path, config: SoakConfig, sources: list[dict[str, str]], port: int, hook: str) -> Path:
    """The daemon's config.yaml."""
    import yaml

    def duration(seconds: float) -> str:
        return format_duration(timedelta(seconds=seconds))

    idle = {} if config.workers_idle is None else {"workers_idle": None if config.workers_idle == "off"
                                                   else config.workers_idle}
    path.write_text(yaml.safe_dump({
        "database": {"url": "sqlite:///lw.db"},
        "claims": {"file": str(ROOT / "known_claims.yaml")},
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s",
                  "per_domain_concurrency": 16, "revisit": config.revisit, "max_feed_age": None, **idle},
        "daemon": {"poll_every": duration(config.poll_every), "revisit_every": duration(config.every),
                   "shutdown_timeout": duration(config.shutdown_timeout), "listen": f"127.0.0.1:{port}"},
        # copies: true — the generated web's articles repeat template text across outlets, and whether a new one is
        # linked as a copy of another outlet's depends on crawl order (a run was seen with every new article linked:
        # no story sent); the soak measures delivery, not copy detection (bench/copies_bench.py does).
        "alerts": {"routes": [{"name": "soak", "urls": [hook], "copies": True}]},
        "sources": [{**source, "every": duration(config.every), "jitter": "0s"} for source in sources],
    }, sort_keys=False))
    return path


class SoakRun:
    """One soak: the web, the receiver and the daemon, sampled on a clock; ``run()`` returns the result."""

    def __init__(self, config: SoakConfig, workdir: Path, progress: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.workdir = workdir
        self.progress = progress or (lambda line: None)
        self.samples: list[Sample] = []
        self.advances: list[dict[str, Any]] = []
        self.start_wall = 0.0
        self.start = 0.0

    def run(self) -> SoakResult:
        cfg = self.config
        rig_cpu = time.process_time()
        with FixtureWeb(one_feed_sites(cfg.sources, cfg.articles)) as web, HttpReceiver() as receiver:
            daemon = DaemonProcess(self.workdir / "config.yaml")
            write_config(daemon.config, cfg, web.sources({"feed"}), daemon.port, receiver.url(timeout=5.0))
            subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(daemon.config), "db", "upgrade"],
                           check=True, capture_output=True, timeout=300)
            self.start_wall, self.start = time.time(), time.monotonic()
            daemon.start()
            try:
                self._loop(daemon, web)
                final = self._drain(daemon)
            finally:
                stop_wall = time.time()
                shutdown = self._stop(daemon)
            records = web.requests.records()
            received = [record.header(KEY_HEADER) for record in receiver.records]
        rig_cpu = time.process_time() - rig_cpu
        log = daemon.output()
        figures = {
            "duration_s": round(stop_wall - self.start_wall, 1),
            "resources": resource_figures(self.samples, cfg),
            "memory": memory_figures(self.samples, cfg),
            "cpu": cpu_figures(self.samples, records, self.start_wall, cfg),
            "pool": pool_figures(self.samples, log),
            "polls": poll_figures(records, cfg, self.start_wall, stop_wall) | daemon_poll_figures(final),
            "loop_lag": {"max_s": final.get("labourwatch_loop_lag_max_seconds"),
                         "p99_s": histogram_quantile(final, "labourwatch_loop_lag_seconds", 0.99)},
            "alerts": alert_figures(self.workdir / "lw.db", received, self.advances),
            "health": health_figures(self.samples),
            "shutdown": shutdown,
            "log": log_figures(log),
            "requests": request_figures(records),
            "rig_cpu_s": round(rig_cpu, 1),
        }
        return SoakResult(cfg, figures, checks(figures, cfg), self.samples, self.advances,
                          [line for line in log.splitlines() if _LOG_LEVEL.match(line) or "Traceback" in line][:50])

    def _loop(self, daemon: DaemonProcess, web: FixtureWeb) -> None:
        cfg = self.config
        next_sample, next_advance, end = self.start, self.start + cfg.advance_every, self.start + cfg.duration
        while (now := time.monotonic()) < end:
            assert daemon.proc is not None
            if daemon.proc.poll() is not None:
                self.progress(f"daemon exited early with {daemon.proc.returncode}")
                return
            if now >= next_advance:
                change = web.advance()
                self.advances.append({"t": round(now - self.start, 1), "wall": time.time(), "state": change.state,
                                      "new": list(change.new), "edited": list(change.edited)})
                next_advance += cfg.advance_every
            if now >= next_sample:
                self._sample(daemon, now)
                next_sample += cfg.sample_every
            time.sleep(max(0.0, min(next_sample, next_advance, end) - time.monotonic()))
        self._sample(daemon, time.monotonic())

    def _sample(self, daemon: DaemonProcess, now: float) -> None:
        s = sample(daemon, now - self.start)
        self.samples.append(s)
        if len(self.samples) % max(1, round(60 / self.config.sample_every)) == 1:
            polls = s.metrics.get('labourwatch_polls_total{job="poll",outcome="ok"}', 0)
            self.progress(f"t={s.t:6.0f}s rss {s.tree_rss_kib * 1024 / MB:6.1f} MB (daemon "
                          f"{s.rss_kib * 1024 / MB:.1f}) fds {s.tree_fds} threads {s.tree_threads} "
                          f"procs {s.processes} health {s.health} polls {polls:.0f}")

    def _drain(self, daemon: DaemonProcess) -> dict[str, float]:
        """Wait until no delivery is pending or failed (or ``drain`` runs out); the last metrics."""
        deadline = time.monotonic() + self.config.drain
        metrics: dict[str, float] = {}
        while daemon.proc is not None and daemon.proc.poll() is None:
            try:
                metrics = daemon.metrics()
            except (OSError, ValueError, AssertionError):
                break
            waiting = sum(metrics.get(f'labourwatch_deliveries{{status="{s}"}}', 0) for s in ("pending", "failed"))
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(1)
        return metrics

    def _stop(self, daemon: DaemonProcess) -> dict[str, Any]:
        started = time.monotonic()
        try:
            code: int | None = daemon.stop(timeout=self.config.shutdown_timeout + 60)
        except AssertionError:
            code = None  # did not exit: killed
        return {"exit_code": code, "seconds": round(time.monotonic() - started, 2)}


def run_soak(minutes: float = 60.0, sources: int = 200, *, workdir: Path | None = None,
             progress: Callable[[str], None] | None = None, **options: Any) -> SoakResult:
    """Soak the daemon for ``minutes`` on ``sources`` feeds; ``options`` are further ``SoakConfig`` fields.

    With ``workdir`` the config, database and daemon.log stay there; otherwise in a temporary directory."""
    config = SoakConfig(minutes=minutes, sources=sources, **options)
    if workdir is not None:
        return SoakRun(config, workdir, progress).run()
    with tempfile.TemporaryDirectory(prefix="lw-soak-") as tmp:
        return SoakRun(config, Path(tmp), progress).run()


# --- figures ---------------------------------------------------------------------------------------------------

def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else None


def histogram_quantile(metrics: dict[str, float], name: str, q: float) -> float | None:
    """Prometheus ``histogram_quantile`` over the ``le`` buckets of an unlabelled histogram."""
    buckets = sorted((float(key.split('le="', 1)[1].rstrip('"}')), value) for key, value in metrics.items()
                     if key.startswith(f'{name}_bucket{{le="'))
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower  # as Prometheus: the highest finite bound
            return lower + (bound - lower) * ((rank - below) / (count - below) if count > below else 1.0)
        lower, below = bound, count
    return lower


def _window(samples: list[Sample], start: float, width: float) -> list[Sample]:
    return [s for s in samples if start <= s.t <= start + width]


def _floors(samples: list[Sample], attr: str, start: float, width: float) -> list[int]:
    """The lowest value in each whole poll cycle from ``start``: the idle level between crawls (a crawl opens a
    socket per site for a few seconds, so single samples swing by hundreds of FDs without any leak). A last cycle
    cut short by the end of the run is left out: it may hold no idle moment (a crawl, or a pool not stopped yet)."""
    cycles: dict[int, list[int]] = defaultdict(list)
    last = samples[-1].t if samples else start
    for s in samples:
        if s.t >= start:
            cycles[int((s.t - start) // width)].append(getattr(s, attr))
    whole = [values for index, values in sorted(cycles.items()) if start + (index + 1) * width <= last + 1]
    return [min(values) for values in (whole or [values for _, values in sorted(cycles.items())][:1])]


def _flat(samples: list[Sample], attr: str, cfg: SoakConfig) -> dict[str, Any]:
    """Min/max after warm-up, and whether the idle floor of every later cycle stays within ±FLAT of the
    floor of the warm-up cycle."""
    values = [getattr(s, attr) for s in samples if s.t >= cfg.warmup_at]
    floors = _floors(samples, attr, cfg.warmup_at, cfg.window)
    return {"min": min(values), "max": max(values), "warmup_floor": floors[0], "floors": floors,
            "flat": all(abs(floor - floors[0]) <= FLAT for floor in floors)}


def resource_figures(samples: list[Sample], cfg: SoakConfig) -> dict[str, Any]:
    """RSS growth (window medians), FD/thread ranges and CPU after warm-up."""
    after = [s for s in samples if s.t >= cfg.warmup_at]
    if not after:
        return {}
    last_t = samples[-1].t
    warm = _window(samples, cfg.warmup_at, cfg.window) or after[:1]
    end = _window(samples, last_t - cfg.window, cfg.window)

    def mb(kib: float) -> float:
        return round(kib * 1024 / MB, 2)

    def med(chosen: list[Sample], attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in chosen)

    cpu = (after[-1].tree_cpu_s - after[0].tree_cpu_s) / (after[-1].t - after[0].t) if len(after) > 1 else 0.0
    return {
        "warmup_at_s": cfg.warmup_at, "window_s": cfg.window, "samples_warm": len(warm), "samples_end": len(end),
        "rss_warm_mb": mb(med(warm, "tree_rss_kib")), "rss_end_mb": mb(med(end, "tree_rss_kib")),
        "rss_growth_mb": mb(med(end, "tree_rss_kib") - med(warm, "tree_rss_kib")),
        "rss_sample_warm_mb": mb(warm[0].tree_rss_kib), "rss_sample_end_mb": mb(samples[-1].tree_rss_kib),
        "daemon_rss_warm_mb": mb(med(warm, "rss_kib")), "daemon_rss_end_mb": mb(med(end, "rss_kib")),
        "daemon_rss_growth_mb": mb(med(end, "rss_kib") - med(warm, "rss_kib")),
        "rss_peak_mb": mb(max(s.tree_rss_kib for s in samples)),
        "fds": _flat(samples, "tree_fds", cfg), "threads": _flat(samples, "tree_threads", cfg),
        "daemon_fds": _flat(samples, "fds", cfg), "daemon_threads": _flat(samples, "threads", cfg),
        "processes": [min(s.processes for s in after), max(s.processes for s in after)],
        "cpu_percent_after_warmup": round(100 * cpu, 1),
    }


MIB = 1024 * 1024
POOL_STARTED = "extraction workers started"
POOL_STOPPED = "extraction workers stopped"


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of ``(seconds, value)`` points, per hour; None with fewer than two distinct times."""
    if len({t for t, _ in points}) < 2:
        return None
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    covariance = sum((t - mean_t) * (v - mean_v) for t, v in points)
    variance = sum((t - mean_t) ** 2 for t, _ in points)
    return covariance / variance * 3600


def memory_figures(samples: list[Sample], cfg: SoakConfig) -> dict[str, Any]:
    """Steady-state RSS and PSS of the tree after warm-up (MiB), by role, and growth fits (MB per hour)."""
    after = [s for s in samples if s.t >= cfg.warmup_at]
    if not after:
        return {}

    def mib(kib: float) -> float:
        return round(kib / 1024, 1)

    def spread(values: list[int]) -> dict[str, float]:
        # Samples are evenly spaced: their mean is the time-weighted mean, what a pool up part of the time costs.
        return {"mean": mib(statistics.fmean(values)), "median": mib(statistics.median(values)),
                "p95": mib(percentile(values, 0.95) or 0), "max": mib(max(values)), "min": mib(min(values))}

    def state(chosen: list[Sample]) -> dict[str, float] | None:
        return {"tree_rss": mib(statistics.median(s.tree_rss_kib for s in chosen)),
                "tree_pss": mib(statistics.median(s.tree_pss_kib for s in chosen)),
                "main_rss": mib(statistics.median(s.rss_kib for s in chosen))} if chosen else None

    def fit(points: list[tuple[float, float]]) -> float | None:
        slope = slope_per_hour([(t, kib * 1024 / MB) for t, kib in points])
        return None if slope is None else round(slope, 2)

    role_names = sorted({name for s in after for name in s.roles_rss_kib})
    floors = _floors(samples, "tree_rss_kib", cfg.warmup_at, cfg.window)
    return {
        "tree_rss_mib": spread([s.tree_rss_kib for s in after]),
        "tree_pss_mib": spread([s.tree_pss_kib for s in after]) if any(s.tree_pss_kib for s in after) else None,
        "main_rss_mib": spread([s.rss_kib for s in after]),
        # Each role's median over the samples in which it runs (a stopped pool is not a 0 MiB one).
        "roles_rss_mib": {name: mib(statistics.median(v)) for name in role_names
                          if (v := [s.roles_rss_kib[name] for s in after if s.roles_rss_kib.get(name)])},
        "roles_pss_mib": {name: mib(statistics.median(v)) for name in role_names
                          if (v := [s.roles_pss_kib[name] for s in after if s.roles_pss_kib.get(name)])},
        "samples_with_workers": sum(1 for s in after if s.workers), "samples": len(after),
        "pool_up_share": round(sum(1 for s in after if s.fork_server is not None) / len(after), 2),
        # Medians with the pool up and with it stopped (the main process and the resource tracker alone).
        "pool_up_mib": state([s for s in after if s.fork_server is not None]),
        "pool_down_mib": state([s for s in after if s.fork_server is None]),
        "growth_mb_per_h": {
            "tree_rss": fit([(s.t, s.tree_rss_kib) for s in after]),
            "main_rss": fit([(s.t, s.rss_kib) for s in after]),
            "tree_pss": fit([(s.t, s.tree_pss_kib) for s in after]),
            "tree_idle_floor": fit([(cfg.warmup_at + (i + 0.5) * cfg.window, kib) for i, kib in enumerate(floors)]),
        },
    }


def cpu_figures(samples: list[Sample], records: list[RequestRecord], start_wall: float,
                cfg: SoakConfig) -> dict[str, Any]:
    """CPU of the tree after warm-up per hour: all of it, and over the sample intervals with no web request (idle)."""
    busy = sorted(record.at.timestamp() - start_wall for record in records)
    after = [s for s in samples if s.t >= cfg.warmup_at]
    idle_s = idle_cpu = total_s = total_cpu = 0.0
    for a, b in pairwise(after):
        cpu, span = max(0.0, b.tree_cpu_s - a.tree_cpu_s), b.t - a.t
        total_s, total_cpu = total_s + span, total_cpu + cpu
        # A crawl's last writes and its workers' last pages may trail its last request by a moment: a margin.
        first = _first_at_or_after(busy, a.t - 2.0)
        if first is None or first > b.t:
            idle_s, idle_cpu = idle_s + span, idle_cpu + cpu
    per_hour = {"cpu_s_per_h": round(total_cpu / total_s * 3600, 1) if total_s else None,
                "seconds": round(total_s, 1)}
    return {"after_warmup": per_hour,
            "idle": {"cpu_s_per_h": round(idle_cpu / idle_s * 3600, 1) if idle_s else None,
                     "percent_of_core": round(100 * idle_cpu / idle_s, 2) if idle_s else None,
                     "seconds": round(idle_s, 1)}}


def _first_at_or_after(ordered: list[float], t: float) -> float | None:
    import bisect

    index = bisect.bisect_left(ordered, t)
    return ordered[index] if index < len(ordered) else None


def pool_figures(samples: list[Sample], log: str) -> dict[str, Any]:
    """Worker pool starts and stops: fork servers seen appearing and going (samples), and the daemon's log."""
    starts = stops = 0
    previous: int | None = None
    for s in samples:
        if s.fork_server != previous:
            starts += s.fork_server is not None
            stops += previous is not None
        previous = s.fork_server
    return {"fork_server_starts_seen": starts, "fork_server_stops_seen": stops,
            "running_at_end": previous is not None,
            "log_starts": log.count(POOL_STARTED), "log_stops": log.count(POOL_STOPPED),
            "workers_max": max((s.workers for s in samples), default=0)}


def poll_figures(records: list[RequestRecord], cfg: SoakConfig, start: float, stop: float) -> dict[str, Any]:
    """Missed polls and poll-start lag from the fixture web's request log (one feed per site)."""
    times: dict[str, list[float]] = defaultdict(list)
    for record in records:
        if record.path in FEED_PATHS:
            times[record.site_id].append(record.at.timestamp())
    lags, missed = [], []
    for site in sorted(times):
        ts = sorted(times[site])
        if ts[0] - start > cfg.missed_after:
            missed.append({"site": site, "what": "first poll late", "t": round(ts[0] - start, 1)})
        for a, b in pairwise(ts):
            lags.append(b - a - cfg.every)
            if b - a > cfg.missed_after:
                missed.append({"site": site, "what": "gap", "t": round(a - start, 1), "gap_s": round(b - a, 1)})
        if stop - ts[-1] > cfg.missed_after:
            missed.append({"site": site, "what": "stopped", "t": round(ts[-1] - start, 1)})
    never = cfg.sources - len(times)
    return {
        "feed_requests": sum(len(t) for t in times.values()), "feeds_polled": len(times), "feeds_never_polled": never,
        # A strict schedule (t = 0, every, 2 x every, ... before SIGTERM); the daemon plans each poll from the
        # start of the previous crawl, so waits for the crawl lock make it drift later than this.
        "polls_planned": cfg.sources * math.ceil((stop - start) / cfg.every),
        "missed_after_s": cfg.missed_after, "missed_log": len(missed) + never, "missed_detail": missed[:20],
        "gaps": len(lags), "lag_p50_s": _round(percentile(lags, 0.5)), "lag_p95_s": _round(percentile(lags, 0.95)),
        "lag_max_s": _round(max(lags, default=None)), "lag_min_s": _round(min(lags, default=None)),
    }


def daemon_poll_figures(metrics: dict[str, float]) -> dict[str, Any]:
    """The daemon's own view: missed polls, the poll-lag histogram, polls by job and outcome."""
    return {
        "missed_daemon": metrics.get("labourwatch_polls_missed_total"),
        "daemon_lag_p95_s": _round(histogram_quantile(metrics, "labourwatch_poll_lag_seconds", 0.95)),
        "daemon_lag_count": metrics.get("labourwatch_poll_lag_seconds_count"),
        "polls_total": {k.split("{", 1)[1].rstrip("}"): v for k, v in metrics.items()
                        if k.startswith("labourwatch_polls_total{")},
        "job_errors": {k: v for k, v in metrics.items() if k.startswith("labourwatch_job_errors_total")},
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def alert_figures(db: Path, received: list[str | None], advances: list[dict[str, Any]]) -> dict[str, Any]:
    """Deliveries in the outbox against what the receiver got; alerts about the web's changes during the run."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as connection:
        rows = connection.execute("SELECT d.status, d.idempotency_key, e.type, e.url FROM deliveries d "
                                  "JOIN events e ON e.id = d.event_id").fetchall()
        events = dict(connection.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall())
    counts = Counter(received)
    sent = {key for status, key, _, _ in rows if status == "sent"}
    changed = {url for advance in advances for url in (*advance["new"], *advance["edited"])}
    about_changes = Counter(kind for status, key, kind, url in rows if key in counts and url in changed)
    return {
        "deliveries": len(rows), "by_status": dict(Counter(status for status, _, _, _ in rows)),
        "sent": len(sent), "received": len(received), "received_distinct": len(counts),
        "lost": len(sent - set(counts)), "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "unknown_keys": len([key for key in counts if key not in {k for _, k, _, _ in rows}]),
        "about_changes": sum(about_changes.values()), "about_changes_by_type": dict(about_changes),
        "events": events,
    }


def health_figures(samples: list[Sample]) -> dict[str, Any]:
    bad = [s for s in samples if s.health != 200]
    return {"samples": len(samples), "non_200": len(bad),
            "bad": [{"t": s.t, "status": s.health, "reasons": s.health_reasons} for s in bad[:20]]}


def log_figures(log: str) -> dict[str, Any]:
    """Warnings, errors and tracebacks in the daemon's log, counted by logger and message start."""
    levels: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for line in log.splitlines():
        match = _LOG_LEVEL.match(line)
        if match:
            levels[match.group(1)] += 1
            kinds[f"{match.group(1)} {match.group(2)}: {re.sub(r'[0-9]+', 'N', match.group(3))[:80]}"] += 1
    return {"warnings": levels["WARNING"], "errors": levels["ERROR"] + levels["CRITICAL"],
            "tracebacks": log.count("Traceback"), "lines": len(log.splitlines()), "kinds": dict(kinds.most_common(15))}


def request_figures(records: list[RequestRecord]) -> dict[str, int]:
    """What the web served, by kind and status."""
    kinds: Counter[str] = Counter()
    for record in records:
        kind = ("robots" if record.path == "/robots.txt" else "feed" if record.path in FEED_PATHS
                else "article" if record.path.startswith("/articles/") else "other")
        kinds[f"{kind}_{record.status}"] += 1
    return dict(sorted(kinds.items()))


def checks(f: dict[str, Any], cfg: SoakConfig) -> list[Check]:
    """The goals of RELIABILITY.md's Soak row (and the daemon's contract) against the figures."""
    r, p, a, s = f["resources"], f["polls"], f["alerts"], f["shutdown"]
    m, c, pool = f.get("memory") or {}, f.get("cpu") or {}, f.get("pool") or {}
    bound = cfg.shutdown_timeout + SHUTDOWN_MARGIN
    out = []
    if m:
        tree, pss, growth = m["tree_rss_mib"], m["tree_pss_mib"], m["growth_mb_per_h"]
        out += [
            Check("Tree RSS after warm-up (median)", f"≤ {TREE_GOAL_MIB} MiB",
                  f"{tree['median']:.0f} MiB (mean {tree['mean']:.0f}, p95 {tree['p95']:.0f}, max {tree['max']:.0f}, "
                  f"min {tree['min']:.0f}); PSS {_fmt(pss and pss['median'], 0)} MiB (mean "
                  f"{_fmt(pss and pss['mean'], 0)}, max {_fmt(pss and pss['max'], 0)})",
                  tree["median"] <= TREE_GOAL_MIB),
            Check("Tree with the pool up / stopped (medians)", "report",
                  f"pool up {m['pool_up_share']:.0%} of the time; " + "; ".join(
                      f"{label}: RSS {v['tree_rss']:.0f}, PSS {v['tree_pss']:.0f}, main {v['main_rss']:.0f} MiB"
                      for label, v in (("up", m["pool_up_mib"]), ("stopped", m["pool_down_mib"])) if v), None),
            Check("RSS growth, fit after warm-up", f"≤ {GROWTH_GOAL_MB} MB/h (main; idle floor)",
                  f"main {_fmt(growth['main_rss'], 1)}, idle floor {_fmt(growth['tree_idle_floor'], 1)}, tree "
                  f"{_fmt(growth['tree_rss'], 1)}, tree PSS {_fmt(growth['tree_pss'], 1)} MB/h",
                  growth["main_rss"] is not None and growth["main_rss"] <= GROWTH_GOAL_MB
                  and (growth["tree_idle_floor"] is None or growth["tree_idle_floor"] <= GROWTH_GOAL_MB)),
            Check("Memory by role (median while running)", "report",
                  ", ".join(f"{k} {v:.0f}" for k, v in m["roles_rss_mib"].items()) + " MiB RSS; PSS "
                  + ", ".join(f"{k} {v:.0f}" for k, v in m["roles_pss_mib"].items()), None),
        ]
    if c:
        out.append(Check("CPU after warm-up (tree)", "report",
                         f"idle {_fmt(c['idle']['cpu_s_per_h'], 1)} CPU s/h ({_fmt(c['idle']['percent_of_core'], 2)}% "
                         f"of a core, over {c['idle']['seconds']:.0f} s with no request); all "
                         f"{_fmt(c['after_warmup']['cpu_s_per_h'], 1)} CPU s/h", None))
    if pool:
        out.append(Check("Worker pool starts / stops", "report",
                         f"{pool['fork_server_starts_seen']} / {pool['fork_server_stops_seen']} seen (log "
                         f"{pool['log_starts']} / {pool['log_stops']}); running at the end: {pool['running_at_end']}",
                         None))
    # Window medians compare like with like only while the pool is up in both windows: a pool stopped when idle
    # moves the tree by hundreds of MB, so then the fits above are the judged growth and this one is reported.
    steady = not pool or (pool["fork_server_starts_seen"] <= 1 and pool["fork_server_stops_seen"] == 0)
    out += [
        Check("RSS growth, warm-up to end (tree)", "≤ 20 MB" if steady else "report (the pool started/stopped)",
              f"{r['rss_growth_mb']:+.1f} MB ({r['rss_warm_mb']:.0f} → {r['rss_end_mb']:.0f})",
              r["rss_growth_mb"] <= 20 if steady else None) if r else Check("RSS growth", "≤ 20 MB", "no samples",
                                                                            False),
    ]
    for key, label in (("fds", "Open FDs after warm-up (tree)"), ("threads", "Threads after warm-up (tree)")):
        if r:
            v = r[key]
            out.append(Check(label, f"idle floor flat ±{FLAT}", f"{v['min']}–{v['max']}; idle floor per cycle "
                             f"{min(v['floors'])}–{max(v['floors'])} (warm-up {v['warmup_floor']})", v["flat"]))
    daemon_missed = p.get("missed_daemon")
    lag = p.get("lag_p95_s")
    out += [
        Check("Missed polls (request log)", "0", f"{p['missed_log']} ({p['feed_requests']} feed polls)",
              p["missed_log"] == 0),
        Check("Missed polls (daemon metric)", "0", _fmt(daemon_missed, 0), daemon_missed == 0),
        Check("p95 poll-start lag (request log)", f"≤ {cfg.lag_goal:g} s",
              f"{_fmt(lag, 1)} s (p50 {_fmt(p.get('lag_p50_s'), 1)}, max {_fmt(p.get('lag_max_s'), 1)}; daemon "
              f"histogram p95 {_fmt(p.get('daemon_lag_p95_s'), 1)} s)", lag is not None and lag <= cfg.lag_goal),
        Check("Loop lag", "report", f"max {_fmt(f['loop_lag']['max_s'])} s, p99 {_fmt(f['loop_lag']['p99_s'])} s",
              None),
        Check("Feed polls done / planned", "report", f"{p['feed_requests']} / {p['polls_planned']} (a strict "
              f"schedule: every feed at t = 0, {cfg.every:g} s, ...)", None),
        Check("/healthz non-200 samples", "0", f"{f['health']['non_200']} of {f['health']['samples']}",
              f["health"]["non_200"] == 0 and f["health"]["samples"] > 0),
        Check("Alerts lost (sent rows not received)", "0",
              f"{a['lost']} of {a['sent']} sent ({a['deliveries']} rows, {a['received']} received)", a["lost"] == 0),
        Check("Duplicate / unknown alert keys", "0", f"{a['duplicates']} / {a['unknown_keys']}",
              a["duplicates"] == 0 and a["unknown_keys"] == 0),
        Check("Alerts about changes made during the run", "≥ 1", f"{a['about_changes']}", a["about_changes"] >= 1),
        Check("Errors in the daemon log", "0 ERROR, 0 Traceback",
              f"{f['log']['errors']} ERROR, {f['log']['tracebacks']} Traceback, {f['log']['warnings']} WARNING",
              f["log"]["errors"] == 0 and f["log"]["tracebacks"] == 0),
        Check("Exit after SIGTERM", f"0 within {bound:g} s", f"{s['exit_code']} in {s['seconds']:.1f} s",
              s["exit_code"] == 0 and s["seconds"] <= bound),
    ]
    return out


def _fmt(value: float | None, digits: int = 3) -> str:
    return "none" if value is None else f"{value:.{digits}f}"


# --- the command line ------------------------------------------------------------------------------------------

def table(result: SoakResult) -> str:
    """The markdown report."""
    cfg, r = result.config, result.figures["resources"]
    lines = [
        f"Soak: {cfg.minutes:g} min, {cfg.sources} feeds every {cfg.every:g} s (poll_every {cfg.poll_every:g} s), "
        f"web advanced every {cfg.advance_every:g} s ({len(result.advances)} times), samples every "
        f"{cfg.sample_every:g} s, warm-up at {cfg.warmup_at:g} s.",
        "",
        "| figure | goal | measured | |",
        "| --- | --- | --- | --- |",
    ]
    for check in result.checks:
        verdict = "info" if check.passed is None else "PASS" if check.passed else "**MISS**"
        lines.append(f"| {check.name} | {check.goal} | {check.value} | {verdict} |")
    if r:
        lines += ["", f"Daemon process alone: RSS {r['daemon_rss_warm_mb']:.0f} → {r['daemon_rss_end_mb']:.0f} MB "
                  f"({r['daemon_rss_growth_mb']:+.1f}); FDs {r['daemon_fds']['min']}–{r['daemon_fds']['max']}, "
                  f"threads {r['daemon_threads']['min']}–{r['daemon_threads']['max']}; processes in the tree "
                  f"{r['processes'][0]}–{r['processes'][1]}; peak tree RSS {r['rss_peak_mb']:.0f} MB; CPU after "
                  f"warm-up {r['cpu_percent_after_warmup']}% of one core; this process (fixture web, receiver, "
                  f"sampling) {result.figures['rig_cpu_s']:.0f} CPU s in all."]
    return "\n".join(lines)


def _minutes_or_duration(value: str) -> float:
    """Seconds from a bare number of minutes (``5``) or a duration with a unit (``30s``, ``2m``)."""
    from labourwatch.units import parse_duration

    try:
        return float(value) * 60
    except ValueError:
        return parse_duration(value).total_seconds()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="how long the daemon runs (default 60)")
    parser.add_argument("--sources", type=int, default=200, help="feed sources, one site each (default 200)")
    parser.add_argument("--every", type=_minutes_or_duration, default=120.0,
                        help="each source's interval: minutes, or a duration such as 20s (default 2m)")
    parser.add_argument("--advance-every", type=_minutes_or_duration, default=300.0,
                        help="how often the web changes: minutes, or a duration (default 5)")
    parser.add_argument("--poll-every", type=_minutes_or_duration, default=30.0,
                        help="daemon.poll_every: minutes, or a duration (default 30s)")
    parser.add_argument("--articles", type=int, default=10, help="articles per site at the start (default 10)")
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds between samples (default 10)")
    parser.add_argument("--quick", action="store_true", help="2 min, 40 feeds every 20s, advance every 30s, "
                        "poll_every 5s, warm-up at 30s, samples every 5s")
    parser.add_argument("--workers-idle", metavar="DURATION",
                        help="crawl.workers_idle for the daemon (a duration, or off: keep the pool); default: "
                        "not written (the daemon's default)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the config, database and daemon.log in DIR")
    parser.add_argument("--out", type=Path, help="JSON results (default bench/results/soak.json)")
    return parser


def _code_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "modified": git("status", "--porcelain", "--untracked-files=no")
            .splitlines()}


def main(argv: list[str] | None = None) -> int:
    """Run the soak, print the table, write the JSON; exit 1 when a goal was missed."""
    args = _parser().parse_args(argv)
    if args.quick:
        config = replace(QUICK, workers_idle=args.workers_idle)
    else:
        config = SoakConfig(minutes=args.minutes, sources=args.sources, every=args.every,
                            advance_every=args.advance_every, poll_every=args.poll_every, articles=args.articles,
                            sample_every=args.sample_every, workers_idle=args.workers_idle)
    name = "quick" if args.quick else "" if config.minutes == 60 else f"{config.minutes:g}m"
    out = args.out or RESULTS / f"soak{'-' if name else ''}{name}.json"
    print(f"soak: {config.minutes:g} min, {config.sources} feeds, JSON to {out}", file=sys.stderr, flush=True)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    options = {k: v for k, v in asdict(config).items() if k not in ("minutes", "sources")}
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    result = run_soak(config.minutes, config.sources, workdir=args.keep, progress=progress, **options)
    document = {
        "command": " ".join([".venv/bin/python", "bench/soak_bench.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_at_end": os.getloadavg()},
        "code": _code_state(), **result.to_json(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(table(result))
    print(f"\nJSON: {out}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
