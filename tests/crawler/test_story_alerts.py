"""What a newsroom route receives, through the real crawl (the short version of bench/story_alerts_bench.py).

A first crawl of new sources, then other outlets publishing copies (wire, syndicated, light rewrites) and sibling
stories that repeat an earlier article's background paragraph and figures, then figure edits in articles, copies
included: a route that names no event types gets one baseline summary for the first crawl, then one message per
real story change, none about copies, and every figure edit of an article that copies nothing.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bench.story_alerts_bench import measure, totals
from db.engine import Database
from db.migrate import upgrade
from db.models import Delivery, Event


def test_one_message_per_story_change_and_none_from_copies_or_the_baseline(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'stories.db'}")
    upgrade(db)
    try:
        phases = measure(db, outlets=3, articles=4, pairs=8, seed=1)
        with db.read() as session:
            sent = {event_type for event_type, in session.execute(
                select(Event.type).join(Delivery, Delivery.event_id == Event.id))}
    finally:
        db.dispose()
    first, published, *_ = phases
    assert first.messages == first.baseline_summaries == 1  # the whole first crawl: one summary
    assert first.per_event_messages > 10  # what the same route received before stories
    assert published.story_changes > 0 and published.from_copies == 0
    total = totals(phases)
    assert total["figure_edits"] > 5 and total["recall"] == 1.0
    assert total["messages"] == total["story_changes"] + 1 and total["from_copies"] == 0
    assert sent == {"story", "baseline"}
