"""The researcher pages (dashboard, events, article, claims, claim) over a database filled by real crawls of the
fixture news web (edited and re-headlined articles, claim matches, a failing source), old events, and one hostile
article, claim and source whose text carries markup; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import yaml
from markupsafe import escape
from sqlalchemy import create_engine, func, select, text
from starlette.testclient import TestClient

from analysis.claims.matcher import ClaimMatch
from analysis.claims.model import Claim, Figure, claims_from_yaml_data
from analysis.claims.quantities import extract_quantities
from analysis.claims.sentences import SentenceMatch
from analysis.diff import diff_versions
from analysis.text import content_hash
from analysis.types import ArticleDoc, Relevance
from db import claims as claim_store
from db import events, repository
from db.browse_views import figure_history
from db.engine import Database
from db.migrate import upgrade
from db.models import Article, ClaimMatchRow, Event, KnownClaim, Source
from db.queries import diff_rows
from db.status import health_counts
from labourwatch.fixtureweb import FixtureWeb, StateChange
from tests.crawler.helpers import crawl, specs
from web.app import create_app
from web.types import WebOptions

KNOWN_CLAIMS = Path(__file__).resolve().parents[2] / "known_claims.yaml"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
HOSTILE_ESCAPED = str(escape(HOSTILE))
PAGE_SIZE = 7


@dataclass
class Seeded:
    """A crawled database, what the fixture web changed, and the ids the tests look for."""

    db: Database
    changes: list[StateChange]
    hostile_article: int
    now: datetime


# --- seeding ------------------------------------------------------------------------------------------

def _hostile_fetch(text_: str, title: str, at: datetime, matches: tuple[SentenceMatch, ...]) -> repository.ArticleFetch:
    url = "https://hostile.example/news/1"
    doc = ArticleDoc(url=url, canonical_url=url, title=title, text=text_, language="en",
                     published=datetime(2025, 12, 31, 21, tzinfo=UTC))
    raw = repository.RawCapture(url, 200, {"content-type": "text/html"}, f"<h1>{title}</h1>".encode(), at)
    return repository.ArticleFetch(doc, Relevance(True, 0.9, ("worker*",)), content_hash(title, text_), raw,
                                   "hostile-src", url, matches=matches, claims_digest="test")


def _store_hostile(db: Database, now: datetime) -> int:
    """A hostile source (failing, its error carrying markup), claim, and article in two versions, stored and
    turned into events through the crawl's own functions."""
    claim = Claim(id="X99", text=f"About 12,000 North Korean workers {HOSTILE} are in Russia.",
                  subject="hostile", figures=(Figure(12000, "workers", "about"),), source=f"Gazette {HOSTILE}")
    sentence = f"More than 15,000 North Korean workers {HOSTILE} were sent to Russia."
    texts = [f"About 12,000 North Korean workers were sent to Russia. {HOSTILE} Officials said so.",
             f"{sentence} {HOSTILE} Officials said so."]
    titles = [f"Workers sent {HOSTILE}", f"Workers rushed {HOSTILE}"]
    match = SentenceMatch(0, sentence, ClaimMatch("updates", "X99", 0.8, 0.8, ("12,000",), ("15,000",)),
                          on_subject=True, figures=("15,000",))
    options = repository.StoreOptions(revisit=(timedelta(hours=1),))
    with db.write() as session:
        claim_store.import_claims(session, [claim])
        repository.sync_sources(session, specs([{"id": "hostile-src", "kind": "feed", "name": f"Gazette {HOSTILE}",
                                                 "url": "https://hostile.example/rss.xml"}]), disable_missing=False)
        repository.record_source_result(session, "hostile-src", ok=False, at=now, items=0, new=0,
                                        not_modified=False, error_code="http_500", error=f"Server said {HOSTILE}")
    for number, (title, body) in enumerate(zip(titles, texts, strict=True)):
        at = now + timedelta(seconds=number)
        with db.write() as session:
            found = (match,) if number else ()
            outcome = repository.store_article(session, _hostile_fetch(body, title, at, found), options, diff_versions)
            stored = events.StoredArticle(outcome.action, outcome.article_id, outcome.version_id,
                                          outcome.version_number, "hostile-src", "https://hostile.example/news/1",
                                          title, 0.9, outcome.diff, outcome.previous_title)
            events.record_events(session, events.article_events(stored, found, {"X99": claim}), None, at)
    return outcome.article_id


def _seed(db: Database) -> Seeded:
    upgrade(db)
    with db.write() as session:
        claim_store.import_claims(session, claims_from_yaml_data(yaml.safe_load(KNOWN_CLAIMS.read_text("utf-8"))))
    changes = []
    with FixtureWeb(fault_delay=1.0) as web:
        sources = specs(web.sources())
        assert crawl(db, sources).status == "ok"
        for _ in range(2):
            changes.append(web.advance())
            assert crawl(db, sources).status == "ok"
        broken = {"id": "broken-feed", "kind": "feed", "url": web.site_url("fault") + "/faults/500.xml"}
        crawl(db, specs([broken]), failing_after=1)
        first_source = sources[0].id
    now = datetime.now(UTC)
    with db.write() as session:  # events older than a day and than a week
        for age, kind in ((timedelta(days=3), events.NEW_CLAIM), (timedelta(days=10), events.CLAIM_CORROBORATED)):
            draft = events.EventDraft(kind, f"test:{kind}:{age.days}", f"Old {age.days}", "old event",
                                      source_id=first_source, claim_id="K01")
            events.record_events(session, [draft], None, now - age)
    return Seeded(db, changes, _store_hostile(db, now), now)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One seeded database per backend for the whole module (the crawls take seconds); the tests only read."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path_factory.mktemp('pages') / 'pages.db'}")
        yield _seed(db)
        db.dispose()
        return
    # A database of our own on the test server: the shared one is reset by other tests' fixtures.
    base: str = request.getfixturevalue("pg_database")
    name = f"labourwatch_pages_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(base.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield _seed(db)
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.db, WebOptions(page_size=PAGE_SIZE))) as test_client:
        yield test_client


# --- helpers ---------------------------------------------------------------------------------------

def page(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.text[-2000:])
    assert "text/html" in response.headers["content-type"]
    return response.text


def event_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-event-id="(\d+)"', html)]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


def stored_events(db: Database, *where: Any) -> list[Event]:
    with db.read() as session:
        return list(session.scalars(select(Event).where(*where).order_by(Event.id.desc())))


def article_id(db: Database, url: str) -> int:
    with db.read() as session:
        found = session.scalar(select(Article.id).where(Article.canonical_url == url))
    assert found is not None, url
    return found


def esc(value: str) -> str:
    return str(escape(value))


# --- dashboard ---------------------------------------------------------------------------------------

def test_dashboard_counts_events_by_type_like_the_database(seeded: Seeded, client: TestClient) -> None:
    html = page(client, "/")
    now = datetime.now(UTC)
    expected = {}
    for window, since in (("24h", now - timedelta(hours=24)), ("7d", now - timedelta(days=7))):
        expected[window] = Counter(e.type for e in stored_events(seeded.db, Event.created_at >= since))
        for kind in events.EVENT_TYPES:
            shown = re.search(rf'data-type="{kind}">.*?data-window="{window}">(\d+)<', html, re.S)
            assert shown and int(shown.group(1)) == expected[window][kind], (window, kind)
        total = re.search(rf'<tfoot>.*?data-window="{window}">(\d+)<', html, re.S)
        assert total and int(total.group(1)) == sum(expected[window].values())
    # The old events: 3 days old counts in the week only, 10 days old in neither.
    assert expected["7d"]["new_claim"] == expected["24h"]["new_claim"] + 1
    assert expected["7d"]["claim_corroborated"] == expected["24h"]["claim_corroborated"] > 0
    assert event_ids(html) == [e.id for e in stored_events(seeded.db)][:20]


def test_dashboard_shows_source_health_and_failing_sources_with_their_errors(seeded: Seeded,
                                                                             client: TestClient) -> None:
    html = page(client, "/")
    with seeded.db.read() as session:
        counts = health_counts(session)
        failing = list(session.scalars(select(Source).where(Source.consecutive_failures > 0)))
    for health, count in counts.items():
        assert re.search(rf'data-health="{health}">.*?<strong>{count}</strong>', html, re.S), health
    assert {s.id for s in failing} == {"broken-feed", "hostile-src"}
    listed = set(re.findall(r'class="failing-source" data-source="([^"]+)"', html))
    assert listed == {s.id for s in failing}
    broken = next(s for s in failing if s.id == "broken-feed")
    assert broken.last_error_code and f"<code>{broken.last_error_code}</code>" in html
    assert esc(broken.last_error or "") in html


# --- events -------------------------------------------------------------------------------------------

def test_events_filters_narrow_the_list(seeded: Seeded, client: TestClient) -> None:
    db = seeded.db
    every = stored_events(db)
    html = page(client, "/events")
    assert event_ids(html) == [e.id for e in every][:PAGE_SIZE]
    assert f"<strong>{len(every)}</strong> events" in html

    chosen = ("claim_updated", "article_edited")
    html = page(client, "/events?type=claim_updated&type=article_edited")
    wanted = [e.id for e in every if e.type in chosen]
    assert f"<strong>{len(wanted)}</strong> events match" in html
    assert event_ids(html) == wanted[:PAGE_SIZE]
    assert html.count("selected>") >= 2  # the form shows the filters it applied

    source = "hostile-src"
    assert [e.id for e in every if e.source_id == source] == event_ids(page(client, f"/events?source={source}"))

    claim = [e.id for e in every if e.claim_id == "K01"]
    assert len(claim) > 2
    assert f"<strong>{len(claim)}</strong> events match" in page(client, "/events?claim=K01")

    today = seeded.now.date()
    html = page(client, f"/events?from={today - timedelta(days=4)}&to={today - timedelta(days=2)}")
    old = [e for e in every if e.title == "Old 3"]
    assert event_ids(html) == [e.id for e in old] and len(old) == 1
    html = page(client, f"/events?from={today - timedelta(days=1)}&type=new_claim")
    assert "Old 3" not in html
    assert event_ids(html) == [e.id for e in every if e.type == "new_claim" and e.title != "Old 3"][:PAGE_SIZE]


def walk(client: TestClient, start: str, rel: str) -> list[list[int]]:
    pages, path = [], start
    while path is not None:
        html = page(client, path)
        pages.append(event_ids(html))
        path = link(html, rel)
        assert len(pages) < 100
    return pages


@pytest.mark.parametrize("filtered", [False, True])
def test_pagination_splits_newest_first_and_keeps_the_filters(seeded: Seeded, client: TestClient,
                                                              filtered: bool) -> None:
    events = stored_events(seeded.db)
    kinds = ("new_article", "claim_corroborated")
    # Which of an outlet's feeds finds an article first varies between crawls: filter on the busiest source.
    busiest = Counter(e.source_id for e in events if e.type in kinds).most_common(1)[0][0]
    query = f"type=new_article&type=claim_corroborated&source={busiest}" if filtered else ""
    expected = [e.id for e in events if not filtered or (e.type in kinds and e.source_id == busiest)]
    assert len(expected) > PAGE_SIZE  # two pages at least (how many events a crawl makes per source varies)
    pages = walk(client, f"/events?{query}", "next")
    assert [i for p in pages for i in p] == expected
    assert all(len(p) == PAGE_SIZE for p in pages[:-1]) and 0 < len(pages[-1]) <= PAGE_SIZE
    html = page(client, f"/events?{query}")
    older = link(html, "next")
    assert older and link(html, "prev") is None
    if query:
        assert f"type=new_article&type=claim_corroborated&source={busiest}&before=" in older
    # Back from the last page, following the "newer" links: the same pages in reverse.
    last = f"/events?{query}&before={pages[-2][-1]}"
    assert walk(client, last, "prev") == pages[::-1]


@pytest.mark.parametrize(("query", "message"), [
    ("type=bogus", "Unknown event type &#39;bogus&#39;; known: story, baseline, new_article"),
    ("from=2025-13-40", "`from` must be an ISO 8601 date or time such as 2026-01-31"),
    ("to=yesterday", "`to` must be an ISO 8601 date"),
    ("from=2025-02-01&to=2025-01-01", "`from` (2025-02-01) is after `to` (2025-01-01)"),
    ("before=abc", "`before` must be an event id"),
    ("after=-3", "`after` must be an event id"),
    ("before=5&after=3", "not both"),
    ("source=nowhere", "Unknown source &#39;nowhere&#39;; known: "),
    ("claim=K999", "Unknown claim &#39;K999&#39;"),
])
def test_bad_filters_are_a_400_page_saying_what_to_fix(client: TestClient, query: str, message: str) -> None:
    html = page(client, f"/events?{query}", 400)
    assert "Error 400" in html and message in html


# --- article --------------------------------------------------------------------------------------------

def test_article_page_shows_the_figure_edit_inline_and_side_by_side(seeded: Seeded, client: TestClient) -> None:
    edits = {url: figures for change in seeded.changes for url, figures in change.figure_edits.items()}
    assert edits
    for url, (old, new) in edits.items():
        html = page(client, f"/articles/{article_id(seeded.db, url)}")
        assert f'href="{esc(url)}" rel="noopener noreferrer nofollow"' in html
        assert 'id="v1"' in html and 'id="v2"' in html
        inline = html[html.index('class="diff-inline"'):html.index('class="side-by-side diff-columns"')]
        columns = html[html.index('class="side-by-side diff-columns"'):html.index("Full text of version 2")]
        with seeded.db.read() as session:
            diff = diff_rows(session, article_id=article_id(seeded.db, url))[0]
        removed, added = diff["removed"][0], diff["added"][0]
        marked_old = esc(removed).replace(esc(old), f'<mark class="figure-changed">{esc(old)}</mark>', 1)
        marked_new = esc(added).replace(esc(new), f'<mark class="figure-changed">{esc(new)}</mark>', 1)
        assert f'<del class="sentence">{marked_old}</del>' in inline
        assert f'<ins class="sentence">{marked_new}</ins>' in inline
        assert inline.index(marked_old) < inline.index(marked_new)
        # Side by side: the old sentence in the left column, the new one in the right, on one row.
        assert re.search(rf'class="cell before replace"><del>{re.escape(marked_old)}</del></div>\s*'
                         rf'<div class="cell after replace"><ins>{re.escape(marked_new)}</ins></div>', columns)
        assert f'<ins><mark class="figure-changed">{esc(new)}</mark></ins>' in html  # the figures line


def test_article_page_shows_a_headline_change(seeded: Seeded, client: TestClient) -> None:
    changes = {url: titles for change in seeded.changes for url, titles in change.headline_changes.items()}
    assert changes
    for url, (before, after) in changes.items():
        html = page(client, f"/articles/{article_id(seeded.db, url)}")
        assert f'<p class="headline-change">Headline: <del>{esc(before)}</del> → <ins>{esc(after)}</ins></p>' in html
        assert f'<h1 class="article-title">{esc(after)}</h1>' in html


def test_article_page_lists_the_claim_sentences_its_versions_matched(seeded: Seeded, client: TestClient) -> None:
    with seeded.db.read() as session:
        article = session.scalar(select(ClaimMatchRow.article_id).where(ClaimMatchRow.label == "updates")
                                 .order_by(ClaimMatchRow.id).limit(1))
        rows = list(session.scalars(select(ClaimMatchRow).where(ClaimMatchRow.article_id == article)))
    html = page(client, f"/articles/{article}")
    table = html[html.index('<table class="matches">'):]
    # One row per sentence, however many versions matched it.
    assert table.count('<tr class="match ') == len({row.sentence for row in rows})
    for row in rows:
        assert esc(row.sentence) in table
        if row.claim_id:
            assert f'<a href="/claims/{row.claim_id}">{row.claim_id}</a>' in table
        if row.label == "updates":
            assert f"<del>{esc(', '.join(row.old_values))}</del> → <ins>{esc(', '.join(row.new_values))}</ins>" in table


def test_unknown_ids_are_404_pages(client: TestClient) -> None:
    for path in ("/articles/987654", "/articles/99999999999999999999", "/claims/NOPE", "/articles/abc"):
        assert "Error 404" in page(client, path, 404)
    assert "There is no claim with id &#39;NOPE&#39;" in page(client, "/claims/NOPE", 404)


# --- claims ---------------------------------------------------------------------------------------------

def test_claims_list_shows_every_claim_with_its_match_count(seeded: Seeded, client: TestClient) -> None:
    html = page(client, "/claims")
    with seeded.db.read() as session:
        counts = {claim_id: n for claim_id, n in session.execute(
            select(ClaimMatchRow.claim_id, func.count()).group_by(ClaimMatchRow.claim_id))}
        claims = claim_store.list_claims(session)
    assert html.count('<tr class="claim ') == len(claims)
    for claim in claims:
        row = re.search(rf'data-claim="{claim.id}">(.*?)</tr>', html, re.S)
        assert row, claim.id
        assert esc(claim.text) in row.group(1) and esc(claim.source) in row.group(1)
        assert f'data-matches="{counts.get(claim.id, 0)}"' in row.group(1)
    assert "more than 50,000 workers" in html  # K01's figure, as text


def test_claim_page_lists_matches_by_outlet_and_the_figure_history_in_order(seeded: Seeded,
                                                                            client: TestClient) -> None:
    with seeded.db.read() as session:
        # A claim the seeded crawl both corroborated and updated (K01, K03 …: whichever the matcher chose).
        labels: dict[str, set[str]] = {}
        for claim_id, label in session.execute(select(ClaimMatchRow.claim_id, ClaimMatchRow.label)):
            labels.setdefault(claim_id or "", set()).add(label)
        claim_id = min(c for c, found in labels.items() if c and {"corroborates", "updates"} <= found)
        rows = list(session.scalars(select(ClaimMatchRow).where(ClaimMatchRow.claim_id == claim_id)))
        names = {id_: name for id_, name in session.execute(select(Source.id, Source.name))}
        source = session.scalars(select(KnownClaim.source).where(KnownClaim.id == claim_id)).one()
    html = page(client, f"/claims/{claim_id}")
    # Every match is listed once across the pages (newest first, PAGE_SIZE a page), and every outlet in the summary.
    listed, number, shown = re.findall(r'<tr class="match [^"]*" data-match="(\d+)"', html), 1, html
    while f'rel="next" href="?page={number + 1}"' in shown:
        number += 1
        shown = page(client, f"/claims/{claim_id}?page={number}")
        listed += re.findall(r'<tr class="match [^"]*" data-match="(\d+)"', shown)
    assert sorted(int(i) for i in listed) == sorted(r.id for r in rows)
    for outlet in {names.get(r.source_id or "") or r.source_id for r in rows}:
        assert f'<li class="outlet"><strong>{esc(outlet or "")}</strong>' in html
    assert esc(source) in html
    timeline = html[html.index('<ol class="timeline figure-timeline">'):html.index("<h2>Matched sentences</h2>")]
    entries = re.findall(r'<li class="report role-(\w+)" data-match="(\d+)">\s*<time datetime="([^"]+)"', timeline)
    assert entries and [e[2] for e in entries] == sorted((e[2] for e in entries), key=datetime.fromisoformat)
    by_id = {r.id: r for r in rows}
    seen: set[str] = set()
    for role, match_id, _ in entries:
        row = by_id[int(match_id)]
        if row.label == "corroborates":
            # A corroboration repeats the claim's value when it states an amount, else corroborates in words.
            amounts = [q for q in extract_quantities(row.sentence) if q.kind not in ("year", "date")]
            assert role == ("repeated" if amounts else "corroborated"), (row.sentence, role)
            continue
        value = ", ".join(row.new_values)
        # The first report of a changed value changed the claim; every later one repeats it.
        assert role == ("repeated" if value in seen else "changed"), (row.sentence, role)
        seen.add(value)
    assert "changed" in {role for role, _, _ in entries}
    assert '<span class="badge role-changed">changed</span>' in timeline
    first_update = min((r for r in rows if r.label == "updates"), key=lambda r: (r.matched_at, r.id))
    assert (f"<del>{esc(', '.join(first_update.old_values))}</del> → "
            f'<ins class="value">{esc(", ".join(first_update.new_values))}</ins>') in timeline


def test_figure_history_from_a_table() -> None:
    def match(id_: int, article: int, version: int, label: str, old: list[str], new: list[str]) -> dict[str, object]:
        return {"id": id_, "article_id": article, "version": version, "label": label, "old_values": old,
                "new_values": new}

    rows = [match(1, 10, 1, "corroborates", [], []), match(2, 11, 1, "updates", ["50,000"], ["45,000"]),
            match(3, 10, 2, "corroborates", [], []), match(4, 12, 1, "updates", ["50,000"], ["45,000"]),
            match(5, 10, 3, "updates", ["50,000"], ["60,000"]), match(6, 13, 1, "new", [], [])]
    history = figure_history("more than 50,000 workers", "BBC", rows)
    assert [(e["match"]["id"], e["role"], e["value"], e["previous"]) for e in history["timeline"]] == [
        (1, "repeated", "more than 50,000 workers", None), (2, "changed", "45,000", None),
        (4, "repeated", "45,000", None), (5, "changed", "60,000", "more than 50,000 workers")]
    assert history["timeline"][0]["also_versions"] == [2]
    groups = {g["value"]: g for g in history["groups"]}
    assert groups["more than 50,000 workers"]["origin"] == "BBC"
    assert [m["id"] for m in groups["more than 50,000 workers"]["repeats"]] == [1]
    assert groups["45,000"]["first"]["id"] == 2 and [m["id"] for m in groups["45,000"]["repeats"]] == [4]
    assert groups["45,000"]["changed_from"] == "50,000"


def test_a_corroboration_without_a_figure_repeats_no_value() -> None:
    rows = [{"id": 1, "article_id": 10, "version": 1, "label": "corroborates", "old_values": [], "new_values": [],
             "sentence": "North Korean labourers may be sent to Russia in large numbers, officials fear."},
            {"id": 2, "article_id": 11, "version": 1, "label": "corroborates", "old_values": [], "new_values": [],
             "sentence": "Over 50,000 North Korean workers may go to Russia in 2025."}]
    history = figure_history("more than 50,000 workers", "BBC", rows)
    assert [(e["match"]["id"], e["role"], e["value"]) for e in history["timeline"]] == [
        (1, "corroborated", None), (2, "repeated", "more than 50,000 workers")]
    assert [m["id"] for m in history["groups"][0]["repeats"]] == [2]


# --- hostile content and the CSP -----------------------------------------------------------------------

def test_hostile_text_is_escaped_on_every_page(seeded: Seeded, client: TestClient) -> None:
    paths = ["/", "/events", "/events?source=hostile-src", f"/articles/{seeded.hostile_article}", "/claims",
             "/claims/X99"]
    for path in paths:
        html = page(client, path)
        assert HOSTILE_ESCAPED in html, path
        assert "<script" not in html and "<img src=x" not in html and "alert(1)</script>" not in html, path
        assert " style=" not in html and "javascript:" not in html, path
        assert "/static/pages.css" in html, path
    article = page(client, f"/articles/{seeded.hostile_article}")
    # In the diff too: the headline change and the added sentence.
    assert f"<ins>Workers rushed {HOSTILE_ESCAPED}</ins>" in article
    # (the diff counts the digits in "alert(1)" as added figures too: marked, and still text)
    assert '<ins class="sentence">More than <mark class="figure-changed">15,000</mark> North Korean workers ' \
           '&lt;script&gt;alert(<mark class="figure-changed">1</mark>)&lt;/script&gt;' in article


def test_pages_css_is_served(client: TestClient) -> None:
    response = client.get("/static/pages.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
    assert ".figure-timeline" in response.text
