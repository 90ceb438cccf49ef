"""The dispatcher: sends what the outbox holds through apprise, at least once, never twice on purpose.

Each pass claims due deliveries under a lease, sends them — destinations concurrently, each destination's
messages in order — and records every outcome in its own short transaction, right after the attempt. A
failed attempt is retried with capped exponential backoff and jitter; after ``max_attempts`` the delivery
is ``dead`` and a ``delivery_dead`` event goes to the ops routes. A destination that fails never delays
or repeats another. Digest routes get one grouped message per destination when their cron has fired.

apprise 2.x returns an ``AppriseResult``: only ``SUCCESS`` counts as delivered (``NOMATCH`` and
``FAILURE`` are both falsy; ``TIMEOUT`` may still have arrived, which the idempotency key covers).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import apprise

from alerts.render import Message, render_digest, render_event
from alerts.routes import Destination, Router, destinations
from alerts.types import AlertOptions, RouteSpec
from db import events, outbox
from db.engine import Database

logger = logging.getLogger(__name__)

# Schemes whose messages can carry our key as a header (apprise's "+Header=value" URL syntax).
_HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})
KEY_HEADER = "X-Labourwatch-Key"
_HOURLY = "0 * * * *"


def utcnow() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


@dataclass
class DispatchReport:
    """What one dispatch pass did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    digests: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SendResult:
    """The outcome of one message to one destination."""

    ok: bool
    status: str
    permanent: bool = False  # no point retrying (apprise does not accept the URL)


def with_key(url: str, key: str, timeout: float) -> str:
    """``url`` with the idempotency key as a header where the channel has headers, and our timeouts unless the
    URL sets its own (``cto``/``rto``: apprise's connect and read timeouts)."""
    scheme = urlsplit(url).scheme.lower()
    extra = []
    if scheme in _HEADER_SCHEMES:
        extra.append(f"+{KEY_HEADER}={key}")
    query = urlsplit(url).query
    for name in ("cto", "rto"):
        if f"{name}=" not in query:
            extra.append(f"{name}={timeout:g}")
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


async def send(url: str, message: Message, key: str, timeout: float) -> SendResult:
    """One message to one apprise URL."""
    target = apprise.Apprise()
    if not target.add(with_key(url, key, timeout)):
        return SendResult(False, "apprise does not accept this URL", permanent=True)
    try:
        result = await asyncio.wait_for(
            target.async_notify(title=message.title, body=message.body, body_format=apprise.NotifyFormat.MARKDOWN),
            timeout=timeout * 3 + 5)
    except TimeoutError:
        return SendResult(False, "timed out")
    except Exception as exc:  # isolation boundary: a plugin bug is one failed attempt, not a dead dispatcher
        return SendResult(False, f"{type(exc).__name__}: {exc}")
    status = getattr(result, "status", None)
    name = getattr(status, "name", str(status)).lower()
    ok = status == apprise.AppriseResultStatus.SUCCESS if status is not None else bool(result)
    return SendResult(ok, "sent" if ok else name)


Sender = Callable[[str, Message, str, float], Any]


class Dispatcher:
    """Sends due deliveries for the configured routes."""

    def __init__(self, db: Database, routes: Sequence[RouteSpec], options: AlertOptions, *,
                 clock: Callable[[], datetime] = utcnow, sender: Sender = send,
                 jitter: Callable[[], float] = random.random) -> None:
        self.db = db
        self.options = options
        self.routes = {route.name: route for route in routes}
        self.destinations = destinations(routes)
        self.router = Router(routes)
        self.clock = clock
        self.sender = sender
        self.jitter = jitter

    def backoff(self, attempts: int) -> timedelta:
        """Wait before attempt ``attempts + 1``: exponential, capped, with ±50 % jitter against herds."""
        base = min(self.options.max_backoff, self.options.backoff * 2 ** max(0, attempts - 1))
        return timedelta(seconds=base * (0.5 + self.jitter()))

    async def dispatch(self) -> DispatchReport:
        """One pass: immediate deliveries that are due, then digests whose time has come."""
        report = DispatchReport()
        now = self.clock()
        lease = timedelta(seconds=self.options.lease)
        claimed = await asyncio.to_thread(self.db.in_write, outbox.claim_immediate, now, lease)
        by_destination: dict[tuple[str, str], list[outbox.Claimed]] = defaultdict(list)
        for delivery in claimed:
            by_destination[(delivery.route, delivery.destination)].append(delivery)
        await asyncio.gather(*(self._send_immediate(key, items, report) for key, items in by_destination.items()))
        await self._digests(now, lease, report)
        return report

    # --- immediate -------------------------------------------------------------------------------

    async def _send_immediate(self, key: tuple[str, str], items: list[outbox.Claimed],
                              report: DispatchReport) -> None:
        destination = self.destinations.get(key)
        if destination is None:
            await self._give_up(items, "the destination is no longer in the config", report)
            return
        items = await self._rate_limited(destination, items, report)
        for delivery in items:
            message = render_event(delivery.event, self.options.web_url)
            result = await self.sender(destination.url, message, delivery.idempotency_key, self.options.timeout)
            await self._record(destination, [delivery], result, delivery.idempotency_key, report)

    async def _rate_limited(self, destination: Destination, items: list[outbox.Claimed],
                            report: DispatchReport) -> list[outbox.Claimed]:
        limit = destination.route.rate_limit
        if limit is None:
            return items
        since = self.clock() - timedelta(hours=1)
        used = await asyncio.to_thread(self.db.in_read, outbox.sent_recently, destination.route.name, destination.key,
                                       since)
        room = max(0, limit - used)
        overflow = items[room:]
        if overflow:
            # Over the hourly budget: these wait for the next digest rather than being dropped or spammed.
            await asyncio.to_thread(self.db.in_write, outbox.defer_to_digest, [d.id for d in overflow])
            report.deferred += len(overflow)
        return items[:room]

    # --- digests ---------------------------------------------------------------------------------

    def _digest_cron(self, route: RouteSpec) -> str:
        return route.cron if route.mode == "digest" and route.cron else route.digest_cron or _HOURLY

    def _digest_due(self, route: RouteSpec, oldest: datetime, now: datetime) -> bool:
        from apscheduler.triggers.cron import CronTrigger

        trigger = CronTrigger.from_crontab(self._digest_cron(route), timezone=UTC)
        fire = trigger.get_next_fire_time(None, oldest)
        return fire is not None and fire <= now

    async def _digests(self, now: datetime, lease: timedelta, report: DispatchReport) -> None:
        waiting = await asyncio.to_thread(self.db.in_read, outbox.waiting_digests, now)
        due = []
        for route_name, destination_key, oldest in waiting:
            destination = self.destinations.get((route_name, destination_key))
            if destination is None or self._digest_due(destination.route, oldest, now):
                due.append((route_name, destination_key, destination))
        await asyncio.gather(*(self._send_digest(route, key, dest, now, lease, report) for route, key, dest in due))

    async def _send_digest(self, route: str, key: str, destination: Destination | None, now: datetime,
                           lease: timedelta, report: DispatchReport) -> None:
        group = hashlib.sha256(f"digest\x1f{route}\x1f{key}\x1f{now.isoformat()}".encode()).hexdigest()[:32]
        items = await asyncio.to_thread(self.db.in_write, outbox.claim_digest, route, key, now, lease, group)
        if not items:
            return
        if destination is None:
            await self._give_up(items, "the destination is no longer in the config", report)
            return
        group = items[0].sent_in or group
        since = min(item.event["created_at"] for item in items)
        message = render_digest(route, [item.event for item in items], since, self.options.web_url)
        result = await self.sender(destination.url, message, group, self.options.timeout)
        await self._record(destination, items, result, group, report, digest=True)

    # --- outcomes --------------------------------------------------------------------------------

    async def _record(self, destination: Destination, items: list[outbox.Claimed], result: SendResult,
                      message_key: str, report: DispatchReport, digest: bool = False) -> None:
        now = self.clock()
        ids = [item.id for item in items]
        if result.ok:
            await asyncio.to_thread(self.db.in_write, outbox.mark_sent, ids, now, message_key)
            report.sent += len(items)
            report.digests += int(digest)
            return
        attempts = max(item.attempts for item in items) + 1
        error = f"{destination.label}: {result.status}"
        report.errors.append(f"{destination.route.name} {error}")
        logger.warning("alert delivery to %s (route %s) failed: %s (attempt %d of %d)", destination.label,
                       destination.route.name, result.status, attempts, self.options.max_attempts)
        if result.permanent or attempts >= self.options.max_attempts:
            await self._give_up(items, error, report)
            return
        await asyncio.to_thread(self.db.in_write, outbox.mark_failed, ids, error, now + self.backoff(attempts))
        report.failed += len(items)

    async def _give_up(self, items: list[outbox.Claimed], error: str, report: DispatchReport) -> None:
        now = self.clock()

        def bury(session: Any) -> None:
            outbox.mark_failed(session, [item.id for item in items], error, None)
            drafts = [events.EventDraft(
                events.DELIVERY_DEAD, f"{events.DELIVERY_DEAD}:{item.id}", item.event.get("title") or "",
                f"An alert could not be delivered on route {item.route}: {error}", source_id=item.event["source_id"],
                url=item.event.get("url"),
                details={"delivery_id": item.id, "event_id": item.event["id"], "route": item.route, "error": error})
                for item in items if item.event["type"] != events.DELIVERY_DEAD]
            # An ops alert about a dead ops alert would loop; those are only recorded.
            events.record_events(session, drafts, self.router, now)

        await asyncio.to_thread(self.db.in_write, bury)
        report.dead += len(items)
