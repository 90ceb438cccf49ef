"""The pages whose cost must not grow with history (issue 15) still show the right figures: the dashboard's counts by
type over its windows (one short range of ``ix_events_type_created_at`` per type) and the events page's count, capped at
``COUNT_CAP``; on SQLite and PostgreSQL, over events written straight into the table at chosen ages."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

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


def test_events_per_day_counts_each_utc_day_of_the_last_30_by_type(database: Database) -> None:
    upgrade(database)
    now = datetime(2026, 3, 10, 0, 30, tzinfo=UTC)  # half an hour into a day: an hour ago is the day before
    _add(database, [(now, "story"), (now - timedelta(minutes=20), "story"), (now - timedelta(hours=1), "story"),
                    (now - timedelta(hours=1), "claim_updated"), (now - timedelta(days=29), "baseline"),
                    (now - timedelta(days=29, hours=1), "baseline"), (now + timedelta(days=1), "story")])
    with database.read() as session:
        days, counts = browse.events_per_day(session, now)
    assert (len(days), days[0], days[-1]) == (30, date(2026, 2, 9), date(2026, 3, 10))
    # Types in EVENT_TYPES order, only those with events; 29 days and an hour ago is before the first day, and an
    # event stamped after ``now`` is left out.
    assert list(counts) == ["story", "baseline", "claim_updated"]
    assert (counts["story"][-1], counts["story"][-2], sum(counts["story"])) == (2, 1, 3)
    assert (counts["claim_updated"][-2], sum(counts["claim_updated"])) == (1, 1)
    assert (counts["baseline"][0], sum(counts["baseline"])) == (1, 1)


def test_the_dashboard_draws_the_events_per_day(history: tuple[Database, datetime]) -> None:
    db, now = history
    since = datetime.combine(now.date() - timedelta(days=29), datetime.min.time(), UTC)
    with db.read() as session:
        cells = Counter((kind, at.date()) for kind, at in session.execute(
            select(Event.type, Event.created_at).where(Event.created_at >= since)))
    html = _client(db).get("/").text
    chart = html[html.index('<svg class="chart events-chart"'):html.index("</svg>")]
    assert len(re.findall(r"<rect ", chart)) == len(cells)
    for (kind, day), count in cells.items():
        assert f"<title>{day.isoformat()}: {count} {kind.replace('_', ' ')}</title>" in chart
    # The numbers as a table too, and a legend of the types drawn.
    start = html.index('<table class="chart-data">')
    table = html[start:html.index("</table>", start)]
    assert len(re.findall(r"<tr><th>\d{4}-\d\d-\d\d</th>", table)) == 30 and f"<tr><th>{now.date().isoformat()}</th>" in table
    assert '<li><span class="swatch event-story"></span>story</li>' in html
