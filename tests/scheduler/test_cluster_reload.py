"""Cluster mode (issue 18): a reload (SIGHUP) applies the engine's settings (``daemon.cluster.*``,
``daemon.prune_cron``) on a running node, its running crawl finishing on the worker it started on, run once."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from analysis.urls import politeness_key
from labourwatch.fixtureweb import FixtureWeb, SiteSpec
from tests.databases import own_migrated_url
from tests.scheduler.test_cluster import no_rechecks, node, scalar, started

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ARTICLES = 20  # what its feed lists


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database of this module's own, migrated (the engine's schema with it)."""
    yield from own_migrated_url(request, tmp_path_factory.mktemp("reload"), "postgresql", "cluster_reload")


def plan_defers(url: str, seconds: float) -> list[int]:
    """The fire times of the plan jobs deferred while watching for ``seconds`` (the engine keeps the last one)."""
    seen: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        last = scalar(url, "SELECT max(defer_timestamp) FROM procrastinate_periodic_defers WHERE periodic_id = 'plan'")
        if last is not None and (not seen or last != seen[-1]):
            seen.append(int(last))
        time.sleep(0.2)
    return seen


def test_a_reload_swaps_the_engine_and_the_running_crawl_finishes_once(tmp_path: Path, pg_url: str) -> None:
    # One source polled once, whose crawl takes about 20 s (a page a second).
    site = SiteSpec("slow", "Slow Times", sitemap=False, listing=False, articles=ARTICLES, latency=(0.5, 0.5))
    with FixtureWeb([site]) as web:
        key = re.escape(politeness_key(web.site_url("slow")))
        cluster = {"concurrency": 2, "plan_every": "20s", "heartbeat": "1s", "stall_window": "8s"}
        daemon = no_rechecks(node(tmp_path / "a", pg_url, web.sources({"feed"}), every="1h", cluster=cluster,
                                  crawl={"per_domain_concurrency": 1, "delay": "1s"}))
        with started(daemon):
            daemon.wait_until(lambda: any(r.path.startswith("/articles/") for r in web.requests.records()), 30,
                              "the crawl fetching its first article")
            config = yaml.safe_load(daemon.config.read_text())
            # A stall window shorter than what is left of the crawl: a drained worker that went silent would have
            # its crawl handed to the new worker by the next plan, and run twice.
            config["daemon"]["cluster"] = {"concurrency": 3, "plan_every": "2s", "heartbeat": "1s",
                                           "stall_window": "3s"}
            config["daemon"]["prune_cron"] = "* * * * *"
            daemon.config.write_text(yaml.safe_dump(config))
            daemon.signal(signal.SIGHUP)
            daemon.wait_until(lambda: "a new engine worker takes the jobs" in daemon.output(), 15, "the swap")
            # The new engine's planning period holds at once: a plan on every even second.
            defers = plan_defers(pg_url, 7)
            daemon.wait_until(lambda: "the previous engine worker stopped, its jobs done" in daemon.output(), 30,
                              "the previous worker stopping after its crawl")
            daemon.wait_until(lambda: scalar(pg_url, "SELECT count(*) FROM articles") == ARTICLES, 30,
                              f"{ARTICLES} articles stored")
            # The new prune cron holds too: its last minute's fire deferred by the new engine, and run.
            daemon.wait_until(lambda: re.search(r"prune: \{", daemon.output()), 30, "a prune")
            workers = scalar(pg_url, "SELECT count(*) FROM procrastinate_workers")
        assert daemon.returncode == 0, daemon.output()[-3000:]
    output = daemon.output()
    assert "Traceback" not in output and "stalled job" not in output, output[-5000:]
    changes = re.search(r"reload changed (.*): a new engine worker", output)
    assert changes is not None and changes.group(1) == (
        "daemon.cluster.concurrency 2 → 3; daemon.cluster.plan_every 0:00:20 → 0:00:02; "
        "daemon.cluster.stall_window 0:00:08 → 0:00:03; daemon.prune_cron 17 3 * * * → * * * * *"), output[-3000:]
    assert len(defers) >= 3 and all(b - a == 2 for a, b in zip(defers[-3:], defers[-2:], strict=False)), defers
    assert all(t % 2 == 0 for t in defers[-3:]), defers
    # The crawl running at the reload went on where it was, ended ok, and ran once: every page fetched once.
    assert [status for status in re.findall(rf"crawl \d+ of {key}: (\w+) in", output)] == ["ok"], output[-5000:]
    fetched = Counter(r.path for r in web.requests.records() if r.path.startswith("/articles/"))
    assert len(fetched) == ARTICLES and set(fetched.values()) == {1}, fetched
    assert workers == 1  # the previous worker unregistered; the new one alone is left
