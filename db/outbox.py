"""The delivery outbox's queries: claim due deliveries under a lease, record outcomes, list and retry.

A claim sets ``lease_until`` and ``lease_owner`` (the claiming pass's token); a dispatcher that dies
mid-send leaves the lease to run out, and the delivery is claimed again — with the same idempotency key,
so the receiver can tell the duplicate. Every outcome (sent, failed, dead, released, deferred) is written
only while the caller still holds the row: the update filters on ``lease_owner`` and returns the ids it
changed, so a pass whose lease ran out and was claimed by another changes nothing. On PostgreSQL, claims
skip rows another dispatcher holds locked; SQLite serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from db.events import event_dict
from db.models import Delivery, Event

PENDING, FAILED, SENT, DEAD = "pending", "failed", "sent", "dead"
STATUSES = (PENDING, FAILED, SENT, DEAD)
_WAITING = (PENDING, FAILED)


@dataclass(frozen=True)
class Claimed:
    """A delivery this dispatcher holds, with its event."""

    id: int
    route: str
    destination: str
    attempts: int
    idempotency_key: str
    sent_in: str | None
    event: dict[str, Any]


def _claimable(now: datetime) -> Any:
    return (Delivery.status.in_(_WAITING), Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))


def _held_by(owner: str | None) -> Any:
    # None: the row must be unclaimed (fixtures, administrative changes); a token: that pass's claim.
    return Delivery.lease_owner.is_(None) if owner is None else Delivery.lease_owner == owner


def _update_held(session: Session, ids: Sequence[int], owner: str | None, **values: Any) -> list[int]:
    """Update the rows of ``ids`` that ``owner`` holds; the ids changed (the rest belong to someone else)."""
    if not ids:
        return []
    query = (update(Delivery).where(Delivery.id.in_(list(ids)), _held_by(owner)).values(**values)
             .returning(Delivery.id).execution_options(synchronize_session=False))
    return sorted(session.scalars(query))


def _claim(session: Session, query: Any, now: datetime, lease: timedelta, owner: str) -> list[Claimed]:
    rows = list(session.execute(query.with_for_update(skip_locked=True, of=Delivery)))
    if not rows:
        return []
    session.execute(update(Delivery).where(Delivery.id.in_([d.id for d, _ in rows]))
                    .values(lease_until=now + lease, lease_owner=owner))
    return [Claimed(d.id, d.route, d.destination, d.attempts, d.idempotency_key, d.sent_in, event_dict(e))
            for d, e in rows]


def claim_immediate(session: Session, now: datetime, lease: timedelta, owner: str,
                    limit: int = 200) -> list[Claimed]:
    """Due immediate deliveries, oldest event first, leased to ``owner`` (a token of the claiming pass)."""
    query = (select(Delivery, Event).join(Event, Event.id == Delivery.event_id)
             .where(Delivery.mode == "immediate", *_claimable(now)).order_by(Delivery.id).limit(limit))
    return _claim(session, query, now, lease, owner)


def waiting_digests(session: Session, now: datetime) -> list[tuple[str, str, datetime]]:
    """(route, destination, oldest created_at) of every destination with digest deliveries waiting."""
    query = (select(Delivery.route, Delivery.destination, func.min(Delivery.created_at))
             .where(Delivery.mode == "digest", *_claimable(now))
             .group_by(Delivery.route, Delivery.destination))
    return [(route, destination, oldest) for route, destination, oldest in session.execute(query)]


def claim_digest(session: Session, route: str, destinations: Sequence[str], now: datetime, lease: timedelta,
                 owner: str, group_key: str) -> list[Claimed]:
    """The waiting digest deliveries of one destination (rows under any of its keys ``destinations``), leased
    to ``owner``; membership is frozen under ``group_key``.

    A group claimed before (a dispatcher died while sending it) is claimed again as it was, so the resent
    digest has the same content and key; otherwise every waiting delivery joins a new group."""
    mine = (Delivery.mode == "digest", Delivery.route == route, Delivery.destination.in_(list(destinations)))
    base = select(Delivery, Event).join(Event, Event.id == Delivery.event_id).where(*mine, *_claimable(now))
    earlier = session.scalars(select(Delivery.sent_in).where(
        *mine, Delivery.status.in_(_WAITING), Delivery.sent_in.is_not(None)).order_by(Delivery.id).limit(1)).first()
    if earlier is not None:
        return _claim(session, base.where(Delivery.sent_in == earlier).order_by(Delivery.id), now, lease, owner)
    claimed = _claim(session, base.where(Delivery.sent_in.is_(None)).order_by(Delivery.id).limit(500), now, lease,
                     owner)
    if claimed:
        session.execute(update(Delivery).where(Delivery.id.in_([c.id for c in claimed])).values(sent_in=group_key))
    return [Claimed(c.id, c.route, c.destination, c.attempts, c.idempotency_key, group_key, c.event)
            for c in claimed]


def sent_recently(session: Session, route: str, destinations: Sequence[str], since: datetime) -> int:
    """How many immediate messages went to a destination (rows under any of its keys) since ``since``, for
    the rate limit."""
    return int(session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.route == route, Delivery.destination.in_(list(destinations)), Delivery.mode == "immediate",
        Delivery.status == SENT, Delivery.sent_at >= since)) or 0)


def defer_to_digest(session: Session, ids: Sequence[int], owner: str | None = None) -> list[int]:
    """Rate-limit overflow: these immediate deliveries wait for the route's next digest instead."""
    return _update_held(session, ids, owner, mode="digest", lease_until=None, lease_owner=None, sent_in=None)


def mark_sent(session: Session, ids: Sequence[int], now: datetime, sent_in: str | None = None, *,
              owner: str | None = None) -> list[int]:
    """Delivered: never sent again. Only rows ``owner`` holds change; returns their ids."""
    values: dict[str, Any] = {"status": SENT, "sent_at": now, "lease_until": None, "lease_owner": None,
                              "last_error": None}
    if sent_in is not None:
        values["sent_in"] = sent_in
    return _update_held(session, ids, owner, **values)


def mark_failed(session: Session, ids: Sequence[int], error: str, retry_at: datetime | None, *,
                owner: str | None = None) -> list[int]:
    """A failed attempt: retried at ``retry_at``, or ``dead`` when there is none. Only rows ``owner`` holds
    change; returns their ids."""
    return _update_held(session, ids, owner, status=FAILED if retry_at else DEAD, attempts=Delivery.attempts + 1,
                        last_error=error[:2000], lease_until=None, lease_owner=None,
                        **({"next_attempt_at": retry_at} if retry_at else {}))


def release(session: Session, ids: Sequence[int], owner: str, retry_at: datetime | None = None) -> list[int]:
    """Give claimed deliveries back unsent, their attempts untouched: due again at ``retry_at`` (or as they
    were). Only rows ``owner`` holds change; returns their ids."""
    return _update_held(session, ids, owner, lease_until=None, lease_owner=None,
                        **({"next_attempt_at": retry_at} if retry_at else {}))


def delivery_rows(session: Session, *, status: str | None = None, route: str | None = None,
                  event_id: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Deliveries with their event's type and summary, newest first."""
    query = (select(Delivery, Event.type, Event.summary).join(Event, Event.id == Delivery.event_id)
             .order_by(Delivery.id.desc()))
    if status:
        query = query.where(Delivery.status == status)
    if route:
        query = query.where(Delivery.route == route)
    if event_id is not None:
        query = query.where(Delivery.event_id == event_id)
    if limit:
        query = query.limit(limit)
    return [{
        "id": d.id, "event_id": d.event_id, "event_type": kind, "summary": summary, "route": d.route,
        "destination": d.destination_label, "destination_key": d.destination, "mode": d.mode, "status": d.status,
        "attempts": d.attempts, "next_attempt_at": d.next_attempt_at.isoformat() if d.status != SENT else None,
        "sent_at": d.sent_at.isoformat() if d.sent_at else None, "last_error": d.last_error,
        "idempotency_key": d.idempotency_key, "created_at": d.created_at.isoformat(),
    } for d, kind, summary in session.execute(query)]


def retry(session: Session, now: datetime, ids: Sequence[int] = (), dead: bool = False) -> int:
    """Queue failed or dead deliveries again, now, with a fresh attempt budget; returns how many."""
    query = update(Delivery).where(Delivery.status.in_((FAILED, DEAD)))
    if ids:
        query = query.where(Delivery.id.in_(list(ids)))
    elif dead:
        query = query.where(Delivery.status == DEAD)
    else:
        return 0
    result = session.execute(query.values(status=PENDING, attempts=0, next_attempt_at=now, lease_until=None,
                                         lease_owner=None))
    return int(getattr(result, "rowcount", 0) or 0)
