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
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from db import export
from db.browse import LABELS, EventFilter
from db.engine import Database
from db.events import EVENT_TYPES
from db.export import MatchQuery
from db.models import utcnow
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
MATCH_COLUMNS = ("id", "label", "claim_id", "confidence", "score", "sentence", "old_values", "new_values",
                 "reasons", "on_subject", "article_id", "version_id", "version", "sentence_index", "source_id",
                 "url", "title", "fetched_at", "matched_at", "claims_digest")


# --- request parameters (shared with the JSON API) ---------------------------------------------------------

def _one_of(value: str, known: Sequence[str], what: str) -> str:
    if value not in known:
        raise HTTPException(400, f"Unknown {what} {value!r}; known: {', '.join(known)}.")
    return value


def timestamp(params: QueryParams, key: str) -> datetime | None:
    """An ISO 8601 date or time parameter, as UTC (a value without a zone is taken as UTC)."""
    raw = params.get(key, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise HTTPException(400, f"`{key}` must be an ISO 8601 date or time such as 2026-01-31 or "
                                 f"2026-01-31T08:00:00Z, not {raw!r}.") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def event_query(params: QueryParams) -> EventFilter:
    """Events filter of a query string: ``type`` (repeatable), ``source``, ``claim``, ``since``, ``until``."""
    types = tuple(_one_of(t, EVENT_TYPES, "event type") for t in params.getlist("type") if t)
    return EventFilter(types=types, source_id=params.get("source") or None, claim_id=params.get("claim") or None,
                      since=timestamp(params, "since"), until=timestamp(params, "until"))


def match_query(params: QueryParams) -> MatchQuery:
    """Claim-match filter of a query string: ``claim``, ``label``, ``article``, ``all`` (off-subject too)."""
    label = params.get("label") or None
    article = params.get("article", "")
    if article and not article.isdigit():
        raise HTTPException(400, f"`article` must be an article id (a whole number), not {article!r}.")
    return MatchQuery(claim_id=params.get("claim") or None, label=label and _one_of(label, LABELS, "label"),
                      article_id=int(article) if article else None,
                      off_subject=params.get("all", "").lower() in ("1", "true", "yes"))


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


async def _encoded(batches: AsyncIterator[list[dict[str, Any]]], fmt: str,
                   columns: Sequence[str]) -> AsyncIterator[bytes]:
    first = True
    if fmt == "csv":
        yield _csv_chunk([], columns, header=True)
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


def _download(name: str, fmt: str, body: AsyncIterator[bytes]) -> StreamingResponse:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return StreamingResponse(body, media_type=kind, headers={
        "content-disposition": f'attachment; filename="labourwatch-{name}-{stamp}.{fmt}"',
        "cache-control": "no-store"})


async def export_events(request: Request) -> Response:
    """``/export/events.csv|json``: events in id order; filters as ``/api/events``."""
    fmt, query = _format(request), event_query(request.query_params)
    up_to = await read(request, export.last_event_id)
    batches = _batches(request, _events_upto, 0, query, up_to)
    return _download("events", fmt, _encoded(batches, fmt, EVENT_COLUMNS))


def _events_upto(session: Any, query: EventFilter, up_to: int, after: int, limit: int) -> list[dict[str, Any]]:
    return export.events_after(session, query, after, limit, up_to)


async def export_claims(request: Request) -> Response:
    """``/export/claims.csv|json``: the known claims in id order; ``status`` filters."""
    fmt, status = _format(request), request.query_params.get("status") or None
    if status:
        _one_of(status, ("active", "retired"), "status")
    batches = _batches(request, export.claims_after, "", status)
    return _download("claims", fmt, _encoded(batches, fmt, CLAIM_COLUMNS))


async def export_matches(request: Request) -> Response:
    """``/export/matches.csv|json``: claim matches in id order; filters as ``/api/matches``."""
    fmt, query = _format(request), match_query(request.query_params)
    up_to = await read(request, export.last_match_id)
    batches = _batches(request, _matches_upto, 0, query, up_to)
    return _download("matches", fmt, _encoded(batches, fmt, MATCH_COLUMNS))


def _matches_upto(session: Any, query: MatchQuery, up_to: int, after: int, limit: int) -> list[dict[str, Any]]:
    return export.matches_after(session, query, after, limit, up_to)


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


def _entry(feed: Any, row: dict[str, Any], base: str) -> None:
    entry = _sub(feed, "entry")
    _sub(entry, "id", "urn:uuid:" + str(uuid.uuid5(ID_NAMESPACE, row["key"])))
    _sub(entry, "title", _entry_title(row))
    _sub(entry, "updated", row["created_at"])
    _sub(entry, "published", row["created_at"])
    page = f"{base}articles/{row['article_id']}" if row["article_id"] else None
    _sub(entry, "link", rel="alternate", type="text/html",
         href=page or _http(row["url"]) or f"{base}api/events/{row['id']}")
    if page and _http(row["url"]):
        _sub(entry, "link", rel="related", href=row["url"])
    _sub(entry, "category", term=row["type"])
    sentence = row["details"].get("sentence") if isinstance(row["details"], dict) else None
    summary = row["summary"] + (f"\n\n{sentence}" if sentence and sentence not in row["summary"] else "")
    _sub(entry, "summary", summary, type="text")


def atom_feed(rows: list[dict[str, Any]], *, self_url: str, base: str, event_type: str | None) -> bytes:
    """An Atom 1.0 document of ``rows`` (events, newest first)."""
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _sub(feed, "id", "urn:uuid:" + str(uuid.uuid5(ID_NAMESPACE, f"feed:events:{event_type or '*'}")))
    what = event_type.replace("_", " ") if event_type else "all events"
    _sub(feed, "title", f"labourwatch: {what}")
    _sub(feed, "updated", rows[0]["created_at"] if rows else utcnow().isoformat())
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html",
         href=f"{base}events" + (f"?type={event_type}" if event_type else ""))
    _sub(_sub(feed, "author"), "name", "labourwatch")
    _sub(feed, "generator", "labourwatch")
    for row in rows:
        _entry(feed, row, base)
    result: bytes = etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return result


async def events_feed(request: Request) -> Response:
    """``/feeds/events.atom?type=T``: the newest events (of one type, or all) as Atom 1.0."""
    params = request.query_params
    event_type = params.get("type") or None
    if event_type:
        _one_of(event_type, EVENT_TYPES, "event type")
    limit = params.get("limit", "") or str(FEED_SIZE)
    if not (limit.isdigit() and 0 < int(limit[:6]) <= MAX_FEED_SIZE):
        raise HTTPException(400, f"`limit` must be a whole number from 1 to {MAX_FEED_SIZE}, not {limit!r}.")
    query = EventFilter(types=(event_type,) if event_type else (), source_id=params.get("source") or None)
    rows = await read(request, export.events_before, query, int(limit))
    body = atom_feed(rows, self_url=str(request.url), base=str(request.base_url), event_type=event_type)
    return Response(body, media_type=ATOM_TYPE)


routes: list[BaseRoute] = [
    Route("/export/events.{fmt:str}", export_events, name="export_events"),
    Route("/export/claims.{fmt:str}", export_claims, name="export_claims"),
    Route("/export/matches.{fmt:str}", export_matches, name="export_matches"),
    Route("/feeds/events.atom", events_feed, name="events_feed"),
]
