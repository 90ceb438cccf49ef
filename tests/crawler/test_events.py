"""Events from crawls: one per underlying change, written with the change; source health transitions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select

from db import events
from db.engine import Database
from db.events import DeliveryTarget, EventDraft
from db.models import Delivery, Event
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs
from tests.crawler.test_claim_matching import import_claims


def stored_events(db: Database) -> list[Event]:
    with db.read() as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def test_a_cold_crawl_makes_one_new_article_event_per_relevant_article(database: Database,
                                                                        web: FixtureWeb) -> None:
    import_claims(database)
    sources = specs(web.sources())
    crawl(database, sources)
    found = stored_events(database)
    relevant = {info.url for info in web.articles() if info.on_topic}
    assert sorted(e.url or "" for e in found if e.type == "new_article") == sorted(relevant)
    # One story per article, carrying that article's claim verdicts.
    stories = [e for e in found if e.type == "story"]
    assert sorted(e.url or "" for e in stories) == sorted(relevant)
    assert {"claim_updated", "claim_corroborated"} <= {e.type for e in found}
    for story in stories:
        claims = [e for e in found if e.version_id == story.version_id and e.type.startswith(("claim_", "new_c"))]
        assert len(story.details["claims"]) + sum(story.details["omitted"].values()) == len(claims)
    # The sources' first poll is their baseline: one summary, and every change of it stored quiet.
    baseline = [e for e in found if e.type == "baseline"]
    assert len(baseline) == 1 and {s["source_id"] for s in baseline[0].details["sources"]} == {s.id for s in sources}
    assert sum(s["relevant"] for s in baseline[0].details["sources"]) == len(relevant)
    for event in found:
        if event.type != "baseline":
            assert event.url in relevant and event.source_id and event.version_id
            assert event.details["quiet"] == "baseline"
    # A re-poll with nothing new, and one after every re-check, make no event at all.
    crawl(database, sources)
    assert len(stored_events(database)) == len(found)


def test_a_state_change_makes_edit_events_for_exactly_the_edited_articles(database: Database,
                                                                          web: FixtureWeb) -> None:
    import_claims(database)
    sources = specs(web.sources())
    crawl(database, sources)
    before = {e.id for e in stored_events(database)}
    change = web.advance()
    crawl(database, sources)
    new = [e for e in stored_events(database) if e.id not in before]
    edited = [e for e in new if e.type == "article_edited"]
    assert sorted(e.url or "" for e in edited) == sorted(change.edited)
    assert not {e.url for e in new} & set(change.sidebar_only)
    for url, (old, figure) in change.figure_edits.items():
        event = next(e for e in edited if e.url == url)
        assert "figures" in event.details["changed"] and figure in " ".join(event.details["added"])
        assert "figures" in event.summary and old in event.summary
        # Claim events of an edit come only from sentences the edit added.
        for claim_event in (e for e in new if e.url == url and e.type.startswith(("claim_", "new_claim"))):
            assert claim_event.details["sentence"] in event.details["added"]
    new_articles = {e.url for e in new if e.type == "new_article"}
    assert new_articles == {url for url in change.new if any(i.url == url and i.on_topic for i in web.articles())}
    assert Counter(e.key for e in stored_events(database)).most_common(1)[0][1] == 1


def test_a_source_failing_n_times_raises_one_event_and_recovery_another(database: Database,
                                                                         web: FixtureWeb) -> None:
    broken = {"id": "flaky", "kind": "feed", "url": web.site_url("fault") + "/faults/500.xml"}
    for _ in range(4):
        crawl(database, specs([broken]), failing_after=3)
    failing = [e for e in stored_events(database) if e.type == "source_failing"]
    assert len(failing) == 1 and failing[0].source_id == "flaky" and failing[0].details["failures"] == 3
    working = dict(broken, url=web.sources()[0]["url"])
    crawl(database, specs([working]), failing_after=3)
    crawl(database, specs([working]), failing_after=3)
    recovered = [e for e in stored_events(database) if e.type == "source_recovered"]
    assert len(recovered) == 1 and recovered[0].details["failures_before"] == 4


def test_lowering_failing_after_below_a_streak_still_reports_the_source(database: Database,
                                                                        web: FixtureWeb) -> None:
    broken = {"id": "flaky", "kind": "feed", "url": web.site_url("fault") + "/faults/500.xml"}
    for _ in range(4):
        crawl(database, specs([broken]), failing_after=10)  # 4 failures: under the threshold, no event
    assert not [e for e in stored_events(database) if e.type == "source_failing"]
    crawl(database, specs([broken]), failing_after=3)  # a reload lowered it: 5 >= 3, reported now
    crawl(database, specs([broken]), failing_after=3)  # and only once
    failing = [e for e in stored_events(database) if e.type == "source_failing"]
    assert len(failing) == 1 and failing[0].details["failures"] == 5


def test_record_events_is_idempotent_and_writes_one_delivery_per_target(database: Database) -> None:
    draft = EventDraft("new_claim", "new_claim:test", "Title", "Summary", details={"sentence": "x"})
    targets = [DeliveryTarget("newsroom", "aaaa", "json://127.0.0.1"), DeliveryTarget("newsroom", "bbbb", "mailto")]

    def router(_: EventDraft) -> list[DeliveryTarget]:
        return targets

    now = datetime.now(UTC)
    with database.write() as session:
        first = events.record_events(session, [draft, draft], router, now)
    with database.write() as session:
        second = events.record_events(session, [draft], router, now)
    assert len(first) == 1 and second == []
    with database.read() as session:
        rows: list[Any] = list(session.scalars(select(Delivery)))
    assert sorted(r.destination for r in rows) == ["aaaa", "bbbb"]
    assert len({r.idempotency_key for r in rows}) == 2 and all(r.status == "pending" for r in rows)


def test_record_changes_stores_each_change_at_its_own_time_in_two_statements(database: Database) -> None:
    """The crawl's writer records a batch's changes together: each keeps its time, a key twice is one event (the
    first draft's), quiet drafts get no delivery, and the events come in the changes' order."""
    early, late = datetime(2026, 5, 1, 8, 0, tzinfo=UTC), datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    first = EventDraft("new_article", "new_article:a1", "One", "first")
    again = EventDraft("new_article", "new_article:a1", "One again", "second")
    quiet = EventDraft("new_claim", "new_claim:v2:s0", "Two", "quiet", quiet=True)
    other = EventDraft("new_article", "new_article:a3", "Three", "third")
    statements: list[str] = []

    def router(_: EventDraft) -> list[DeliveryTarget]:
        return [DeliveryTarget("newsroom", "aaaa", "json://127.0.0.1")]

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    with database.write() as session:
        connection = session.connection()
        sa_event.listen(connection, "before_cursor_execute", count)
        stored = events.record_changes(session, [([first, quiet], early), ([again, other], late)], router)
        sa_event.remove(connection, "before_cursor_execute", count)
    assert len(stored) == 3 and stored == sorted(stored)
    assert len([s for s in statements if s.lstrip().upper().startswith("INSERT")]) == 2
    found = stored_events(database)
    assert [(e.key, e.title, e.created_at) for e in found] == [
        ("new_article:a1", "One", early), ("new_claim:v2:s0", "Two", early), ("new_article:a3", "Three", late)]
    with database.read() as session:
        rows = {r.event_id: r.next_attempt_at for r in session.scalars(select(Delivery))}
    assert rows == {found[0].id: early, found[2].id: late}
