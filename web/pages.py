"""Routes of the web UI: the read-only researcher pages (dashboard, events, one event, article, claims, claim).

Each handler parses its request, runs one ``db.browse`` query in a worker thread and renders a template;
a bad filter is a 400 page saying what to fix, an unknown id a 404 page.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from db import browse, browse_lists
from db.browse import CLAIM_SORTS, EventFilter
from db.browse_lists import EVENT_SORTS, Listing
from db.events import CLAIM_CORROBORATED, CLAIM_UPDATED, NEW_CLAIM
from db.models import utcnow
from web import charts, filters
from web.deps import options, read, render
from web.filters import EVENT_KEYS, Choices


async def dashboard(request: Request) -> Response:
    """``/``: recent events by type (with a chart of the last 30 days), the latest events, sources by health."""
    data = await read(request, browse.dashboard, utcnow())
    data["events_chart"] = charts.events_chart(data["days"], data["per_day"])
    return render(request, "dashboard.html", data)


def _key(params: QueryParams, key: str) -> int | None:
    return filters.whole(params, key, "an event id (a positive whole number)", high=10**18)


def _link(params: QueryParams, **page: int) -> str:
    # The filters and order as given, plus the page key: a next/previous link keeps every filter.
    return filters.link("/events", [*filters.kept(params, (*EVENT_KEYS, "sort", "dir")), *page.items()])


async def _newest_first(request: Request, query: EventFilter) -> dict[str, Any]:
    # Newest first, the events page goes by keyset pages (``before``/``after``): a page stays put while events
    # arrive.
    params = request.query_params
    before, after = _key(params, "before"), _key(params, "after")
    if before is not None and after is not None:
        raise HTTPException(400, "Give `before` or `after`, not both.")
    page = await read(request, browse.event_page, query, limit=options(request).page_size, before=before,
                      after=after)
    return {"page": page, "newest_first": True, "pager": {
        "prev": _link(params, after=page.newer) if page.newer is not None else None,
        "next": _link(params, before=page.older) if page.older is not None else None,
        "number": None, "first": _link(params) if before is not None or after is not None else None}}


async def _sorted(request: Request, query: EventFilter, order: filters.Sort) -> dict[str, Any]:
    # Sorted by another column (or paged by number), numbered pages as on the other lists.
    params = request.query_params
    if any(params.get(key) for key in ("before", "after")):
        raise HTTPException(400, "`before` and `after` page the events newest first: with `sort`, `dir` or "
                                 "`page` give `page` only.")
    listing = Listing(order.column, order.descending, filters.page_number(params), options(request).page_size)
    page = await read(request, browse_lists.event_sorted_page, query, listing)
    return {"page": page, "newest_first": False, "pager": filters.pages("/events", params, EVENT_KEYS, page)}


async def events(request: Request) -> Response:
    """``/events``: events filtered by type, source, claim and dates; newest first in keyset pages, or sorted by
    a column of its allow-list (``sort``, ``dir``) in numbered pages (``page``)."""
    params = request.query_params
    choices = await read(request, browse.filter_choices)
    query = filters.event_filter(params, Choices.of(choices))
    order = filters.sort_order(params, EVENT_SORTS, "created")
    shown = filters.kept(params, EVENT_KEYS)
    newest = order == filters.Sort("created", True) and not params.get("page")
    return render(request, "events.html", {
        **(await _newest_first(request, query) if newest else await _sorted(request, query, order)),
        "choices": choices, "params": params, "filtered": bool(shown),
        "selected": {"types": query.types, "source": query.source_id or "", "claim": query.claim_id or ""},
        "sorting": filters.sorting("/events", params, EVENT_KEYS, order, EVENT_SORTS),
        "alternates": filters.alternates(shown, csv="/export/events.csv", json="/export/events.json",
                                         atom="/feeds/events.atom")})


async def event(request: Request) -> Response:
    """``/events/{id}``: one event with its article version and details (what alert messages link to when the
    event has no article version)."""
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
    """``/claims``: the known claims with their figures and match counts, sorted by a column of its allow-list
    (``sort``, ``dir``; by id at first)."""
    params = request.query_params
    order = filters.sort_order(params, CLAIM_SORTS, "id")
    # Claims change through events: the Atom equivalent is the feed of their updates and corroborations.
    atom = [("type", CLAIM_UPDATED), ("type", CLAIM_CORROBORATED), ("type", NEW_CLAIM)]
    return render(request, "claims.html", {
        "claims": await read(request, browse.claim_rows, order.column, order.descending),
        "sorting": filters.sorting("/claims", params, (), order, CLAIM_SORTS),
        "alternates": filters.alternates([], csv="/export/claims.csv", json="/export/claims.json",
                                         atom="/feeds/events.atom", atom_filters=atom)})


async def claim(request: Request) -> Response:
    """``/claims/{id}``: a claim's summary (counts by verdict, outlets, figure history and its chart) and its
    matched sentences, newest first, a page (``page``) at a time."""
    claim_id: str = request.path_params["claim_id"]
    listing = browse.ClaimPage(filters.page_number(request.query_params), options(request).page_size)
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
