"""Routes of the web UI: CSV and JSON exports of events, claims and claim matches, and Atom feeds of events.

Exports stream: each batch of rows is one short read in a worker thread, encoded and sent before the next is
read, and an export stops at the newest row that existed when it began. CSV cells that a spreadsheet would take
for a formula are prefixed with ``'``. Feeds are built with lxml, so every value is escaped as XML.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from db import browse_lists, export
from db.browse_lists import SOURCE_SORTS, Listing
from db.engine import Database
from db.models import utcnow
from db.status import HEALTHS
from web import browse_pages, filters
from web.deps import database, read

BATCH = 500
FORMATS = ("csv", "json")
FEED_SIZE, MAX_FEED_SIZE = 50, 200
ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
# Entry and feed ids are UUIDs derived from event keys: the same event keeps its id on any host, for ever.
ID_NAMESPACE = uuid.UUID("6f1c7a52-3d1e-4e0a-9c57-2b8e4f0d9a31")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

EVENT_COLUMNS = ("id", "type", "created_at", "source_id", "article_id", "version_id", "claim_id", "url", "title",
                 "summary", "importance", "key", "details")
CLAIM_COLUMNS = ("id", "text", "subject", "figures", "source", "tags", "approx", "status", "created_at",
                 "updated_at")
ARTICLE_COLUMNS = ("id", "source_id", "source_name", "title", "url", "language", "published_at", "relevant",
                   "relevance_score", "matched_terms", "versions", "first_seen_at", "last_checked_at",
                   "next_check_at", "gone_at")
DIFF_COLUMNS = ("id", "article_id", "from_version_id", "to_version_id", "created_at", "source_id", "source_name",
                "url", "title_before", "title", "changed", "figures_changed", "figures_before", "figures_after",
                "added", "removed", "added_positions", "removed_positions")
SOURCE_COLUMNS = ("id", "name", "kind", "url", "enabled", "health", "last_polled_at", "next_poll_at",
                  "last_success_at", "consecutive_failures", "last_error_code", "last_error", "last_error_at",
                  "items_last_run", "new_last_run", "not_modified_last_run")
# Excel reads a CSV file as UTF-8 only when it starts with a byte-order mark; without one it shows Korean,
# Russian and "→" as mojibake. Other readers skip it; ``bom=0`` leaves it out.
BOM = "\ufeff".encode()
MATCH_COLUMNS = ("id", "label", "claim_id", "confidence", "score", "sentence", "old_values", "new_values",
                 "reasons", "on_subject", "article_id", "version_id", "version", "sentence_index", "position",
                 "source_id", "url", "title", "fetched_at", "matched_at", "claims_digest")


# --- CSV and JSON -----------------------------------------------------------------------------------------

def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: lists and dicts as JSON; text a spreadsheet would run as a formula gets a ``'``."""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_chunk(rows: list[dict[str, Any]], columns: Sequence[str], header: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(columns)
    writer.writerows([csv_cell(row.get(c)) for c in columns] for row in rows)
    return out.getvalue().encode("utf-8")


def _read_batch(db: Database, fetch: Callable[..., list[dict[str, Any]]], args: tuple[Any, ...]) -> list[
        dict[str, Any]]:
    with db.read() as session:
        return fetch(session, *args)


async def _batches(request: Request, fetch: Callable[..., list[dict[str, Any]]], start: Any,
                   *args: Any) -> AsyncIterator[list[dict[str, Any]]]:
    db, after = database(request), start
    while True:
        rows = await run_in_threadpool(_read_batch, db, fetch, (*args, after, BATCH))
        if rows:
            yield rows
        if len(rows) < BATCH:
            return
        after = rows[-1]["id"]


async def _encoded(batches: AsyncIterator[list[dict[str, Any]]], fmt: str, columns: Sequence[str],
                   bom: bool = True) -> AsyncIterator[bytes]:
    first = True
    if fmt == "csv":
        yield (BOM if bom else b"") + _csv_chunk([], columns, header=True)
    else:
        yield b"["
    async for rows in batches:
        if fmt == "csv":
            yield _csv_chunk(rows, columns, header=False)
            continue
        items = ",\n".join(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) for row in rows)
        yield (("\n" if first else ",\n") + items).encode("utf-8")
        first = False
    if fmt == "json":
        yield b"\n]\n"


def _format(request: Request) -> str:
    fmt: str = request.path_params["fmt"]
    if fmt not in FORMATS:
        raise HTTPException(404, f"Exports come as {' or '.join(FORMATS)}, not {fmt!r}.")
    return fmt


def _bom(request: Request) -> bool:
    """``bom``: 1 (the default) starts a CSV file with a UTF-8 byte-order mark, 0 does not."""
    return (filters.known(request.query_params, "bom", ("0", "1"), "bom value") or "1") == "1"


async def _one(rows: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    yield rows


def _download(name: str, fmt: str, body: AsyncIterator[bytes]) -> StreamingResponse:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return StreamingResponse(body, media_type=kind, headers={
        "content-disposition": f'attachment; filename="labourwatch-{name}-{stamp}.{fmt}"',
        "cache-control": "no-store"})


# Rows with ``after < id <= up_to`` in id order: ``rows_after(session, query, after, limit, up_to)``.
RowsAfter = Callable[[Any, Any, int, int, int], list[dict[str, Any]]]


def _upto(session: Any, rows_after: RowsAfter, query: Any, up_to: int, after: int,
          limit: int) -> list[dict[str, Any]]:
    return rows_after(session, query, after, limit, up_to)


def _send(request: Request, name: str, columns: Sequence[str],
          batches: AsyncIterator[list[dict[str, Any]]]) -> StreamingResponse:
    fmt = _format(request)
    return _download(name, fmt, _encoded(batches, fmt, columns, _bom(request)))


async def _export(request: Request, name: str, columns: Sequence[str], query: Any,
                  last_id: Callable[[Any], int], rows_after: RowsAfter) -> StreamingResponse:
    """The rows ``query`` matches, in id order, up to the newest when the export began."""
    up_to = await read(request, last_id)
    return _send(request, name, columns, _batches(request, _upto, 0, rows_after, query, up_to))


async def export_events(request: Request) -> Response:
    """``/export/events.csv|json``: events in id order; filters as ``/events``."""
    query = filters.event_filter(request.query_params, await browse_pages.choices(request))
    return await _export(request, "events", EVENT_COLUMNS, query, export.last_event_id, export.events_after)


async def export_claims(request: Request) -> Response:
    """``/export/claims.csv|json``: the known claims in id order; ``status`` filters."""
    status = filters.claim_status(request.query_params)
    return _send(request, "claims", CLAIM_COLUMNS, _batches(request, export.claims_after, "", status))


async def export_matches(request: Request) -> Response:
    """``/export/matches.csv|json``: claim matches in id order; filters as ``/api/matches``."""
    query = filters.match_query(request.query_params, await browse_pages.choices(request))
    return await _export(request, "matches", MATCH_COLUMNS, query, export.last_match_id, export.matches_after)


async def export_articles(request: Request) -> Response:
    """``/export/articles.csv|json``: articles in id order; filters as ``/articles``."""
    query = filters.article_filter(request.query_params, await browse_pages.choices(request))
    return await _export(request, "articles", ARTICLE_COLUMNS, query, browse_lists.last_article_id,
                         browse_lists.articles_after)


async def export_diffs(request: Request) -> Response:
    """``/export/diffs.csv|json``: edits in id order; filters as ``/diffs``."""
    query = filters.diff_filter(request.query_params, await browse_pages.choices(request))
    return await _export(request, "diffs", DIFF_COLUMNS, query, browse_lists.last_diff_id,
                         browse_lists.diffs_after)


async def export_sources(request: Request) -> Response:
    """``/export/sources.csv|json``: every source with its health, in the order and with the filter of
    ``/sources``."""
    params = request.query_params
    health = filters.known(params, "health", HEALTHS, "health")
    order = filters.sort_order(params, SOURCE_SORTS, "health")
    rows = await read(request, browse_lists.source_list, utcnow(), health, order.column, order.descending)
    return _send(request, "sources", SOURCE_COLUMNS, _one(rows))


# --- Atom -------------------------------------------------------------------------------------------------

def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def _sub(parent: Any, tag: str, text: object | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _http(url: str | None) -> str | None:
    return url if url and url.startswith(("http://", "https://")) else None


def _entry_title(row: dict[str, Any]) -> str:
    kind, title, summary = row["type"], row["title"], row["summary"]
    if kind in ("claim_updated", "claim_corroborated"):
        return f"{summary} — {title}"  # "K03 updated: 18 → 14 — <headline>"
    if kind in ("new_article", "new_claim"):
        return str(summary)  # "New article: <headline>", "New claim: <sentence>"
    return f"{kind.replace('_', ' ').capitalize()}: {title or summary}"


def version_page(base: str, article_id: int, version_id: int | None) -> str:
    """The article page at one version's diff (the anchor the pages, feeds and alerts link to)."""
    return f"{base}articles/{article_id}" + (f"#version-{version_id}" if version_id else "")


def _entry(feed: Any, *, key: str, title: str, updated: str, link: str, related: str | None, category: str,
           summary: str) -> None:
    entry = _sub(feed, "entry")
    _sub(entry, "id", "urn:uuid:" + str(uuid.uuid5(ID_NAMESPACE, key)))
    _sub(entry, "title", title)
    _sub(entry, "updated", updated)
    _sub(entry, "published", updated)
    _sub(entry, "link", rel="alternate", type="text/html", href=link)
    if related:
        _sub(entry, "link", rel="related", href=related)
    _sub(entry, "category", term=category)
    _sub(entry, "summary", summary, type="text")


def _event_entry(feed: Any, row: dict[str, Any], base: str) -> None:
    page = version_page(base, row["article_id"], row["version_id"]) if row["article_id"] else None
    sentence = row["details"].get("sentence") if isinstance(row["details"], dict) else None
    summary = row["summary"] + (f"\n\n{sentence}" if sentence and sentence not in row["summary"] else "")
    _entry(feed, key=row["key"], title=_entry_title(row), updated=row["created_at"],
           link=page or _http(row["url"]) or f"{base}api/events/{row['id']}",
           related=_http(row["url"]) if page else None, category=row["type"], summary=summary)


def _article_entry(feed: Any, row: dict[str, Any], base: str) -> None:
    versions = f"{row['versions']} version{'' if row['versions'] == 1 else 's'}"
    _entry(feed, key=f"article:{row['id']}", title=row["title"] or "(untitled)", updated=row["first_seen_at"],
           link=f"{base}articles/{row['id']}", related=_http(row["url"]),
           category="article" if row["relevant"] else "off-topic",
           summary=f"{row['source_name'] or 'unknown source'} · {row['language'] or 'language unknown'} · {versions}")


def _diff_entry(feed: Any, row: dict[str, Any], base: str) -> None:
    lines = [f"Changed: {', '.join(row['changed'])}; {len(row['added'])} sentence(s) added, "
             f"{len(row['removed'])} removed."]
    if row["figures_changed"]:
        lines.append(f"Figures: {', '.join(row['figures_before'])} → {', '.join(row['figures_after'])}")
    _entry(feed, key=f"diff:{row['id']}", title=f"Edited: {row['title'] or '(untitled)'}",
           updated=row["created_at"], link=version_page(base, row["article_id"], row["to_version_id"]),
           related=_http(row["url"]), category="figures" if row["figures_changed"] else "edit",
           summary="\n".join(lines))


def _feed(*, key: str, title: str, updated: str | None, self_url: str, page: str, entries: list[dict[str, Any]],
          entry: Callable[[Any, dict[str, Any], str], None], base: str) -> bytes:
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _sub(feed, "id", "urn:uuid:" + str(uuid.uuid5(ID_NAMESPACE, key)))
    _sub(feed, "title", title)
    _sub(feed, "updated", updated or utcnow().isoformat())
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=page)
    _sub(_sub(feed, "author"), "name", "labourwatch")
    _sub(feed, "generator", "labourwatch")
    for row in entries:
        entry(feed, row, base)
    result: bytes = etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return result


def atom_feed(rows: list[dict[str, Any]], *, self_url: str, base: str, event_type: str | None,
              page: str | None = None) -> bytes:
    """An Atom 1.0 document of ``rows`` (events, newest first); ``page`` is the HTML list it mirrors."""
    what = event_type.replace("_", " ") if event_type else "all events"
    return _feed(key=f"feed:events:{event_type or '*'}", title=f"labourwatch: {what}",
                 updated=rows[0]["created_at"] if rows else None, self_url=self_url, base=base, entries=rows,
                 page=page or f"{base}events" + (f"?type={event_type}" if event_type else ""), entry=_event_entry)


def _feed_limit(request: Request) -> int:
    limit = filters.whole(request.query_params, "limit", f"a whole number from 1 to {MAX_FEED_SIZE}", low=1,
                          high=MAX_FEED_SIZE)
    return limit or FEED_SIZE


async def events_feed(request: Request) -> Response:
    """``/feeds/events.atom``: the newest events as Atom 1.0; filters as ``/events``."""
    params = request.query_params
    query = filters.event_filter(params, await browse_pages.choices(request))
    limit = _feed_limit(request)
    rows = await read(request, export.events_before, query, limit)
    base = str(request.base_url)
    body = atom_feed(rows, self_url=str(request.url), base=base, event_type=",".join(query.types) or None,
                     page=filters.link(f"{base}events", filters.kept(params, filters.EVENT_KEYS)))
    return Response(body, media_type=ATOM_TYPE)


async def _list_feed(request: Request, name: str, title: str, wanted: Any, keys: Sequence[str], *, sort: str,
                     stamp: str, page_of: Callable[[Any, Any, Listing], dict[str, Any]],
                     entry: Callable[[Any, dict[str, Any], str], None]) -> Response:
    """The newest ``limit`` rows of list ``name`` (by ``sort``, descending) that filter ``wanted`` matches."""
    listing = Listing(sort, True, 1, _feed_limit(request))
    rows = (await read(request, page_of, wanted, listing))["rows"]
    base = str(request.base_url)
    body = _feed(key=f"feed:{name}", title=f"labourwatch: {title}", self_url=str(request.url), base=base,
                 updated=rows[0][stamp] if rows else None, entries=rows, entry=entry,
                 page=filters.link(f"{base}{name}", filters.kept(request.query_params, keys)))
    return Response(body, media_type=ATOM_TYPE)


async def articles_feed(request: Request) -> Response:
    """``/feeds/articles.atom``: the newest stored articles as Atom 1.0; filters as ``/articles``."""
    wanted = filters.article_filter(request.query_params, await browse_pages.choices(request))
    return await _list_feed(request, "articles", "articles", wanted, filters.ARTICLE_KEYS, sort="id",
                            stamp="first_seen_at", page_of=browse_lists.article_page, entry=_article_entry)


async def diffs_feed(request: Request) -> Response:
    """``/feeds/diffs.atom``: the newest edits as Atom 1.0; filters as ``/diffs``."""
    wanted = filters.diff_filter(request.query_params, await browse_pages.choices(request))
    return await _list_feed(request, "diffs", "edits", wanted, filters.DIFF_KEYS, sort="created",
                            stamp="created_at", page_of=browse_lists.diff_page, entry=_diff_entry)


routes: list[BaseRoute] = [
    Route("/export/events.{fmt:str}", export_events, name="export_events"),
    Route("/export/claims.{fmt:str}", export_claims, name="export_claims"),
    Route("/export/matches.{fmt:str}", export_matches, name="export_matches"),
    Route("/export/articles.{fmt:str}", export_articles, name="export_articles"),
    Route("/export/diffs.{fmt:str}", export_diffs, name="export_diffs"),
    Route("/export/sources.{fmt:str}", export_sources, name="export_sources"),
    Route("/feeds/events.atom", events_feed, name="events_feed"),
    Route("/feeds/articles.atom", articles_feed, name="articles_feed"),
    Route("/feeds/diffs.atom", diffs_feed, name="diffs_feed"),
]
