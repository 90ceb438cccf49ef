"""How a cluster schedules and reads its polls: a due poll run twice told from one a stopping node handed back, and
first polls scheduled by nodes that start together (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from analysis.types import Topic
from crawler.types import CrawlOptions, SourceSpec
from db import polls
from db import repository as repo
from db.engine import Database
from scheduler.jobs import Jobs, describe_due, polls_run_twice
from scheduler.metrics import Metrics
from scheduler.types import Settings

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
SPECS = (SourceSpec("a", "feed", "https://a.example/rss", every=timedelta(minutes=1)),
         SourceSpec("b", "feed", "https://b.example/rss", every=timedelta(minutes=1)))


def crawl_line(job: int, due: list[tuple[str, datetime | None]]) -> str:
    """A cluster crawl's log line as ``Jobs.crawl_key`` writes it."""
    return f"2026-12-04 01:00:01,000 INFO    scheduler.jobs: crawl of a.example:443 (job {job} on node vm:1): " \
           f"{describe_due(due)}"


def test_a_poll_handed_back_by_a_stopping_node_and_made_elsewhere_is_not_run_twice(
        database: Database, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(sources=SPECS, crawl=CrawlOptions(), topic=Topic(languages={}))
    database.in_write(repo.sync_sources, SPECS)
    jobs = Jobs(database, settings, Metrics(), clock=lambda: T0)
    due: list[tuple[str, datetime | None]] = [("a", T0 - timedelta(seconds=5)), ("b", T0 - timedelta(seconds=4))]
    # "b" answered during the crawl, "a" had not when the node began stopping.
    database.in_write(repo.record_source_result, "b", ok=True, at=T0 + timedelta(seconds=1), items=1, new=0,
                      not_modified=False)
    jobs.stop_crawls.set()
    with caplog.at_level(logging.INFO, logger="scheduler.jobs"):
        database.in_write(jobs._after_poll, due, T0)
    with database.read() as session:
        assert dict(polls.due_sources(session, T0, ["a", "b"])) == {"a": due[0][1]}  # back to its due time
    stopped = "\n".join([crawl_line(1, due), caplog.text])
    # The next crawl (another node) makes "a" at the same due time: not a poll run twice.
    assert polls_run_twice([stopped, crawl_line(2, due[:1])]) == 0
    # "b" made again at the same due time is one (it was made, not handed back).
    assert polls_run_twice([stopped, crawl_line(2, due)]) == 1
    # Without a stop, two crawls of the same due poll are one run twice.
    assert polls_run_twice([crawl_line(1, due[:1]), crawl_line(2, due[:1])]) == 1


def test_a_first_poll_another_node_took_meanwhile_is_not_made_due_again(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nodes start together: each schedules the never-scheduled sources. One node's crawl can take a source's first
    # poll (moving it to a lease) between another node's read and its write; that write made the poll due again at
    # once, and the feed was fetched twice within seconds (seen in bench/cluster_scale_bench.py with 4 nodes).
    settings = Settings(sources=SPECS, crawl=CrawlOptions(), topic=Topic(languages={}))
    database.in_write(repo.sync_sources, SPECS)
    jobs = Jobs(database, settings, Metrics(), clock=lambda: T0)
    lease = T0 + timedelta(seconds=30)
    read = polls.due_sources

    def read_then_taken_elsewhere(session, until, ids):  # type: ignore[no-untyped-def]
        stale = read(session, until, ids)
        assert polls.claim_polls(session, [("a", None)], lease) == ["a"]  # the other node's crawl takes "a"
        return stale

    monkeypatch.setattr(polls, "due_sources", read_then_taken_elsewhere)
    database.in_write(jobs.schedule_sources, settings.enabled)
    monkeypatch.undo()
    with database.read() as session:
        scheduled = dict(polls.due_sources(session, T0 + timedelta(days=1), ["a", "b"]))
    assert scheduled["a"] == lease  # the poll under way keeps its lease
    assert scheduled["b"] is not None and T0 <= scheduled["b"] <= T0 + timedelta(minutes=1)  # scheduled as before
