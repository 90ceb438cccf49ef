"""``labourwatch run`` as ops run it: a subprocess on the fixture news web, stopped and reloaded by signals."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from contextlib import closing
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.send import KEY_HEADER
from labourwatch.fixtureweb import FixtureWeb
from tests.daemonproc import DaemonProcess
from tests.receivers import HttpReceiver, free_port

pytestmark = pytest.mark.slow
CLAIMS = Path(__file__).resolve().parents[1] / "analysis" / "claims" / "data" / "known_claims.yaml"
SECRET = "s3cr3t-sentinel-7f1d"


def lw(config: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args],
                            capture_output=True, text=True, timeout=180, env={**os.environ, "COLUMNS": "200"})
    if check:
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result


def write_config(path: Path, sources: list[dict[str, Any]], port: int, every: str = "2s",
                 routes: list[dict[str, Any]] | None = None, **daemon: Any) -> Path:
    path.write_text(yaml.safe_dump({
        "database": {"url": "sqlite:///lw.db"},
        "claims": {"file": str(CLAIMS)},
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s", "per_domain_concurrency": 8,
                  "timeout": "5s", "retries": 0, "revisit": ["2s"] * 60,
                  "max_feed_age": None},
        "daemon": {"poll_every": "1s", "revisit_every": "1s", "dispatch_every": "1s", "shutdown_timeout": "5s",
                   "listen": f"127.0.0.1:{port}", **daemon},
        "alerts": {"routes": routes or []},
        "sources": [{**source, "every": every} for source in sources],
    }))
    return path


def running_crawls(db: Path) -> int:
    """Crawl runs the daemon has started and not finished (0 before its database exists)."""
    if not db.exists():
        return 0
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as connection:
        return int(connection.execute("SELECT count(*) FROM crawl_runs WHERE status = 'running'").fetchone()[0])


def sent_events(db: Path, event_type: str) -> int:
    """Events of ``event_type`` that are routed: not quiet (a copy's edit, say, is stored and sent to nobody)."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as connection:
        return int(connection.execute("SELECT count(*) FROM events WHERE type = ? AND "
                                      "json_extract(details, '$.quiet') IS NULL", (event_type,)).fetchone()[0])


def undelivered(db: Path) -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as connection:
        return int(connection.execute("SELECT count(*) FROM deliveries WHERE status != 'sent'").fetchone()[0])


def feed_times(web: FixtureWeb, path: str) -> dict[str, list[datetime]]:
    """When each site's feed at ``path`` was requested."""
    times: dict[str, list[datetime]] = defaultdict(list)
    for record in web.requests.records():
        if record.path == path:
            times[record.site_id].append(record.at)
    return times


def test_polls_on_schedule_alerts_on_a_change_and_stops_cleanly(tmp_path: Path) -> None:
    with FixtureWeb() as web, HttpReceiver() as receiver:
        daemon = DaemonProcess(tmp_path / "config.yaml")
        write_config(daemon.config, web.sources({"feed"}), daemon.port, routes=[
            {"name": "newsroom", "urls": [receiver.url()], "events": ["article_edited", "claim_updated"]}])
        lw(daemon.config, "db", "upgrade")
        with daemon:
            rss_sites = {s["id"].removesuffix("-rss") for s in web.sources({"feed"}) if s["id"].endswith("-rss")}
            daemon.wait_until(lambda: len([s for s, t in feed_times(web, "/rss.xml").items() if len(t) >= 5])
                              == len(rss_sites), 60, "five polls of every RSS feed")
            web.advance()  # edits figures, headlines and corrections into articles the daemon has seen
            # Which outlet's article is the copy depends on which was stored first, so the first edit may be a
            # copy's (quiet): the test waits for one that is routed.
            daemon.wait_until(lambda: sent_events(tmp_path / "lw.db", "article_edited"), 60,
                              "an article_edited event that is not quiet")
            daemon.wait_until(lambda: not undelivered(tmp_path / "lw.db"), 30, "every delivery sent")
            records = receiver.records
            status, health = daemon.health() or (0, {})
            assert status == 200, health
            metrics = daemon.metrics()
        assert daemon.stop() == 0
        records = receiver.records  # after the stop: sends in flight at SIGTERM finish first
        assert "Traceback" not in daemon.output()
        assert "daemon stopped" in daemon.output()
    keys = Counter(record.header(KEY_HEADER) for record in records)
    assert keys and max(keys.values()) == 1, keys
    # Each feed is polled start to start every 2 s; a gap of more than 2 s + the 1 s poll tick + slack
    # would be a late poll. The first crawl stores every article of the web (a poll waits for a running
    # crawl), so the schedule is judged on the polls after it.
    for site, times in feed_times(web, "/rss.xml").items():
        gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
        assert len(gaps) >= 4 and max(gaps[1:5]) < 6, (site, gaps)
    assert metrics['labourwatch_polls_total{job="poll",outcome="ok"}'] >= 4 * len(rss_sites)
    assert metrics["labourwatch_poll_lag_seconds_count"] >= 4 * len(rss_sites)
    events = json.loads(lw(daemon.config, "events", "list", "--format", "json").stdout)
    assert any(event["type"] == "article_edited" for event in events)
    deliveries = json.loads(lw(daemon.config, "alerts", "list", "--format", "json").stdout)
    # Nothing half-done: every delivery is either sent or still waiting, none leased to a dead process.
    # Nothing half-done: every delivery is sent or still waiting (events of re-checks just before the stop),
    # and every sent one arrived exactly once.
    assert deliveries and {d["status"] for d in deliveries} <= {"sent", "pending"}
    sent = {d["idempotency_key"] for d in deliveries if d["status"] == "sent"}
    assert sent and set(keys) == sent


def requested(web: FixtureWeb, url: str) -> int:
    """How many times ``url`` was requested."""
    return sum(1 for r in web.requests.records() if web.site_url(r.site_id) + r.path == url)


def test_sighup_reloads_sources_and_survives_a_broken_config(tmp_path: Path) -> None:
    with FixtureWeb() as web:
        first, second = web.sources({"feed"})[:2]
        daemon = DaemonProcess(tmp_path / "config.yaml")
        write_config(daemon.config, [first], daemon.port)
        lw(daemon.config, "db", "upgrade")
        with daemon:
            daemon.wait_until(lambda: requested(web, first["url"]) >= 2, 30, "two polls of the first source")
            assert requested(web, second["url"]) == 0
            # A broken config: the reload is refused and the daemon keeps going with the old one.
            daemon.config.write_text("sources: [{id: BAD, kind: nope}]\n")
            daemon.signal(signal.SIGHUP)
            daemon.wait_until(lambda: "reload refused" in daemon.output(), 20, "the refused reload")
            assert (daemon.health() or (0, {}))[0] == 200
            polled = requested(web, first["url"])
            daemon.wait_until(lambda: requested(web, first["url"]) > polled, 20, "polls under the old config")
            # A valid config naming a broken claims file: refused too, and nothing of it is applied.
            broken = tmp_path / "claims.yaml"
            broken.write_text("claims: [{id: K900, figures: []}]\n")
            config = yaml.safe_load(write_config(daemon.config, [first, second], daemon.port).read_text())
            daemon.config.write_text(yaml.safe_dump({**config, "claims": {"file": str(broken)}}))
            daemon.signal(signal.SIGHUP)
            daemon.wait_until(lambda: daemon.output().count("reload refused") == 2, 20, "the second refused reload")
            [refusal] = [line for line in daemon.output().splitlines() if "reload refused" in line][1:]
            assert f"{broken}: claim K900: `id` and `text` are required" in refusal, refusal
            with closing(sqlite3.connect(f"file:{tmp_path / 'lw.db'}?mode=ro", uri=True, timeout=10)) as db:
                assert [row[0] for row in db.execute("SELECT id FROM sources")] == [first["id"]]
            polled = requested(web, first["url"])
            daemon.wait_until(lambda: requested(web, first["url"]) > polled, 20, "polls under the old config")
            assert requested(web, second["url"]) == 0
            write_config(daemon.config, [first, second], daemon.port)
            daemon.signal(signal.SIGHUP)
            daemon.wait_until(lambda: "configuration reloaded" in daemon.output(), 20, "the reload")
            daemon.wait_until(lambda: requested(web, second["url"]) >= 1, 30, "a poll of the added source")
        assert daemon.returncode == 0
    rows = {row["id"]: row for row in json.loads(lw(daemon.config, "sources", "list", "--format", "json").stdout)}
    assert rows[second["id"]]["enabled"]


def test_a_failing_source_backs_off_while_a_healthy_one_keeps_its_schedule(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LW_OPS_TOKEN", SECRET)
    with FixtureWeb() as web:
        healthy = web.sources({"feed"})[0]
        failing = next(s for s in web.fault_sources() if s["id"] == "fault-500")
        daemon = DaemonProcess(tmp_path / "config.yaml")
        # Ops alerts go to a destination that refuses connections, with a secret in its URL; JSON logs.
        write_config(daemon.config, [healthy, failing], daemon.port, every="1s", max_backoff="1h", routes=[
            {"name": "ops", "urls": ["json://127.0.0.1:9/hook?token=${LW_OPS_TOKEN}"],
             "events": ["source_failing"]}])
        config = yaml.safe_load(daemon.config.read_text())
        config["logging"] = {"format": "json", "level": "DEBUG"}
        config["alerts"].update({"failing_after": 1, "backoff": "1s"})
        daemon.config.write_text(yaml.safe_dump(config))
        lw(daemon.config, "db", "upgrade")
        def polls() -> Counter[str]:
            return Counter("fault" if "/faults/" in r.path else "healthy" for r in web.requests.records()
                           if r.path.endswith(".xml"))

        started = time.monotonic()
        with daemon:
            # Healthy: about one poll a second. Failing, retries off: it waits 2, 4, 8, 16 s between polls.
            def enough() -> Counter[str] | None:
                seen = polls()
                return seen if seen["healthy"] >= 6 and seen["fault"] >= 2 else None

            seen = daemon.wait_until(enough, 90, "6 polls of the healthy source and 2 of the failing one")
            elapsed = time.monotonic() - started
            daemon.wait_until(lambda: "(route ops) failed" in daemon.output(), 60, "a failed ops delivery")
            status, health = daemon.health() or (0, {})
        # Backing off, the failing source's k-th poll starts no earlier than 2^k - 2 s after its first: in the
        # time the healthy one took for its 6 polls (about 7 s here, more on a busy machine) at most
        # log2(elapsed + 2) of them, plus one for a poll in flight — 4 in about 7-12 s.
        assert seen["fault"] <= math.floor(math.log2(elapsed + 2)) + 1, (seen, elapsed)
        assert status == 200, health  # a failing source is recorded on the source; the daemon is healthy
    rows = {row["id"]: row for row in json.loads(lw(daemon.config, "sources", "list", "--format", "json").stdout)}
    assert rows["fault-500"]["consecutive_failures"] >= 2
    lines = [line for line in daemon.output().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    # The failed deliveries are logged (the URL redacted to its host), the token never.
    assert any("delivery to json://127.0.0.1 (route ops) failed" in r["message"] for r in records)
    assert SECRET not in daemon.output()


def test_sigterm_during_a_hanging_fetch_exits_0_within_the_bound(tmp_path: Path) -> None:
    with FixtureWeb(fault_delay=60) as web:
        slow = next(s for s in web.fault_sources() if s["id"] == "fault-slow")
        daemon = DaemonProcess(tmp_path / "config.yaml")
        write_config(daemon.config, [slow], daemon.port, shutdown_timeout="3s")
        config = yaml.safe_load(daemon.config.read_text())
        config["crawl"]["timeout"] = "120s"
        daemon.config.write_text(yaml.safe_dump(config))
        lw(daemon.config, "db", "upgrade")
        with daemon:
            # The first poll starts at once; the slow feed answers after 60 s.
            daemon.wait_until(lambda: running_crawls(tmp_path / "lw.db"), 60, "the crawl to start")
            assert "crawl 1:" not in daemon.output()  # still in flight
            started = time.monotonic()
            assert daemon.stop(timeout=30) == 0
            took = time.monotonic() - started
        # Bounded by the shutdown timeout (3 s), not by the fetch (60 s): the margin covers a loaded machine's
        # process exit (8.6 s was seen at load 36).
        assert took < 3 + 15, took
        assert "Traceback" not in daemon.output()
        assert "crawl 1:" in daemon.output()  # the crawl was stopped and recorded, not killed


def test_refuses_to_start_on_a_bad_config_or_an_old_database(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("daemon: {poll_every: -1s, listen: nowhere}\nsources: [{id: x, kind: rss, url: 'http://a'}]\n")
    result = lw(bad, "run", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    for path in ("daemon.listen", "sources[0].kind"):
        assert path in result.stderr, result.stderr
    fresh = write_config(tmp_path / "config.yaml", [], 9)
    result = lw(fresh, "run", check=False)
    assert result.returncode == 2 and "labourwatch db upgrade" in result.stderr, result.stderr


def test_ctrl_c_to_the_whole_process_group_stops_cleanly_without_tracebacks(tmp_path: Path) -> None:
    # A terminal's Ctrl-C reaches every process of the group: the daemon and its extraction workers, which the
    # daemon starts (with the semantic model) before its first poll.
    with FixtureWeb() as web:
        config = write_config(tmp_path / "config.yaml", web.sources({"feed"})[:1], free_port())
        lw(config, "db", "upgrade")
        log = (tmp_path / "run.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "labourwatch", "--config", str(config), "run"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and running_crawls(tmp_path / "lw.db") == 0 \
                    and "crawl" not in (tmp_path / "run.log").read_text():
                time.sleep(0.2)
            time.sleep(2)  # the workers are up by now (they start before the first poll)
            os.killpg(proc.pid, signal.SIGINT)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()
    output = (tmp_path / "run.log").read_text()
    assert "daemon stopped" in output and "Traceback" not in output and "KeyboardInterrupt" not in output, output
