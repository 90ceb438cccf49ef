"""Alert messages' links and the event page (``/events/{id}``), over a crawled database (SQLite and PostgreSQL):
the link in a rendered message opens the article page at the event's version, the event page leads there too, hostile text shows as
text, an unknown id is a 404 page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from typing import Any

from markupsafe import escape
from sqlalchemy import select
from starlette.testclient import TestClient

from alerts.render import render_event
from db import events
from db.engine import Database
from db.models import ArticleVersion, Event
from web.app import create_app

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
WEB_URL = "http://testserver"


def _linked_path(text: str) -> str:
    found = re.search(r"Open in labourwatch <http://testserver(/\S+)>", text)
    assert found, text
    return found.group(1)


def _story(db: Database) -> tuple[int, int, int]:
    """A story event about a stored article version, its details hostile; (event id, article id, version no.)."""
    with db.read() as session:
        version = session.scalars(select(ArticleVersion).order_by(ArticleVersion.id.desc()).limit(1)).one()
        article_id, version_id, number = version.article_id, version.id, version.number
    claim = {"claim_id": "K01", "claim_text": f"About 10,000 {HOSTILE}", "claim_source": "UN", "figures": ["12,000"],
             "confidence": 0.91, "sentence_index": 2}
    details: dict[str, Any] = {
        "action": "changed", "version": number, "omitted": {"background": 2, "repeats": 1},
        "claims": [{**claim, "verdict": "updates", "old_values": ["10,000"], "new_values": ["12,000"],
                    "sentence": f"Over 12,000 workers {HOSTILE} now."},
                   {**claim, "verdict": "corroborates", "claim_id": "K03", "old_values": [], "new_values": [],
                    "sentence": "Restated."}],
        "edit": {"summary": f"headline changed {HOSTILE}", "changed": ["title"], "added": [f"Added {HOSTILE}."],
                 "removed": ["Removed one."], "figures_before": [], "figures_after": [],
                 "title_before": f"Before {HOSTILE}"},
        "copy_of": {"article_id": article_id, "source_id": "wire", "title": f"Wire {HOSTILE}",
                    "url": "javascript:alert(3)", "similarity": 0.93}}
    draft = events.EventDraft("story", f"story:test:v{version_id}", f"Headline {HOSTILE}",
                              f"K01 updated: 10,000 → 12,000 {HOSTILE}", source_id=None,
                              url="javascript:alert(4)", article_id=article_id, version_id=version_id,
                              details=details)
    with db.write() as session:
        events.record_events(session, [draft], None, datetime.now(UTC))
    with db.read() as session:
        event_id = session.scalar(select(Event.id).where(Event.key == draft.key))
    assert event_id is not None
    return event_id, article_id, number


def _event(db: Database, event_id: int) -> dict[str, Any]:
    with db.read() as session:
        found = session.get(Event, event_id)
        assert found is not None
        return events.event_dict(found)


def test_the_link_in_a_message_opens_the_event_page_and_its_article_version(crawled_database: Database) -> None:
    db = crawled_database
    story_id, article_id, number = _story(db)
    with db.read() as session:
        stored = list(session.scalars(select(Event.id).where(Event.version_id.is_not(None)).limit(3)))
    with TestClient(create_app(db)) as client:
        for event_id in [story_id, *stored]:
            event = _event(db, event_id)
            message = render_event(event, WEB_URL)
            path = _linked_path(message.text or "")
            # The message opens the article page at the event's version (its diff), not the article's top.
            assert path == f"/articles/{event['article_id']}#version-{event['version_id']}", path
            assert f"({WEB_URL}{path})" in message.body
            article = client.get(path.split("#")[0])
            assert article.status_code == 200, (path, article.text[-500:])
            assert f'<h3 id="version-{event["version_id"]}">' in article.text
            # The event page still says which version it is about, and links there too.
            response = client.get(f"/events/{event_id}")
            assert response.status_code == 200
            anchor = re.search(r'<a class="article" href="(/articles/\d+)#v(\d+)"', response.text)
            assert anchor, response.text
            assert f'id="v{anchor.group(2)}"' in client.get(anchor.group(1)).text
        page = client.get(f"/events/{story_id}").text
    assert f'href="/articles/{article_id}#v{number}"' in page
    assert "<script>" not in page and "<img src=x" not in page and str(escape(HOSTILE)) in page
    assert 'href="javascript' not in page
    # The story's details: its claims with old → new values, its edit, what was left out, the copy it is.
    assert "<del>10,000</del> → <ins>12,000</ins>" in page and 'href="/claims/K03"' in page
    assert f"headline changed {escape(HOSTILE)}" in page and f"Before {escape(HOSTILE)}" in page
    assert "2 background sentence(s)" in page and f'Copy of <a href="/articles/{article_id}">' in page


def test_an_unknown_event_is_a_404_page(database: Database) -> None:
    with TestClient(create_app(database)) as client:
        for path in ("/events/123456", f"/events/{2**40}"):
            response = client.get(path)
            assert response.status_code == 404 and "text/html" in response.headers["content-type"]
            assert "There is no event with id" in unescape(response.text)
