"""The daemon's scheduling state in the database: due sources, next poll times, retention (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from crawler.types import SourceSpec
from db import events as event_store
from db import outbox, polls
from db import repository as repo
from db.engine import Database
from db.events import DeliveryTarget, EventDraft
from db.models import CrawlRun, Delivery, FetchError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def specs(*ids: str, enabled: bool = True) -> list[SourceSpec]:
    return [SourceSpec(id=i, kind="feed", url=f"https://{i}.example/rss.xml", enabled=enabled) for i in ids]


def test_due_sources_orders_never_scheduled_then_most_overdue(database: Database) -> None:
    with database.write() as session:
        repo.sync_sources(session, [*specs("a", "b", "c", "d"), *specs("off", enabled=False)])
        polls.set_next_polls(session, {"a": NOW - timedelta(minutes=1), "b": NOW - timedelta(minutes=10),
                                       "c": NOW + timedelta(minutes=5), "off": NOW - timedelta(hours=1)})
    with database.read() as session:
        due = polls.due_sources(session, NOW, ["a", "b", "c", "d", "off"])
        assert [source_id for source_id, _ in due] == ["d", "b", "a"]  # d: never scheduled; disabled: never
        assert polls.due_sources(session, NOW, ["a"]) == [("a", NOW - timedelta(minutes=1))]
        assert polls.due_sources(session, NOW, []) == []
        assert polls.next_due(session, ["a", "b", "c"]) == NOW - timedelta(minutes=10)
        assert polls.next_due(session, ["c"]) == NOW + timedelta(minutes=5)


def test_failures_are_read_per_source(database: Database) -> None:
    with database.write() as session:
        repo.sync_sources(session, specs("a", "b"))
        repo.record_source_result(session, "a", ok=False, at=NOW, items=0, new=0, not_modified=False,
                                  error_code="http_500", error="boom")
        repo.record_source_result(session, "a", ok=False, at=NOW, items=0, new=0, not_modified=False)
    with database.read() as session:
        assert polls.failures(session, ["a", "b"]) == {"a": 2, "b": 0}


def test_prune_deletes_old_errors_runs_and_sent_deliveries_but_keeps_events(database: Database) -> None:
    old, recent = NOW - timedelta(days=100), NOW - timedelta(days=1)
    target = DeliveryTarget("ops", "abc123", "json://example", "immediate")
    with database.write() as session:
        repo.sync_sources(session, specs("a"))
        for at in (old, recent):
            run_id = repo.start_run(session, "daemon", ["a"])
            session.execute(CrawlRun.__table__.update().where(CrawlRun.id == run_id).values(started_at=at))
            repo.finish_run(session, run_id, "ok", {}, 0)
            repo.record_error(session, run_id=run_id, source_id="a", url="https://a.example", code="x",
                              message="m", at=at)
        for n, at in enumerate((old, old, recent)):
            event_store.record_events(session, [EventDraft("new_article", f"k{n}", f"t{n}", "s")],
                                      lambda draft: [target], at)
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        outbox.mark_sent(session, ids[:1], NOW)  # one old sent, one old still pending, one recent
        session.execute(Delivery.__table__.update().values(created_at=old).where(Delivery.id.in_(ids[:2])))
    with database.write() as session:
        counts = polls.prune(session, errors_before=NOW - timedelta(days=90), sent_before=NOW - timedelta(days=90))
    assert counts == {"errors": 1, "runs": 1, "deliveries": 1}
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(FetchError)) == 1
        assert session.scalar(select(func.count()).select_from(CrawlRun)) == 1
        # The old pending delivery stays: only sent or dead ones are pruned. Events are history: all kept.
        assert sorted(session.scalars(select(Delivery.status))) == ["pending", "pending"]
        assert len(event_store.event_rows(session)) == 3


def test_a_due_poll_is_taken_once_by_two_racing_nodes(database: Database) -> None:
    """Two nodes read the same due time of a source; the first to move it polls, the second finds it moved (on
    PostgreSQL the second waits for the first's transaction, then sees the row changed)."""
    with database.write() as session:
        repo.sync_sources(session, specs("a", "b", "new"))
        polls.set_next_polls(session, {"a": NOW, "b": NOW})
    lease = NOW + timedelta(seconds=30)
    due = [("a", NOW), ("b", NOW), ("new", None)]
    other = Database(database.url) if database.engine.dialect.name == "postgresql" else None
    with database.write() as first:
        assert polls.claim_polls(first, due, lease) == ["a", "b", "new"]
        if other is not None:  # a second connection claims while the first's transaction is open
            with ThreadPoolExecutor(1) as pool:
                second = pool.submit(other.in_write, polls.claim_polls, due, lease)
                time.sleep(0.3)
                assert not second.done()  # waiting on the first's row locks
                first.commit()
                assert second.result(timeout=10) == []
            other.dispose()
    with database.write() as session:
        assert polls.claim_polls(session, due, lease) == []  # read before the first took them: none left
        assert sorted(polls.due_sources(session, lease, ["a", "b", "new"])) == [("a", lease), ("b", lease), ("new", lease)]
        assert polls.claim_polls(session, [("a", lease)], lease + timedelta(seconds=30)) == ["a"]  # lease ran out


def test_a_clusters_baselines_wait_for_the_first_polls_they_came_with(database: Database) -> None:
    # Three sources polled for their baseline by three crawls (one per host, as a cluster's keys); a fourth's first
    # poll is a day away (a cron source): it is not waited for.
    with database.write() as session:
        repo.sync_sources(session, specs("a", "b", "c", "later"))
        polls.set_next_polls(session, {"a": NOW, "b": NOW, "c": NOW + timedelta(seconds=30),
                                       "later": NOW + timedelta(days=1)})
    until = NOW + timedelta(minutes=1)
    ids = ["a", "b", "c", "later"]
    with database.write() as session:
        repo.record_source_result(session, "a", ok=True, at=NOW, items=3, new=3, not_modified=False)
        polls.baselines_taken(session, ["a"], 7)
    with database.read() as session:
        assert polls.unreported_baselines(session) == {"a": 7}
        assert polls.awaiting_baseline(session, ids, until)  # b is due, c leased: their first polls go on
    with database.write() as session:
        repo.record_source_result(session, "b", ok=True, at=NOW, items=1, new=1, not_modified=False)
        polls.baselines_taken(session, ["b"], 8)
        repo.record_source_result(session, "c", ok=False, at=NOW, items=0, new=0, not_modified=False,
                                    error_code="http_503", error="x")
    with database.read() as session:
        assert not polls.awaiting_baseline(session, ids, until)  # c answered (it failed), later is a day off
        assert polls.unreported_baselines(session) == {"a": 7, "b": 8}
    with database.write() as session:
        polls.baselines_reported(session, ["a", "b"])
    with database.read() as session:
        assert polls.unreported_baselines(session) == {}
