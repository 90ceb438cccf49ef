"""One destination's trouble stays its own, and a pass stays inside its lease (real receivers on 127.0.0.1).

* a hanging destination costs a pass one timeout, not one per message, and its other deliveries wait for the
  backoff without spending attempts, while a healthy destination gets everything in the same pass;
* a pass stops starting sends before its lease runs out and gives back what it did not get to;
* a message that cannot be rendered is dead alone (immediate and digest);
* only the pass holding a delivery's lease records its outcome; concurrent dispatchers never send twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerts.dispatch import Dispatcher, DispatchReport
from alerts.send import KEY_HEADER
from alerts.types import AlertOptions, RouteSpec
from db import outbox
from db.engine import Database
from db.events import EventDraft
from db.models import Delivery
from tests.alerts.test_dispatch import START, Clock, deliveries, dispatch, draft, news_route, record
from tests.receivers import HttpReceiver

TIMEOUT = 1.0


def unrenderable(n: int) -> EventDraft:
    """A claim_updated event whose details lack what the template joins (as from an older schema)."""
    return EventDraft("claim_updated", f"claim_updated:broken:{n}", f"Broken {n}", "K01 updated", details={})


def delivered(receiver: HttpReceiver) -> list[str | None]:
    return [request.header(KEY_HEADER) for request in receiver.records]


def test_a_hanging_destination_costs_one_timeout_and_its_queue_waits_without_spending_attempts(
        database: Database, http_receiver: HttpReceiver) -> None:
    with HttpReceiver("hang", hang_seconds=30) as hanging:
        routes = [news_route("newsroom", (http_receiver.url(timeout=None), hanging.url(timeout=None)))]
        clock = Clock()
        record(database, routes, [draft(n) for n in range(6)], clock.now)
        started = time.monotonic()
        report = dispatch(database, routes, clock, AlertOptions(max_attempts=3, backoff=60, timeout=TIMEOUT))
        seconds = time.monotonic() - started
        assert seconds < 3 * TIMEOUT, seconds  # the old dispatcher waited one timeout per message: over 6 s
        assert (report.sent, report.failed, report.released) == (6, 1, 5)
        assert len(http_receiver.records) == 6 and len(hanging.records) == 1  # all of it, in this same pass
        stuck = [d for d in deliveries(database) if d.destination_label and d.status != "sent"]
        retry_at = clock.now + timedelta(seconds=60)
        assert [(d.status, d.attempts) for d in stuck] == [("failed", 1)] + [("pending", 0)] * 5
        assert all(d.next_attempt_at == retry_at and d.lease_until is None and d.lease_owner is None for d in stuck)
        assert dispatch(database, routes, clock).sent == 0 and len(hanging.records) == 1  # backoff holds them all
        hanging.mode = "ok"
        clock.advance(seconds=61)
        assert dispatch(database, routes, clock).sent == 6
        keys = delivered(hanging)
        assert keys[1:] == [d.idempotency_key for d in stuck]  # in order, the failed one first again
        assert keys[0] == keys[1]


def test_a_pass_stops_starting_sends_before_its_lease_runs_out(database: Database) -> None:
    lease, count = 2.5, 12
    options = AlertOptions(timeout=0.5, lease=lease, backoff=60)
    with HttpReceiver("hang", hang_seconds=0.25) as slow:  # answers 200, slowly: all twelve would take 3 s
        routes = [news_route("newsroom", (slow.url(timeout=None),))]
        clock = Clock()
        record(database, routes, [draft(n) for n in range(count)], clock.now)
        started = time.monotonic()
        first = dispatch(database, routes, clock, options)
        seconds = time.monotonic() - started
        assert seconds < lease, seconds
        assert (first.failed, first.dead) == (0, 0)  # sends are never shortened into failures
        assert first.sent >= 1 and first.released >= 1 and first.sent + first.released == count
        rest = [d for d in deliveries(database) if d.status != "sent"]
        assert len(rest) == first.released
        # Given back as they were: due now, no attempt spent, nobody's lease.
        assert all((d.status, d.attempts, d.next_attempt_at, d.lease_until, d.lease_owner)
                   == ("pending", 0, clock.now, None, None) for d in rest)
        for _ in range(count):
            if dispatch(database, routes, clock, options).sent == 0:
                break
        assert all(d.status == "sent" for d in deliveries(database))
        keys = delivered(slow)
        assert keys == [d.idempotency_key for d in deliveries(database)]  # each once, in order


def test_a_message_that_cannot_be_rendered_dies_alone(database: Database, http_receiver: HttpReceiver) -> None:
    with HttpReceiver() as ops:
        routes = [news_route("newsroom", (http_receiver.url(),)),
                  RouteSpec("ops", (ops.url(),), events=("delivery_dead",))]
        clock = Clock()
        record(database, routes, [draft(1), unrenderable(2), draft(3)], clock.now)
        report = dispatch(database, routes, clock)
        assert (report.sent, report.failed, report.dead) == (2, 0, 1)
        assert [("1,000" in m, "3,000" in m) for m in (r.body["message"] for r in http_receiver.records)] == [
            (True, False), (False, True)]
        dead = [d for d in deliveries(database) if d.status == "dead"]
        assert len(dead) == 1 and dead[0].attempts == 1
        assert "could not be rendered (TypeError" in (dead[0].last_error or "")
        assert "could not be rendered" in report.errors[0]
        dispatch(database, routes, clock)
        assert "could not be delivered" in ops.wait_for(1)[0].body["message"]


def test_a_digest_leaves_out_what_cannot_be_rendered(database: Database, http_receiver: HttpReceiver) -> None:
    routes = [news_route("morning", (http_receiver.url(),), mode="digest", cron="0 8 * * *",
                        events=("claim_updated",))]
    clock = Clock()
    record(database, routes, [draft(1), unrenderable(2), draft(3)], clock.now)
    clock.advance(hours=1, minutes=1)
    report = dispatch(database, routes, clock)
    assert (report.sent, report.dead, report.digests) == (2, 1, 1)
    message = http_receiver.wait_for(1)[0].body["message"]
    assert "1,000" in message and "3,000" in message and "Broken" not in message
    assert sorted(d.status for d in deliveries(database)) == ["dead", "sent", "sent"]


def test_only_the_lease_holder_records_an_outcome(database: Database) -> None:
    record(database, [news_route("newsroom", ("json://127.0.0.1:9/x",))], [draft(1)], START)
    lease = timedelta(seconds=60)
    with database.write() as session:
        [first] = outbox.claim_immediate(session, START, lease, "pass-a")
    with database.write() as session:  # a's lease ran out; b claims the delivery
        assert outbox.claim_immediate(session, START + lease, lease, "pass-b") == []  # not yet: still a's
        [again] = outbox.claim_immediate(session, START + lease + timedelta(seconds=1), lease, "pass-b")
    assert again.id == first.id and again.idempotency_key == first.idempotency_key
    ids = [first.id]
    with database.write() as session:
        assert outbox.mark_sent(session, ids, START, owner="pass-a") == []
        assert outbox.mark_failed(session, ids, "boom", START + lease, owner="pass-a") == []
        assert outbox.mark_failed(session, ids, "boom", None, owner="pass-a") == []
        assert outbox.release(session, ids, "pass-a") == []
        assert outbox.defer_to_digest(session, ids, "pass-a") == []
        assert outbox.mark_sent(session, ids, START) == []  # nor anyone without a claim
    [row] = deliveries(database)
    assert (row.status, row.attempts, row.mode, row.lease_owner) == ("pending", 0, "immediate", "pass-b")
    with database.write() as session:
        assert outbox.mark_sent(session, ids, START, owner="pass-b") == ids
    [row] = deliveries(database)
    assert (row.status, row.lease_owner, row.lease_until) == ("sent", None, None)


def test_a_pass_whose_lease_was_taken_over_cannot_complete_the_delivery(
        database: Database, caplog: pytest.LogCaptureFixture) -> None:
    options = AlertOptions(timeout=3.0, lease=60)
    with HttpReceiver("hang", hang_seconds=1.0) as slow:
        routes = [news_route("newsroom", (slow.url(timeout=None),))]
        record(database, routes, [draft(1)], START)
        late = Clock(START + timedelta(seconds=options.lease + 1))  # b sees a's lease as expired

        async def both() -> tuple[DispatchReport, DispatchReport]:
            a = asyncio.create_task(Dispatcher(database, routes, options, clock=Clock()).dispatch())
            while not slow.records:  # a's send is under way
                await asyncio.sleep(0.02)
            b = await Dispatcher(database, routes, options, clock=late).dispatch()
            return await a, b

        with caplog.at_level(logging.WARNING, logger="alerts.dispatch"):
            a, b = asyncio.run(both())
    assert (a.sent, a.lease_lost) == (0, 1)
    assert (b.sent, b.lease_lost) == (1, 0)
    assert "another dispatcher holds it" in caplog.text
    [row] = deliveries(database)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 0, late.now)
    assert len(set(delivered(slow))) == 1  # the repeat carried the same key


def test_concurrent_dispatchers_never_send_a_delivery_twice(database: Database) -> None:
    options = AlertOptions(timeout=2.0, lease=60, batch=4)
    with HttpReceiver("hang", hang_seconds=0.02) as one, HttpReceiver("hang", hang_seconds=0.02) as two:
        routes = [news_route("newsroom", (one.url(timeout=None), two.url(timeout=None)))]
        record(database, routes, [draft(n) for n in range(20)], START)
        reports: dict[int, list[DispatchReport]] = {0: [], 1: []}
        go = threading.Barrier(2)

        def dispatcher(index: int) -> None:
            db = Database(database.url)  # an engine of its own, like another process
            try:
                go.wait()
                while True:
                    report = asyncio.run(Dispatcher(db, routes, options, clock=Clock()).dispatch())
                    reports[index].append(report)
                    with db.read() as session:
                        if not session.scalars(select(Delivery.id).where(Delivery.status != "sent")).first():
                            return
            finally:
                db.dispose()

        threads = [threading.Thread(target=dispatcher, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        keys = delivered(one) + delivered(two)
    sent = [sum(r.sent for r in reports[n]) for n in (0, 1)]
    assert sum(sent) == 40 and all(sent), sent  # both took part
    assert len(keys) == 40 and set(keys) == {d.idempotency_key for d in deliveries(database)}
    assert all(r.lease_lost == 0 and r.failed == 0 for n in (0, 1) for r in reports[n])
