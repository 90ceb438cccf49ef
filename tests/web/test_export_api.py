"""Exports (CSV, JSON), Atom feeds and the JSON API with its OpenAPI document, over a crawled fixture web (events,
claims, matches, edited articles) plus events and a claim whose text a spreadsheet would run; SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import lxml.etree
import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from sqlalchemy import func, select
from starlette.routing import Route
from starlette.testclient import TestClient

from analysis.claims.model import Claim, Figure, claims_from_yaml_data
from db import claims as claim_store
from db.engine import Database
from db.events import EVENT_TYPES, EventDraft, event_rows, record_events
from db.migrate import upgrade
from db.models import Article, ClaimMatchRow, Event, utcnow
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs
from tests.databases import own_database_url
from web import export as web_export
from web.app import create_app
from web.export import csv_cell
from web.types import WebOptions

ROOT = Path(__file__).resolve().parents[2]
FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"
ATOM = "{http://www.w3.org/2005/Atom}"


# --- seeding ------------------------------------------------------------------------------------------------

def hostile_records(db: Database) -> None:
    """A claim and two source events whose text starts like a spreadsheet formula or holds control characters."""
    with db.write() as session:
        claim_store.import_claims(session, [Claim(id="Z99", text=FORMULA + " North Korean workers in Russia.",
                                                  figures=(Figure(100, "workers"),), source="@SUM(1+1)",
                                                  tags=("-x", "+y"))])
        record_events(session, [
            EventDraft("source_failing", "source_failing:evil:1", "-2+3 cmd|' /C calc'!A0",
                       "\tfailed 3 times in a row: <b>boom</b>", source_id=None, url="+http://x",
                       details={"error": "\rboom"}),
            EventDraft("source_recovered", "source_recovered:evil:2", "Vertical\x0btab\x02 & <title>",
                       "works again", url="javascript:alert(1)"),
        ], None, utcnow())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The fixture news web crawled, advanced and crawled again with the shipped claims; then hostile records."""
    for url in own_database_url(request, tmp_path_factory.mktemp("export"), request.param, "export"):
        db = Database(url)
        upgrade(db)
        with db.write() as session:
            claim_store.import_claims(session, claims_from_yaml_data(
                yaml.safe_load((ROOT / "known_claims.yaml").read_text("utf-8"))))
        with FixtureWeb() as web:
            sources = specs(web.sources())
            assert crawl(db, sources).status == "ok"
            web.advance()
            assert crawl(db, sources).status == "ok"
        hostile_records(db)
        yield db
        db.dispose()


@pytest.fixture(scope="module")
def client(seeded: Database) -> Iterator[TestClient]:
    with TestClient(create_app(seeded, WebOptions(page_size=10))) as test_client:
        yield test_client


def all_events(db: Database) -> list[dict[str, Any]]:
    """Every event as ``events list`` gives them (newest first)."""
    with db.read() as session:
        return event_rows(session)


def csv_rows(body: str) -> list[dict[str, str]]:
    """The rows of a CSV export (its byte-order mark, there by default, left out)."""
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


# --- exports ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "cell"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("a=b", "a=b"), (-1, -1), (2.5, 2.5), (None, None), (True, True),
    (["-x"], '["-x"]'), ({"a": "=b"}, '{"a": "=b"}'),
])
def test_cells_a_spreadsheet_would_run_get_a_quote(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


def test_events_export_as_csv_matches_the_database_with_formulas_neutralised(seeded: Database,
                                                                              client: TestClient) -> None:
    response = client.get("/export/events.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert re.fullmatch(r'attachment; filename="labourwatch-events-\d{8}T\d{6}Z\.csv"',
                        response.headers["content-disposition"])
    rows = csv_rows(response.text)
    expected = sorted(all_events(seeded), key=lambda e: e["id"])
    assert [int(r["id"]) for r in rows] == [e["id"] for e in expected]
    for row, event in zip(rows, expected, strict=True):
        assert row["type"] == event["type"] and row["created_at"] == event["created_at"]
        assert row["title"] == str(csv_cell(event["title"])) and row["key"] == event["key"]
        assert json.loads(row["details"]) == event["details"]
    evil = next(r for r in rows if r["key"] == "source_failing:evil:1")
    assert evil["title"] == "'-2+3 cmd|' /C calc'!A0" and evil["summary"].startswith("'\t") and evil["url"] == "'+http://x"
    assert not any(cell.startswith(web_export.FORMULA_START) for row in rows for cell in row.values() if cell)


def test_events_export_filters_by_type_source_and_time(seeded: Database, client: TestClient) -> None:
    events = all_events(seeded)
    updated = [e for e in events if e["type"] == "claim_updated"]
    assert updated
    as_json = client.get("/export/events.json", params={"type": "claim_updated"}).json()
    assert as_json == sorted(updated, key=lambda e: e["id"])
    source = updated[0]["source_id"]
    both = client.get("/export/events.json", params=[("type", "claim_updated"), ("type", "new_article"),
                                                     ("source", source)]).json()
    assert {e["id"] for e in both} == {e["id"] for e in events if e["source_id"] == source
                                       and e["type"] in ("claim_updated", "new_article")}
    times = sorted({e["created_at"] for e in events})
    middle = times[len(times) // 2]
    since = client.get("/export/events.json", params={"since": middle}).json()
    until = client.get("/export/events.csv", params={"until": middle})
    assert {e["id"] for e in since} == {e["id"] for e in events if e["created_at"] >= middle}
    assert {int(r["id"]) for r in csv_rows(until.text)} == {e["id"] for e in events if e["created_at"] < middle}
    assert client.get("/export/events.csv", params={"type": "nonsense"}).status_code == 400
    assert client.get("/export/events.csv", params={"since": "yesterday"}).status_code == 400
    assert client.get("/export/events.xml").status_code == 404


def test_exports_stream_in_batches_and_stop_at_the_rows_present_when_they_began(
        seeded: Database, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_export, "BATCH", 7)
    expected = sorted(all_events(seeded), key=lambda e: e["id"])
    assert len(expected) > 3 * 7
    with client.stream("GET", "/export/events.json") as response:
        chunks = list(response.iter_raw())
    assert len(chunks) > 3  # one per batch, sent as it is read
    assert json.loads(b"".join(chunks)) == expected
    assert json.loads(client.get("/export/claims.json").content)  # claims: keyset on text ids


def test_claims_export_matches_the_stored_claims(seeded: Database, client: TestClient) -> None:
    with seeded.read() as session:
        stored = claim_store.list_claims(session)
    as_json = client.get("/export/claims.json").json()
    assert [c["id"] for c in as_json] == [c.id for c in stored]
    for item, claim in zip(as_json, stored, strict=True):
        assert (item["text"], item["source"], item["status"], tuple(item["tags"])) == (
            claim.text, claim.source, claim.status, claim.tags)
        assert [(f["value"], f["unit"], f["qualifier"]) for f in item["figures"]] == [
            (f.value, f.unit, f.qualifier) for f in claim.figures]
    rows = {r["id"]: r for r in csv_rows(client.get("/export/claims.csv").text)}
    assert rows.keys() == {c.id for c in stored}
    assert rows["Z99"]["text"] == "'" + FORMULA + " North Korean workers in Russia."
    assert rows["Z99"]["source"] == "'@SUM(1+1)" and json.loads(rows["Z99"]["tags"]) == ["-x", "+y"]
    assert json.loads(rows["K01"]["figures"]) == as_json[0]["figures"]
    assert client.get("/export/claims.csv", params={"status": "retired"}).text.count("\n") == 1  # header only


def test_matches_export_follows_claim_label_and_all(seeded: Database, client: TestClient) -> None:
    with seeded.read() as session:
        everything = claim_store.match_rows(session)
        on_subject = claim_store.match_rows(session, off_subject=False)
    assert len(on_subject) < len(everything)
    assert {m["id"] for m in client.get("/export/matches.json").json()} == {m["id"] for m in on_subject}
    assert {m["id"] for m in client.get("/export/matches.json", params={"all": "1"}).json()} == {
        m["id"] for m in everything}
    claim_id = next(m["claim_id"] for m in on_subject if m["label"] == "updates")
    rows = csv_rows(client.get("/export/matches.csv", params={"claim": claim_id, "label": "updates"}).text)
    expected = [m for m in on_subject if m["claim_id"] == claim_id and m["label"] == "updates"]
    assert sorted(int(r["id"]) for r in rows) == sorted(m["id"] for m in expected)
    by_id = {m["id"]: m for m in expected}
    for row in rows:
        match = by_id[int(row["id"])]
        assert row["sentence"] == match["sentence"] and json.loads(row["new_values"]) == match["new_values"]
        assert int(row["article_id"]) == match["article_id"] and row["fetched_at"] == match["fetched_at"]
    assert client.get("/export/matches.csv", params={"label": "maybe"}).status_code == 400


# --- Atom -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("event_type", ["claim_updated", "new_article", "source_recovered", None])
def test_atom_feed_per_type_parses_with_the_newest_events(seeded: Database, client: TestClient,
                                                          event_type: str | None) -> None:
    response = client.get("/feeds/events.atom", params={"type": event_type} if event_type else {})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    expected = [e for e in all_events(seeded) if event_type in (None, e["type"])][:50]
    assert [entry.category for entry in feed.entries] == [e["type"] for e in expected]
    assert len({entry.id for entry in feed.entries}) == len(expected)
    assert all(entry.id.startswith("urn:uuid:") for entry in feed.entries)
    assert {link.rel: link.href for link in feed.feed.links} == {
        "self": str(response.url), "alternate": "http://testserver/events" + (f"?type={event_type}" if event_type
                                                                               else "")}
    assert feed.feed.id.startswith("urn:uuid:") and feed.feed.updated
    for entry, event in zip(feed.entries, expected, strict=True):
        assert datetime.fromisoformat(entry.updated) == datetime.fromisoformat(event["created_at"])
        assert entry.summary.startswith(event["summary"].replace("\t", "").strip()[:20])
        if event["article_id"]:
            # The article page at the event's version (its diff), not the top of the article.
            anchor = f"#version-{event['version_id']}" if event["version_id"] else ""
            assert entry.link == f"http://testserver/articles/{event['article_id']}{anchor}"
        else:
            assert entry.link == f"http://testserver/api/events/{event['id']}"  # never a javascript: URL
    # Strict XML: every entry has the elements Atom 1.0 requires.
    root = lxml.etree.fromstring(response.content)
    for entry in root.iter(f"{ATOM}entry"):
        assert {child.tag for child in entry} >= {f"{ATOM}{t}" for t in ("id", "title", "updated", "link")}


def test_atom_entry_ids_stay_the_same_and_bad_types_are_refused(client: TestClient) -> None:
    first = feedparser.parse(client.get("/feeds/events.atom").content)
    again = feedparser.parse(client.get("/feeds/events.atom", params={"limit": "200"}).content)
    assert [e.id for e in first.entries] == [e.id for e in again.entries][: len(first.entries)]
    hostile = next(e for e in first.entries if e.category == "source_recovered")
    assert hostile.title == "Source recovered: Verticaltab & <title>"  # control characters dropped, text kept
    refused = client.get("/feeds/events.atom", params={"type": "nonsense"})
    assert refused.status_code == 400 and "claim_updated" in refused.text
    for limit in ("0", "201", "ten"):
        assert client.get("/feeds/events.atom", params={"limit": limit}).status_code == 400
    assert len(feedparser.parse(client.get("/feeds/events.atom", params={"limit": "3"}).content).entries) == 3


# --- JSON API ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/openapi.json").json()
    return document


def conforms(openapi: dict[str, Any], schema: str, value: Any) -> None:
    """``value`` is valid against a schema of the OpenAPI document (formats such as date-time checked)."""
    validator = Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": openapi["components"]},
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]
    assert errors == [], errors[:5]


def walk(client: TestClient, url: str) -> list[dict[str, Any]]:
    """Every item of a list endpoint, following ``next``."""
    items: list[dict[str, Any]] = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        url = page.json()["next"]
    return items


def test_api_events_pages_follow_next_and_filter(seeded: Database, client: TestClient,
                                                  openapi: dict[str, Any]) -> None:
    events = all_events(seeded)
    first = client.get("/api/events", params={"limit": 7}).json()
    conforms(openapi, "EventList", first)
    assert first["items"] == events[:7] and "cursor=" in first["next"]
    assert walk(client, "/api/events?limit=7") == events
    assert walk(client, "/api/events") == events  # default page size: the UI's
    source = next(e["source_id"] for e in events if e["type"] == "claim_corroborated")
    filtered = walk(client, f"/api/events?type=claim_corroborated&type=new_claim&source={source}&limit=3")
    assert filtered == [e for e in events if e["type"] in ("claim_corroborated", "new_claim")
                        and e["source_id"] == source]
    until = datetime.fromisoformat(events[-1]["created_at"]) + timedelta(microseconds=1)
    since = walk(client, "/api/events?" + f"since={events[0]['created_at'].replace('+00:00', 'Z')}")
    assert since == [e for e in events if e["created_at"] >= events[0]["created_at"]]
    assert walk(client, f"/api/events?until={until.isoformat().replace('+', '%2B')}") == [
        e for e in events if datetime.fromisoformat(e["created_at"]) < until]


def test_api_single_records_and_json_errors(seeded: Database, client: TestClient, openapi: dict[str, Any]) -> None:
    event = all_events(seeded)[0]
    one = client.get(f"/api/events/{event['id']}")
    assert one.json() == event
    conforms(openapi, "Event", one.json())
    for url in ("/api/events/999999", "/api/articles/999999", "/api/claims/NOPE", "/api/events/abc"):
        missing = client.get(url)
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
        assert missing.json()["status"] == 404
        conforms(openapi, "Error", missing.json())
    for url in ("/api/events?type=bogus", "/api/events?limit=0", "/api/events?limit=501", "/api/events?cursor=x",
                "/api/events?since=soon", "/api/articles?relevant=maybe", "/api/claims?status=old",
                "/api/matches?label=maybe", "/api/matches?article=x"):
        bad = client.get(url)
        assert bad.status_code == 400, url
        conforms(openapi, "Error", bad.json())
    assert "known: story, baseline, new_article" in client.get("/api/events?type=bogus").json()["error"]


def test_api_articles_with_versions_and_diffs(seeded: Database, client: TestClient,
                                               openapi: dict[str, Any]) -> None:
    with seeded.read() as session:
        relevant = list(session.scalars(select(Article.id).where(Article.relevant.is_(True))
                                        .order_by(Article.id.desc())))
        everything = session.scalar(select(func.count()).select_from(Article))
        edited = session.scalars(select(Article).where(Article.version_count > 1)).first()
    assert edited is not None
    page = client.get("/api/articles", params={"limit": 5}).json()
    conforms(openapi, "ArticleList", page)
    assert [a["id"] for a in walk(client, "/api/articles?limit=5")] == relevant
    assert len(walk(client, "/api/articles?relevant=all&limit=500")) == everything
    detail = client.get(f"/api/articles/{edited.id}").json()
    conforms(openapi, "ArticleDetail", detail)
    first, second = detail["versions"][:2]
    assert (first["number"], second["number"], first["diff"]) == (1, 2, None)
    assert second["diff"]["from_version_id"] == first["id"]
    assert second["diff"]["changed"] and (second["diff"]["added"] or second["diff"]["title_after"])
    assert detail["title"] == edited.title and detail["version_count"] == len(detail["versions"])


def test_api_claims_and_matches(seeded: Database, client: TestClient, openapi: dict[str, Any]) -> None:
    with seeded.read() as session:
        stored = [c.id for c in claim_store.list_claims(session)]
        counts = dict(session.execute(select(ClaimMatchRow.label, func.count()).where(ClaimMatchRow.claim_id == "K01")
                                      .group_by(ClaimMatchRow.label)).all())
        on_subject = claim_store.match_rows(session, off_subject=False)
        events = session.scalar(select(func.count()).select_from(Event))
    assert events
    page = client.get("/api/claims", params={"limit": 20}).json()
    conforms(openapi, "ClaimList", page)
    assert [c["id"] for c in walk(client, "/api/claims?limit=20")] == stored
    k01 = client.get("/api/claims/K01").json()
    conforms(openapi, "ClaimDetail", k01)
    assert k01["match_counts"] == {"corroborates": counts.get("corroborates", 0), "updates": counts.get("updates", 0)}
    assert [m["id"] for m in k01["matches"]] == sorted(
        (m["id"] for m in on_subject if m["claim_id"] == "K01"), reverse=True)
    matches = walk(client, "/api/matches?limit=50")
    conforms(openapi, "MatchList", {"items": matches, "next": None})
    assert [m["id"] for m in matches] == sorted((m["id"] for m in on_subject), reverse=True)
    updates = walk(client, "/api/matches?label=updates&limit=3")
    assert updates and {m["label"] for m in updates} == {"updates"}


def api_routes(client: TestClient) -> set[str]:
    """Paths of the app's routes under /api (path parameters without their converters)."""
    app = client.app
    paths = {re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path) for route in app.routes  # type: ignore[attr-defined]
             if isinstance(route, Route)}
    return {p for p in paths if p.startswith("/api/")}


def test_openapi_document_is_valid_and_lists_every_api_route(client: TestClient, openapi: dict[str, Any]) -> None:
    validate(openapi)  # OpenAPI 3.1, with its JSON Schema dialect
    assert openapi["openapi"].startswith("3.1")
    documented = set(openapi["paths"])
    assert api_routes(client) == {p for p in documented if p.startswith("/api/")}
    assert {"/export/events.csv", "/export/matches.json", "/feeds/events.atom"} <= documented
    for path, item in openapi["paths"].items():
        operation = item["get"]
        assert operation["summary"] and "200" in operation["responses"], path
        assert ("404" in operation["responses"]) == ("{id}" in path)
    types = openapi["components"]["schemas"]["Event"]["properties"]["type"]["enum"]
    assert types == list(EVENT_TYPES)


def test_api_page_documents_every_endpoint(client: TestClient, openapi: dict[str, Any]) -> None:
    page = client.get("/api")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'href="/api/openapi.json"' in page.text
    for path in openapi["paths"]:
        assert path in page.text
    assert 'href="/api/events"' in page.text and 'href="/feeds/events.atom?type=claim_updated"' in page.text
