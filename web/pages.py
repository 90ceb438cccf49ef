"""Routes of the web UI: the read-only researcher pages (dashboard, events, one event, article, claims, claim).

Each handler parses its request, runs one ``db.browse`` query in a worker thread and renders a template;
a bad filter is a 400 page saying what to fix, an unknown id a 404 page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from db import browse
from db.browse import EventFilter
from db.models import utcnow
from web import charts
from web.deps import options, read, render

_FILTER_KEYS = ("type", "source", "claim", "from", "to")


async def dashboard(request: Request) -> Response:
    """``/``: recent events by type (with a chart of the last 30 days), the latest events, sources by health."""
    data = await read(request, browse.dashboard, utcnow())
    data["events_chart"] = charts.events_chart(data["days"], data["per_day"])
    return render(request, "dashboard.html", data)


def _day(params: QueryParams, key: str) -> date | None:
    raw = params.get(key, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise HTTPException(400, f"`{key}` must be an ISO date such as 2025-01-31, not {raw!r}.") from None


def _key(params: QueryParams, key: str) -> int | None:
    raw = params.get(key, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(400, f"`{key}` must be an event id (a positive whole number), not {raw!r}.")
    return int(raw)


def _one_of(value: str, known: list[str], what: str) -> str:
    if value not in known:
        listed = ", ".join(known) if known else "none stored yet"
        raise HTTPException(400, f"Unknown {what} {value!r}; known: {listed}.")
    return value


def event_filter(params: QueryParams, choices: dict[str, Any]) -> EventFilter:
    """The events filter of a query string (``type`` repeatable, ``source``, ``claim``, ``from`` and ``to`` as
    ISO dates, both days included); HTTP 400 with what to fix when a value is not valid."""
    types = tuple(dict.fromkeys(_one_of(t, choices["types"], "event type")
                                for t in params.getlist("type") if t))
    source = params.get("source") or None
    claim = params.get("claim") or None
    first, last = _day(params, "from"), _day(params, "to")
    if first and last and first > last:
        raise HTTPException(400, f"`from` ({first}) is after `to` ({last}): swap them.")
    return EventFilter(
        types=types,
        source_id=_one_of(source, [s for s, _ in choices["sources"]], "source") if source else None,
        claim_id=_one_of(claim, choices["claims"], "claim") if claim else None,
        since=datetime.combine(first, time(), UTC) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), UTC) if last else None,
    )


def _link(params: QueryParams, **page: int) -> str:
    # The filters as given, plus the page key: a next/previous link keeps every filter.
    kept = [(k, v) for k, v in params.multi_items() if k in _FILTER_KEYS and v]
    return "/events?" + urlencode(kept + list(page.items()))


async def events(request: Request) -> Response:
    """``/events``: events newest first, filtered by type, source, claim and dates, in keyset pages."""
    params = request.query_params
    choices = await read(request, browse.filter_choices)
    filters = event_filter(params, choices)
    before, after = _key(params, "before"), _key(params, "after")
    if before is not None and after is not None:
        raise HTTPException(400, "Give `before` or `after`, not both.")
    page = await read(request, browse.event_page, filters, limit=options(request).page_size, before=before,
                      after=after)
    return render(request, "events.html", {
        "page": page, "choices": choices, "selected": {
            "types": filters.types, "source": filters.source_id or "", "claim": filters.claim_id or "",
            "from": params.get("from", ""), "to": params.get("to", "")},
        "filtered": any(params.get(k) for k in _FILTER_KEYS), "paged": before is not None or after is not None,
        "newer_link": _link(params, after=page.newer) if page.newer is not None else None,
        "older_link": _link(params, before=page.older) if page.older is not None else None,
        "first_link": _link(params)})


async def event(request: Request) -> Response:
    """``/events/{id}``: one event — what alert messages link to — with its article version and details."""
    event_id: int = request.path_params["event_id"]
    # Past the integer column's range, PostgreSQL would fail the query: no such event either way.
    found = await read(request, browse.event_view, event_id) if event_id < 2**31 else None
    if found is None:
        raise HTTPException(404, f"There is no event with id {event_id}.")
    return render(request, "event.html", {"event": found, "details": found["details"] or {}})


def _show_background(params: QueryParams) -> bool:
    # ``background=show`` (the default) or ``hide``: whether the outlet's background sentences are listed.
    raw = params.get("background", "").strip() or "show"
    if raw not in ("show", "hide"):
        raise HTTPException(400, f"`background` must be show or hide, not {raw!r}.")
    return raw == "show"


async def article(request: Request) -> Response:
    """``/articles/{id}``: metadata, versions as a timeline with their diffs, matched claim sentences (the
    outlet's background marked, or hidden with ``background=hide``)."""
    article_id: int = request.path_params["article_id"]
    show_background = _show_background(request.query_params)
    # Past the integer column's range, PostgreSQL would fail the query: no such article either way.
    found = (await read(request, browse.article_view, article_id, show_background=show_background)
             if article_id < 2**31 else None)
    if found is None:
        raise HTTPException(404, f"There is no article with id {article_id}.")
    return render(request, "article.html", {"article": found, "show_background": show_background})


async def claims(request: Request) -> Response:
    """``/claims``: the known claims with their figures and match counts."""
    return render(request, "claims.html", {"claims": await read(request, browse.claim_rows)})


def _page(params: QueryParams) -> int:
    raw = params.get("page", "").strip() or "1"
    if not raw.isdigit() or not 0 < int(raw) < 1_000_000:
        raise HTTPException(400, f"`page` must be a page number from 1, not {raw!r}.")
    return int(raw)


async def claim(request: Request) -> Response:
    """``/claims/{id}``: a claim's summary (counts by verdict, outlets, figure history and its chart) and its
    matched sentences, newest first, a page (``page``) at a time."""
    claim_id: str = request.path_params["claim_id"]
    listing = browse.ClaimPage(_page(request.query_params), options(request).page_size)
    found = await read(request, browse.claim_view, claim_id, listing)
    if found is None:
        raise HTTPException(404, f"There is no claim with id {claim_id!r}.")
    amount = found["amount"]
    marks, left_out = charts.figure_marks(found["history"]["timeline"], amount["value"]) if amount else ([], 0)
    found |= {"chart_marks": marks, "chart_left_out": left_out,
              "figure_chart": charts.figure_chart(marks, amount["value"], unit=amount["unit"]) if amount else None}
    return render(request, "claim.html", found)


routes: list[BaseRoute] = [
    Route("/", dashboard, name="dashboard"),
    Route("/events", events, name="events"),
    Route("/events/{event_id:int}", event, name="event"),
    Route("/articles/{article_id:int}", article, name="article"),
    Route("/claims", claims, name="claims"),
    Route("/claims/{claim_id}", claim, name="claim"),
]
