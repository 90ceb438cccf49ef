"""The daemon's observability: metrics (with the scrape-time database collector), health, the HTTP endpoint and
event-loop lag — real databases, real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text

from db import events, outbox
from db.engine import Database
from db.events import EVENT_TYPES, DeliveryTarget, EventDraft
from db.models import Article, Delivery, Source
from db.outbox import STATUSES
from scheduler.health import Health
from scheduler.http import ObservabilityServer
from scheduler.looplag import watch_loop_lag
from scheduler.metrics import Metrics

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def every(**interval: float) -> IntervalTrigger:
    """An interval trigger, as the daemon makes them."""
    return IntervalTrigger(timezone=UTC, **interval)


class Clock:
    """A settable clock for Health."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(exposition: bytes) -> Samples:
    """Every sample of a /metrics body, by (sample name, sorted labels)."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(exposition.decode())
            for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


# --- metrics fed by the jobs -------------------------------------------------------------------------

def test_crawl_and_dispatch_outcomes_become_counters_and_histograms() -> None:
    metrics = Metrics()
    stats = {"documents": 12, "documents_not_modified": 7, "articles_fetched": 9, "articles_not_modified": 3,
             "articles_new": 4, "articles_new_offtopic": 2, "articles_changed": 1, "articles_unchanged": 2,
             "errors": 1, "warnings": 2, "claims_updates": 1, "claims_new": 3, "http_200": 14, "http_304": 10,
             "http_404": 1}
    metrics.crawl_finished("poll", stats, {"a": True, "b": True, "c": False, "d": None}, 3.5)
    metrics.crawl_finished("revisit", {"articles_changed": 2, "http_200": 2}, {}, 0.4)
    metrics.dispatch_finished(sent=5, failed=2, dead=1, deferred=3, seconds=0.3, released=4, lease_lost=1)
    for lag in (0.2, 1.5, 40.0):
        metrics.poll_started(lag)
    metrics.poll_missed()
    metrics.poll_missed(2)
    metrics.job_error("dispatch")
    samples = parse(metrics.render())

    assert value(samples, "labourwatch_polls_total", job="poll", outcome="ok") == 2
    assert value(samples, "labourwatch_polls_total", job="poll", outcome="failed") == 1
    assert value(samples, "labourwatch_polls_total", job="poll", outcome="unanswered") == 1
    assert value(samples, "labourwatch_polls_total", job="revisit", outcome="ok") == 0  # exported from the start
    assert {status: value(samples, "labourwatch_responses_total", status=status)
            for status in ("200", "304", "404")} == {"200": 16, "304": 10, "404": 1}
    assert value(samples, "labourwatch_not_modified_total", what="document") == 7
    assert value(samples, "labourwatch_not_modified_total", what="article") == 3
    assert {action: value(samples, "labourwatch_articles_total", action=action)
            for action in ("new", "new_offtopic", "changed", "unchanged")} == {
        "new": 4, "new_offtopic": 2, "changed": 3, "unchanged": 2}
    assert value(samples, "labourwatch_versions_total") == 4 + 2 + 1 + 2
    assert value(samples, "labourwatch_claim_sentences_total", label="new") == 3
    assert value(samples, "labourwatch_crawl_problems_total", severity="warning") == 2
    assert value(samples, "labourwatch_crawl_duration_seconds_count", job="poll") == 1
    assert value(samples, "labourwatch_crawl_duration_seconds_sum", job="revisit") == 0.4
    assert value(samples, "labourwatch_crawl_duration_seconds_bucket", job="poll", le="5.0") == 1
    assert value(samples, "labourwatch_crawl_duration_seconds_bucket", job="poll", le="2.0") == 0
    assert {outcome: value(samples, "labourwatch_deliveries_attempted_total", outcome=outcome)
            for outcome in ("sent", "failed", "dead", "deferred", "released", "lease_lost")} == {
        "sent": 5, "failed": 2, "dead": 1, "deferred": 3, "released": 4, "lease_lost": 1}
    assert value(samples, "labourwatch_dispatch_duration_seconds_count") == 1
    assert value(samples, "labourwatch_poll_lag_seconds_bucket", le="0.5") == 1
    assert value(samples, "labourwatch_poll_lag_seconds_bucket", le="45.0") == 3
    assert value(samples, "labourwatch_polls_missed_total") == 3
    assert value(samples, "labourwatch_job_errors_total", job="dispatch") == 1
    assert abs(value(samples, "labourwatch_start_time_seconds") - time.time()) < 60
    # Without a database there is no database collector at all.
    assert not any(name.startswith("labourwatch_database_up") for name, _ in samples)


def test_no_created_series_doubles_the_body() -> None:
    metrics = Metrics()
    metrics.crawl_finished("poll", {"articles_new": 1}, {"a": True}, 1.0)
    body = metrics.render().decode()
    assert "labourwatch_" in body
    assert "_created" not in body


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.job_error("poll")
    assert value(parse(first.render()), "labourwatch_job_errors_total", job="poll") == 1
    assert ("labourwatch_job_errors_total", (("job", "poll"),)) not in parse(second.render())


# --- the database collector ----------------------------------------------------------------------------

def _fill(db: Database, now: datetime) -> None:
    """Events with deliveries in every status, sources in every state of health, articles due and not."""
    def route(draft: EventDraft) -> list[DeliveryTarget]:
        return [DeliveryTarget("ops", "dest1", "json://ops")]

    drafts = [EventDraft(kind, f"{kind}:{n}", "t", "s") for kind, n in
              [("new_article", 1), ("new_article", 2), ("new_article", 3), ("claim_updated", 1),
               ("source_failing", 1)]]
    with db.write() as session:
        events.record_events(session, drafts, route, now)
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        outbox.mark_sent(session, ids[:2], now)
        outbox.mark_failed(session, ids[2:3], "timeout", retry_at=now + MINUTE)
        outbox.mark_failed(session, ids[3:4], "gone", retry_at=None)
        session.add_all([
            Source(id="ok1", kind="feed", url="https://a.example/f", last_polled_at=now),
            Source(id="ok2", kind="feed", url="https://b.example/f", last_polled_at=now),
            Source(id="bad", kind="feed", url="https://c.example/f", last_polled_at=now, consecutive_failures=3),
            Source(id="new", kind="feed", url="https://d.example/f"),
            Source(id="off", kind="feed", url="https://e.example/f", enabled=False, consecutive_failures=9),
        ])
        session.flush()  # the articles refer to a source: no relationship tells the unit of work to insert it first
        session.add_all([Article(url=f"https://a.example/{n}", canonical_url=f"https://a.example/{n}",
                                 source_id="ok1", next_check_at=when)
                         for n, when in enumerate([now - MINUTE, now - 60 * MINUTE, now + 60 * MINUTE, None])])


def test_database_collector_counts_events_deliveries_sources_and_due_rechecks(database: Database) -> None:
    _fill(database, datetime.now(UTC))
    samples = parse(Metrics(database).render())

    assert value(samples, "labourwatch_database_up") == 1
    event_counts = {kind: value(samples, "labourwatch_events_total", type=kind) for kind in EVENT_TYPES}
    assert event_counts == {kind: 0 for kind in EVENT_TYPES} | {"new_article": 3, "claim_updated": 1,
                                                                  "source_failing": 1}
    assert {status: value(samples, "labourwatch_deliveries", status=status) for status in STATUSES} == {
        "pending": 1, "failed": 1, "sent": 2, "dead": 1}
    assert {health: value(samples, "labourwatch_sources", health=health)
            for health in ("ok", "failing", "never_polled", "disabled")} == {
        "ok": 2, "failing": 1, "never_polled": 1, "disabled": 1}
    assert value(samples, "labourwatch_due_rechecks") == 2


def test_database_collector_says_database_down_instead_of_failing(tmp_path: Path) -> None:
    unmigrated = Database(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: every query fails
    try:
        metrics = Metrics(unmigrated)
        metrics.job_error("poll")
        samples = parse(metrics.render())
    finally:
        unmigrated.dispose()
    assert value(samples, "labourwatch_database_up") == 0
    assert value(samples, "labourwatch_job_errors_total", job="poll") == 1  # the rest still renders
    assert not any(name.startswith("labourwatch_events") for name, _ in samples)


# --- health ------------------------------------------------------------------------------------------------

def running_health(clock: Clock) -> Health:
    health = Health(stall_after=10 * MINUTE, clock=clock)
    health.scheduler_running(True)
    return health


def test_a_job_gets_a_grace_period_then_stalls_and_recovers() -> None:
    clock = Clock()
    health = Health(stall_after=10 * MINUTE, clock=clock)
    assert health.reasons() == ["the scheduler is not running"]
    health.scheduler_running(True)
    health.expect("poll", every(seconds=30))  # due 30 s after, stalled max(10 min, 2 × 30 s) = 10 min later
    health.expect("revisit", every(minutes=5))  # due 5 min after, stalled max(10 min, 2 × 5 min) = 10 min later
    clock.advance(10 * MINUTE + timedelta(seconds=30))
    assert health.reasons() == []  # exactly at poll's deadline: not yet
    clock.advance(timedelta(seconds=30))
    [reason] = health.reasons()
    assert "'poll' has not finished since it was scheduled 11m ago" in reason, reason
    assert "expected every 30s, stalled 10m after due" in reason, reason
    for job in ("poll", "revisit"):
        health.started(job)
        health.finished(job, ok=True)
    assert health.reasons() == []
    clock.advance(10 * MINUTE + timedelta(seconds=31))
    [reason] = health.reasons()
    assert reason.startswith("job 'poll' last finished 10m 31s ago (due "), reason
    health.finished("poll", ok=True)
    health.started("revisit")  # a long run: still running is not finished
    assert health.snapshot()["jobs"]["revisit"]["running"] is True
    clock.advance(5 * MINUTE)
    [reason] = health.reasons()
    assert reason.startswith("job 'revisit' last finished 15m 31s ago"), reason
    assert "expected every 5m, stalled 10m after due" in reason
    health.finished("revisit", ok=True)
    assert health.snapshot()["status"] == "ok"


def test_three_failed_runs_in_a_row_are_unhealthy_until_one_succeeds() -> None:
    clock = Clock()
    health = running_health(clock)
    health.expect("dispatch", every(seconds=10))
    for n in range(2):
        health.finished("dispatch", ok=False, error=f"boom {n}")
    assert health.reasons() == []
    health.finished("dispatch", ok=False, error="ConnectionError: refused")
    assert health.reasons() == ["job 'dispatch' failed its last 3 runs: ConnectionError: refused"]
    health.finished("dispatch", ok=True)
    assert health.reasons() == []
    assert health.snapshot()["jobs"]["dispatch"] == {
        "schedule": "interval[0:00:10]", "every_seconds": 10.0, "due_at": (START + timedelta(seconds=10)).isoformat(),
        "stalled_at": (START + timedelta(seconds=10) + 10 * MINUTE).isoformat(), "running": False,
        "last_started_at": None, "last_finished_at": START.isoformat(), "last_ok": True, "last_error": None,
        "consecutive_failures": 0}


def test_database_failure_and_stopping_show_in_the_snapshot() -> None:
    clock = Clock()
    health = running_health(clock)
    health.database_ok(False, "could not connect to server")
    snapshot = health.snapshot()
    assert snapshot["status"] == "unhealthy"
    assert snapshot["reasons"] == ["the last database check failed: could not connect to server"]
    assert snapshot["database"] == {"ok": False, "error": "could not connect to server",
                                    "checked_at": START.isoformat()}
    health.database_ok(True)
    assert health.snapshot()["status"] == "ok"
    health.stopping()
    snapshot = health.snapshot()
    assert (snapshot["status"], snapshot["reasons"]) == ("stopping", ["the daemon is stopping"])
    json.dumps(snapshot)  # JSON-able as it is


# --- the HTTP endpoint -----------------------------------------------------------------------------------

Response = tuple[int, dict[str, str], bytes]


async def exchange(port: int, raw: bytes, timeout: float = 5.0) -> Response:
    """Send raw bytes, read until the server closes; (status, headers, body). Status 0: closed silently."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        await writer.wait_closed()
    if not data:
        return 0, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in header_lines)}
    return int(status_line.split(" ")[1]), headers, body


async def get(port: int, path: str, method: str = "GET") -> Response:
    return await exchange(port, f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())


def serve(health: Health, metrics: Metrics, scenario: Callable[[ObservabilityServer], Awaitable[None]],
          check_database: Callable[[], Awaitable[None]] | None = None, **options: Any) -> None:
    async def main() -> None:
        server = ObservabilityServer("127.0.0.1", 0, health, metrics, check_database, **options)
        await server.start()
        try:
            await scenario(server)
        finally:
            await server.stop()

    asyncio.run(main())


def test_metrics_endpoint_serves_the_database_collector_to_a_real_client(database: Database) -> None:
    _fill(database, datetime.now(UTC))
    metrics = Metrics(database)
    metrics.crawl_finished("poll", {"http_200": 3}, {"a": True}, 1.0)

    async def scenario(server: ObservabilityServer) -> None:
        url = f"http://127.0.0.1:{server.port}/metrics"
        with await asyncio.to_thread(urllib.request.urlopen, url, timeout=5) as reply:
            assert reply.status == 200
            assert reply.headers["Content-Type"] == CONTENT_TYPE_LATEST
            assert reply.headers["Connection"] == "close"
            samples = parse(reply.read())
        assert value(samples, "labourwatch_events_total", type="new_article") == 3
        assert value(samples, "labourwatch_responses_total", status="200") == 3
        assert value(samples, "labourwatch_database_up") == 1
        status, headers, body = await get(server.port, "/metrics", "HEAD")
        assert (status, body) == (200, b"") and int(headers["content-length"]) > 1000

    serve(Health(10 * MINUTE), metrics, scenario)


def test_healthz_checks_the_database_and_reports_each_state(database: Database) -> None:
    clock = Clock()
    health = running_health(clock)
    health.expect("poll", every(seconds=30))
    broken: list[str] = []

    async def check_database() -> None:
        # What the daemon does: SELECT 1 in a thread (here it raises when the test breaks the database).
        def select_one() -> None:
            if broken:
                raise ConnectionError(broken[0])
            with database.read() as session:
                session.execute(text("SELECT 1"))
        try:
            await asyncio.to_thread(select_one)
        except Exception as exc:
            health.database_ok(False, str(exc))
            return
        health.database_ok(True)

    async def scenario(server: ObservabilityServer) -> None:
        status, headers, body = await get(server.port, "/healthz")
        assert (status, headers["content-type"], headers["connection"]) == (200, "application/json", "close")
        assert json.loads(body)["status"] == "ok" and json.loads(body)["database"]["ok"] is True

        broken.append("connection refused")
        status, _, body = await get(server.port, "/healthz")
        assert status == 503
        assert json.loads(body)["reasons"] == ["the last database check failed: connection refused"]
        broken.clear()
        assert (await get(server.port, "/healthz"))[0] == 200

        clock.advance(11 * MINUTE)  # poll never finished: stalled
        status, _, body = await get(server.port, "/healthz")
        assert status == 503 and "'poll' has not finished" in json.loads(body)["reasons"][0]
        health.finished("poll", ok=True)
        assert (await get(server.port, "/healthz?verbose=1"))[0] == 200  # the query string is ignored

        health.stopping()
        status, _, body = await get(server.port, "/healthz", "HEAD")
        assert (status, body) == (503, b"")
        assert json.loads((await get(server.port, "/healthz"))[2])["status"] == "stopping"

    serve(health, Metrics(), scenario, check_database)


def test_a_check_that_raises_or_hangs_counts_as_a_database_failure() -> None:
    health = running_health(Clock())
    mode: list[str] = ["raise"]

    async def check_database() -> None:
        if mode[0] == "raise":
            raise RuntimeError("pool exhausted")
        await asyncio.sleep(10)

    async def scenario(server: ObservabilityServer) -> None:
        status, _, body = await get(server.port, "/healthz")
        assert status == 503 and json.loads(body)["reasons"] == ["the last database check failed: pool exhausted"]
        mode[0] = "hang"
        status, _, body = await get(server.port, "/healthz")
        assert status == 503 and "no answer in 0.2 s" in json.loads(body)["reasons"][0]

    serve(health, Metrics(), scenario, check_database, check_timeout=0.2)


def test_wrong_paths_methods_garbage_and_slow_clients_are_refused_and_serving_goes_on() -> None:
    async def scenario(server: ObservabilityServer) -> None:
        port = server.port
        status, headers, body = await get(port, "/nope")
        assert (status, headers["content-type"], body) == (404, "text/plain; charset=utf-8", b"404 Not Found\n")
        status, headers, _ = await get(port, "/metrics", "POST")
        assert (status, headers["allow"]) == (405, "GET, HEAD")
        assert (await get(port, "/nope", "DELETE"))[0] == 404
        assert (await exchange(port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n"))[0] == 400
        assert (await exchange(port, b"GET /healthz\r\n\r\n"))[0] == 400  # HTTP/0.9 style
        assert (await exchange(port, b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"a" * 10_000 + b"\r\n\r\n"))[0] == 431

        # A client that never finishes its request is dropped after the read timeout, without an answer.
        started = time.monotonic()
        assert await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") == (0, {}, b"")
        assert time.monotonic() - started < 2
        # A client that sends nothing at all, while another is served meanwhile.
        idle = asyncio.ensure_future(exchange(port, b""))
        assert (await get(port, "/healthz"))[0] == 200
        assert (await idle)[0] == 0
        assert (await get(port, "/metrics"))[0] == 200

    serve(running_health(Clock()), Metrics(), scenario, read_timeout=0.3)


def test_stop_drops_connections_still_open() -> None:
    async def scenario(server: ObservabilityServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /healthz HTTP/1.1\r\n")  # and never more
        await writer.drain()
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await server.stop()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        assert time.monotonic() - started < 1
        writer.close()
        await writer.wait_closed()

    serve(running_health(Clock()), Metrics(), scenario, read_timeout=30)


# --- event-loop lag ----------------------------------------------------------------------------------------

def test_a_blocked_loop_shows_as_lag() -> None:
    metrics = Metrics()
    lags: list[float] = []

    async def main() -> None:
        watcher = asyncio.ensure_future(watch_loop_lag(metrics, interval=0.05, on_lag=lags.append))
        await asyncio.sleep(0.12)
        time.sleep(0.3)  # a blocking call on the loop
        await asyncio.sleep(0.12)
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)

    asyncio.run(main())
    assert max(lags) >= 0.25
    assert sorted(lags)[len(lags) // 2] < 0.1  # the other wake-ups were about on time
    samples = parse(metrics.render())
    assert value(samples, "labourwatch_loop_lag_max_seconds") == max(lags)
    assert value(samples, "labourwatch_loop_lag_seconds_count") == len(lags)
    assert value(samples, "labourwatch_loop_lag_seconds_bucket", le="0.25") == len(lags) - 1


def test_idle_runs_do_not_hide_a_failing_job() -> None:
    """A poll that finds nothing due in between real polls that fail must not reset the failure streak."""
    now = [datetime(2026, 11, 27, 12, 0, tzinfo=UTC)]
    health = Health(timedelta(minutes=10), clock=lambda: now[0])
    health.scheduler_running(True)
    health.expect("poll", every(seconds=30))
    for _ in range(3):
        health.started("poll")
        health.finished("poll", False, "ImportError: boom")
        for _ in range(4):
            health.started("poll")
            health.finished("poll", True, idle=True)
    assert any("failed its last 3 runs" in reason and "ImportError" in reason for reason in health.reasons())
    health.started("poll")
    health.finished("poll", True)
    assert health.reasons() == []
