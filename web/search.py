"""Routes of the web UI: full-text search over the articles' latest versions (``/search``, and ``/api/search``,
the same search as JSON).

The database marks matches with sentinel characters; ``marked`` escapes the whole text first and only then
turns the sentinels into ``<mark>`` elements, so article text can never become markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from db.search import (
    MARK_END,
    MARK_START,
    SearchFilters,
    SearchHit,
    SearchPage,
    SearchQueryError,
    search_articles,
)
from web.deps import options, read, render

LANGUAGES = ("en", "ko", "ru", "zh", "ja")
MAX_QUERY = 500
MAX_PAGE = 10_000
_SENTINELS = re.compile(f"([{MARK_START}{MARK_END}])")


def marked(value: str) -> Markup:
    """``value`` escaped, its sentinel-marked matches as ``<mark>``; stray or nested sentinels never make an
    unbalanced tag."""
    out: list[Markup] = []
    inside = False
    for part in _SENTINELS.split(value):
        if part == MARK_START:
            if not inside:
                out.append(Markup("<mark>"))
            inside = True
        elif part == MARK_END:
            if inside:
                out.append(Markup("</mark>"))
            inside = False
        else:
            out.append(escape(part))
    if inside:
        out.append(Markup("</mark>"))
    return Markup("").join(out)


@dataclass(frozen=True)
class HitView:
    """A search hit ready for the template."""

    hit: SearchHit
    title: Markup
    snippet: Markup


def _page(raw: str) -> int:
    return min(int(raw), MAX_PAGE) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1


@dataclass(frozen=True)
class SearchRequest:
    """The parameters of a search, as the page and ``/api/search`` read them."""

    query: str
    filters: SearchFilters
    page: int
    cross_language: bool


def search_request(request: Request) -> SearchRequest:
    """``q``, ``source``, ``lang``, ``page`` and ``xlang`` of a request (an unknown language or page is ignored)."""
    params = request.query_params
    language = params.get("lang", "").strip()
    filters = SearchFilters(source_id=params.get("source", "").strip() or None,
                            language=language if language in LANGUAGES else None)
    return SearchRequest(params.get("q", "").strip(), filters, _page(params.get("page", "1")),
                         params.get("xlang", "") in ("1", "on", "true"))


def search_link(wanted: SearchRequest, page: int, path: str = "/search") -> str:
    params = {"q": wanted.query, "source": wanted.filters.source_id or "", "lang": wanted.filters.language or "",
              "xlang": "1" if wanted.cross_language else "", "page": str(page)}
    return path + "?" + urlencode({k: v for k, v in params.items() if v and (k != "page" or v != "1")})


async def run_search(request: Request, wanted: SearchRequest, page_size: int) -> SearchPage:
    """The search ``wanted`` asks for; SearchQueryError for a query that is too long or has nothing to find."""
    if len(wanted.query) > MAX_QUERY:
        raise SearchQueryError(f"That query is too long: use at most {MAX_QUERY} characters.")
    return await read(request, search_articles, wanted.query, page=wanted.page, page_size=page_size,
                      filters=wanted.filters, cross_language=wanted.cross_language)


async def search(request: Request) -> Response:
    """``/search?q=…&page=N`` (optional ``lang``, ``source``, ``xlang=1``): matching articles, best first, with
    snippets; a query that cannot be run gets the form back with what to type, and status 400."""
    wanted = search_request(request)
    context: dict[str, object] = {"q": wanted.query, "filters": wanted.filters, "xlang": wanted.cross_language,
                                  "languages": LANGUAGES, "result": None, "hits": [], "message": None,
                                  "previous": None, "next": None}
    if not wanted.query:
        return render(request, "search.html", context)
    try:
        result = await run_search(request, wanted, options(request).page_size)
    except SearchQueryError as exc:
        return render(request, "search.html", context | {"message": str(exc)}, status_code=400)
    context |= {
        "result": result,
        "hits": [HitView(hit, marked(hit.title), marked(hit.snippet)) for hit in result.hits],
        "previous": search_link(wanted, wanted.page - 1) if wanted.page > 1 else None,
        "next": search_link(wanted, wanted.page + 1) if result.has_next else None,
    }
    return render(request, "search.html", context)


routes: list[BaseRoute] = [Route("/search", search, name="search")]
