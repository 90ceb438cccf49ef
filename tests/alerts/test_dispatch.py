"""The dispatcher against real receivers on 127.0.0.1: delivery, retries, dead letters, rate limits, digests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from alerts.dispatch import Dispatcher, DispatchReport
from alerts.routes import Router
from alerts.send import KEY_HEADER, send
from alerts.types import AlertOptions, RouteSpec
from db import events, outbox
from db.engine import Database
from db.events import EventDraft
from db.models import Delivery, Event
from tests.receivers import HttpReceiver, MqttReceiver, SmtpReceiver

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
FAST = AlertOptions(max_attempts=3, backoff=60, max_backoff=600, timeout=1.0, lease=120)


class Clock:
    """A settable clock: the dispatcher's idea of now."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# The claim-level and article-level types these tests record (routes get them only when they name them).
NEWS = ("new_article", "article_edited", "claim_corroborated", "claim_updated", "new_claim")


def news_route(name: str, urls: tuple[str, ...], **options: Any) -> RouteSpec:
    """A route that names the event types these tests record."""
    return RouteSpec(name, urls, **{"events": NEWS, **options})


def draft(n: int, kind: str = "claim_updated", **extra: Any) -> EventDraft:
    details = {"sentence": f"Some {n},000 North Korean workers were sent to Russia.", "claim_text": "K01 text",
               "claim_source": "BBC, 2025", "old_values": ["50,000"], "new_values": [f"{n},000"],
               "label": "updates", "figures": [f"{n},000"], "confidence": 0.8, "reasons": []}
    return EventDraft(kind, f"{kind}:test:{n}", f"Story {n}", f"K01 updated: 50,000 → {n},000",
                      source_id=None, url=f"https://news.example/{n}", claim_id=None, details=details, **extra)


def record(db: Database, routes: list[RouteSpec], drafts: list[EventDraft], now: datetime) -> None:
    with db.write() as session:
        events.record_events(session, drafts, Router(routes), now)


def dispatch(db: Database, routes: list[RouteSpec], clock: Clock, options: AlertOptions = FAST) -> DispatchReport:
    return asyncio.run(Dispatcher(db, routes, options, clock=clock, jitter=lambda: 0.5).dispatch())


def deliveries(db: Database) -> list[Delivery]:
    with db.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_one_event_reaches_every_kind_of_destination_once_with_its_key(
        database: Database, http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver,
        mqtt_receiver: MqttReceiver) -> None:
    routes = [news_route("newsroom", (http_receiver.url(), smtp_receiver.url(), mqtt_receiver.url()))]
    clock = Clock()
    record(database, routes, [draft(15)], clock.now)
    report = dispatch(database, routes, clock)
    assert (report.sent, report.failed, report.dead) == (3, 0, 0)
    keys = {d.destination_label.split(":")[0]: d.idempotency_key for d in deliveries(database)}
    posted = http_receiver.wait_for(1)[0]
    assert posted.header(KEY_HEADER) == keys["json"]
    assert "15,000" in posted.body["message"] and "updated" in posted.body["title"]
    mail = smtp_receiver.wait_for(1)[0]
    assert mail.header(KEY_HEADER) == keys["mailto"]
    assert "15,000" in mqtt_receiver.wait_for(1)[0].payload.decode()
    assert all(d.status == "sent" and d.attempts == 0 for d in deliveries(database))
    assert dispatch(database, routes, clock).sent == 0  # nothing is ever sent twice
    assert len(http_receiver.records) == 1 and len(smtp_receiver.records) == 1


def test_a_failing_destination_neither_blocks_nor_repeats_another(
        database: Database, http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver) -> None:
    routes = [news_route("newsroom", (http_receiver.url(), smtp_receiver.url()))]
    clock = Clock()
    record(database, routes, [draft(1), draft(2)], clock.now)
    http_receiver.mode = "error"
    first = dispatch(database, routes, clock)
    # The failing destination is tried once; its second delivery waits for the same backoff, no attempt spent.
    assert (first.sent, first.failed, first.released) == (2, 1, 1)
    assert len(smtp_receiver.wait_for(2)) == 2 and len(http_receiver.records) == 1
    waiting = [d for d in deliveries(database) if d.status != "sent"]
    assert [(d.status, d.attempts) for d in waiting] == [("failed", 1), ("pending", 0)]
    assert all(d.next_attempt_at == clock.now + timedelta(seconds=60) for d in waiting)
    assert all(d.lease_until is None and d.lease_owner is None for d in waiting)
    assert dispatch(database, routes, clock).sent == 0  # not due yet: backoff
    http_receiver.mode = "ok"
    clock.advance(seconds=61)
    second = dispatch(database, routes, clock)
    assert (second.sent, second.failed) == (2, 0)
    assert len(smtp_receiver.records) == 2  # the mail destination got each event once
    posted = http_receiver.records
    by_key: dict[str | None, list[str]] = {}
    for request in posted:
        by_key.setdefault(request.header(KEY_HEADER), []).append(request.mode)
    assert sorted(by_key.values()) == [["error", "ok"], ["ok"]]  # a retry carries the same key
    assert [r.body["message"] for r in posted[1:]] == sorted((r.body["message"] for r in posted[1:]),
                                                             key=lambda m: "2,000" in m)  # still in order


def test_backoff_grows_and_is_capped() -> None:
    dispatcher = Dispatcher.__new__(Dispatcher)
    dispatcher.options = AlertOptions(backoff=30, max_backoff=300)
    dispatcher.jitter = lambda: 0.5
    assert [dispatcher.backoff(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    dispatcher.jitter = lambda: 0.0
    assert dispatcher.backoff(2).total_seconds() == 30  # jitter spreads retries between 0.5x and 1.5x


def test_a_destination_down_for_good_goes_dead_and_tells_ops(
        database: Database, http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver) -> None:
    routes = [news_route("newsroom", (http_receiver.url(),)),
              RouteSpec("ops", (smtp_receiver.url(),), events=("delivery_dead", "source_failing"))]
    clock = Clock()
    record(database, routes, [draft(3)], clock.now)
    http_receiver.mode = "down"
    for _ in range(FAST.max_attempts):
        dispatch(database, routes, clock)
        clock.advance(seconds=FAST.max_backoff + 1)
    newsroom = [d for d in deliveries(database) if d.route == "newsroom"]
    assert [(d.status, d.attempts) for d in newsroom] == [("dead", FAST.max_attempts)]
    assert "connection" in (newsroom[0].last_error or "").lower() or "failure" in (newsroom[0].last_error or "")
    with database.read() as session:
        dead_events = list(session.scalars(select(Event).where(Event.type == "delivery_dead")))
    assert len(dead_events) == 1 and dead_events[0].details["delivery_id"] == newsroom[0].id
    dispatch(database, routes, clock)
    mail = smtp_receiver.wait_for(1)[0]
    assert "could not be delivered" in mail.body and "newsroom" in mail.body


def test_a_receiver_that_hangs_past_the_timeout_counts_as_a_failure(
        database: Database, http_receiver: HttpReceiver) -> None:
    routes = [news_route("newsroom", (http_receiver.url(timeout=None),))]
    clock = Clock()
    record(database, routes, [draft(4)], clock.now)
    http_receiver.mode = "hang"
    report = dispatch(database, routes, clock)  # our timeout (1 s) is added to the URL
    assert report.failed == 1 and report.sent == 0


def test_a_destination_dropped_from_the_config_is_reported_not_guessed(
        database: Database, http_receiver: HttpReceiver) -> None:
    old = [news_route("newsroom", (http_receiver.url(path="/old"),))]
    clock = Clock()
    record(database, old, [draft(5)], clock.now)
    report = dispatch(database, [news_route("newsroom", (http_receiver.url(path="/new"),))], clock)
    assert report.dead == 1 and http_receiver.records == []
    assert "no longer in the config" in (deliveries(database)[0].last_error or "")


def test_rate_limit_overflow_waits_for_the_next_digest(database: Database, http_receiver: HttpReceiver) -> None:
    routes = [news_route("newsroom", (http_receiver.url(),), rate_limit=2)]
    clock = Clock(START.replace(minute=10))
    record(database, routes, [draft(n) for n in range(10, 15)], clock.now)
    report = dispatch(database, routes, clock)
    assert (report.sent, report.deferred) == (2, 3)
    assert len(http_receiver.wait_for(2)) == 2
    clock.advance(minutes=20)
    assert dispatch(database, routes, clock).sent == 0  # the hourly digest has not fired yet
    clock.advance(minutes=31)  # past 08:00
    report = dispatch(database, routes, clock)
    assert (report.sent, report.digests) == (3, 1)
    digest = http_receiver.wait_for(3)[2]
    assert "digest" in digest.body["title"] and all(f"{n},000" in digest.body["message"] for n in (12, 13, 14))
    assert len({d.sent_in for d in deliveries(database) if d.mode == "digest"}) == 1


def test_a_digest_route_sends_one_message_per_period_most_important_first(
        database: Database, http_receiver: HttpReceiver) -> None:
    routes = [news_route("morning", (http_receiver.url(),), mode="digest", cron="0 8 * * *",
                        events=("new_article", "claim_updated"))]
    clock = Clock()
    record(database, routes, [draft(20, "new_article"), draft(21, "claim_updated")], clock.now)
    assert dispatch(database, routes, clock).sent == 0
    clock.advance(hours=1, minutes=1)
    report = dispatch(database, routes, clock)
    assert (report.sent, report.digests) == (2, 1)
    message = http_receiver.wait_for(1)[0].body["message"]
    assert message.index("Claim updated") < message.index("New article")
    assert http_receiver.records[0].header(KEY_HEADER) == deliveries(database)[0].sent_in


def test_a_crashed_claim_is_sent_again_after_its_lease_with_the_same_key(
        database: Database, http_receiver: HttpReceiver) -> None:
    routes = [news_route("newsroom", (http_receiver.url(),))]
    clock = Clock()
    record(database, routes, [draft(30)], clock.now)
    with database.write() as session:  # a dispatcher claims it and dies before recording anything
        claimed = outbox.claim_immediate(session, clock.now, timedelta(seconds=FAST.lease), "crashed")
    assert len(claimed) == 1
    assert dispatch(database, routes, clock).sent == 0  # leased: nobody else sends it meanwhile
    clock.advance(seconds=FAST.lease + 1)
    assert dispatch(database, routes, clock).sent == 1
    assert http_receiver.wait_for(1)[0].header(KEY_HEADER) == claimed[0].idempotency_key


def test_what_a_failed_pass_held_goes_out_in_the_next_pass_not_after_its_lease(
        database: Database, http_receiver: HttpReceiver) -> None:
    routes = [news_route("newsroom", (http_receiver.url(),))]
    clock = Clock()
    record(database, routes, [draft(40), draft(41)], clock.now)
    failing = True

    async def send_then_fail(url: str, message: Any, key: str, timeout: float, limit: float) -> Any:
        result = await send(url, message, key, timeout, limit)
        if failing:  # sent, then the pass dies before it can record it (the database went away)
            raise RuntimeError("the database went away")
        return result

    dispatcher = Dispatcher(database, routes, FAST, clock=clock, jitter=lambda: 0.5, sender=send_then_fail)
    with pytest.raises(RuntimeError):
        asyncio.run(dispatcher.dispatch())
    assert {d.status for d in deliveries(database)} == {"pending"} and all(d.lease_owner for d in deliveries(database))
    failing = False
    report = asyncio.run(dispatcher.dispatch())  # at once: no waiting for the 120 s lease
    assert report.sent == 2 and {d.status for d in deliveries(database)} == {"sent"}
    keys = [request.header(KEY_HEADER) for request in http_receiver.wait_for(3)]
    assert len(set(keys)) == 2  # the one sent before the failure came again with its own key
