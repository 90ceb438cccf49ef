"""The daemon's scheduling state in the database: which sources are due, when each is polled next, retention.

Per-source timing lives here rather than in APScheduler's job store: APScheduler 3.x cannot share a job store
between processes, and the poll times must survive restarts (a restarted daemon polls what is overdue, not
everything at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from db.models import CrawlRun, Delivery, FetchError, Source


def due_sources(session: Session, until: datetime, ids: Iterable[str]) -> list[tuple[str, datetime | None]]:
    """Enabled sources among ``ids`` whose next poll is at or before ``until`` (or was never set), most
    overdue first: (id, next_poll_at)."""
    wanted = list(ids)
    if not wanted:
        return []
    query = (select(Source.id, Source.next_poll_at)
             .where(Source.enabled.is_(True), Source.id.in_(wanted),
                    or_(Source.next_poll_at.is_(None), Source.next_poll_at <= until))
             .order_by(Source.next_poll_at.is_not(None), Source.next_poll_at))
    return [(row[0], row[1]) for row in session.execute(query)]


def next_due(session: Session, ids: Iterable[str]) -> datetime | None:
    """The earliest next poll among the enabled sources in ``ids`` (None when none is scheduled)."""
    wanted = list(ids)
    if not wanted:
        return None
    return session.scalar(select(func.min(Source.next_poll_at))
                          .where(Source.enabled.is_(True), Source.id.in_(wanted)))


def failures(session: Session, ids: Iterable[str]) -> dict[str, int]:
    """Consecutive failed polls of each source in ``ids``."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.execute(select(Source.id, Source.consecutive_failures).where(Source.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}


def set_next_polls(session: Session, when: Mapping[str, datetime]) -> None:
    """Store each source's next poll time."""
    for source_id, at in when.items():
        session.execute(update(Source).where(Source.id == source_id).values(next_poll_at=at))


def prune(session: Session, *, errors_before: datetime, sent_before: datetime) -> dict[str, int]:
    """Retention: delete crawl errors and finished runs older than ``errors_before`` and sent or dead
    deliveries older than ``sent_before``. Events (the history researchers read) are kept."""
    counts = {
        "errors": session.execute(delete(FetchError).where(FetchError.at < errors_before)),
        "runs": session.execute(delete(CrawlRun).where(CrawlRun.finished_at.is_not(None),
                                                       CrawlRun.started_at < errors_before)),
        "deliveries": session.execute(delete(Delivery).where(Delivery.status.in_(("sent", "dead")),
                                                             Delivery.created_at < sent_before)),
    }
    return {name: int(getattr(result, "rowcount", 0) or 0) for name, result in counts.items()}
