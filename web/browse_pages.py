"""Routes of the web UI: the browse lists — ``/articles``, ``/sources`` and ``/diffs`` (recent edits).

Each is filtered with the vocabulary of ``web.filters``, sorted by a column of its allow-list (``sort``,
``dir``), paged with ``page``, and links to its CSV, JSON and Atom equivalents with the same filters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from db import browse_lists
from db.browse_lists import ARTICLE_SORTS, DIFF_SORTS, SOURCE_SORTS, Listing
from db.events import SOURCE_FAILING, SOURCE_RECOVERED
from db.models import utcnow
from db.status import HEALTHS
from web import filters
from web.deps import options, read, render
from web.filters import ARTICLE_KEYS, DIFF_KEYS, SOURCE_KEYS, Choices


async def choices(request: Request, *, languages: bool | None = None) -> Choices:
    """What this request's filters may name; the stored languages when ``languages``, or (None) when the
    request filters by language."""
    wanted = bool(request.query_params.get("language")) if languages is None else languages
    return Choices.of(await read(request, browse_lists.choices, languages=wanted))


async def _list_page(request: Request, name: str, keys: tuple[str, ...], sorts: dict[str, str], default: str,
                     wanted: Any, page_of: Callable[[Session, Any, Listing], dict[str, Any]],
                     **context: Any) -> Response:
    """The page of list ``name`` (its template, path, export and feed names) for filter ``wanted``: sorted, paged,
    with its sort links, pager and other formats, each keeping the filters (``keys``)."""
    params, path = request.query_params, f"/{name}"
    order = filters.sort_order(params, sorts, default)
    listing = Listing(order.column, order.descending, filters.page_number(params), options(request).page_size)
    page = await read(request, page_of, wanted, listing)
    shown = filters.kept(params, keys)
    return render(request, f"{name}.html", {
        "page": page, "params": params, "filtered": bool(shown), "pager": filters.pages(path, params, keys, page),
        "sorting": filters.sorting(path, params, keys, order, sorts),
        "alternates": filters.alternates(shown, csv=f"/export/{name}.csv", json=f"/export/{name}.json",
                                         atom=f"/feeds/{name}.atom"), **context})


async def articles(request: Request) -> Response:
    """``/articles``: stored articles filtered by source, language, relevance, first-seen dates and edits."""
    known = await choices(request, languages=True)  # the form lists them
    query = filters.article_filter(request.query_params, known)
    return await _list_page(request, "articles", ARTICLE_KEYS, ARTICLE_SORTS, "first_seen", query,
                            browse_lists.article_page, choices=known, query=query)


async def diffs(request: Request) -> Response:
    """``/diffs``: recent edits, those that changed figures first; each links to its version's diff."""
    known = await choices(request)
    query = filters.diff_filter(request.query_params, known)
    return await _list_page(request, "diffs", DIFF_KEYS, DIFF_SORTS, "figures", query, browse_lists.diff_page,
                            choices=known)


async def sources(request: Request) -> Response:
    """``/sources``: every source with its health, last and next poll, last error and items; failing first."""
    params = request.query_params
    health = filters.known(params, "health", HEALTHS, "health")
    order = filters.sort_order(params, SOURCE_SORTS, "health")
    rows = await read(request, browse_lists.source_list, utcnow(), health, order.column, order.descending)
    shown = filters.kept(params, SOURCE_KEYS)
    # A source's failures and recoveries are events: the Atom equivalent is their feed.
    atom = [("type", SOURCE_FAILING), ("type", SOURCE_RECOVERED)]
    return render(request, "sources.html", {
        "sources": rows, "healths": HEALTHS, "health": health or "", "filtered": bool(shown),
        "sorting": filters.sorting("/sources", params, SOURCE_KEYS, order, SOURCE_SORTS),
        "alternates": filters.alternates(shown, csv="/export/sources.csv", json="/export/sources.json",
                                         atom="/feeds/events.atom", atom_filters=atom)})


routes: list[BaseRoute] = [
    Route("/articles", articles, name="articles"),
    Route("/diffs", diffs, name="diffs"),
    Route("/sources", sources, name="sources"),
]
