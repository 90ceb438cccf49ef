"""The claim page stays bounded with a long history (issue 15): its summary counts every match by verdict and outlet,
and it lists the matches a page at a time, newest first, with links to the older ones; on SQLite and PostgreSQL,
over matches written straight into the tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import insert
from starlette.testclient import TestClient

from db import browse
from db.engine import Database
from db.models import Article, ArticleVersion, ClaimMatchRow, KnownClaim, Source
from web.app import create_app
from web.types import WebOptions

HOSTILE = '<script>alert(1)</script><img src=x onerror="x">'
PAGE_SIZE = 5
# (outlet, label) of each match, oldest first.
MATCHES = [("alpha", "corroborates"), ("beta", "updates"), ("alpha", "corroborates"), ("gamma", "corroborates"),
           ("beta", "new"), ("alpha", "updates"), ("gamma", "corroborates"), ("alpha", "corroborates"),
           ("beta", "corroborates"), ("alpha", "updates"), ("gamma", "corroborates"), ("alpha", "corroborates")]
START = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def claim_db(database: Database) -> Database:
    """Claim K01 (its text hostile) matched by twelve articles of three outlets, one version each, a day apart."""
    with database.engine.begin() as conn:
        conn.execute(insert(Source), [{"id": s, "kind": "rss", "url": f"https://{s}.example/", "name": f"{s} {HOSTILE}"}
                                      for s in ("alpha", "beta", "gamma")])
        conn.execute(insert(KnownClaim), [{"id": "K01", "text": f"More than 50,000 workers {HOSTILE}",
                                           "figures": [{"value": 50000, "unit": "workers", "qualifier": "more_than"}],
                                           "source": "UN"}])
        for n, (source, label) in enumerate(MATCHES, start=1):
            url = f"https://{source}.example/{n}"
            conn.execute(insert(Article), [{"id": n, "source_id": source, "url": url, "canonical_url": url,
                                            "title": f"Story {n} {HOSTILE}", "relevant": True}])
            conn.execute(insert(ArticleVersion), [{"id": n, "article_id": n, "number": 1, "url": url,
                                                   "fetched_at": START + timedelta(days=n), "title": f"Story {n}",
                                                   "text": "text", "content_hash": f"h{n}"}])
            updated = label == "updates"
            conn.execute(insert(ClaimMatchRow), [{
                "id": 100 + n, "version_id": n, "article_id": n, "source_id": source, "url": url, "sentence_index": 0,
                "sentence": f"Sentence {n}: {'45,000' if updated else '50,000'} workers {HOSTILE}", "label": label,
                "claim_id": "K01", "confidence": 0.9, "score": 0.9, "old_values": ["50,000"] if updated else [],
                "new_values": ["45,000"] if updated else [], "reasons": [], "on_subject": True,
                "claims_digest": "d"}])
    return database


def _listed(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="match [^"]*" data-match="(\d+)"', html)]


def test_the_claim_page_lists_the_newest_matches_first_and_links_to_older_ones(claim_db: Database) -> None:
    client = TestClient(create_app(claim_db, WebOptions(page_size=PAGE_SIZE)))
    newest_first = [100 + n for n in range(len(MATCHES), 0, -1)]
    pages = [client.get("/claims/K01" + (f"?page={n}" if n > 1 else "")) for n in (1, 2, 3, 4)]
    assert [p.status_code for p in pages] == [200] * 4
    html = [p.text for p in pages]
    assert _listed(html[0]) == newest_first[:5] and _listed(html[1]) == newest_first[5:10]
    assert _listed(html[2]) == newest_first[10:] and _listed(html[3]) == []
    assert 'rel="next" href="?page=2"' in html[0] and 'rel="prev"' not in html[0]
    assert 'rel="next" href="?page=3"' in html[1] and 'rel="prev" href="?page=1"' in html[1]
    assert 'rel="next"' not in html[2]
    assert client.get("/claims/K01?page=0").status_code == 400
    assert client.get("/claims/K01?page=x").status_code == 400


def test_the_claim_summary_counts_every_match_on_every_page(claim_db: Database) -> None:
    client = TestClient(create_app(claim_db, WebOptions(page_size=PAGE_SIZE)))
    by_outlet = {s: sum(1 for o, _ in MATCHES if o == s) for s in ("alpha", "beta", "gamma")}
    corroborate = sum(1 for _, label in MATCHES if label == "corroborates")
    update = sum(1 for _, label in MATCHES if label == "updates")
    for number in (1, 2, 3):
        html = client.get(f"/claims/K01?page={number}").text
        assert f"<dd>{len(MATCHES)} ({corroborate} corroborate, {update} update)" in html
        assert f"<strong>{len(MATCHES)}</strong> matched sentences, newest first" in html
        assert re.search(r'<dd class="outlet-count">(\d+)', html).group(1) == "3"  # type: ignore[union-attr]
        for source, count in by_outlet.items():
            assert f'<strong>{escape(f"{source} {HOSTILE}")}</strong> <span class="muted">{count}</span>' in html
        # The figure history is the whole claim's on every page: the first update changed the value.
        assert html.count('<span class="badge role-changed">changed</span>') == 1
        assert html.count('class="report role-') == corroborate + update


def test_the_claim_count_is_capped_and_the_history_bounded(claim_db: Database) -> None:
    with claim_db.read() as session:
        view = browse.claim_view(session, "K01", browse.ClaimPage(1, PAGE_SIZE), history_limit=3, count_cap=10)
    assert view is not None
    assert (view["total"], view["more"], view["has_older"]) == (10, True, True)
    assert view["claim"]["matches"] == len(MATCHES)
    # The oldest three reports (matches 101, 102, 103), oldest first.
    assert [e["match"]["id"] for e in view["history"]["timeline"]] == [101, 102, 103] and view["history_more"]


def test_hostile_claim_and_sentence_text_is_escaped(claim_db: Database) -> None:
    html = TestClient(create_app(claim_db, WebOptions(page_size=PAGE_SIZE))).get("/claims/K01").text
    assert str(escape(HOSTILE)) in html
    assert "<script" not in html and "<img src=x" not in html
    assert f"Sentence 12: 50,000 workers {escape(HOSTILE)}" in html


def test_the_claim_page_charts_its_figure_history(claim_db: Database) -> None:
    html = TestClient(create_app(claim_db, WebOptions(page_size=PAGE_SIZE))).get("/claims/K01").text
    chart = html[html.index('<svg class="chart figure-chart"'):html.index("</svg>")]
    # One dot per report (the "new" sentence is none): eleven, the three updates highlighted, the first larger.
    dots = re.findall(r'<circle class="mark ([a-z ]+)"[^>]*><title>([^<]*)</title>', chart)
    assert len(dots) == len([label for _, label in MATCHES if label != "new"]) == 11
    assert sorted(kind for kind, _ in dots if kind.startswith("update")) == ["update", "update", "update first"]
    assert '<line class="claimed-line"' in chart and "claim: 50,000" in chart
    # Outlet names are hostile text: escaped in the dots' titles, never markup.
    assert f"2025-03-03 · beta {escape(HOSTILE)}: 45,000 (first gave this value)" in chart
    assert "<script>" not in chart and "<img" not in chart
    # The numbers as a table for screen readers: a row per dot.
    start = html.index('<table class="chart-data">')
    assert html[start:html.index("</table>", start)].count("<tr><td>") == 11
