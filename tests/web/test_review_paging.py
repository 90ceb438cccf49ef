"""The review queue is read in SQL pages (issue 15): a later page holds the entries the whole queue has there, a
candidate claim still listed once with its count, the total still right; hostile sentences stay text. SQLite and
PostgreSQL."""

from __future__ import annotations

import re

from markupsafe import escape

from db import review as review_store
from db.engine import Database
from tests.web.test_review import make_client
from tests.web.test_review_groups import _outlet, seed_groups

HOSTILE = '<script>alert(1)</script><img src=x onerror="x">'
# Older new claims of other outlets, each its own entry (hours before the seed's first version).
OLDER = [("north", f"About 1,200 North Korean loggers work in Amur forests {HOSTILE}.", -10),
         ("south", "Some 800 North Korean builders were seen at sites in Kazan this spring.", -11),
         ("east", "Nearly 600 North Korean seamstresses sew uniforms in Dandong factories.", -12)]


def _seed(db: Database) -> int:
    seed_groups(db)
    for source_id, sentence, hours in OLDER:
        _outlet(db, source_id, f"Report {source_id}", sentence, hours=hours)
    with db.read() as session:
        return len(review_store.queue(session, 1, 500).items)


def test_a_later_page_holds_what_the_whole_queue_has_there(database: Database) -> None:
    entries = _seed(database)
    with database.read() as session:
        whole = review_store.queue(session, 1, 500)
        pages = [review_store.queue(session, n, 2) for n in range(1, 5)]
    assert whole.total == entries >= 5
    assert [item.match_id for page in pages for item in page.items] == [item.match_id for item in whole.items]
    assert {page.total for page in pages} == {entries}
    # The candidate three outlets reported is listed once, on the first page, with its count.
    grouped = [item for page in pages for item in page.items if item.sightings > 1]
    assert len(grouped) == 1 and grouped[0] == pages[0].items[0] and grouped[0].sightings == 3
    assert pages[1].items == whole.items[2:4] and pages[1].page == 2


def test_a_queue_read_in_small_batches_pages_and_counts_the_same(database: Database) -> None:
    entries = _seed(database)
    with database.read() as session:
        whole = review_store.queue(session, 1, 500)
        # One entry a page, read a few at a time: the reading stops before the queue's end, and the total is the
        # queued sentences less the candidate's other sightings met on the way.
        pages = [review_store.queue(session, n, 1, scan_batch=1) for n in range(1, entries + 1)]
    assert [page.items[0].match_id for page in pages] == [item.match_id for item in whole.items]
    assert [page.total for page in pages] == [entries] * entries


def test_the_second_page_of_the_review_page(database: Database) -> None:
    entries = _seed(database)
    with database.read() as session:
        whole = review_store.queue(session, 1, 500)
    with make_client(database, page_size=2) as client:
        pages = [client.get(f"/review?page={n}").text for n in range(1, (entries + 1) // 2 + 1)]
    first, second = pages[0], pages[1]
    for item in whole.items[2:4]:
        assert str(escape(item.sentence)) in second and str(escape(item.sentence)) not in first
    assert f"Page 2 of {(entries + 1) // 2}" in second
    assert re.search(r'rel="next" href="/review\?state=open&amp;page=3"', second)
    assert f"Open <span class=\"badge\">{entries}</span>" in second
    hostile = str(escape(OLDER[0][1]))
    assert sum(hostile in html for html in pages) == 1
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
