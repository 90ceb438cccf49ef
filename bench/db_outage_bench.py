"""Database outages under the running daemon: PostgreSQL stopped and started again, SQLite on a full disk.

Run from the repository root as root (it starts a PostgreSQL server of its own and mounts a tmpfs; all traffic
is 127.0.0.1):

    .venv/bin/python bench/db_outage_bench.py                                # PostgreSQL down for 60 s
    .venv/bin/python bench/db_outage_bench.py --scenario sqlite-full --outage 60
    .venv/bin/python bench/db_outage_bench.py --outage 15 --json             # the short run the tests make

Scenarios (``--outage`` seconds of outage each):

* ``postgresql``: a private PostgreSQL server (``initdb`` into a temporary folder as the ``postgres`` user, a free
  port on 127.0.0.1, its unix socket in that folder; never the shared server) is stopped with ``pg_ctl stop -m
  fast`` (``--stop-mode``) and started again.
* ``sqlite-full``: the SQLite database lives on a tmpfs of ``--tmpfs-mib`` MiB mounted for the run; its WAL is
  checkpointed and truncated (SQLite would otherwise go on writing into the room the WAL file has), then a filler
  file takes every free byte, and is removed at the end of the outage.

Each run serves the fixture news web (5 feeds polled every 2 s, articles re-checked every 2 s) and a loopback
``json://`` receiver that every event is routed to, migrates a fresh database (``labourwatch db upgrade``) and
starts ``labourwatch run`` (``alerts.lease`` ``--lease`` s, the product's 300 by default). Once the first
crawl's alerts have arrived, the receiver starts answering in 0.3 s, the web advances (new articles, edits) and
the outage begins the moment the first alert of that change arrives: a send in flight, crawls going on. Halfway
through the outage the web advances again (changes only the recovered daemon can see), and once more after
recovery. The outage lasts ``--outage`` s, and at least until /healthz has reported it (a full disk is noticed
only when a write needs new room; /healthz says so after a job's third failed run). ``/healthz`` is sampled
every 0.5 s throughout. At the end the run waits for every change to have its event and every delivery to
arrive, then stops the daemon with SIGTERM.

Figures (JSON with ``--json``; times in seconds from the moment the database is back, i.e. ``pg_ctl start``
returned or the filler was removed):

* ``recovery``: ``health_ok_s`` (first /healthz 200), ``poll_s`` / ``dispatch_s`` / ``revisit_s`` (the job's first
  successful run that finished after it, from /healthz; a poll run may hold several crawls), ``first_crawl_s``
  (the first crawl run recorded ``ok`` after it), ``first_alert_s`` (the receiver's first request after it),
  ``all_jobs_s`` (the later of poll and dispatch).
* ``outage``: /healthz samples during the outage by status, the reasons given, whether the daemon stayed up.
* ``alerts``: deliveries by status, ``lost`` (a delivery not sent, or sent and not received), ``duplicates`` (raw
  repeats at the receiver, each with a key it already had), ``unknown_keys``, ``missing_events`` (a change the web
  made with no event for it), ``duplicate_events`` (two events of one change), and ``backlog_s``: when the last
  alert that was waiting at the database's return arrived. Deliveries a dispatch pass had claimed when the
  database went away are given back by the next pass (before that fix they waited out ``alerts.lease`` and
  arrived minutes late).
* ``errors``: what the daemon logged (ERROR and WARNING lines, tracebacks, ``repeated_tracebacks``: a message
  that had a traceback before, i.e. a storm), failed job runs by job, crawl runs by status (``running`` ones
  were left open by a crawl that could not record its end), and for SQLite ``PRAGMA integrity_check``.

``ok`` is true when the daemon never exited, /healthz reported the outage, poll and dispatch worked again and the
backlog had arrived within ``--recovery-goal`` s (30), nothing was lost or doubled (raw repeats must carry a known
key), no traceback repeated, the database is intact and the daemon exited 0 on SIGTERM; exit status 1 otherwise.
``tests/scheduler/test_db_outages.py`` runs this script with short outages.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.receivers and tests.daemonproc, as the other daemon benches do

import yaml  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from alerts.send import KEY_HEADER  # noqa: E402
from labourwatch.fixtureweb import FixtureWeb  # noqa: E402
from tests.daemonproc import DaemonProcess  # noqa: E402
from tests.receivers import HttpReceiver, free_port, wait_until  # noqa: E402

PG_BIN = Path(os.environ.get("LABOURWATCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
SCENARIOS = ("postgresql", "sqlite-full")
SAMPLE_EVERY = 0.5  # seconds between /healthz samples
SLOW_ANSWER = 0.3  # seconds the receiver takes per request around the outage's start
_LOG_LINE = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL)\s+(\S+): (.*)$")


@dataclass(frozen=True)
class Plan:
    """One outage run."""

    scenario: str = "postgresql"
    outage: float = 60.0  # seconds the database is away
    stop_mode: str = "fast"  # pg_ctl stop -m
    recovery_goal: float = 30.0  # every job must work again within this many seconds of the database's return
    settle: float = 120.0  # how long to wait for the warm-up, for recovery and for the final drain
    tmpfs_mib: int = 64
    lease: float = 300.0  # alerts.lease, seconds (the product's default)


# --- the databases ---------------------------------------------------------------------------------------------

def _as_postgres(*argv: str) -> list[str]:
    """``argv`` as the postgres user (initdb and the server refuse to run as root)."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)


class PgServer:
    """A PostgreSQL server of this run's own: data and unix socket in a temporary folder, a free port on
    127.0.0.1, trust authentication. ``stop()`` and ``start()`` it at will; ``close()`` removes it."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="lw-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.running = False
        try:
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
            subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                        "--auth=trust", "-E", "UTF8", "--no-sync"),
                           check=True, capture_output=True, timeout=120)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args),
                       check=True, capture_output=True, timeout=90)

    def start(self) -> None:
        # fsync off: a throw-away server; a fast or immediate stop is still crash-safe without an OS crash.
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off")
        self._ctl("-l", str(self.folder / "server.log"), "-o", options, "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")
        self.running = False

    def create_database(self, name: str) -> str:
        """A new database on this server; its URL."""
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def close(self) -> None:
        try:
            if self.running:
                self.stop("immediate")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def tmpfs(folder: Path, mib: int) -> Iterator[Path]:
    """A tmpfs of ``mib`` MiB mounted on ``folder`` (root only), always unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m,mode=0700", "tmpfs", str(folder)], check=True,
                   capture_output=True, timeout=30)
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True, timeout=30)


def fill(path: Path) -> int:
    """Write zeros to ``path`` until the file system is full; the bytes written."""
    chunk = bytes(1 << 20)
    written = 0
    with path.open("wb", buffering=0) as out:
        for size in (1 << 20, 4096, 1):
            while True:
                try:
                    written += out.write(chunk[:size])
                except OSError:
                    break  # ENOSPC: go on with smaller writes, down to the last byte
    return written


def truncate_wal(database: Path) -> None:
    """Checkpoint the WAL into the database file and truncate it, as any SQLite client may
    (``PRAGMA wal_checkpoint(TRUNCATE)``). SQLite writes into the room its WAL file already has, so on a disk
    filled right after a big crawl the daemon could go on writing for minutes; after this its next writes need
    new room at once."""
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        for _ in range(50):
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            time.sleep(0.1)  # a reader or writer of the daemon was in the way


# --- sampling the daemon ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    """One /healthz answer (status 0: no answer) at wall time ``at``."""

    at: float
    status: int
    reasons: tuple[str, ...]
    jobs: dict[str, Any]
    alive: bool


class Sampler(threading.Thread):
    """Reads /healthz every ``SAMPLE_EVERY`` s until stopped."""

    def __init__(self, daemon: DaemonProcess) -> None:
        super().__init__(name="outage-sampler", daemon=True)
        self.daemon_process = daemon
        self.samples: list[Sample] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            at = time.time()
            proc = self.daemon_process.proc
            alive = proc is not None and proc.poll() is None
            try:
                answer = self.daemon_process.health()
            except (OSError, ValueError):
                answer = None
            status, body = answer if answer is not None else (0, {})
            self.samples.append(Sample(at, status, tuple(body.get("reasons", ())), body.get("jobs", {}), alive))
            self._stop_event.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)


def _stamp(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


def job_recovered(samples: list[Sample], job: str, since: float) -> float | None:
    """Seconds from ``since`` to the finish of ``job``'s first successful run that finished after it."""
    for sample in samples:
        state = sample.jobs.get(job) or {}
        finished = _stamp(state.get("last_finished_at"))
        if state.get("last_ok") and finished is not None and finished >= since:
            return round(finished - since, 2)
    return None


# --- the run ---------------------------------------------------------------------------------------------------

@dataclass
class Timeline:
    """Wall times (time.time()) of what the run did."""

    started: float = 0.0
    outage_began: float = 0.0
    outage_ended: float = 0.0
    advances: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)  # the end of each phase of the run

    def mark(self, phase: str) -> None:
        self.marks[phase] = time.time()

    def phases(self) -> dict[str, float]:
        """Seconds each phase took, in order."""
        ends = list(self.marks.items())
        return {phase: round(end - start, 1) for (_, start), (phase, end) in pairwise(ends)}


def write_config(path: Path, url: str, sources: list[dict[str, str]], port: int, hook: str, lease: float) -> Path:
    """The daemon's config: everything polled and re-checked every 2 s, every event to ``hook``."""
    path.write_text(yaml.safe_dump({
        "database": {"url": url},
        "claims": {"file": str(ROOT / "known_claims.yaml")},
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s", "per_domain_concurrency": 8,
                  "timeout": "5s", "retries": 0, "revisit": ["2s"] * 500, "max_feed_age": None},
        "daemon": {"poll_every": "1s", "revisit_every": "1s", "dispatch_every": "1s", "shutdown_timeout": "10s",
                   "listen": f"127.0.0.1:{port}"},
        "alerts": {"lease": f"{lease:g}s", "timeout": "5s", "routes": [{"name": "all", "urls": [hook]}]},
        "sources": [{**source, "every": "2s", "jitter": "0s"} for source in sources],
    }, sort_keys=False))
    return path


class OutageRun:
    """One scenario end to end; ``run()`` returns the figures."""

    def __init__(self, plan: Plan, workdir: Path) -> None:
        self.plan = plan
        self.workdir = workdir
        self.times = Timeline()
        self.pg: PgServer | None = None
        self.disk: Path | None = None

    # The outage itself, per scenario.

    def _begin_outage(self) -> None:
        if self.pg is not None:
            self.pg.stop(self.plan.stop_mode)
        else:
            assert self.disk is not None
            truncate_wal(self.disk / "lw.db")
            fill(self.disk / "filler")

    def _end_outage(self) -> None:
        if self.pg is not None:
            self.pg.start()
        else:
            assert self.disk is not None
            (self.disk / "filler").unlink()

    def run(self) -> dict[str, Any]:
        self.times.mark("begin")
        if self.plan.scenario == "postgresql":
            self.pg = PgServer()
            try:
                self.pg.start()
                return self._with_database(self.pg.create_database("labourwatch"))
            finally:
                self.pg.close()
        with tmpfs(self.workdir / "disk", self.plan.tmpfs_mib) as disk:
            self.disk = disk
            return self._with_database(f"sqlite:///{disk / 'lw.db'}")

    def _with_database(self, url: str) -> dict[str, Any]:
        times = self.times
        with FixtureWeb() as web, HttpReceiver() as receiver:
            daemon = DaemonProcess(self.workdir / "config.yaml")
            write_config(daemon.config, url, web.sources({"feed"}), daemon.port, receiver.url(timeout=5.0),
                         self.plan.lease)
            subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(daemon.config), "db", "upgrade"],
                           check=True, capture_output=True, timeout=300)
            times.started = time.time()
            times.mark("set_up")
            daemon.start()
            sampler = Sampler(daemon)
            sampler.start()
            try:
                self._warm_up(daemon, url, web, receiver)
                times.mark("warm_up")
                self._outage(daemon, web, receiver, sampler)
                times.mark("outage")
                self._recover(daemon, sampler)
                times.mark("recovery")
                self._advance(web)
                drained = self._drain(daemon, url, web, receiver)
                times.mark("drain")
            finally:
                sampler.stop()
                code = self._stop(daemon)
                times.mark("stop")
                if self.pg is not None and not self.pg.running:
                    self.pg.start()  # a run that failed mid-outage still gets its figures read
            arrivals = [(record.received_at, record.header(KEY_HEADER)) for record in receiver.records]
            figures = self._figures(url, web, daemon, sampler.samples, arrivals, code, drained)
        return figures

    def _advance(self, web: FixtureWeb) -> None:
        change = web.advance()
        on_topic = {info.url for info in web.articles() if info.on_topic}
        self.times.advances.append((time.time(), {"state": change.state,
                                                  "new": [u for u in change.new if u in on_topic],
                                                  "edited": list(change.edited)}))

    def _warm_up(self, daemon: DaemonProcess, url: str, web: FixtureWeb, receiver: HttpReceiver) -> None:
        """Until the daemon is in its steady state: a crawl finished, every article of the web stored with its
        event, every alert arrived. (A change made during the first crawl could reach an article before its first
        fetch, and so never be an edit.)"""
        def settled() -> bool:
            counts = delivery_counts(url)
            return (bool(counts) and set(counts) == {"sent"} and len(receiver.records) >= counts["sent"]
                    and first_crawl(url, self.times.started) is not None and not missing_events(url, web, []))

        daemon.wait_until(settled, self.plan.settle, "the first crawl and its alerts", every=0.5)

    def _outage(self, daemon: DaemonProcess, web: FixtureWeb, receiver: HttpReceiver, sampler: Sampler) -> None:
        """Advance the web and take the database away while the daemon sends the alerts of that change (the
        receiver answers slowly meanwhile, so a send is in flight) and crawls; advance again halfway. The outage
        lasts ``outage`` s, and at least until /healthz has reported it (a full disk is noticed only when a
        write needs new room)."""
        receiver.hang_seconds, receiver.mode = SLOW_ANSWER, "hang"
        before = len(receiver.records)
        self._advance(web)
        daemon.wait_until(lambda: len(receiver.records) > before, self.plan.settle, "an alert of the change",
                          every=0.02)
        began = self.times.outage_began = time.time()
        self._begin_outage()
        wait_until(lambda: time.time() >= began + self.plan.outage / 2, self.plan.outage, interval=0.2)
        self._advance(web)
        wait_until(lambda: time.time() >= began + self.plan.outage, self.plan.outage, interval=0.2)
        wait_until(lambda: any(s.at >= began and s.status == 503 for s in sampler.samples), self.plan.settle,
                   interval=0.2)
        receiver.mode = "ok"
        self._end_outage()
        self.times.outage_ended = time.time()

    def _recover(self, daemon: DaemonProcess, sampler: Sampler) -> None:
        """Until poll and dispatch have each run well again (or ``settle`` runs out: the figures tell)."""
        since = self.times.outage_ended
        deadline = time.monotonic() + self.plan.settle
        while time.monotonic() < deadline and daemon.proc is not None and daemon.proc.poll() is None:
            samples = list(sampler.samples)
            if all(job_recovered(samples, job, since) is not None for job in ("poll", "dispatch")):
                return
            time.sleep(SAMPLE_EVERY)

    def _drain(self, daemon: DaemonProcess, url: str, web: FixtureWeb, receiver: HttpReceiver) -> bool:
        """Until every change the web made has its event and every delivery has arrived; whether that happened."""
        deadline = time.monotonic() + self.plan.settle
        while time.monotonic() < deadline and daemon.proc is not None and daemon.proc.poll() is None:
            counts = delivery_counts(url)
            if (not missing_events(url, web, self.times.advances) and set(counts) == {"sent"}
                    and len({r.header(KEY_HEADER) for r in receiver.records}) >= counts["sent"]):
                return True
            time.sleep(0.5)
        return False

    def _stop(self, daemon: DaemonProcess) -> int | None:
        try:
            return daemon.stop(timeout=60)
        except AssertionError:
            return None  # did not exit: killed

    # Figures.

    def _figures(self, url: str, web: FixtureWeb, daemon: DaemonProcess, samples: list[Sample],
                 arrivals: list[tuple[float, str | None]], code: int | None, drained: bool) -> dict[str, Any]:
        times, plan = self.times, self.plan
        since = times.outage_ended
        during = [s for s in samples if times.outage_began <= s.at < since]
        after = [s for s in samples if s.at >= since]
        first_alert = min((at for at, _ in arrivals if at >= since), default=None)
        recovery = {"health_ok_s": next((round(s.at - since, 2) for s in after if s.status == 200), None),
                    **{f"{job}_s": job_recovered(samples, job, since) for job in ("poll", "dispatch", "revisit")},
                    "first_alert_s": None if first_alert is None else round(first_alert - since, 2)}
        jobs = [recovery["poll_s"], recovery["dispatch_s"]]
        recovery["all_jobs_s"] = None if None in jobs else max(j for j in jobs if j is not None)
        recovery["first_crawl_s"] = first_crawl(url, since)
        outage = {
            "seconds": round(since - times.outage_began, 1),
            "samples": len(during), "by_status": dict(Counter(str(s.status) for s in during)),
            "reasons": sorted({_generic(r) for s in during for r in s.reasons}),
            "daemon_exited": any(not s.alive for s in samples),
        }
        log = daemon.output()
        alerts = alert_figures(url, web, times, arrivals)
        errors = {**log_figures(log), "job_errors": job_errors(log), "runs": run_counts(url)}
        if url.startswith("sqlite"):
            errors["integrity_check"] = integrity(url)
        result = {
            "scenario": plan.scenario, "plan": asdict(plan), "recovery": recovery, "outage": outage,
            "alerts": alerts, "errors": errors, "drained": drained, "exit_code": code, "phases_s": times.phases(),
        }
        result["ok"] = judge(result)
        return result


def _generic(reason: str) -> str:
    """A health reason without its times and numbers (so that the reasons of many samples group)."""
    return re.sub(r"\d+(\.\d+)?", "N", reason)[:200]


def judge(result: dict[str, Any]) -> bool:
    """Whether the run met every goal (see the module docstring)."""
    recovery, outage, alerts, errors = result["recovery"], result["outage"], result["alerts"], result["errors"]
    goal = result["plan"]["recovery_goal"]
    return (not outage["daemon_exited"] and outage["by_status"].get("503", 0) > 0
            and recovery["all_jobs_s"] is not None and recovery["all_jobs_s"] <= goal
            and (alerts["backlog_s"] is None or alerts["backlog_s"] <= goal)
            and alerts["lost"] == 0 and alerts["unknown_keys"] == 0 and not alerts["missing_events"]
            and alerts["duplicate_events"] == 0 and result["drained"] and errors["repeated_tracebacks"] == 0
            and errors.get("integrity_check", "ok") == "ok" and result["exit_code"] == 0)


# --- reading the database --------------------------------------------------------------------------------------

@contextmanager
def connect(url: str) -> Iterator[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def delivery_counts(url: str) -> Counter[str]:
    """Deliveries by status (empty before the first events; also when the database cannot be read)."""
    try:
        with connect(url) as db:
            return Counter(dict(db.execute(text("SELECT status, count(*) FROM deliveries GROUP BY status")).all()))
    except Exception:
        return Counter()


def missing_events(url: str, web: FixtureWeb, advances: list[tuple[float, dict[str, Any]]]) -> list[str]:
    """The web's changes that have no event: an on-topic article without ``new_article``, an edit without an
    ``article_edited`` made after it (of an article stored before the edit: one first stored after it has the
    edited text as its first version, and nothing changed to report)."""
    with connect(url) as db:
        rows = db.execute(text("SELECT type, url, created_at FROM events WHERE type IN "
                               "('new_article', 'article_edited')")).all()
    new = {u: as_utc(created).timestamp() for kind, u, created in rows if kind == "new_article"}
    edits: dict[str, list[float]] = {}
    for kind, u, created in rows:
        if kind == "article_edited":
            edits.setdefault(u, []).append(as_utc(created).timestamp())
    missing = [f"new_article {info.url}" for info in web.articles() if info.on_topic and info.url not in new]
    for at, change in advances:
        missing += [f"article_edited {u} (state {change['state']})" for u in change["edited"]
                    if new.get(u, at) < at and not any(when >= at - 1 for when in edits.get(u, []))]
    return missing


def doubled_events(db: Any) -> int:
    """Changes with more than one event: one change is one event (an article's ``new_article``, a version's
    ``article_edited``)."""
    return int(db.execute(text(
        "SELECT count(*) FROM (SELECT type, coalesce(version_id, article_id) AS target, count(*) AS n "
        "FROM events WHERE type IN ('new_article', 'article_edited') GROUP BY type, target "
        "HAVING count(*) > 1) AS twice")).scalar_one())


def as_utc(value: datetime | str) -> datetime:
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def alert_figures(url: str, web: FixtureWeb, times: Timeline,
                  arrivals: list[tuple[float, str | None]]) -> dict[str, Any]:
    """The outbox against the receiver; events that are missing or doubled. ``backlog_s``: from the database's
    return to the arrival of the last alert that was waiting by then (its event stored before the return, not
    yet arrived when the outage began)."""
    with connect(url) as db:
        rows = db.execute(text("SELECT status, idempotency_key FROM deliveries")).all()
        before = {key for key, created in db.execute(text(
            "SELECT d.idempotency_key, e.created_at FROM deliveries d JOIN events e ON e.id = d.event_id")).all()
            if as_utc(created).timestamp() < times.outage_ended}
        doubled = doubled_events(db)
        events = dict(db.execute(text("SELECT type, count(*) FROM events GROUP BY type")).all())
    counts = Counter(key for _, key in arrivals)
    first: dict[str | None, float] = {}
    for at, key in arrivals:
        first.setdefault(key, at)
    waiting = [first[key] for key in before if key in first and first[key] >= times.outage_began]
    keys = {key for _, key in rows}
    sent = {key for status, key in rows if status == "sent"}
    return {
        "events": events, "deliveries": len(rows), "by_status": dict(Counter(status for status, _ in rows)),
        "received": len(arrivals), "received_distinct": len(counts),
        "backlog": len(waiting),
        "backlog_s": round(max(waiting) - times.outage_ended, 2) if waiting else None,
        "lost": len(keys - sent) + len(sent - set(counts)),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "unknown_keys": len([key for key in counts if key not in keys]),
        "missing_events": missing_events(url, web, times.advances),
        "duplicate_events": int(doubled),
        "changes": [{"state": change["state"], "new": len(change["new"]), "edited": len(change["edited"])}
                    for _, change in times.advances],
    }


def first_crawl(url: str, since: float) -> float | None:
    """Seconds from ``since`` to the end of the first crawl run that started after it and was not aborted."""
    with connect(url) as db:
        rows = db.execute(text("SELECT started_at, finished_at FROM crawl_runs WHERE status IN ('ok', 'partial') "
                               "AND finished_at IS NOT NULL")).all()
    ends = [as_utc(end).timestamp() for start, end in rows if as_utc(start).timestamp() >= since]
    return round(min(ends) - since, 2) if ends else None


def run_counts(url: str) -> dict[str, int]:
    with connect(url) as db:
        return dict(db.execute(text("SELECT status, count(*) FROM crawl_runs GROUP BY status")).all())


def integrity(url: str) -> str:
    with connect(url) as db:
        return "; ".join(str(row[0]) for row in db.execute(text("PRAGMA integrity_check")).all())


def log_figures(log: str) -> dict[str, Any]:
    """ERROR and WARNING lines and tracebacks in the daemon's log, with the kinds of the errors.
    ``repeated_tracebacks``: tracebacks of a message that already had one. The work in flight when
    the database went away may fail with a traceback each, but a traceback on every job run for as long as the
    outage lasts is a storm."""
    levels: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    with_traceback: Counter[str] = Counter()
    kind: str | None = None  # the message whose traceback may follow
    for line in log.splitlines():
        match = _LOG_LINE.match(line)
        if match:
            levels[match.group(1)] += 1
            kind = f"{match.group(2)}: {match.group(3)}"
            if match.group(1) != "WARNING":
                kinds[f"{match.group(2)}: {re.sub(r'[0-9]+', 'N', match.group(3))[:100]}"] += 1
        elif line.startswith("Traceback (most recent call last)") and kind is not None:
            with_traceback[kind] += 1
            kind = None  # the chained exceptions of one traceback count once
    return {"error_lines": levels["ERROR"] + levels["CRITICAL"], "warning_lines": levels["WARNING"],
            "tracebacks": sum(with_traceback.values()),
            "repeated_tracebacks": sum(n - 1 for n in Counter(with_traceback).values() if n > 1),
            "log_lines": len(log.splitlines()), "error_kinds": dict(kinds.most_common(12))}


def job_errors(log: str) -> dict[str, int]:
    """Failed job runs by job, as the log reports them."""
    return dict(Counter(re.findall(r"job (\S+) failed", log)))


# --- main ------------------------------------------------------------------------------------------------------

def run(plan: Plan, workdir: Path | None = None) -> dict[str, Any]:
    """One outage run; the figures. The config and daemon.log stay in ``workdir`` when given, otherwise they
    go with a temporary folder."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return OutageRun(plan, workdir).run()
    with tempfile.TemporaryDirectory(prefix="lw-outage-") as tmp:
        return OutageRun(plan, Path(tmp)).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=SCENARIOS, default="postgresql")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the database is away")
    parser.add_argument("--stop-mode", choices=("smart", "fast", "immediate"), default="fast")
    parser.add_argument("--recovery-goal", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=120.0)
    parser.add_argument("--tmpfs-mib", type=int, default=64)
    parser.add_argument("--lease", type=float, default=300.0, help="alerts.lease in seconds (300)")
    parser.add_argument("--workdir", type=Path, help="keep the config and daemon.log here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(Plan(args.scenario, args.outage, args.stop_mode, args.recovery_goal, args.settle, args.tmpfs_mib,
                      args.lease),
                 args.workdir)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
