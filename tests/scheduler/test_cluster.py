"""Cluster mode (issue 18): nodes started with ``labourwatch run --cluster`` on one PostgreSQL database share the
fixture web's work through Procrastinate; SQLite is refused; a node killed mid-crawl has its work done by another."""

from __future__ import annotations

import ast
import os
import re
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, func, or_, select, text

from alerts.send import KEY_HEADER
from analysis.urls import politeness_key
from bench.cluster_bench import write_config
from db.engine import Database
from db.migrate import upgrade
from db.models import Article, Event, Source
from labourwatch.cli import main
from labourwatch.fixtureweb import FixtureWeb, SiteSpec
from scheduler.jobs import logged_polls
from tests.daemonproc import DaemonProcess
from tests.databases import own_migrated_url
from tests.receivers import HttpReceiver, free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
EVERY = 4.0  # seconds between two polls of a source (bench.cluster_bench.write_config's default)


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database of this module's own, migrated (the engine's schema with it)."""
    yield from own_migrated_url(request, tmp_path_factory.mktemp("cluster"), "postgresql", "cluster")


def reset(url: str) -> None:
    """Empty every table the daemon and the engine write (sources, articles, events, jobs…), keep the schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")).scalars()
        connection.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


def scalar(url: str, sql: str) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def node(folder: Path, url: str, sources: list[dict[str, Any]], **config: Any) -> DaemonProcess:
    folder.mkdir()
    daemon = DaemonProcess(folder / "config.yaml")
    write_config(daemon.config, url, sources, daemon.port, **config)
    return daemon


@contextmanager
def started(*nodes: DaemonProcess) -> Iterator[None]:
    """Start the nodes side by side (each waits for its /healthz), stop them all (SIGTERM) at the end."""
    with ThreadPoolExecutor(len(nodes)) as pool:
        starting = [pool.submit(n.start) for n in nodes]
    try:
        for future in starting:
            future.result()
        yield
    finally:
        for n in nodes:
            if n.proc is not None:
                n.stop()  # a node killed already: its exit status is read and its log closed


def test_cluster_mode_refuses_sqlite_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for args, mode in ((["run"], "cluster"), (["run", "--cluster"], "single")):
        config = write_config(tmp_path / "config.yaml", "sqlite:///lw.db", [], 9, mode=mode)
        monkeypatch.setattr(sys, "argv", ["labourwatch", "--config", str(config), *args])
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 2
        assert "cluster mode needs PostgreSQL" in capsys.readouterr().err
        assert not (tmp_path / "lw.db").exists()  # refused before anything touched the database


def fetches(web: FixtureWeb) -> dict[str, list[float]]:
    """When each URL (site and path) was requested, robots.txt aside (every crawl of a host reads it once)."""
    times: dict[str, list[float]] = defaultdict(list)
    for record in web.requests.records():
        if record.path != "/robots.txt":
            times[f"{record.site_id}{record.path}"].append(record.at.timestamp())
    return times


def polled_at_least(web: FixtureWeb, paths: set[str], count: int) -> bool:
    times = fetches(web)
    return all(len(times.get(path, ())) >= count for path in paths)


def crawled_keys(daemon: DaemonProcess) -> list[str]:
    return re.findall(r"crawl of (\S+) \(job \d+ on node", daemon.output())


def recorded_polls(*nodes: DaemonProcess) -> list[tuple[str, str, str]]:
    """Every poll of a source the nodes logged: (source id, its due time, the engine's job and node)."""
    return [poll for daemon in nodes for poll in logged_polls(daemon.output())]


def feed_paths(web: FixtureWeb) -> dict[str, str]:
    """The feeds of a fixture web by source id, as ``fetches`` names them."""
    return {s["id"]: f"{s['id'].rsplit('-', 1)[0]}/{s['url'].split('/', 3)[3]}" for s in web.sources({"feed"})}


def settled(url: str, since: datetime) -> bool:
    """Every source polled and every article due for re-checks checked since ``since``."""
    db = Database(url)
    try:
        with db.read() as session:
            stale_sources = session.scalar(select(func.count()).select_from(Source).where(
                or_(Source.last_success_at.is_(None), Source.last_success_at < since)))
            stale_articles = session.scalar(select(func.count()).select_from(Article).where(
                Article.next_check_at.is_not(None),
                or_(Article.last_checked_at.is_(None), Article.last_checked_at < since)))
        return stale_sources == 0 and stale_articles == 0
    finally:
        db.dispose()


def recorded_events(url: str, web: FixtureWeb) -> Counter[tuple[str, str]]:
    """Events as (type, what they are about): the article's URL with its site's origin spelled as the site's id
    (two fixture webs serve the same sites on other ports), or the source."""
    origins = {web.site_url(site_id): site_id for site_id in {s["id"].rsplit("-", 1)[0] for s in web.sources()}}
    db = Database(url)
    try:
        with db.read() as session:
            rows = session.execute(select(Event.type, Article.url, Event.source_id)
                                   .outerjoin(Article, Article.id == Event.article_id)).all()
    finally:
        db.dispose()
    events: Counter[tuple[str, str]] = Counter()
    for kind, article_url, source_id in rows:
        about = str(article_url or source_id)
        for origin, site_id in origins.items():
            about = about.replace(origin, site_id)
        events[(kind, about)] += 1
    return events


def baseline_summary(url: str) -> tuple[list[str], int]:
    """The sources of the one baseline summary event, and the articles it counts."""
    db = Database(url)
    try:
        with db.read() as session:
            [details] = session.scalars(select(Event.details).where(Event.type == "baseline")).all()
    finally:
        db.dispose()
    return sorted(s["source_id"] for s in details["sources"]), sum(s["articles"] for s in details["sources"])


def test_two_nodes_share_the_fixture_web_as_one_node_would(tmp_path: Path, pg_url: str) -> None:
    reset(pg_url)
    solo_url = f"sqlite:///{tmp_path / 'solo.db'}"
    upgrade(Database(solo_url))
    with FixtureWeb() as web, FixtureWeb() as solo_web, HttpReceiver() as receiver:
        routes = [{"name": "desk", "urls": [receiver.url()], "events": ["new_article", "article_edited"]}]
        # Re-checks every 3 s for as long as the test can run, so no article's schedule has ended at the change.
        crawl = {"revisit": ["3s"] * 100}
        first = node(tmp_path / "a", pg_url, web.sources({"feed"}), routes=routes, crawl=crawl)
        second = node(tmp_path / "b", pg_url, web.sources({"feed"}), routes=routes, crawl=crawl)
        # The baseline: today's single-node daemon on a copy of the same fixture web, at the same time.
        solo = node(tmp_path / "solo", solo_url, solo_web.sources({"feed"}), mode="single", crawl=crawl)
        feeds, solo_feeds = feed_paths(web), feed_paths(solo_web)
        with started(first, second, solo):
            first.wait_until(lambda: polled_at_least(web, set(feeds.values()), 2)
                             and polled_at_least(solo_web, set(solo_feeds.values()), 2),
                             60, "two polls of every feed")
            since = datetime.now(UTC)
            web.advance()  # new articles, an edit, a correction: events the nodes must record once each
            solo_web.advance()
            first.wait_until(lambda: settled(pg_url, since) and settled(solo_url, since), 60,
                             "every source and article checked after the change")
            # A fetch on its way at the change may have read a page before it and been stored after: one more round
            # of checks, each begun after the first round was over, so every node has read every page as changed.
            again = datetime.now(UTC)
            first.wait_until(lambda: settled(pg_url, again) and settled(solo_url, again), 60,
                             "every source and article checked again")
            first.wait_until(lambda: not scalar(pg_url, "SELECT count(*) FROM deliveries WHERE status != 'sent'"),
                             30, "every delivery sent")
            health = first.health()
            # Figures for the README's sizing notes (shown with -s): connections of both nodes, the job table.
            connections = scalar(pg_url, "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()")
            jobs = scalar(pg_url, "SELECT count(*) FROM procrastinate_jobs")
            dead = scalar(pg_url, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'procrastinate_jobs'")
            print(f"2 nodes: {connections} database connections; procrastinate_jobs {jobs} rows, {dead} dead tuples")
        assert first.returncode == 0 and second.returncode == 0
        output = first.output() + second.output()
        assert "Traceback" not in output, output[-5000:]
        assert health is not None and health[0] == 200, health
        assert health[1]["engine_worker"] == {"running": True, "error": None}, health
        # The work was shared: both nodes crawled.
        assert crawled_keys(first) and crawled_keys(second), (crawled_keys(first), crawled_keys(second))
        # Each due poll of a feed ran once across the cluster: every node logs each crawl's sources with their due
        # times (a source's due time is the poll's identity, it moves on when the poll reschedules it), so one poll
        # run by two nodes, or run again after a hand-over, shows as the same (source, due time) twice.
        polls = recorded_polls(first, second)
        runs = Counter((source, at) for source, at, _ in polls)
        assert runs and max(runs.values()) == 1, [(poll, [j for s, a, j in polls if (s, a) == poll])
                                                  for poll, count in runs.items() if count > 1]
        # And every fetch of a feed belongs to one of those polls (a poll stopped by the shutdown may not fetch).
        times = fetches(web)
        for source_id, path in feeds.items():
            polled = sorted(at for source, at, _ in polls if source == source_id)
            assert 1 <= len(times[path]) <= len(polled), (source_id, polled, sorted(times[path]))
            gaps = [round(b - a, 2) for a, b in zip(sorted(times[path]), sorted(times[path])[1:], strict=False)]
            if gaps and min(gaps) < 0.3:
                # Polls of one source this close are a late poll and the next one on schedule: shown with -s.
                print(f"{source_id}: fetch gaps {gaps} s, due times {[at[11:23] for at in polled]}")
        # The same events as one node records, each once; each delivery sent once.
        events, solo_events = recorded_events(pg_url, web), recorded_events(solo_url, solo_web)
        # The baseline summary too: one for the single node's first crawl of every source, one for the cluster's
        # crawls of every host, once they are all over; of the same sources and articles.
        assert events == solo_events
        assert events[("baseline", "None")] == 1, events
        summary, solo_summary = baseline_summary(pg_url), baseline_summary(solo_url)
        assert summary == solo_summary and summary[0] == sorted(feeds), (summary, solo_summary)
        assert any(kind == "article_edited" for kind, _ in events), events
        keys = Counter(record.header(KEY_HEADER) for record in receiver.records)
        assert keys and max(keys.values()) == 1, keys
        assert scalar(pg_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'") == 0


def test_a_killed_nodes_crawl_runs_again_on_the_other_node(tmp_path: Path, pg_url: str) -> None:
    reset(pg_url)
    with FixtureWeb(fault_delay=6.0) as web:
        slow = [s for s in web.fault_sources() if s["id"] == "fault-slow"]
        key = slow[0]["url"].split("/")[2]
        nodes = [node(tmp_path / name, pg_url, slow, every="10m") for name in ("a", "b")]
        with started(*nodes):
            victim = nodes[0].wait_until(
                lambda: next((n for n in nodes if key in crawled_keys(n)), None), 30, "a node crawling the slow feed")
            survivor = nodes[1] if victim is nodes[0] else nodes[0]
            assert victim.proc is not None
            # Its robots.txt answered, the feed's request is on its way (the feed answers after 6 s).
            victim.wait_until(lambda: any(r.path == "/robots.txt" for r in web.requests.records("fault")), 10,
                              "the fault site's robots.txt fetched")
            time.sleep(0.5)
            os.kill(victim.proc.pid, signal.SIGKILL)
            killed = time.monotonic()
            victim.proc.wait()
            survivor.wait_until(lambda: key in crawled_keys(survivor), 30, "the other node crawling the slow feed")
            rerun = time.monotonic() - killed
            survivor.wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM sources WHERE last_success_at IS NOT NULL"),
                                30, "the slow feed polled")
        print(f"re-run on the other node {rerun:.1f}s after SIGKILL (stall window 8 s, heartbeat 1 s)")
        assert ("stalled job" in survivor.output() and "of a silent node" in survivor.output()) or \
            "closed: the same work is queued already" in survivor.output(), survivor.output()[-3000:]
        # Fetched again after the kill; at most the killed node's request in flight besides (logged when the
        # fixture server answers, if the killed node's socket was still there to answer).
        stamps = fetches(web)["fault/faults/slow.xml"]
        assert 1 <= len(stamps) <= 2 and max(stamps) > time.time() - (time.monotonic() - killed), stamps
        # The run the killed node opened (it was fetching the feed) was closed with its stalled job; every other run
        # was finished by its node.
        assert "closed 1 crawl run(s) of stalled job" in survivor.output(), survivor.output()[-3000:]
        assert scalar(pg_url, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0
        assert scalar(pg_url, "SELECT count(*) FROM crawl_runs WHERE status = 'aborted'") == 1


def due_of(daemon: DaemonProcess, source_id: str) -> list[tuple[str, str]]:
    """The (due time, job) of each poll of ``source_id`` the node logged."""
    return [(at, job) for source, at, job in recorded_polls(daemon) if source == source_id]


def test_sigterm_on_a_node_puts_its_cut_off_poll_back_and_runs_nothing_twice(tmp_path: Path, pg_url: str) -> None:
    reset(pg_url)
    with FixtureWeb(fault_delay=6.0) as web:
        slow = [s for s in web.fault_sources() if s["id"] == "fault-slow"]
        # The second node is one by its command line (as the systemd template unit starts it): a single-mode
        # config with another listen address, `run --cluster --listen`.
        flagged = DaemonProcess(tmp_path / "b" / "config.yaml")
        (tmp_path / "b").mkdir()
        write_config(flagged.config, pg_url, slow, free_port(), every="10m", shutdown_timeout="3s", mode="single")
        flagged.args = ("--cluster", "--listen", f"127.0.0.1:{flagged.port}")
        nodes = [node(tmp_path / "a", pg_url, slow, every="10m", shutdown_timeout="3s"), flagged]
        with started(*nodes):
            victim = nodes[0].wait_until(
                lambda: next((n for n in nodes if due_of(n, "fault-slow")), None), 30, "a node polling the slow feed")
            survivor = nodes[1] if victim is nodes[0] else nodes[0]
            victim.wait_until(lambda: any(r.path == "/robots.txt" for r in web.requests.records("fault")), 10,
                              "the fault site's robots.txt fetched")
            time.sleep(0.5)  # the feed's request is on its way (it answers after 6 s)
            [(due, job)] = due_of(victim, "fault-slow")
            stopping = time.monotonic()
            assert victim.stop(timeout=30) == 0
            took = time.monotonic() - stopping
            # The cut-off poll is not a failure of the source (the other node's poll takes 6 s: not done yet).
            assert scalar(pg_url, "SELECT consecutive_failures FROM sources WHERE id = 'fault-slow'") == 0
            again = survivor.wait_until(lambda: due_of(survivor, "fault-slow"), 15, "the other node polling it again")
            survivor.wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM sources WHERE last_success_at IS NOT "
                                                       "NULL"), 30, "the slow feed polled")
        print(f"SIGTERM: node stopped in {took:.1f}s (shutdown_timeout 3 s); the other node polled the cut-off poll "
              f"(due {due}) again")
        assert took < 3 + 10, took  # the jobs' bound, then the engine, reactor and workers (4.9-6.6 s seen loaded)
        # The same due poll, in a new job of the other node: the stopped job was not handed back as stalled, and
        # no job of the stopped node failed, was aborted or is left running.
        assert again[0][0] == due and again[0][1] != job, (again, due, job)
        assert "stalled job" not in survivor.output()
        assert scalar(pg_url, "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('doing', 'failed', "
                              "'aborted')") == 0
        assert "Traceback" not in victim.output() + survivor.output()
        assert len(due_of(survivor, "fault-slow")) == 1  # polled once more, then on its 10-minute schedule


DELAY = 1.0  # crawl.delay of the next test: a crawl waits 0.5-1.5 of it between its own requests to a host


def test_the_request_delay_holds_across_crawls_of_a_key_on_two_nodes(tmp_path: Path, pg_url: str) -> None:
    # Two sites polled every 2 s while a crawl of one (robots.txt, its feed, four articles, 1 s apart) takes
    # longer: the next crawl of the key is queued meanwhile and starts on either node as the last one ends. Each
    # crawl reads robots.txt first, at once; without the wait across crawls it came milliseconds after the last
    # crawl's last request.
    reset(pg_url)
    specs = [SiteSpec(f"site{n}", f"Site {n}", sitemap=False, listing=False, articles=4) for n in range(2)]
    with FixtureWeb(specs) as web:
        # One job at a time per node: the two keys are due together, so both nodes crawl and the keys change hands.
        nodes = [node(tmp_path / name, pg_url, web.sources({"feed"}), every="2s", concurrency=1) for name in "ab"]
        for daemon in nodes:
            config = yaml.safe_load(daemon.config.read_text())
            config["crawl"]["delay"] = f"{DELAY:g}s"
            daemon.config.write_text(yaml.safe_dump(config))
        with started(*nodes):
            nodes[0].wait_until(lambda: len(set(crawled_keys(nodes[0]) + crawled_keys(nodes[1]))) == 2
                                and len(crawled_keys(nodes[0]) + crawled_keys(nodes[1])) >= 8, 90,
                                "four crawls of each key")
        requests: dict[str, list[float]] = defaultdict(list)
        for record in web.requests.records():
            requests[record.site_id].append(record.at.timestamp())
    assert all(n.returncode == 0 for n in nodes), [n.output()[-3000:] for n in nodes]
    handed_over = sum(1 for n in nodes if crawled_keys(n))
    assert handed_over == 2, "both nodes crawled"
    for site, times in requests.items():
        gaps = [b - a for a, b in zip(sorted(times), sorted(times)[1:], strict=False)]
        assert len(gaps) >= 8, (site, gaps)
        # The least gap a crawl keeps between its own requests (Scrapy's jitter), less the timer's slack.
        assert min(gaps) >= 0.5 * DELAY - 0.05, (site, [round(gap, 2) for gap in gaps])


def aggregator_web() -> FixtureWeb:
    """An aggregator (``digest``) whose feed lists the five articles of ``outlet``, on the outlet's host; the
    outlet has no source of its own, so its key is crawled for those pages only."""
    return FixtureWeb([SiteSpec("digest", "Labour Digest", sitemap=False, listing=False, articles=0,
                                feed_of="outlet"),
                       SiteSpec("outlet", "The Outlet", feed=None, sitemap=False, listing=False, articles=5)])


def no_rechecks(daemon: DaemonProcess) -> DaemonProcess:
    """Re-checks an hour away: every request to the outlet during the test is a new article's."""
    config = yaml.safe_load(daemon.config.read_text())
    config["crawl"]["revisit"] = ["1h"]
    daemon.config.write_text(yaml.safe_dump(config))
    return daemon


# Any closing status: a crawl cut off by the node's stop closes as "aborted (CancelledError)" with its counts.
_CLOSED_CRAWL = re.compile(r"crawl \d+ of (\S+): \w+(?: \(\w+\))? in [\d.]+s (\{.*\})$", re.MULTILINE)


def crawl_counts(*nodes: DaemonProcess) -> dict[str, Counter[str]]:
    """The counters of the crawls the nodes ended, summed by politeness key."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for daemon in nodes:
        for key, stats in _CLOSED_CRAWL.findall(daemon.output()):
            counts[key].update(ast.literal_eval(stats))
    return counts


def outlet_fetches(web: FixtureWeb) -> Counter[str]:
    return Counter(r.path for r in web.requests.records("outlet") if r.path.startswith("/articles/"))


def test_articles_on_another_host_are_fetched_by_a_crawl_of_their_own_key(tmp_path: Path, pg_url: str) -> None:
    reset(pg_url)
    with aggregator_web() as web:
        digest, outlet = politeness_key(web.site_url("digest")), politeness_key(web.site_url("outlet"))
        nodes = [no_rechecks(node(tmp_path / name, pg_url, web.sources({"feed"}), every="2s")) for name in "ab"]
        with started(*nodes):
            nodes[0].wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM articles") == 5, 60, "5 articles stored")
            # And the aggregator polled twice more after that: nothing found again, nothing fetched again.
            polled = len(fetches(web)["digest/rss.xml"])
            nodes[0].wait_until(lambda: len(fetches(web)["digest/rss.xml"]) >= polled + 2, 30, "two more polls")
        assert all(n.returncode == 0 for n in nodes), [n.output()[-3000:] for n in nodes]
        output = nodes[0].output() + nodes[1].output()
        assert "Traceback" not in output, output[-5000:]
    counts = crawl_counts(*nodes)
    # The aggregator's crawls fetched no article: they left the outlet's five pages to the outlet's key, whose
    # crawls (planned for those pages alone, on whichever node) fetched each of them.
    assert counts[digest]["articles_deferred"] == 5 and counts[digest]["articles_fetched"] == 0, counts
    assert counts[outlet]["articles_fetched"] == 5, counts
    assert any(f"crawl of {outlet} (job" in n.output() and "article pages only" in n.output() for n in nodes)
    # Each page fetched once, stored once, under the aggregator; nothing left pending.
    assert sorted(outlet_fetches(web).values()) == [1] * 5
    assert scalar(pg_url, "SELECT count(DISTINCT canonical_url) FROM articles WHERE source_id = 'digest-rss'") == 5
    assert scalar(pg_url, "SELECT count(*) FROM pending_articles") == 0


def test_a_node_killed_after_finding_pages_on_another_host_loses_none(tmp_path: Path, pg_url: str) -> None:
    reset(pg_url)
    with aggregator_web() as web:
        # Planning every 5 s: the outlet's crawl comes at least a plan after the aggregator's found its pages.
        cluster = {"concurrency": 2, "plan_every": "5s", "heartbeat": "1s", "stall_window": "8s"}
        finder, fetcher = (no_rechecks(node(tmp_path / name, pg_url, web.sources({"feed"}), every="10m",
                                            cluster=cluster)) for name in "ab")
        with started(finder):
            finder.wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM pending_articles") == 5, 30,
                              "the aggregator's crawl leaving the outlet's pages", every=0.05)
            assert finder.proc is not None
            os.kill(finder.proc.pid, signal.SIGKILL)
            finder.proc.wait()
        # Killed between discovery and fetch: nothing of the outlet requested, no page taken by a crawl yet.
        assert outlet_fetches(web) == Counter()
        assert scalar(pg_url, "SELECT max(attempts) FROM pending_articles") == 0
        with started(fetcher):
            fetcher.wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM articles") == 5, 60,
                               "the other node storing the outlet's 5 articles")
            fetcher.wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM pending_articles") == 0, 10,
                               "nothing left pending")
        assert sorted(outlet_fetches(web).values()) == [1] * 5
        assert crawl_counts(fetcher)[politeness_key(web.site_url("outlet"))]["articles_fetched"] == 5


def child_fetches(web: FixtureWeb) -> int:
    times = fetches(web)
    return len(times["outlet/sitemap-news.xml"]) + len(times["outlet/sitemap-archive.xml"])


def test_child_sitemaps_on_another_host_are_read_by_a_crawl_of_their_own_key(tmp_path: Path, pg_url: str) -> None:
    reset(pg_url)
    # An aggregator's sitemap index lists the outlet's two sitemaps, on the outlet's host; only the index is a source.
    sites = [SiteSpec("digest", "Labour Digest", feed=None, sitemap=True, listing=False, articles=0, feed_of="outlet"),
             SiteSpec("outlet", "The Outlet", feed=None, sitemap=True, listing=False, articles=12)]
    with FixtureWeb(sites) as web:
        digest, outlet = politeness_key(web.site_url("digest")), politeness_key(web.site_url("outlet"))
        sources = [s for s in web.sources() if s["id"] == "digest-sitemap"]
        nodes = [no_rechecks(node(tmp_path / name, pg_url, sources, every="2s")) for name in "ab"]
        with started(*nodes):
            nodes[0].wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM articles") == 12, 60,
                                "12 articles stored")
            # And the index polled twice more after that: its children read again on the outlet's key, not modified.
            polled = len(fetches(web)["digest/sitemap-index.xml"])
            nodes[0].wait_until(lambda: len(fetches(web)["digest/sitemap-index.xml"]) >= polled + 2, 30,
                                "two more polls")
            nodes[0].wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM pending_articles") == 0, 20,
                                "nothing left pending")
            # The crawl that read the last children closes (and logs its counts) a moment after it took them.
            nodes[0].wait_until(lambda: crawl_counts(*nodes)[outlet]["documents"] >= child_fetches(web), 20,
                                "the outlet's crawls closed")
        assert all(n.returncode == 0 for n in nodes), [n.output()[-3000:] for n in nodes]
        output = nodes[0].output() + nodes[1].output()
        assert "Traceback" not in output, output[-5000:]
        index_fetches, times = len(fetches(web)["digest/sitemap-index.xml"]), fetches(web)
    counts = crawl_counts(*nodes)
    # The index's crawls read the index alone and left both children to the outlet's key each time; the outlet's
    # crawls read them and fetched every article, once.
    assert counts[digest]["documents"] == index_fetches and counts[digest]["articles_fetched"] == 0, counts
    assert counts[digest]["documents_deferred"] >= 2 * 3, counts
    assert counts[outlet]["articles_fetched"] == 12, counts
    assert counts[outlet]["documents"] == len(times["outlet/sitemap-news.xml"]) + \
        len(times["outlet/sitemap-archive.xml"]), counts
    assert sorted(outlet_fetches(web).values()) == [1] * 12
    assert scalar(pg_url, "SELECT count(DISTINCT canonical_url) FROM articles WHERE source_id = 'digest-sitemap'") \
        == 12
