"""The dispatcher: sends what the outbox holds through apprise, at least once, never twice on purpose.

Each pass claims due deliveries under a lease, with a token of its own (``lease_owner``), and sends them —
destinations concurrently, each destination's messages in order — recording every outcome in its own short
transaction, right after the attempt, and only while the pass still holds the row (a pass whose lease ran
out and was claimed elsewhere records nothing; that is logged and counted as ``lease_lost``).

A pass never outlives its lease: it stops starting sends once ``_LEASE_SHARE`` of the lease has gone, every
send's timeouts fit in what is left, and the deliveries it did not get to are released (due again at once,
attempts untouched). A destination that fails is done for the pass: the failed delivery is retried with
capped exponential backoff and jitter, and the destination's other claimed deliveries are released to wait
for that same retry time without spending an attempt, so one slow destination costs one timeout, not one
per message. After ``max_attempts`` a delivery is ``dead`` and a ``delivery_dead`` event goes to the ops
routes; a message that cannot be rendered is dead at once, alone. Digest routes get one grouped message per
destination when their cron has fired, under the same rules. One message is sent by ``alerts.send``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.render import Message, render_digest, render_event
from alerts.routes import Destination, Router, by_any_key
from alerts.send import Sender, SendResult, send, send_limit
from alerts.types import AlertOptions, RouteSpec
from analysis.cron import next_fire
from db import events, outbox
from db.engine import Database
from db.models import utcnow

logger = logging.getLogger(__name__)

_HOURLY = "0 * * * *"
# A pass's sends end within this share of its lease; the rest of the lease is margin for recording the last
# outcomes (and for clocks that differ a little between dispatchers).
_LEASE_SHARE = 0.8


@dataclass
class DispatchReport:
    """What one dispatch pass did. ``released``: claimed but given back unsent (their destination failed or
    the pass ran out of time); ``lease_lost``: outcomes not recorded because another dispatcher held the row."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    digests: int = 0
    released: int = 0
    lease_lost: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Pass:
    """One dispatch pass: the token its claims carry, when it must stop starting sends, what it did."""

    owner: str
    deadline: float  # time.monotonic()
    timeout: float  # apprise's connect and read timeouts for this pass's sends
    report: DispatchReport = field(default_factory=DispatchReport)
    claimed: list[int] = field(default_factory=list)  # every delivery this pass claimed

    @classmethod
    def start(cls, options: AlertOptions) -> _Pass:
        """A pass starting now, with a fresh token. Its sends use the configured timeout, unless the lease is
        too short for it: then a quarter of the pass's time, so that sends still fit."""
        budget = options.lease * _LEASE_SHARE
        return cls(uuid.uuid4().hex, time.monotonic() + budget, min(options.timeout, budget / 4))

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline - time.monotonic()

    def send_timeouts(self) -> tuple[float, float] | None:
        """(apprise timeout, hard limit) for a send started now; None when the connect and read timeouts no
        longer both fit before the deadline. The timeout is never shortened to squeeze a send in (a slow but
        healthy destination would fail); only the hard limit, for plugins that overrun it, stops at the deadline."""
        left = self.remaining()
        if left < 2 * self.timeout:
            return None
        return self.timeout, min(send_limit(self.timeout), left)


class Dispatcher:
    """Sends due deliveries for the configured routes."""

    def __init__(self, db: Database, routes: Sequence[RouteSpec], options: AlertOptions, *,
                 clock: Callable[[], datetime] = utcnow, sender: Sender = send,
                 jitter: Callable[[], float] = random.random) -> None:
        self.db = db
        self.options = options
        self.routes = {route.name: route for route in routes}
        self.destinations = by_any_key(routes)
        self.router = Router(routes)
        self.clock = clock
        self.sender = sender
        self.jitter = jitter
        # Passes that failed (the database went away) with deliveries claimed: (owner, ids) to give back.
        self._abandoned: list[tuple[str, list[int]]] = []

    def backoff(self, attempts: int) -> timedelta:
        """Wait before attempt ``attempts + 1``: exponential, capped, with ±50 % jitter against herds."""
        base = min(self.options.max_backoff, self.options.backoff * 2 ** max(0, attempts - 1))
        return timedelta(seconds=base * (0.5 + self.jitter()))

    async def dispatch(self) -> DispatchReport:
        """One pass: immediate deliveries that are due, then digests whose time has come."""
        # The deadline starts before the claim, so it falls before the lease the claim sets runs out.
        await self._release_abandoned()
        run = _Pass.start(self.options)
        now = self.clock()
        lease = timedelta(seconds=self.options.lease)
        try:
            claimed = await asyncio.to_thread(self.db.in_write, outbox.claim_immediate, now, lease, run.owner,
                                              self.options.batch)
            run.claimed.extend(delivery.id for delivery in claimed)
            await asyncio.gather(*(self._send_immediate(destination, items, run)
                                   for destination, items in self._by_destination(claimed)))
            await self._digests(now, lease, run)
        except Exception:
            # Without this, what the pass had claimed would wait out its lease (minutes) after the database is
            # back. Giving back rows this pass still holds is safe: those it sent or settled hold no lease.
            if run.claimed:
                self._abandoned.append((run.owner, list(run.claimed)))
            raise
        return run.report

    async def _release_abandoned(self) -> None:
        """Give back the deliveries of failed passes that they still hold (first thing in the next pass)."""
        while self._abandoned:
            owner, ids = self._abandoned[0]
            released = await asyncio.to_thread(self.db.in_write, outbox.release, ids, owner, None)
            if released:
                logger.info("released %d alert deliveries a failed dispatch pass still held", len(released))
            self._abandoned.pop(0)

    def _by_destination(self, claimed: list[outbox.Claimed]) -> list[tuple[Destination | None, list[outbox.Claimed]]]:
        """Claimed deliveries grouped by destination, rows under its legacy key joining the others, in order."""
        groups: dict[tuple[str, str], tuple[Destination | None, list[outbox.Claimed]]] = {}
        for delivery in claimed:
            destination = self.destinations.get((delivery.route, delivery.destination))
            key = (delivery.route, destination.key if destination else delivery.destination)
            groups.setdefault(key, (destination, []))[1].append(delivery)
        return list(groups.values())

    # --- immediate -------------------------------------------------------------------------------

    async def _send_immediate(self, destination: Destination | None, items: list[outbox.Claimed],
                              run: _Pass) -> None:
        if destination is None:
            await self._give_up(items, "the destination is no longer in the config", run)
            return
        items = await self._rate_limited(destination, items, run)
        for index, delivery in enumerate(items):
            message = await self._render(destination, delivery, run)
            if message is None:
                continue  # that delivery is dead; the destination's others still go
            timeouts = run.send_timeouts()
            if timeouts is None:
                await self._release(items[index:], None, run)
                return
            result = await self.sender(destination.url, message, delivery.idempotency_key, *timeouts)
            retry_at = await self._record(destination, [delivery], result, delivery.idempotency_key, run)
            if not result.ok:
                await self._skip_rest(destination, items[index + 1:], result, retry_at, run)
                return

    async def _render(self, destination: Destination, delivery: outbox.Claimed, run: _Pass) -> Message | None:
        """The delivery's message; None (and the delivery dead) when it cannot be rendered."""
        try:
            return render_event(delivery.event, self.options.web_url)
        except Exception as exc:  # isolation boundary: one bad event must not block its destination
            await self._unrenderable([delivery], destination, exc, run)
            return None

    async def _unrenderable(self, items: list[outbox.Claimed], destination: Destination, exc: Exception,
                            run: _Pass) -> None:
        error = f"{destination.label}: the message could not be rendered ({type(exc).__name__}: {exc})"
        logger.error("alert for event(s) %s (route %s) could not be rendered: %s: %s",
                     ", ".join(str(item.event["id"]) for item in items), destination.route.name,
                     type(exc).__name__, exc)
        run.report.errors.append(f"{destination.route.name} {error}")
        await self._give_up(items, error, run)

    async def _skip_rest(self, destination: Destination, rest: list[outbox.Claimed], result: SendResult,
                         retry_at: datetime, run: _Pass) -> None:
        """After a failed send the destination is done for this pass: its other deliveries wait for the same
        retry time without spending an attempt — or die with it when apprise refuses the URL itself."""
        if not rest:
            return
        if result.permanent:
            await self._give_up(rest, f"{destination.label}: {result.status}", run)
            return
        await self._release(rest, retry_at, run)

    async def _rate_limited(self, destination: Destination, items: list[outbox.Claimed],
                            run: _Pass) -> list[outbox.Claimed]:
        limit = destination.route.rate_limit
        if limit is None:
            return items
        since = self.clock() - timedelta(hours=1)
        used = await asyncio.to_thread(self.db.in_read, outbox.sent_recently, destination.route.name,
                                       destination.keys, since)
        room = max(0, limit - used)
        overflow = items[room:]
        if overflow:
            # Over the hourly budget: these wait for the next digest rather than being dropped or spammed.
            ids = [d.id for d in overflow]
            done = await asyncio.to_thread(self.db.in_write, outbox.defer_to_digest, ids, run.owner)
            self._check_held(ids, done, "deferral", run)
            run.report.deferred += len(done)
        return items[:room]

    # --- digests ---------------------------------------------------------------------------------

    def _digest_cron(self, route: RouteSpec) -> str:
        return route.cron if route.mode == "digest" and route.cron else route.digest_cron or _HOURLY

    def _digest_due(self, route: RouteSpec, oldest: datetime, now: datetime) -> bool:
        fire = next_fire(self._digest_cron(route), oldest)
        return fire is not None and fire <= now

    async def _digests(self, now: datetime, lease: timedelta, run: _Pass) -> None:
        if run.send_timeouts() is None:
            return  # no time left to send one: they wait for the next pass, unclaimed
        waiting = await asyncio.to_thread(self.db.in_read, outbox.waiting_digests, now)
        # Rows under a destination's legacy key and under its key make one digest.
        found: dict[tuple[str, str], tuple[Destination | None, list[str], datetime]] = {}
        for route_name, stored_key, oldest in waiting:
            destination = self.destinations.get((route_name, stored_key))
            name = (route_name, destination.key if destination else stored_key)
            _, keys, earliest = found.get(name, (destination, [], oldest))
            found[name] = (destination, [*keys, stored_key], min(earliest, oldest))
        due = [(name[0], keys, destination) for name, (destination, keys, oldest) in found.items()
               if destination is None or self._digest_due(destination.route, oldest, now)]
        await asyncio.gather(*(self._send_digest(route, keys, destination, now, lease, run)
                               for route, keys, destination in due))

    async def _send_digest(self, route: str, keys: list[str], destination: Destination | None, now: datetime,
                           lease: timedelta, run: _Pass) -> None:
        name = destination.key if destination else keys[0]
        group = hashlib.sha256(f"digest\x1f{route}\x1f{name}\x1f{now.isoformat()}".encode()).hexdigest()[:32]
        items = await asyncio.to_thread(self.db.in_write, outbox.claim_digest, route, keys, now, lease, run.owner,
                                        group)
        run.claimed.extend(delivery.id for delivery in items)
        if not items:
            return
        if destination is None:
            await self._give_up(items, "the destination is no longer in the config", run)
            return
        group = items[0].sent_in or group
        message, items = await self._render_digest(destination, items, run)
        timeouts = run.send_timeouts()
        if message is None or timeouts is None:
            await self._release(items, None, run)  # (none left when nothing rendered)
            return
        result = await self.sender(destination.url, message, group, *timeouts)
        await self._record(destination, items, result, group, run, digest=True)

    async def _render_digest(self, destination: Destination, items: list[outbox.Claimed],
                             run: _Pass) -> tuple[Message | None, list[outbox.Claimed]]:
        """The digest of the items that render (those that do not are dead, each alone), and those items."""
        good: list[outbox.Claimed] = []
        for item in items:
            if await self._render(destination, item, run) is not None:
                good.append(item)
        if not good:
            return None, []
        since = min(item.event["created_at"] for item in good)
        try:
            return render_digest(destination.route.name, [i.event for i in good], since, self.options.web_url), good
        except Exception as exc:  # the digest template itself: no retry can fix it, so it is reported as dead
            await self._unrenderable(good, destination, exc, run)
            return None, []

    # --- outcomes --------------------------------------------------------------------------------

    async def _record(self, destination: Destination, items: list[outbox.Claimed], result: SendResult,
                      message_key: str, run: _Pass, digest: bool = False) -> datetime:
        """Store the outcome of one send; returns when a failed destination may be tried again."""
        now = self.clock()
        ids = [item.id for item in items]
        if result.ok:
            done = await asyncio.to_thread(self.db.in_write, outbox.mark_sent, ids, now, message_key, owner=run.owner)
            self._check_held(ids, done, "sent", run)
            run.report.sent += len(done)
            run.report.digests += int(digest and bool(done))
            return now
        attempts = max(item.attempts for item in items) + 1
        retry_at = now + self.backoff(attempts)
        error = f"{destination.label}: {result.status}"
        run.report.errors.append(f"{destination.route.name} {error}")
        logger.warning("alert delivery to %s (route %s) failed: %s (attempt %d of %d)", destination.label,
                       destination.route.name, result.status, attempts, self.options.max_attempts)
        if result.permanent or attempts >= self.options.max_attempts:
            await self._give_up(items, error, run)
            return retry_at
        done = await asyncio.to_thread(self.db.in_write, outbox.mark_failed, ids, error, retry_at, owner=run.owner)
        self._check_held(ids, done, "failure", run)
        run.report.failed += len(done)
        return retry_at

    async def _release(self, items: list[outbox.Claimed], retry_at: datetime | None, run: _Pass) -> None:
        """Give deliveries back unsent, attempts untouched: due at ``retry_at``, or at once."""
        if not items:
            return
        ids = [item.id for item in items]
        done = await asyncio.to_thread(self.db.in_write, outbox.release, ids, run.owner, retry_at)
        self._check_held(ids, done, "release", run)
        run.report.released += len(done)

    async def _give_up(self, items: list[outbox.Claimed], error: str, run: _Pass) -> None:
        now = self.clock()
        ids = [item.id for item in items]

        def bury(session: Any) -> list[int]:
            done = outbox.mark_failed(session, ids, error, None, owner=run.owner)
            drafts = [events.EventDraft(
                events.DELIVERY_DEAD, f"{events.DELIVERY_DEAD}:{item.id}", item.event.get("title") or "",
                f"An alert could not be delivered on route {item.route}: {error}", source_id=item.event["source_id"],
                url=item.event.get("url"),
                details={"delivery_id": item.id, "event_id": item.event["id"], "route": item.route, "error": error})
                for item in items if item.id in done and item.event["type"] != events.DELIVERY_DEAD]
            # An ops alert about a dead ops alert would loop; those are only recorded.
            events.record_events(session, drafts, self.router, now)
            return done

        done = await asyncio.to_thread(self.db.in_write, bury)
        self._check_held(ids, done, "dead letter", run)
        run.report.dead += len(done)

    @staticmethod
    def _check_held(ids: list[int], done: list[int], outcome: str, run: _Pass) -> None:
        """Count and log the outcomes not recorded because another dispatcher holds those rows now."""
        lost = sorted(set(ids) - set(done))
        if lost:
            run.report.lease_lost += len(lost)
            logger.warning("%s of delivery %s not recorded: its lease ran out and another dispatcher holds it",
                           outcome, ", ".join(map(str, lost)))
