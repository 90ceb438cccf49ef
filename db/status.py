"""How the monitor is doing, from the database alone: source health, re-checks, the outbox, runs and events.

``status_report`` gathers it as JSON-able data for ``labourwatch status``; ``check_problems`` turns a report
into the reasons an operator's check should fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.cluster_status import cluster_report
from db.events import EVENT_TYPES
from db.models import Article, CrawlRun, Delivery, Event, Source
from db.outbox import DEAD, FAILED, PENDING, STATUSES
from db.queries import _iso, recent_errors, source_rows

OK, FAILING, NEVER_POLLED, DISABLED = "ok", "failing", "never_polled", "disabled"
HEALTHS = (FAILING, NEVER_POLLED, OK, DISABLED)  # worst first: the order of the sources table
EVENT_WINDOW, WEEK = timedelta(hours=24), timedelta(days=7)


def health_of(enabled: bool, last_polled_at: object, consecutive_failures: int) -> str:
    """A source's health: disabled, failing (any consecutive failure), never polled, or ok."""
    if not enabled:
        return DISABLED
    if consecutive_failures > 0:
        return FAILING
    return NEVER_POLLED if last_polled_at is None else OK


def source_health(row: dict[str, Any]) -> str:
    """The health of one source row of ``queries.source_rows``."""
    return health_of(row["enabled"], row["last_polled_at"], row["consecutive_failures"])


def health_counts(session: Session) -> dict[str, int]:
    """How many sources are in each health, every health present."""
    counts = dict.fromkeys(HEALTHS, 0)
    for enabled, last_polled_at, failures in session.execute(
            select(Source.enabled, Source.last_polled_at, Source.consecutive_failures)):
        counts[health_of(enabled, last_polled_at, failures)] += 1
    return counts


def count_by(session: Session, column: InstrumentedAttribute[str], known: Iterable[str],
             *where: ColumnElement[bool]) -> dict[str, int]:
    """Rows per value of ``column`` (every ``known`` value present, 0 when none), optionally filtered."""
    counts = dict.fromkeys(known, 0)
    for value, count in session.execute(select(column, func.count()).where(*where).group_by(column)):
        counts[str(value)] = int(count)
    return counts


def due_rechecks_count(session: Session, now: datetime) -> int:
    """Articles whose re-check is due: the condition of ``repository.due_rechecks``, counted rather than listed
    (that one stops at a limit)."""
    return int(session.scalar(select(func.count()).select_from(Article)
                              .where(Article.next_check_at.is_not(None), Article.next_check_at <= now)) or 0)


def _overdue_seconds(next_poll_at: str | None, now: datetime) -> int | None:
    if next_poll_at is None:
        return None  # polled by the one-shot crawl, or never scheduled: no promise to be late on
    return max(0, int((now - datetime.fromisoformat(next_poll_at)).total_seconds()))


def _sources(session: Session, now: datetime) -> list[dict[str, Any]]:
    rows = source_rows(session)
    for row in rows:
        row["health"] = source_health(row)
        row["overdue_seconds"] = _overdue_seconds(row["next_poll_at"], now)
    rows.sort(key=lambda r: (HEALTHS.index(r["health"]), -r["consecutive_failures"], r["id"]))
    return rows


def _rechecks(session: Session, now: datetime) -> dict[str, Any]:
    upcoming = session.scalar(select(func.min(Article.next_check_at)).where(Article.next_check_at > now))
    return {"due": due_rechecks_count(session, now), "next_at": _iso(upcoming)}


def _deliveries(session: Session) -> dict[str, Any]:
    counts: dict[str, Any] = count_by(session, Delivery.status, STATUSES)
    # "Pending" for an operator means not delivered yet: failed deliveries are waiting for their retry too.
    oldest = session.scalar(select(func.min(Delivery.created_at)).where(Delivery.status.in_((PENDING, FAILED))))
    counts["oldest_pending_at"] = _iso(oldest)
    return counts


def _last_run(session: Session) -> dict[str, Any] | None:
    run = session.scalars(select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(1)).first()
    if run is None:
        return None
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {"id": run.id, "trigger": run.trigger, "status": run.status, "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at), "duration_seconds": duration, "sources": len(run.sources),
            "error_count": run.error_count, "stats": dict(sorted(run.stats.items()))}


def event_counts(session: Session, now: datetime) -> dict[str, tuple[int, int]]:
    """Events by type created in the last 24 hours and in the last 7 days (every type present), whatever the length
    of the history: naming the types makes one short range of ``ix_events_type_created_at`` per type, in type
    order (grouped by type alone, SQLite would walk ``ix_events_type`` through every event ever stored)."""
    counts = dict.fromkeys(EVENT_TYPES, (0, 0))
    in_day = func.sum(case((Event.created_at >= now - EVENT_WINDOW, 1), else_=0))
    for kind, day, week in session.execute(
            select(Event.type, in_day, func.count())
            .where(Event.type.in_(EVENT_TYPES), Event.created_at >= now - WEEK).group_by(Event.type)):
        counts[str(kind)] = (int(day or 0), int(week))
    return counts



def events_per_day(session: Session, now: datetime, days: int = 30) -> tuple[list[date], dict[str, list[int]]]:
    """Events by type created on each of the ``days`` UTC days up to ``now``'s: the days oldest first, and per type
    with any event in them, its count on each day. Like ``event_counts``, one range of
    ``ix_events_type_created_at`` per type; the events are counted by day in the database."""
    today = now.astimezone(UTC).date()
    listed = [today - timedelta(days=days - 1 - i) for i in range(days)]
    since = datetime.combine(listed[0], time(), UTC)
    # SQLite stores UTC text, whose date() is the UTC day; PostgreSQL's timestamptz is turned to UTC first, as the
    # session's time zone may be another.
    day = (func.date(Event.created_at) if session.get_bind().dialect.name == "sqlite"
           else func.date(func.timezone("UTC", Event.created_at)))
    index = {when: i for i, when in enumerate(listed)}
    counts: dict[str, list[int]] = {}
    for kind, when, count in session.execute(
            select(Event.type, day, func.count()).where(Event.type.in_(EVENT_TYPES), Event.created_at >= since)
            .group_by(Event.type, day)):
        position = index.get(date.fromisoformat(str(when)[:10]))
        if position is not None:  # an event stamped after ``now`` (a clock ahead) is left out
            counts.setdefault(str(kind), [0] * days)[position] += int(count)
    return listed, {kind: counts[kind] for kind in EVENT_TYPES if kind in counts}

def source_health_report(session: Session, now: datetime) -> dict[str, Any]:
    """The sources with their health (worst first), how many are in each health, and the last crawl run: what
    the dashboard shows, without the counts over the outbox and the articles that ``status_report`` adds."""
    sources = _sources(session, now)
    health_counts = dict.fromkeys(HEALTHS, 0)
    for row in sources:
        health_counts[row["health"]] += 1
    return {"generated_at": _iso(now), "sources": sources, "health_counts": health_counts,
            "last_run": _last_run(session)}


def status_report(session: Session, now: datetime, *, error_limit: int = 10,
                  stall_window: timedelta | None = None) -> dict[str, Any]:
    """Everything ``labourwatch status`` shows, as JSON-able data (timestamps as ISO strings); ``cluster`` is
    None on SQLite (``db.cluster_status``, its nodes silent for longer than ``stall_window`` marked)."""
    health = source_health_report(session, now)
    return {
        "generated_at": health["generated_at"],
        "sources": health["sources"],
        "health_counts": health["health_counts"],
        "rechecks": _rechecks(session, now),
        "deliveries": _deliveries(session),
        "recent_errors": recent_errors(session, None, error_limit),
        "last_run": health["last_run"],
        "events_24h": {kind: day for kind, (day, _) in event_counts(session, now).items()},
        "cluster": cluster_report(session, now, stall_window),
    }


def _older_than(stamp: str | None, report: dict[str, Any], age: timedelta) -> bool:
    if stamp is None:
        return False
    return datetime.fromisoformat(report["generated_at"]) - datetime.fromisoformat(stamp) > age


def check_problems(report: dict[str, Any], overdue_after: timedelta = timedelta(minutes=15)) -> list[str]:
    """Why a monitoring check should fail on this report: failing or overdue enabled sources, dead deliveries."""
    problems = []
    for row in report["sources"]:
        if row["health"] == FAILING:
            problems.append(f"source {row['id']} is failing: {row['consecutive_failures']} failure(s) in a row, "
                            f"last error {row['last_error_code'] or 'unknown'}")
        elif row["enabled"] and (row["overdue_seconds"] or 0) > overdue_after.total_seconds():
            problems.append(f"source {row['id']} is overdue by {row['overdue_seconds']} s "
                            f"(next poll was due at {row['next_poll_at']})")
        elif (row["health"] == NEVER_POLLED and row["next_poll_at"] is None
              and _older_than(row["created_at"], report, overdue_after)):
            # Enabled, never polled and nothing scheduled: no daemon or crawl has it (a source added while
            # the daemon ran with an older config), so nothing would ever be overdue either.
            problems.append(f"source {row['id']} has never been polled (added {row['created_at']})")
    dead = report["deliveries"][DEAD]
    if dead:
        problems.append(f"{dead} dead deliver{'y' if dead == 1 else 'ies'} "
                        "(see `labourwatch alerts list --status dead`; `alerts retry --dead` queues them again)")
    return problems
