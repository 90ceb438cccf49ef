"""The daemon's scheduling state in the database: which sources are due, when each is polled next, which were
never polled (their next poll is their baseline) and what a baseline holds, retention.

Per-source timing lives here rather than in APScheduler's job store: APScheduler 3.x cannot share a job store
between processes, and the poll times must survive restarts (a restarted daemon polls what is overdue, not
everything at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, delete, func, or_, select, update
from sqlalchemy.orm import Session

from db.models import Article, ClaimMatchRow, CrawlRun, Delivery, FetchError, Source


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


def move_next_polls(session: Session, moves: Mapping[str, tuple[datetime | None, datetime]]) -> list[str]:
    """Move each source's next poll from the time it was read at (``moves``: id -> (read, new)) to the new time,
    where it is still at the time read; the ids moved. A source whose time changed since it was read (another
    node's crawl took its poll, or another node's start scheduled it first) keeps that time: setting it anyway
    would make a poll under way due again at once."""
    moved = []
    for source_id, (read, at) in moves.items():
        unchanged = Source.next_poll_at.is_(None) if read is None else Source.next_poll_at == read
        result = session.execute(update(Source).where(Source.id == source_id, unchanged).values(next_poll_at=at))
        if getattr(result, "rowcount", 0):
            moved.append(source_id)
    return moved


def not_polled_since(session: Session, ids: Iterable[str], since: datetime) -> list[str]:
    """Which of ``ids`` have no poll recorded at or after ``since``."""
    wanted = list(ids)
    if not wanted:
        return []
    return list(session.scalars(select(Source.id).where(
        Source.id.in_(wanted), or_(Source.last_polled_at.is_(None), Source.last_polled_at < since))))


def claim_polls(session: Session, due: Sequence[tuple[str, datetime | None]], until: datetime) -> list[str]:
    """Take the due polls ``due`` ((source id, due time) as ``due_sources`` read them): move each source's next
    poll to ``until``, where it is still at that due time. Returns the ids taken, which the caller polls; a
    source missing is one whose poll another job took (or did) since it was read, and must not be polled again.
    ``until`` is a lease: the poll reschedules the source when it ends, and a poll that never ends (its node
    died) leaves the source due again at ``until``."""
    return move_next_polls(session, {source_id: (at, until) for source_id, at in due})


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


def first_polls(session: Session, source_ids: Sequence[str]) -> list[str]:
    """Which of ``source_ids`` were never polled successfully: their next successful poll is their baseline."""
    if not source_ids:
        return []
    return list(session.scalars(select(Source.id).where(Source.id.in_(list(source_ids)),
                                                        Source.last_success_at.is_(None))))


def baselines_taken(session: Session, source_ids: Sequence[str], run_id: int) -> None:
    """Record that crawl run ``run_id`` took the baselines of ``source_ids``, to be reported with the others taken
    about the same time (cluster mode, where each politeness key's crawl takes its own sources')."""
    if source_ids:
        session.execute(update(Source).where(Source.id.in_(list(source_ids))).values(baseline_run_id=run_id))


def unreported_baselines(session: Session) -> dict[str, int]:
    """The sources whose baseline was taken and not reported yet, with the run that took it."""
    rows = session.execute(select(Source.id, Source.baseline_run_id).where(Source.baseline_run_id.is_not(None)))
    return {row[0]: row[1] for row in rows if row[1] is not None}


def awaiting_baseline(session: Session, ids: Iterable[str], until: datetime) -> bool:
    """Whether an enabled source among ``ids`` was never polled and is due by ``until`` (or being polled: its
    poll's lease ends by then): the first poll of the sources it came with is not over."""
    wanted = list(ids)
    if not wanted:
        return False
    return session.scalar(select(func.count()).select_from(Source).where(
        Source.enabled.is_(True), Source.id.in_(wanted), Source.last_polled_at.is_(None),
        or_(Source.next_poll_at.is_(None), Source.next_poll_at <= until))) != 0


def baselines_reported(session: Session, source_ids: Sequence[str]) -> None:
    """The baselines of ``source_ids`` were reported."""
    if source_ids:
        session.execute(update(Source).where(Source.id.in_(list(source_ids))).values(baseline_run_id=None))


def baseline_counts(session: Session, source_ids: Sequence[str],
                    names: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """What the baseline of each of ``source_ids`` holds: its articles, those on the topic, its claim sentences."""
    wanted = list(source_ids)
    articles = {sid: (int(total), int(relevant or 0)) for sid, total, relevant in session.execute(
        select(Article.source_id, func.count(), func.sum(func.cast(Article.relevant, Integer)))
        .where(Article.source_id.in_(wanted)).group_by(Article.source_id))}
    sentences = {sid: int(count) for sid, count in session.execute(
        select(ClaimMatchRow.source_id, func.count()).where(ClaimMatchRow.source_id.in_(wanted))
        .group_by(ClaimMatchRow.source_id))}
    return [{"source_id": sid, "name": names.get(sid), "articles": articles.get(sid, (0, 0))[0],
             "relevant": articles.get(sid, (0, 0))[1], "claim_sentences": sentences.get(sid, 0)}
            for sid in wanted]
