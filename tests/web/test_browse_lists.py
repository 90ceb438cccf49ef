"""The browse lists (``/articles``, ``/diffs``, ``/sources``; the sorting of ``/events`` and ``/claims``) and the
one filter vocabulary of pages, exports, feeds and the API, over a crawled fixture web (SQLite and PostgreSQL):
filters, column sorting, 400s on every kind of route, the CSV byte-order mark, alternate links, diff anchors,
hostile text escaped."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape

import feedparser
import pytest
from markupsafe import escape
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from db.engine import Database
from db.models import Article, Event, Source, VersionDiffRow
from tests.databases import database_copy
from tests.web.conftest import HOSTILE_SCRIPT, HOSTILE_STRINGS, CrawledNews, hostile_article_id
from web.app import create_app
from web.types import WebOptions

PAGE_SIZE = 4
HOSTILE_NAME = f"Gazette {HOSTILE_SCRIPT} & co"
BOM = b"\xef\xbb\xbf"


@dataclass
class Browse:
    """A crawled database whose first source is failing and carries a hostile name, and a client of its UI."""

    db: Database
    client: TestClient
    failing: str
    korean: int


KOREAN_TITLE = "북한 노동자 — Северокорейские рабочие: 12,000 → 15,000"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def browse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           crawled_news: CrawledNews) -> Iterator[Browse]:
    """One copy of the crawled database per backend for the module (its tests only read): its last source made
    failing with a hostile name, one article retitled in Korean and Russian."""
    template = crawled_news.template(request, request.param)
    with database_copy(template, tmp_path_factory.mktemp("browse"), "browse") as url:
        db = Database(url)
        with db.write() as session:
            failing = session.scalars(select(Source.id).order_by(Source.id.desc()).limit(1)).one()
            session.execute(update(Source).where(Source.id == failing).values(
                name=HOSTILE_NAME, consecutive_failures=3, last_error_code="http_500",
                last_error=f"boom {HOSTILE_SCRIPT}", last_error_at=datetime.now(UTC)))
            korean = session.scalars(select(Article.id).where(Article.relevant.is_(True))
                                     .order_by(Article.id).limit(1)).one()
            session.execute(update(Article).where(Article.id == korean).values(title=KOREAN_TITLE))
        try:
            with TestClient(create_app(db, WebOptions(page_size=PAGE_SIZE))) as client:
                yield Browse(db, client, failing, korean)
        finally:
            db.dispose()


def ok(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text[-400:])
    return response.text


def ids(html: str, attribute: str) -> list[int]:
    return [int(found) for found in re.findall(rf'{attribute}="(\d+)"', html)]


def all_pages(client: TestClient, path: str, attribute: str) -> list[int]:
    """Every row id of a paged list, following its "next" links."""
    found: list[int] = []
    while path:
        html = ok(client, path)
        found += ids(html, attribute)
        following = re.search(r'<a rel="next" href="([^"]+)"', html)
        path = unescape(following.group(1)) if following else ""
    return found


def csv_ids(body: bytes) -> list[int]:
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))]


# --- filters --------------------------------------------------------------------------------------------

def test_articles_filter_by_source_language_relevance_dates_and_edits(browse: Browse) -> None:
    with browse.db.read() as session:
        rows = session.execute(select(Article.id, Article.source_id, Article.language, Article.relevant,
                                      Article.version_count)).all()
    on_topic = {r.id for r in rows if r.relevant}
    assert set(all_pages(browse.client, "/articles", "data-article-id")) == on_topic
    assert set(all_pages(browse.client, "/articles?relevant=all", "data-article-id")) == {r.id for r in rows}
    assert set(all_pages(browse.client, "/articles?relevant=false", "data-article-id")) == {
        r.id for r in rows if not r.relevant}
    source = next(r.source_id for r in rows if r.relevant and r.version_count > 1)
    assert set(all_pages(browse.client, f"/articles?source={source}", "data-article-id")) == {
        r.id for r in rows if r.relevant and r.source_id == source}
    edited = {r.id for r in rows if r.relevant and r.version_count > 1}
    assert edited and set(all_pages(browse.client, "/articles?edited=true", "data-article-id")) == edited
    assert set(all_pages(browse.client, "/articles?edited=false", "data-article-id")) == on_topic - edited
    language = next(r.language for r in rows if r.relevant and r.language)
    assert set(all_pages(browse.client, f"/articles?language={language}", "data-article-id")) == {
        r.id for r in rows if r.relevant and r.language == language}
    today = datetime.now(UTC).date()
    assert ids(ok(browse.client, f"/articles?since={today + timedelta(days=1)}"), "data-article-id") == []
    assert ids(ok(browse.client, f"/articles?until={today - timedelta(days=1)}"), "data-article-id") == []
    # ``until`` as a date includes that day; the old names ``from``/``to`` mean the same as ``since``/``until``.
    assert set(all_pages(browse.client, f"/articles?since={today}&until={today}", "data-article-id")) == on_topic
    assert set(all_pages(browse.client, f"/articles?from={today}&to={today}", "data-article-id")) == on_topic


def test_one_vocabulary_for_pages_exports_feeds_and_the_api(browse: Browse) -> None:
    client = browse.client
    future = "2030-01-01"
    # The old page names on an export now filter (they were silently ignored).
    assert csv_ids(client.get(f"/export/events.csv?from={future}").content) == []
    assert csv_ids(client.get(f"/export/events.csv?since={future}").content) == []
    assert client.get(f"/export/events.json?to={future}").json() != []
    assert client.get(f"/api/events?since={future}").json()["items"] == []
    assert feedparser.parse(client.get(f"/feeds/events.atom?from={future}").content).entries == []
    assert ids(ok(client, f"/events?since={future}"), "data-event-id") == []
    with browse.db.read() as session:
        new_articles = set(session.scalars(select(Event.id).where(Event.type == "new_article")))
    query = "type=new_article&since=2020-01-01"
    exported = {e["id"] for e in client.get(f"/export/events.json?{query}").json()}
    assert exported == new_articles == set(all_pages(client, f"/events?{query}", "data-event-id"))
    # The API and the article export take the articles page's filters.
    api = {a["id"] for a in client.get("/api/articles?edited=true&limit=500").json()["items"]}
    assert api == set(all_pages(client, "/articles?edited=true", "data-article-id"))
    assert set(csv_ids(client.get("/export/articles.csv?edited=true").content)) == api


@pytest.mark.parametrize(("path", "kind", "message"), [
    ("/events?since=garbage", "text/html", "`since` must be an ISO 8601 date or time"),
    ("/events?from=2026-02-01&to=2026-01-01", "text/html", "`from` (2026-02-01) is after `to` (2026-01-01)"),
    ("/events?since=2026-01-01&from=2026-02-01", "text/html", "Give `since` or its old name `from`, not both"),
    ("/articles?sort=url", "text/html", "Unknown sort column &#39;url&#39;; known: first_seen"),
    ("/articles?dir=sideways", "text/html", "Unknown sort direction"),
    ("/articles?edited=maybe", "text/html", "`edited` must be true, false or all"),
    ("/articles?language=xx", "text/html", "Unknown language &#39;xx&#39;"),
    ("/articles?page=0", "text/html", "`page` must be a page number from 1"),
    ("/diffs?figures=some", "text/html", "`figures` must be true, false or all"),
    ("/diffs?article=abc", "text/html", "`article` must be an article id"),
    ("/sources?health=great", "text/html", "Unknown health &#39;great&#39;"),
    ("/sources?sort=name", "text/html", "Unknown sort column"),
    ("/events?sort=summary", "text/html", "Unknown sort column &#39;summary&#39;; known: created, type"),
    ("/events?dir=up", "text/html", "Unknown sort direction &#39;up&#39;"),
    ("/events?sort=type&before=5", "text/html", "`before` and `after` page the events newest first"),
    ("/events?sort=type&page=0", "text/html", "`page` must be a page number from 1"),
    ("/claims?sort=figures", "text/html", "Unknown sort column &#39;figures&#39;; known: id, text"),
    ("/claims?dir=sideways", "text/html", "Unknown sort direction"),
    ("/review?state=closed", "text/html", "Unknown state &#39;closed&#39;; known: open, done"),
    ("/review?page=x", "text/html", "`page` must be a page number from 1"),
    ("/claims/K01?page=0", "text/html", "`page` must be a page number from 1"),
    ("/export/events.csv?from=soon", "text/plain", "`from` must be an ISO 8601 date or time"),
    ("/export/articles.csv?bom=2", "text/plain", "Unknown bom value '2'; known: 0, 1"),
    ("/export/diffs.csv?until=x", "text/plain", "`until` must be an ISO 8601 date or time"),
    ("/export/events.json?source=nowhere", "application/json", "Unknown source 'nowhere'"),
    ("/api/events?since=garbage", "application/json", "`since` must be an ISO 8601 date or time"),
    ("/api/articles?language=xx", "application/json", "Unknown language 'xx'"),
    ("/feeds/diffs.atom?since=x", "text/plain", "`since` must be an ISO 8601 date or time"),
    ("/feeds/events.atom?type=bogus", "text/plain", "Unknown event type 'bogus'"),
])
def test_a_bad_value_is_a_400_saying_what_to_fix_in_the_route_s_format(
        browse: Browse, path: str, kind: str, message: str) -> None:
    response = browse.client.get(path)
    assert response.status_code == 400, path
    assert response.headers["content-type"].startswith(kind), response.headers["content-type"]
    detail = response.json()["error"] if kind == "application/json" else response.text
    assert message in detail, detail
    if kind == "text/html":
        assert "Error 400" in response.text


# --- sorting --------------------------------------------------------------------------------------------

def _titles(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'<td><a href="/articles/\d+">([^<]*)</a>', html)]


def test_sorting_by_a_column_changes_the_order_and_keeps_filters_and_page(browse: Browse) -> None:
    client = browse.client
    with browse.db.read() as session:
        titles = sorted((t or "") for t in session.scalars(
            select(Article.title).where(Article.relevant.is_(True))))
    ascending = _titles(ok(client, "/articles?sort=title&dir=asc"))
    descending = _titles(ok(client, "/articles?sort=title&dir=desc"))
    assert ascending == titles[:PAGE_SIZE] and descending == titles[::-1][:PAGE_SIZE]
    assert ascending != descending
    by_versions = ok(client, "/articles?relevant=all&sort=versions&page=1")
    with browse.db.read() as session:
        most = session.scalar(select(func.max(Article.version_count)))
    assert f'<td class="num">{most}</td>' in by_versions.split("</tr>")[1]
    # Headers: aria-sort on the current column, links that keep the filters and the page.
    html = ok(client, "/articles?relevant=all&edited=false&page=2&sort=title&dir=asc")
    assert re.search(r'<th aria-sort="ascending"><a class="sort" href="([^"]+)">Title', html)
    title_link = unescape(re.search(r'href="([^"]+)">Title', html).group(1))  # type: ignore[union-attr]
    assert title_link == "/articles?relevant=all&edited=false&page=2&sort=title&dir=desc"
    assert '<th aria-sort="none"><a class="sort" href="/articles?relevant=all&amp;edited=false&amp;page=2&amp;' \
           'sort=first_seen&amp;dir=desc">First seen' in html
    following = re.search(r'<a rel="next" href="([^"]+)"', ok(client, "/articles?relevant=all&sort=title"))
    assert following and unescape(following.group(1)) == "/articles?relevant=all&sort=title&page=2"


def test_sources_list_failing_first_and_sorts_by_column(browse: Browse) -> None:
    client = browse.client
    with browse.db.read() as session:
        every = sorted(session.scalars(select(Source.id)))
    listed = re.findall(r'<tr class="source health-(\w+)" data-source="([^"]+)"', ok(client, "/sources"))
    assert listed[0] == ("failing", browse.failing) and sorted(s for _, s in listed) == every
    by_id = [s for _, s in re.findall(r'health-(\w+)" data-source="([^"]+)"', ok(client, "/sources?sort=id"))]
    assert by_id == every != [s for _, s in listed]
    reverse = re.findall(r'data-source="([^"]+)"', ok(client, "/sources?sort=id&dir=desc"))
    assert reverse == every[::-1]
    assert re.findall(r'data-source="([^"]+)"', ok(client, "/sources?health=failing")) == [browse.failing]
    exported = client.get("/export/sources.csv?sort=id&dir=desc")
    assert csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))).fieldnames is not None
    assert [r["id"] for r in csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))] == every[::-1]


def _runs(values: list[str]) -> list[str]:
    # The values in order with each run of equal ones as one: a list sorted by a column has each value once.
    return [value for i, value in enumerate(values) if i == 0 or values[i - 1] != value]


def test_events_sort_by_column_in_numbered_pages_keeping_filters(browse: Browse) -> None:
    client = browse.client
    with browse.db.read() as session:
        types = {row.id: row.type for row in session.execute(select(Event.id, Event.type))}
        claims = {row.id: row.claim_id for row in session.execute(select(Event.id, Event.claim_id))}
    # Every event once, in runs of one type (whatever the database's collation), reversed by dir=desc.
    by_type = all_pages(client, "/events?sort=type", "data-event-id")
    assert sorted(by_type) == sorted(types)
    runs = _runs([types[i] for i in by_type])
    assert len(runs) == len(set(runs)) > 1
    by_type_desc = all_pages(client, "/events?sort=type&dir=desc", "data-event-id")
    assert _runs([types[i] for i in by_type_desc]) == runs[::-1]
    # Ties in id order, the same direction as the column.
    first = [i for i in by_type if types[i] == runs[0]]
    assert first == sorted(first)
    # Filters kept over the pages: only claim events, by claim, empty claims last.
    with_claims = all_pages(client, "/events?type=claim_corroborated&type=claim_updated&sort=claim",
                            "data-event-id")
    assert with_claims and {types[i] for i in with_claims} <= {"claim_corroborated", "claim_updated"}
    assert sorted(with_claims) == sorted(i for i, t in types.items() if t in ("claim_corroborated", "claim_updated"))
    named = [claims[i] for i in with_claims]
    assert None not in named[:len([c for c in named if c])]
    # The page: numbered, its count without "newest first", headers with aria-sort whose links keep filters
    # and page, the pager keeping filters and order, the filter form keeping the order.
    html = ok(client, "/events?type=new_article&sort=type&page=2")
    assert "newest first" not in html and '<span class="muted">page 2</span>' in html
    assert re.search(r'<th aria-sort="ascending"><a class="sort" href="[^"]+">Type ▲', html)
    when = unescape(re.search(r'href="([^"]+)">When<', html).group(1))  # type: ignore[union-attr]
    assert when == "/events?type=new_article&page=2&sort=created&dir=desc"
    previous = unescape(re.search(r'<a rel="prev" href="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert previous == "/events?type=new_article&sort=type&page=1"
    assert '<input type="hidden" name="sort" value="type">' in html
    assert {types[i] for i in ids(html, "data-event-id")} == {"new_article"}


def test_events_newest_first_stay_in_keyset_pages(browse: Browse) -> None:
    client = browse.client
    html = ok(client, "/events?type=new_article")
    assert "newest first" in html and '<th aria-sort="descending"><a class="sort" href="/events?type=new_article' \
        '&amp;sort=created&amp;dir=asc">When ▼' in html
    older = unescape(re.search(r'<a rel="next" href="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert re.fullmatch(r"/events\?type=new_article&before=\d+", older)
    newest = all_pages(client, "/events?type=new_article", "data-event-id")
    assert newest == sorted(newest, reverse=True)
    # Oldest first is a sort like any other: numbered pages, the same events the other way round.
    oldest = all_pages(client, "/events?type=new_article&sort=created&dir=asc", "data-event-id")
    assert oldest == newest[::-1]
    # The dashboard's table of latest events has plain headers.
    dashboard = ok(client, "/").split('id="latest-events"')[1]
    assert "<th>When</th><th>Type</th>" in dashboard and 'class="sort"' not in dashboard


def test_claims_sort_by_column(browse: Browse) -> None:
    client = browse.client

    def listed(path: str) -> list[tuple[str, int]]:
        return [(claim, int(matches)) for claim, matches in re.findall(
            r'data-claim="([^"]+)".*?data-matches="(\d+)"', ok(client, path), re.S)]

    by_id = listed("/claims")
    assert [c for c, _ in by_id] == sorted(c for c, _ in by_id) and len(by_id) > 3
    assert listed("/claims?sort=id&dir=desc") == by_id[::-1]
    by_matches = listed("/claims?sort=matches")
    assert by_matches == sorted(by_id, key=lambda row: (row[1], row[0]), reverse=True)
    assert by_matches != by_id and by_matches[0][1] > by_matches[-1][1]
    html = ok(client, "/claims?sort=matches")
    assert '<th aria-sort="descending" class="num"><a class="sort" href="/claims?sort=matches&amp;dir=asc">' \
           "Matches ▼" in html
    assert '<th aria-sort="none"><a class="sort" href="/claims?sort=id&amp;dir=asc">Claim</a></th>' in html


# --- diffs and anchors ----------------------------------------------------------------------------------

def test_edits_list_figure_changes_first_each_linking_to_its_version_s_diff(browse: Browse) -> None:
    client = browse.client
    with browse.db.read() as session:
        diffs = {d.id: d for d in session.scalars(select(VersionDiffRow))}
    rows = re.findall(r'<tr class="diff-row( figures-changed)?" data-diff-id="(\d+)">\s*<td class="nowrap">'
                      r'<a class="version-link" href="([^"]+)"', "".join(
                          ok(client, f"/diffs?page={n}") for n in range(1, len(diffs) // PAGE_SIZE + 2)))
    assert {int(d) for _, d, _ in rows} == set(diffs)
    flags = [bool(f) for f, _, _ in rows]
    assert any(flags) and flags == sorted(flags, reverse=True)  # every figure change before any other edit
    for (figures, diff_id, href) in rows:
        diff = diffs[int(diff_id)]
        assert href == f"/articles/{diff.article_id}#version-{diff.to_version_id}"
        assert ("figures" in diff.changed) == bool(figures)
    article, anchor = rows[0][2].split("#")
    assert f'<h3 id="{anchor}">' in ok(client, article)
    newest = ids(ok(client, "/diffs?sort=created&dir=desc"), "data-diff-id")
    assert newest == sorted(diffs, key=lambda i: (diffs[i].created_at, i), reverse=True)[:PAGE_SIZE]
    only = ids(ok(client, "/diffs?figures=false"), "data-diff-id")
    assert all("figures" not in diffs[i].changed for i in only)


def test_event_rows_link_to_their_version_s_diff(browse: Browse) -> None:
    with browse.db.read() as session:
        edited = session.scalars(select(Event).where(Event.type == "article_edited").limit(1)).one()
        target = f"/articles/{edited.article_id}#version-{edited.version_id}"
    events = ok(browse.client, "/events?type=article_edited")
    assert f'href="{target}"' in events
    assert f'<h3 id="version-{edited.version_id}">' in ok(browse.client, f"/articles/{edited.article_id}")
    dashboard = ok(browse.client, "/")
    linked = re.findall(r'<a href="(/articles/\d+[^"]*)">', dashboard.split('id="latest-events"')[1])
    assert linked and all("#version-" in href for href in linked)


# --- formats --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/export/articles.csv", "/export/events.csv", "/export/diffs.csv",
                                  "/export/sources.csv", "/export/claims.csv", "/export/matches.csv"])
def test_csv_starts_with_a_byte_order_mark_unless_bom_0(browse: Browse, path: str) -> None:
    with_bom, without = browse.client.get(path).content, browse.client.get(path, params={"bom": "0"}).content
    assert with_bom.startswith(BOM) and not without.startswith(BOM) and with_bom == BOM + without
    assert not browse.client.get(path.replace(".csv", ".json")).content.startswith(BOM)


def test_csv_keeps_korean_russian_and_arrows(browse: Browse) -> None:
    body = browse.client.get("/export/articles.csv").content
    assert body.startswith(BOM)
    row = next(r for r in csv.DictReader(io.StringIO(body.decode("utf-8"))) if r["\ufeffid"] == str(browse.korean))
    assert row["title"] == KOREAN_TITLE


@pytest.mark.parametrize(("page", "csv_path", "atom_path"), [
    ("/events?type=new_article&from=2020-01-01", "/export/events.csv?type=new_article&since=2020-01-01",
     "/feeds/events.atom?type=new_article&since=2020-01-01"),
    ("/articles?edited=true&sort=title", "/export/articles.csv?edited=true", "/feeds/articles.atom?edited=true"),
    ("/diffs?figures=true", "/export/diffs.csv?figures=true", "/feeds/diffs.atom?figures=true"),
    ("/sources?health=failing", "/export/sources.csv?health=failing",
     "/feeds/events.atom?type=source_failing&type=source_recovered"),
    ("/claims", "/export/claims.csv", "/feeds/events.atom?type=claim_updated&type=claim_corroborated&type=new_claim"),
])
def test_every_list_links_its_csv_json_and_atom_with_its_filters(browse: Browse, page: str, csv_path: str,
                                                                  atom_path: str) -> None:
    html = ok(browse.client, page)
    head = html.split("</head>")[0]
    json_path = csv_path.replace(".csv", ".json")
    for media, href in (("text/csv", csv_path), ("application/json", json_path),
                        ("application/atom+xml", atom_path)):
        assert f'<link rel="alternate" type="{media}"' in head and f'href="{escape(href)}"' in head, (media, href)
        assert f'<a class="format" href="{escape(href)}" type="{media}">' in html
    # The links give the list's rows.
    attribute = {"/events": "data-event-id", "/articles": "data-article-id", "/diffs": "data-diff-id"}.get(
        page.split("?")[0])
    if attribute:
        listed = set(all_pages(browse.client, page, attribute))
        assert set(csv_ids(browse.client.get(csv_path).content)) == listed
        assert {row["id"] for row in browse.client.get(json_path).json()} == listed
        feed = feedparser.parse(browse.client.get(atom_path).content)
        assert not feed.bozo and len(feed.entries) == min(len(listed), 50)


def test_atom_feeds_of_articles_and_edits_link_to_pages_and_diffs(browse: Browse) -> None:
    edits = feedparser.parse(browse.client.get("/feeds/diffs.atom").content)
    assert not edits.bozo and edits.entries
    for entry in edits.entries:
        assert re.fullmatch(r"http://testserver/articles/\d+#version-\d+", entry.link), entry.link
    articles = feedparser.parse(browse.client.get("/feeds/articles.atom?relevant=all").content)
    with browse.db.read() as session:
        count = session.scalar(select(func.count()).select_from(Article))
    assert len(articles.entries) == min(count or 0, 50) and not articles.bozo


# --- hostile text ---------------------------------------------------------------------------------------

def test_hostile_titles_and_source_names_show_as_text(browse: Browse) -> None:
    client = browse.client
    hostile = hostile_article_id(browse.db)
    pages = [ok(client, "/sources"), ok(client, f"/articles?relevant=all&sort=id&dir=desc&source={browse.failing}"),
             ok(client, "/articles?sort=title&relevant=all"), ok(client, "/diffs?sort=title"),
             ok(client, f"/articles?source={browse.failing}&relevant=all")]
    for html in pages:
        for raw in HOSTILE_STRINGS:
            assert raw not in html
    assert str(escape(HOSTILE_NAME)) in pages[0] and str(escape(f"boom {HOSTILE_SCRIPT}")) in pages[0]
    assert hostile in all_pages(client, "/articles?relevant=all", "data-article-id")
    shown = ok(client, "/articles?relevant=all&sort=id&dir=desc&page=1&source=hostile-rss")
    assert f'data-article-id="{hostile}"' in shown and str(escape(HOSTILE_SCRIPT)) in shown
    for raw in HOSTILE_STRINGS:
        assert raw not in shown
