"""The pages whose cost must not grow with history (issue 15) still show the right figures: the dashboard's counts by
type over its windows (one short range of ``ix_events_type_created_at`` per type) and the events page's count, capped at
``COUNT_CAP``; on SQLite and PostgreSQL, over events written straight into the table at chosen ages."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from starlette.testclient import TestClient

from db import browse
from db.browse import COUNT_CAP, EventFilter
from db.engine import Database
from db.events import EVENT_TYPES
from db.migrate import upgrade
from db.models import Event
from web.app import create_app
from web.types import WebOptions

# (age, type, how many): on both sides of the 24-hour and 7-day edges.
AGES = [(timedelta(hours=1), "story", 3), (timedelta(hours=1), "new_claim", 1),
        (timedelta(hours=23, minutes=50), "story", 1), (timedelta(hours=25), "claim_updated", 2),
        (timedelta(days=6, hours=23), "baseline", 1), (timedelta(days=7, hours=1), "story", 5),
        (timedelta(days=30), "new_article", 2)]


def _add(db: Database, rows: list[tuple[datetime, str]], start: int = 0) -> None:
    with db.engine.begin() as conn:
        conn.execute(insert(Event), [
            {"type": kind, "key": f"test:{start + n}", "created_at": at, "title": f"Event {start + n}",
             "summary": "", "details": {}, "importance": 0} for n, (at, kind) in enumerate(rows)])


@pytest.fixture
def history(database: Database) -> Iterator[tuple[Database, datetime]]:
    upgrade(database)
    now = datetime.now(UTC)
    _add(database, [(now - age, kind) for age, kind, count in AGES for _ in range(count)])
    yield database, now


def _client(db: Database) -> TestClient:
    return TestClient(create_app(db, WebOptions(page_size=7)))


def _expected(db: Database, since: datetime) -> Counter[str]:
    with db.read() as session:
        return Counter(session.scalars(select(Event.type).where(Event.created_at >= since)))


def test_dashboard_counts_each_type_over_its_windows(history: tuple[Database, datetime]) -> None:
    db, now = history
    day, week = _expected(db, now - timedelta(hours=24)), _expected(db, now - timedelta(days=7))
    assert (day["story"], week["story"], week["baseline"], week["new_article"]) == (4, 4, 1, 0)
    with db.read() as session:
        assert browse.event_counts(session, now) == {kind: (day[kind], week[kind]) for kind in EVENT_TYPES}
    response = _client(db).get("/")
    assert response.status_code == 200
    for kind in EVENT_TYPES:
        for window, expected in (("24h", day[kind]), ("7d", week[kind])):
            shown = re.search(rf'data-type="{kind}">.*?data-window="{window}">(\d+)<', response.text, re.S)
            assert shown and int(shown.group(1)) == expected, (kind, window)
    totals = re.findall(r'<tfoot>.*?data-window="24h">(\d+)<.*?data-window="7d">(\d+)<', response.text, re.S)
    assert totals == [(str(sum(day.values())), str(sum(week.values())))]


def test_the_events_page_counts_up_to_the_cap_then_says_more(history: tuple[Database, datetime]) -> None:
    db, now = history
    client = _client(db)
    assert "<strong>15</strong> events, newest first" in client.get("/events").text
    assert "<strong>2</strong> events match these filters" in client.get("/events?type=claim_updated").text
    _add(db, [(now, "story")] * (COUNT_CAP + 1), start=100)
    page = client.get("/events").text
    assert f"More than <strong>{COUNT_CAP:,}</strong> events, newest first" in page
    # A filter matching few events is still counted exactly, and the pages are keyset pages as before.
    assert "<strong>2</strong> events match these filters" in client.get("/events?type=claim_updated").text
    with db.read() as session:
        capped = browse.event_page(session, EventFilter(types=("story",)), limit=7, count_cap=9)
        exact = browse.event_page(session, EventFilter(types=("baseline",)), limit=7, count_cap=9)
        newest = list(session.scalars(select(Event.id).order_by(Event.id.desc()).limit(7)))
    assert (capped.total, capped.more, len(capped.rows), capped.older) == (9, True, 7, capped.rows[-1]["id"])
    assert (exact.total, exact.more, len(exact.rows)) == (1, False, 1)
    assert [row["id"] for row in capped.rows] == newest
