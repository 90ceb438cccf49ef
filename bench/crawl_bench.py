"""Crawl benchmark: labourwatch beside plain Scrapy + trafilatura on a generated fixture news web.

Run from the repository root (2-core machine, nothing else busy; no network needed, all traffic is 127.0.0.1):

    .venv/bin/python bench/crawl_bench.py            # full: 50 sites x 30 articles, 3 rounds, 100-feed re-poll
    .venv/bin/python bench/crawl_bench.py --quick    # CI smoke run: 10 sites x 10 articles, 1 round (< 60 s)

What it does:

* Generates a fixture web (``generate_sites``), normalised to exactly one feed per site (sites without a feed
  get RSS 2.0, ``atom_too`` is dropped) and with every article listed in its feed, so that feeds alone discover
  all ``sites x articles`` articles. The web is served from this (parent) process for every variant alike and
  warmed (every resource fetched once) before anything is measured.
* Variant A, ``labourwatch``: a fresh migrated SQLite database and ``run_crawl`` with options lowered for
  loopback (private networks allowed, no AutoThrottle, no delay, ``concurrency = per-domain concurrency = C``,
  no retries, ``max_feed_age=None``, ``revisit=(0s,)`` so every relevant article is due again at once). It
  times the cold crawl, then a nothing-changed re-poll of the feeds (``rechecks=False``), then one with the
  due re-checks.
* Variant B, ``plain``: a minimal Scrapy spider with the same concurrency, robots.txt obeying, timeout, user
  agent, asyncio reactor and ``AsyncCrawlerRunner``; it parses the feeds with feedparser (in a worker thread),
  fetches every entry's link and runs ``trafilatura.bare_extraction`` (labourwatch's arguments) in a worker
  thread from an item pipeline, storing nothing.
* Every variant run is a fresh subprocess (so peak RSS is per variant and the reactor is new; it is read from
  VmHWM, because on Linux a child's ``ru_maxrss`` starts at its parent's RSS at fork time),
  alternating A/B, B/A, ... for ``--repeats`` rounds. Pages are counted from the fixture web's request log
  (feeds + articles; robots.txt is counted apart) within each timed window, so both variants are counted alike.
* The re-poll figure uses a second web of ``--repoll-sites`` sites (feeds only): labourwatch crawls it cold,
  then the re-polls are timed; the request log tells how many article bodies (200s) a re-poll downloaded.
  A plain Scrapy run that fetches (and parses) those feeds unconditionally is the floor it is compared with.

Prints a markdown table and writes JSON to ``bench/results/crawl.json`` (``crawl-quick.json`` with
``--quick``). ``--profile DIR`` also writes cProfile stats of every cold crawl (main thread and worker threads
merged; per-thread CPU time, or wall time with ``--profile-clock wall``) to DIR, e.g.
``.venv/bin/python bench/crawl_bench.py --repeats 1 --repoll-sites 10 --profile /tmp/lwprof``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar

import feedparser
import scrapy
import trafilatura

from crawler.procstat import cpu_seconds  # nothing else of labourwatch: the plain variant must not load it

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from labourwatch.fixtureweb import FixtureWeb, SiteSpec

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LABOURWATCH, PLAIN, PLAIN_FEEDS = "labourwatch", "plain", "plain-feeds"
FEED_PATHS = ("/rss.xml", "/atom.xml")
P = ParamSpec("P")
T = TypeVar("T")


# --- the child side: one variant in a fresh process ------------------------------------------------------------

@dataclass
class Phase:
    """One timed part of a child run; ``start``/``end`` are epoch seconds, to cut the server's request log."""

    start: float
    end: float
    wall: float
    cpu: float
    maxrss_kib: int
    maxrss_before_kib: int = 0
    pss_kib: int = 0  # proportional set size at the end (pages shared between processes split between them)
    stats: dict[str, Any] = field(default_factory=dict)
    threads: dict[str, float] = field(default_factory=dict)  # CPU seconds by thread (and worker processes)


def peak_rss_kib() -> int:
    """This process's peak RSS in KiB: VmHWM, not ``ru_maxrss``.

    On Linux ``ru_maxrss`` of an exec'd child starts at the RSS its parent had when it forked (exec records the
    forked copy's high-water mark), so every child of this benchmark's parent, which holds the fixture web,
    would report at least the parent's size. VmHWM belongs to the address space exec created.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _proc_usage(pid: int) -> tuple[float, int]:
    """CPU seconds and peak RSS (KiB) of another process of ours, from /proc (0 when it is gone)."""
    try:
        cpu = cpu_seconds(Path(f"/proc/{pid}/stat"))
        hwm = next((int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if line.startswith("VmHWM:")), 0)
    except (OSError, ValueError, IndexError):
        return 0.0, 0
    return cpu, hwm


def _pss_kib(pid: int | str) -> int:
    """A process's proportional set size (KiB): what it holds, shared pages counted once across processes."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


def _all_pss_kib() -> int:
    """This process's PSS plus its worker processes' and their fork server's."""
    module = sys.modules.get("crawler.workers")
    pids: list[int | str] = ["self"]
    if module is not None:
        pids += [*module.worker_pids(), *filter(None, [module.forkserver_pid()])]
    return sum(_pss_kib(pid) for pid in pids)


def _workers_usage() -> tuple[float, int]:
    """labourwatch's extraction worker processes: their CPU seconds so far and the sum of their peak RSS."""
    module = sys.modules.get("crawler.workers")  # never imported here: the plain variant must not load it
    if module is None:
        return 0.0, 0
    # The fork server too: it imports the extraction code and loads the semantic model before forking workers,
    # CPU that no worker's own usage shows.
    pids = [*module.worker_pids(), *filter(None, [module.forkserver_pid()])]
    usage = [_proc_usage(pid) for pid in pids]
    return sum(cpu for cpu, _ in usage), sum(rss for _, rss in usage)


def _thread_group(name: str) -> str:
    """A thread's kind from its name (numbered pool threads are one kind)."""
    name = name.rstrip("0123456789_-")
    return {"MainThread": "main (event loop)", "asyncio": "asyncio executor (feeds, DNS, extraction with "
            "workers=0)", "labourwatch-db-writer": "database writer",
            "PoolThread-twisted.internet.reactor": "Twisted pool (DNS)"}.get(name, name)


def _task_cpu() -> dict[int, tuple[str, float]]:
    """Each thread of this process: its kind and CPU seconds so far."""
    # Python 3.11 does not name its OS threads: the names come from threading, by native id.
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    out: dict[int, tuple[str, float]] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = names.get(int(task.name)) or (task / "comm").read_text().strip()
            cpu = cpu_seconds(task / "stat")
        except OSError:
            continue  # the thread ended meanwhile
        out[int(task.name)] = (_thread_group(name), cpu)
    return out


def _processes_cpu() -> dict[str, float]:
    """CPU seconds of labourwatch's worker processes and their fork server."""
    module = sys.modules.get("crawler.workers")
    if module is None:
        return {}
    server = module.forkserver_pid()
    return {"worker processes": sum(_proc_usage(pid)[0] for pid in module.worker_pids()),
            "fork server": _proc_usage(server)[0] if server else 0.0}


class ThreadSampler:
    """CPU seconds by thread kind over a phase. Threads that end during it (the crawl's database writer) are
    read every ``interval`` seconds, so at most that much of theirs goes uncounted."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self._before = _task_cpu()
        self._processes_before = _processes_cpu()
        self._last: dict[int, tuple[str, float]] = dict(self._before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._last.update(_task_cpu())

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU seconds by kind since the start."""
        self._stop.set()
        self._thread.join()
        self._last.update(_task_cpu())
        out: defaultdict[str, float] = defaultdict(float)
        for tid, (name, cpu) in self._last.items():
            if name != "bench-sampler":
                out[name] += cpu - self._before.get(tid, (name, 0.0))[1]
        for name, cpu in _processes_cpu().items():
            out[name] += cpu - self._processes_before.get(name, 0.0)
        return {name: round(value, 3) for name, value in out.items()}


def _measure(fn: Callable[[], T]) -> tuple[T, Phase]:
    """Wall time, CPU and peak RSS of ``fn``; CPU and RSS include labourwatch's worker processes (their RSS
    peaks summed with this process's, which overstates a combined peak rather than hide one)."""
    rss_before = peak_rss_kib()
    before = resource.getrusage(resource.RUSAGE_SELF)
    workers_before, _ = _workers_usage()
    sampler = ThreadSampler()
    start, t0 = time.time(), time.perf_counter()
    out = fn()
    wall, end = time.perf_counter() - t0, time.time()
    after = resource.getrusage(resource.RUSAGE_SELF)
    workers_after, workers_rss = _workers_usage()
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) + workers_after - workers_before
    threads = sampler.stop()
    return out, Phase(start=start, end=end, wall=wall, cpu=cpu, maxrss_kib=peak_rss_kib() + workers_rss,
                      maxrss_before_kib=rss_before, pss_kib=_all_pss_kib(), threads=threads)


class ThreadProfiles:
    """cProfile for the main thread and every worker thread of the loop's default executor, merged at the end."""

    def __init__(self, clock: str = "cpu") -> None:
        # "cpu": each thread's own CPU time (what the code costs); "wall": includes GIL and lock waits.
        self.timer = time.thread_time if clock == "cpu" else time.perf_counter
        self.main = cProfile.Profile(self.timer)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._workers: list[cProfile.Profile] = []

    def wrap(self, fn: Callable[P, T]) -> Callable[P, T]:
        """``fn`` profiled in whichever worker thread runs it."""
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            profile: cProfile.Profile | None = getattr(self._local, "profile", None)
            if profile is None:
                profile = self._local.profile = cProfile.Profile(self.timer)
                with self._lock:
                    self._workers.append(profile)
            profile.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                profile.disable()
        return run

    def dump(self, path: Path, *, main: bool = True) -> None:
        """Write the merged stats to ``path`` (with ``main=False``, the worker threads' only)."""
        profiles = [self.main, *self._workers] if main else self._workers
        if not profiles:
            return
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(str(path))


class ProfilingExecutor(ThreadPoolExecutor):
    """The default executor (``asyncio.to_thread``) with every submitted call profiled."""

    def __init__(self, profiles: ThreadProfiles) -> None:
        super().__init__(max_workers=min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="asyncio")
        self.profiles = profiles

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return super().submit(self.profiles.wrap(fn), *args, **kwargs)


def _profiled(config: dict[str, Any], name: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` under cProfile (all threads) when the config asks for a profile."""
    if not config.get("profile_dir"):
        return fn()
    from crawler import reactor

    profiles = ThreadProfiles(config.get("profile_clock", "cpu"))
    writer = ThreadProfiles(config.get("profile_clock", "cpu"))
    loop = reactor.ensure_reactor()
    loop.set_default_executor(ProfilingExecutor(profiles))
    store = sys.modules.get("crawler.store")
    if store is not None:  # the database writer thread, profiled apart: {name}-writer.prof
        class ProfiledWriter(ThreadPoolExecutor):
            def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
                return super().submit(writer.wrap(fn), *args, **kwargs)
        store.ThreadPoolExecutor = ProfiledWriter  # type: ignore[attr-defined]
    profiles.main.enable()
    try:
        return fn()
    finally:
        profiles.main.disable()
        profiles.dump(Path(config["profile_dir"]) / f"{name}.prof")
        writer.dump(Path(config["profile_dir"]) / f"{name}-writer.prof", main=False)


def child_labourwatch(config: dict[str, Any]) -> dict[str, Phase]:
    """Variant A: a cold crawl into a fresh database, then nothing-changed re-polls without and with re-checks."""
    from analysis.claims import semantic
    from analysis.relevance import DEFAULT_TOPIC
    from crawler import reactor
    from crawler.runner import CrawlReport, preload, run_crawl
    from crawler.types import CrawlOptions, SourceSpec
    from crawler.workers import warm_up
    from db import claims as claim_store
    from db.engine import Database
    from db.migrate import upgrade
    from labourwatch.config import read_claims

    db = Database(f"sqlite:///{config['db']}")
    upgrade(db)
    semantic.configure(bool(config.get("semantic", True)))
    if config.get("claims", True):  # as a configured claims.file is imported before every crawl
        with db.write() as session:
            claim_store.import_claims(session, read_claims(ROOT / "known_claims.yaml"))
    concurrency = int(config["concurrency"])
    options = CrawlOptions(
        allow_private_networks=True, autothrottle=False, delay=0.0, per_domain_concurrency=concurrency,
        concurrency=concurrency, retries=0, timeout=float(config["timeout"]), max_feed_age=None,
        revisit=(timedelta(0),), workers=config.get("workers"),
    )
    sources = [SourceSpec(id=f"feed{i:03d}", kind="feed", url=url) for i, url in enumerate(config["feeds"])]

    def crawl(rechecks: bool) -> CrawlReport:
        return reactor.run(run_crawl(db, sources, options, DEFAULT_TOPIC, rechecks=rechecks, trigger="bench"))

    phases: dict[str, Phase] = {}
    # What the daemon does once when it starts, before its first crawl: import Scrapy's components and start the
    # worker processes (with the semantic model). Its cost is a phase of its own, not the cold crawl's.
    def start() -> None:
        preload()
        model = semantic.enabled() and bool(config.get("claims", True))
        reactor.run(warm_up(config.get("workers"), model=model))
        if model and config.get("workers") == 0:
            semantic.warm()

    _, phases["start"] = _measure(start)
    for name, rechecks in config["phases"]:
        if name == "cold":
            report, phase = _measure(lambda: _profiled(config, "labourwatch-cold", lambda: crawl(True)))
        else:
            report, phase = _measure(functools.partial(crawl, rechecks))
        phase.stats = {"status": report.status, "errors": len(report.ledger.errors), **report.stats}
        phases[name] = phase
    db.dispose()
    reactor.shutdown()
    return phases


class PlainSpider(scrapy.Spider):
    """Fetches feeds, parses them with feedparser in a worker thread and follows every entry link."""

    name = "plain"

    def __init__(self, feeds: list[str], follow: bool, counts: Counter[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feeds, self.follow, self.counts = feeds, follow, counts

    async def start(self) -> AsyncIterator[Any]:
        for url in self.feeds:
            yield scrapy.Request(url, callback=self.parse_feed, priority=10)

    async def parse_feed(self, response: Response) -> AsyncIterator[Any]:
        content_type = response.headers.get("Content-Type")
        headers = {"content-type": content_type.decode("latin-1")} if content_type else {}
        parsed = await asyncio.to_thread(feedparser.parse, response.body, response_headers=headers,
                                         sanitize_html=False, resolve_relative_uris=False)
        self.counts["feeds_parsed"] += 1
        if not self.follow:
            return
        for entry in parsed.entries:
            link = entry.get("link")
            if link:
                yield scrapy.Request(response.urljoin(link), callback=self.parse_article)

    def parse_article(self, response: Response) -> Iterator[dict[str, str]]:
        self.counts["articles_fetched"] += 1
        yield {"url": response.url, "html": response.text}


class ExtractPipeline:
    """trafilatura on every page in a worker thread, as labourwatch's store does; nothing is kept."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        document = await asyncio.to_thread(
            trafilatura.bare_extraction, item["html"], url=item["url"], with_metadata=False,
            include_comments=False, include_tables=False,
        )
        spider: Any = self.crawler.spider
        spider.counts["extracted" if (getattr(document, "text", None) or "").strip() else "no_text"] += 1
        return item


def plain_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Stock Scrapy, with labourwatch's values for everything that changes how much work a fetch is."""
    concurrency = int(config["concurrency"])
    return {
        "BOT_NAME": "plain",
        "USER_AGENT": config["user_agent"],
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_TIMEOUT": float(config["timeout"]),
        "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 0,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0.0,
        "AUTOTHROTTLE_ENABLED": False,
        "RETRY_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "ITEM_PIPELINES": {ExtractPipeline: 300},
        "CONCURRENT_ITEMS": 16,
        "LOGSTATS_INTERVAL": 0,
        "STATS_DUMP": False,
        "LOG_ENABLED": False,
    }


def _import_scrapy_components() -> None:
    """Import Scrapy's default components, which a plain crawl imports on first use (``crawler.runner.preload``
    does the same for the components a labourwatch crawl uses)."""
    from scrapy.settings import default_settings
    from scrapy.utils.misc import load_object

    for name in ("DOWNLOAD_HANDLERS_BASE", "DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE",
                 "EXTENSIONS_BASE", "ITEM_PIPELINES_BASE"):
        for path in getattr(default_settings, name, {}):
            try:
                load_object(path)
            except Exception:
                continue


def child_plain(config: dict[str, Any]) -> dict[str, Phase]:
    """Variant B: plain Scrapy + feedparser + trafilatura, storing nothing (``follow=False``: feeds only)."""
    from scrapy.crawler import AsyncCrawlerRunner

    from crawler import reactor  # only the asyncio-reactor driver labourwatch uses too

    follow = config["variant"] == PLAIN
    counts: Counter[str] = Counter()

    async def go() -> None:
        runner = AsyncCrawlerRunner(plain_settings(config))
        await runner.crawl(PlainSpider, feeds=list(config["feeds"]), follow=follow, counts=counts)

    def crawl() -> None:
        reactor.run(go())

    phases: dict[str, Phase] = {}
    if follow:
        # Scrapy's components imported beforehand, as labourwatch's start phase does: neither cold crawl pays it.
        _, phases["start"] = _measure(_import_scrapy_components)
        _, phases["cold"] = _measure(lambda: _profiled(config, "plain-cold", crawl))
    else:
        # The floor of a re-poll: a second pass in the same process, as labourwatch's re-poll follows its cold crawl.
        _, phases["first"] = _measure(crawl)
        counts.clear()
        _, phases["warm"] = _measure(crawl)
    for phase in phases.values():
        phase.stats = dict(counts)
    reactor.shutdown()
    return phases


def child_main(config_path: Path) -> int:
    """Run the variant a config file names and write its phases next to it (``.out.json``)."""
    config = json.loads(config_path.read_text())
    run = child_labourwatch if config["variant"] == LABOURWATCH else child_plain
    phases = run(config)
    out = {name: phase.__dict__ for name, phase in phases.items()}
    out["process"] = {"maxrss_kib": peak_rss_kib(),
                      "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    config_path.with_suffix(".out.json").write_text(json.dumps(out))
    return 0


# --- the parent side: the fixture web, the rounds, the figures -------------------------------------------------

def one_feed_sites(n_sites: int, articles: int, seed: int = 0) -> list[SiteSpec]:
    """``generate_sites`` with exactly one feed per site (RSS 2.0 where there was none, no extra Atom)."""
    from labourwatch.fixtureweb import generate_sites

    return [replace(spec, feed=spec.feed or "rss2", atom_too=False)
            for spec in generate_sites(n_sites, articles, seed)]


def start_web(n_sites: int, articles: int) -> FixtureWeb:
    """A started fixture web whose feeds list every article (the fixture's default is the newest 20)."""
    from labourwatch.fixtureweb import FixtureWeb, feeds

    feeds.FEED_ITEMS = max(feeds.FEED_ITEMS, articles)  # read at render time, which the constructor does
    return FixtureWeb(one_feed_sites(n_sites, articles)).start()


def warm(web: FixtureWeb, feed_urls: list[str]) -> None:
    """Fetch every feed, article and robots.txt once, so no measured run pays the web's first-serve costs."""
    robots = {url.rsplit("/", 1)[0] + "/robots.txt" for url in feed_urls}
    urls = [*robots, *feed_urls, *(info.url for info in web.articles())]

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, whatever *_proxy says

    def get(url: str) -> None:
        request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with opener.open(request, timeout=30) as response:
            response.read()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(get, urls))
    web.reset_log()


def _server_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    """One child run as the parent saw it."""

    variant: str
    round: int
    phases: dict[str, dict[str, Any]]
    process_maxrss_kib: int
    server_cpu: float


def run_child(config: dict[str, Any], workdir: Path, label: str) -> Run:
    """Run one variant in a fresh interpreter and collect its phases; raise with its stderr when it fails."""
    path = workdir / f"{label}.json"
    path.write_text(json.dumps(config))
    server_before = _server_cpu()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(path)],
                          capture_output=True, text=True, timeout=900, check=False)
    server_cpu = _server_cpu() - server_before
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    out = json.loads(path.with_suffix(".out.json").read_text())
    process = out.pop("process")
    return Run(variant=config["variant"], round=int(config.get("round", 0)), phases=out,
               process_maxrss_kib=int(process["maxrss_kib"]), server_cpu=server_cpu)


def traffic(web: FixtureWeb, phase: dict[str, Any]) -> dict[str, Any]:
    """What the fixture web served inside a phase's window, by kind and status."""
    records = [r for r in web.requests if phase["start"] <= r.at.timestamp() <= phase["end"]]
    kinds: Counter[str] = Counter()
    for record in records:
        kind = ("robots" if record.path == "/robots.txt" else "feed" if record.path in FEED_PATHS
                else "article" if record.path.startswith("/articles/") else "other")
        kinds[f"{kind}_{record.status}"] += 1
        kinds[kind] += 1
    pages = kinds["feed"] + kinds["article"]
    return {"requests": len(records), "pages": pages, "by_kind": dict(sorted(kinds.items())),
            "paths": sorted({(r.site_id, r.path) for r in records if r.path != "/robots.txt"})}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise_start(runs: list[Run]) -> dict[str, Any]:
    """Medians of labourwatch's worker start (fork server, extraction code, semantic model)."""
    chosen = [r.phases["start"] for r in runs if r.variant == LABOURWATCH and "start" in r.phases]
    return {"runs": len(chosen), "wall_s_median": median([p["wall"] for p in chosen]),
            "cpu_s_median": median([p["cpu"] for p in chosen]),
            "peak_rss_mib_median": median([p["maxrss_kib"] / 1024 for p in chosen])}


def summarise(runs: list[Run], variant: str, phase: str) -> dict[str, Any]:
    """Medians of one variant's phase over its runs."""
    chosen = [r for r in runs if r.variant == variant and phase in r.phases]
    walls = [r.phases[phase]["wall"] for r in chosen]
    pages = [r.phases[phase]["traffic"]["pages"] for r in chosen]
    return {
        "runs": len(chosen),
        "wall_s": walls,
        "wall_s_median": median(walls),
        "pages_median": median(pages),
        "pages_per_s_median": median([p / w for p, w in zip(pages, walls, strict=True)]),
        "cpu_s_median": median([r.phases[phase]["cpu"] for r in chosen]),
        "peak_rss_mib_median": median([r.phases[phase]["maxrss_kib"] / 1024 for r in chosen]),
        "rss_before_mib_median": median([r.phases[phase]["maxrss_before_kib"] / 1024 for r in chosen]),
        "pss_mib_median": median([r.phases[phase].get("pss_kib", 0) / 1024 for r in chosen]),
        "server_cpu_s_median": median([r.server_cpu for r in chosen]),
        "traffic_last": {k: v for k, v in chosen[-1].phases[phase]["traffic"].items() if k != "paths"}
        if chosen else {},
        "stats_last": chosen[-1].phases[phase]["stats"] if chosen else {},
    }


def _config(args: argparse.Namespace, variant: str, feed_urls: list[str], workdir: Path, label: str,
            phases: list[tuple[str, bool]] | None = None, round_: int = 0) -> dict[str, Any]:
    from crawler.types import CrawlOptions

    return {
        "variant": variant, "round": round_, "feeds": feed_urls, "concurrency": args.concurrency,
        "timeout": args.timeout, "user_agent": CrawlOptions().user_agent, "db": str(workdir / f"{label}.db"),
        "phases": phases or [("cold", True)],
        "profile_dir": str(args.profile) if args.profile else None, "profile_clock": args.profile_clock,
        "claims": not args.no_claims, "semantic": not args.no_semantic, "workers": args.workers,
    }


def _attach_traffic(web: FixtureWeb, run: Run) -> Run:
    for phase in run.phases.values():
        phase["traffic"] = traffic(web, phase)
    return run


LABOURWATCH_PHASES = [("cold", True), ("repoll", False), ("repoll_rechecks", True)]


def _alternating_runs(args: argparse.Namespace, workdir: Path, sites: int, articles: int, other: str,
                      prefix: str, report: Callable[[int, str, Run], None],
                      profile: bool) -> tuple[list[Run], dict[str, Any]]:
    """Serve one web and run labourwatch and ``other`` on it, alternating their order round by round."""
    web = start_web(sites, articles)
    try:
        feed_urls = [s["url"] for s in web.sources(kinds={"feed"})]
        warm(web, feed_urls)
        facts = {"sites": sites, "feeds": len(feed_urls), "articles": len(web.articles())}
        runs: list[Run] = []
        for round_ in range(args.repeats):
            order = (LABOURWATCH, other) if round_ % 2 == 0 else (other, LABOURWATCH)
            for variant in order:
                label = f"{prefix}r{round_}-{variant}"
                phases = LABOURWATCH_PHASES if variant == LABOURWATCH else None
                config = _config(args, variant, feed_urls, workdir, label, phases, round_)
                if not profile:
                    config["profile_dir"] = None
                run = _attach_traffic(web, run_child(config, workdir, label))
                runs.append(run)
                report(round_, variant, run)
        return runs, facts
    finally:
        web.stop()


def _report_cold(round_: int, variant: str, run: Run) -> None:
    cold = run.phases["cold"]
    print(f"  round {round_} {variant:12} cold {cold['wall']:6.2f}s {cold['traffic']['pages']:5d} pages"
          f" rss {cold['maxrss_kib'] / 1024:6.1f} MiB", file=sys.stderr, flush=True)


def _report_repoll(round_: int, variant: str, run: Run) -> None:
    phase = run.phases["repoll" if variant == LABOURWATCH else "warm"]
    print(f"  re-poll round {round_} {variant:12} {phase['wall']:6.3f}s"
          f" {phase['traffic']['requests']} requests", file=sys.stderr, flush=True)


# The --busy load: one process that keeps a core busy with a fixed job (hashing 4 KiB blocks) until stopped, then
# says how many blocks it hashed, so a run can show the load was there and did as much in both variants.
_BUSY_JOB = """
import hashlib, signal, sys
done = 0
def stop(*_):
    print(done, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
block = bytes(4096)
while True:
    hashlib.sha256(block).digest()
    done += 1
"""


class BusyLoad:
    """A fixed synthetic job on one core for as long as the ``with`` block lasts (``--busy``)."""

    def __init__(self) -> None:
        self.blocks = 0
        self.seconds = 0.0

    def __enter__(self) -> BusyLoad:
        self._started = time.perf_counter()
        self._proc = subprocess.Popen([sys.executable, "-c", _BUSY_JOB], stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        out, _ = self._proc.communicate(timeout=30)
        self.seconds = time.perf_counter() - self._started
        self.blocks = int(out.strip() or 0)


def cold_rounds(args: argparse.Namespace, workdir: Path, prefix: str = "") -> tuple[list[Run], dict[str, Any]]:
    """Alternating labourwatch / plain cold crawls on the main web, plus labourwatch's re-polls of it."""
    return _alternating_runs(args, workdir, args.sites, args.articles, PLAIN, prefix, _report_cold,
                             profile=not prefix)


def repoll_rounds(args: argparse.Namespace, workdir: Path) -> tuple[list[Run], dict[str, Any]]:
    """On a separate web of ``--repoll-sites`` feeds: labourwatch cold + re-polls, and the plain feeds-only floor."""
    return _alternating_runs(args, workdir, args.repoll_sites, args.repoll_articles, PLAIN_FEEDS, "repoll-",
                             _report_repoll, profile=False)


def paired_ratio(runs: list[Run]) -> float:
    """Median over rounds of labourwatch / plain cold wall time within the same round."""
    by_round: dict[int, dict[str, float]] = {}
    for run in runs:
        by_round.setdefault(run.round, {})[run.variant] = run.phases["cold"]["wall"]
    return median([r[LABOURWATCH] / r[PLAIN] for r in by_round.values() if LABOURWATCH in r and PLAIN in r])


def same_fetches(runs: list[Run]) -> bool:
    """Whether every cold crawl (both variants) fetched the same set of feed and article paths."""
    sets = {tuple(tuple(p) for p in run.phases["cold"]["traffic"]["paths"]) for run in runs}
    return len(sets) == 1


def _repoll_row(label: str, summary: dict[str, Any]) -> str:
    kinds = summary["traffic_last"].get("by_kind", {})
    return (f"| {label} | {summary['wall_s_median']:.3f} | {summary['traffic_last'].get('requests', 0)} | "
            f"{kinds.get('feed_304', 0)} / {kinds.get('feed_200', 0)} | {kinds.get('article_200', 0)} | "
            f"{kinds.get('article_304', 0)} | {summary['cpu_s_median']:.2f} |")


def _cold_lines(result: dict[str, Any], cold: dict[str, Any], title: str) -> list[str]:
    main = result["main_web"]
    lines = [
        f"{title}: {main['sites']} sites, {main['feeds']} feeds, {main['articles']} articles; "
        f"concurrency {result['config']['concurrency']}; median of {result['config']['repeats']} rounds.",
        "",
        "| variant | wall s | pages | pages/s | CPU s | peak RSS MiB (before crawl) | PSS MiB at end | server CPU s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label in ((LABOURWATCH, "labourwatch (SQLite)"), (PLAIN, "plain Scrapy + trafilatura")):
        s = cold[key]
        lines.append(f"| {label} | {s['wall_s_median']:.2f} | {s['pages_median']:.0f} | "
                     f"{s['pages_per_s_median']:.1f} | {s['cpu_s_median']:.2f} | {s['peak_rss_mib_median']:.0f} "
                     f"({s['rss_before_mib_median']:.0f}) | {s.get('pss_mib_median', 0):.0f} | "
                     f"{s['server_cpu_s_median']:.2f} |")
    start = result.get("start")
    if start:
        model = not (result["config"].get("no_semantic") or result["config"].get("no_claims"))
        lines.append(f"| labourwatch start: workers{' + semantic model' if model else ''}"
                     f", once per process | {start['wall_s_median']:.2f} | | | {start['cpu_s_median']:.2f} | "
                     f"{start['peak_rss_mib_median']:.0f} | | |")
    r = cold["ratio"]
    lines += [
        f"| **ratio A/B** | **{r['wall']:.2f}x** (paired {r['wall_paired']:.2f}x) | | {r['pages_per_s']:.2f}x | "
        f"{r['cpu']:.2f}x | {r['rss']:.2f}x | {r.get('pss', float('nan')):.2f}x | |",
        "",
        f"Target: within 1.3x of plain: wall {'met' if r['wall'] <= 1.3 else 'NOT met'}, "
        f"CPU {'met' if r['cpu'] <= 1.3 else 'NOT met'}; peak RSS within 1.5x: "
        f"{'met' if r['rss'] <= 1.5 else 'NOT met'}. Same fetches in every run: "
        f"{'yes' if cold['same_fetches'] else 'NO'}.",
    ]
    threads = cold.get("threads")
    if threads:
        lines += ["", "CPU seconds by thread and process (medians):", "",
                  "| variant | " + " | ".join(["where", "CPU s"]) + " |", "| --- | --- | ---: |"]
        for key in (LABOURWATCH, PLAIN):
            for name, value in sorted(threads[key].items(), key=lambda item: -item[1]):
                if value >= 0.005:
                    lines.append(f"| {key} | {name} | {value:.2f} |")
    load = cold.get("load")
    if load:
        lines += ["", f"Busy core: the synthetic job hashed {load['blocks']:,} blocks of 4 KiB in "
                      f"{load['seconds']:.0f} s while these crawls ran."]
    return lines


def table(result: dict[str, Any]) -> str:
    """The markdown report."""
    repoll, main = result["repoll_web"], result["main_web"]
    lines = _cold_lines(result, result["cold"], "Cold crawl")
    if "cold_busy" in result:
        lines += ["", *_cold_lines(result, result["cold_busy"], "Cold crawl, one core kept busy")]
    lines += [
        "",
        f"Claims matched: {'no' if result['config'].get('no_claims') else 'yes'}, semantic signal "
        f"{'off' if result['config'].get('no_semantic') else 'on'}.",
        "",
        f"Nothing-changed re-poll, {repoll['feeds']} feeds ({repoll['articles']} articles stored), median of "
        f"{result['config']['repeats']}; labourwatch re-polls right after its cold crawl, in the same process.",
        "",
        "| re-poll | wall s | requests | feeds 304 / 200 | article bodies (200) | articles 304 | CPU s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        _repoll_row(f"labourwatch, {repoll['feeds']} feeds, rechecks=False", result["repoll"]["feeds_only"]),
        _repoll_row(f"labourwatch, {repoll['feeds']} feeds + due re-checks", result["repoll"]["with_rechecks"]),
        _repoll_row(f"plain Scrapy, {repoll['feeds']} feeds fetched + parsed, 2nd pass (floor)",
                    result["repoll"]["plain_floor"]),
        _repoll_row(f"(main web) labourwatch, {main['feeds']} feeds, rechecks=False",
                    result["repoll"]["main_feeds_only"]),
    ]
    return "\n".join(lines)


def code_state() -> dict[str, Any]:
    """Which labourwatch code was measured: where it was imported from, its commit and uncommitted changes."""
    import hashlib

    import crawler

    root = Path(crawler.__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
        return proc.stdout if proc.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    diff = git("diff", "HEAD", "--", ".", ":(exclude)bench") or ""
    modified = [line for line in (git("status", "--porcelain", "--untracked-files=no") or "").splitlines()
                if not line[3:].startswith("bench/")]
    return {
        "root": str(root),
        "commit": head.strip() if head else None,
        "modified": modified if head else None,
        "diff_sha1": hashlib.sha1(diff.encode(), usedforsecurity=False).hexdigest() if diff else None,
    }


def cold_summary(runs: list[Run]) -> dict[str, Any]:
    """Both variants' cold crawls and their ratios."""
    a, b = summarise(runs, LABOURWATCH, "cold"), summarise(runs, PLAIN, "cold")
    return {
        LABOURWATCH: a, PLAIN: b, "same_fetches": same_fetches(runs),
        "ratio": {"wall": _ratio(a["wall_s_median"], b["wall_s_median"]), "wall_paired": paired_ratio(runs),
                  "pages_per_s": _ratio(a["pages_per_s_median"], b["pages_per_s_median"]),
                  "cpu": _ratio(a["cpu_s_median"], b["cpu_s_median"]),
                  "rss": _ratio(a["peak_rss_mib_median"], b["peak_rss_mib_median"]),
                  "pss": _ratio(a["pss_mib_median"], b["pss_mib_median"])},
        "threads": {variant: threads_median(runs, variant) for variant in (LABOURWATCH, PLAIN)},
    }


def threads_median(runs: list[Run], variant: str) -> dict[str, float]:
    """Median CPU seconds of each thread kind (and worker processes) in a variant's cold crawls."""
    chosen = [r.phases["cold"].get("threads", {}) for r in runs if r.variant == variant]
    names = sorted({name for threads in chosen for name in threads})
    return {name: median([threads.get(name, 0.0) for threads in chosen]) for name in names}


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=50, help="sites of the main web (default 50)")
    parser.add_argument("--articles", type=int, default=30, help="articles per site (default 30)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of each variant (default 3)")
    parser.add_argument("--repoll-sites", type=int, default=100, help="feeds of the re-poll web (default 100)")
    parser.add_argument("--repoll-articles", type=int, default=20,
                        help="articles per site of the re-poll web (default 20, the fixture's feed length)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="CONCURRENT_REQUESTS and CONCURRENT_REQUESTS_PER_DOMAIN of both variants (default 16)")
    parser.add_argument("--timeout", type=float, default=30.0, help="download timeout, seconds (default 30)")
    parser.add_argument("--no-claims", action="store_true",
                        help="crawl without known claims (by default the shipped known_claims.yaml is matched)")
    parser.add_argument("--no-semantic", action="store_true", help="claim matching without the semantic signal")
    parser.add_argument("--busy", action="store_true",
                        help="run the cold crawls a second time with one core kept busy by a fixed synthetic job, "
                        "and report both")
    parser.add_argument("--workers", type=int, default=None,
                        help="labourwatch's crawl.workers (default: as the config's default)")
    parser.add_argument("--quick", action="store_true",
                        help="CI smoke run: 10 sites x 10 articles, 1 round, a 10-feed re-poll web")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="write cProfile stats of each cold crawl here")
    parser.add_argument("--profile-clock", choices=("cpu", "wall"), default="cpu",
                        help="cpu: per-thread CPU time (default); wall: also time spent waiting (GIL, locks)")
    parser.add_argument("--out", type=Path, help="JSON results (default bench/results/crawl.json, "
                        "crawl-quick.json with --quick)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with ``--child``, one variant of it)."""
    args = _parser().parse_args(argv)
    if args.child:
        return child_main(args.child)
    if args.quick:
        args.sites, args.articles, args.repeats, args.repoll_sites, args.repoll_articles = 10, 10, 1, 10, 10
    out = args.out or RESULTS / ("crawl-quick.json" if args.quick else "crawl.json")
    if args.profile:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    started, code = time.perf_counter(), code_state()
    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        workdir = Path(tmp)
        print(f"cold crawls: {args.sites} sites x {args.articles} articles, {args.repeats} rounds",
              file=sys.stderr, flush=True)
        runs, main_web = cold_rounds(args, workdir)
        busy_runs: list[Run] = []
        if args.busy:
            print("cold crawls again, with one core kept busy", file=sys.stderr, flush=True)
            with BusyLoad() as load:
                busy_runs, _ = cold_rounds(args, workdir, prefix="busy-")
        print(f"re-polls: {args.repoll_sites} feeds", file=sys.stderr, flush=True)
        repoll_runs, repoll_web = repoll_rounds(args, workdir)

    command = [".venv/bin/python", "bench/crawl_bench.py", *(argv if argv is not None else sys.argv[1:])]
    result: dict[str, Any] = {
        "command": " ".join(command),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "child"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "scrapy": scrapy.__version__,
                    "trafilatura": trafilatura.__version__, "platform": platform.platform()},
        "code": code,
        "main_web": main_web,
        "repoll_web": repoll_web,
        "start": summarise_start(runs),
        "cold": cold_summary(runs),
        **({"cold_busy": {**cold_summary(busy_runs), "load": {"blocks": load.blocks, "seconds": load.seconds}}}
           if busy_runs else {}),
        "repoll": {
            "feeds_only": summarise(repoll_runs, LABOURWATCH, "repoll"),
            "with_rechecks": summarise(repoll_runs, LABOURWATCH, "repoll_rechecks"),
            "plain_floor": summarise(repoll_runs, PLAIN_FEEDS, "warm"),
            "plain_floor_first_in_process": summarise(repoll_runs, PLAIN_FEEDS, "first"),
            "cold_before": summarise(repoll_runs, LABOURWATCH, "cold"),
            "main_feeds_only": summarise(runs, LABOURWATCH, "repoll"),
            "main_with_rechecks": summarise(runs, LABOURWATCH, "repoll_rechecks"),
        },
        "seconds": time.perf_counter() - started,
        "runs": [run.__dict__ for run in runs + busy_runs + repoll_runs],
    }
    for run in result["runs"]:
        for phase in run["phases"].values():
            phase["traffic"].pop("paths", None)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result))
    state = f"{(code['commit'] or '?')[:10]}{' + uncommitted changes' if code['modified'] else ''}"
    print(f"\n{result['seconds']:.0f} s in all; code: {code['root']} at {state}; JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
