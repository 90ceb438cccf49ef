"""Routes of the web UI: full-text search over the articles' latest versions (``/search``).

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

from db.search import MARK_END, MARK_START, SearchFilters, SearchHit, SearchQueryError, search_articles
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


def _link(query: str, filters: SearchFilters, page: int) -> str:
    params = {"q": query, "source": filters.source_id or "", "lang": filters.language or "", "page": str(page)}
    return "/search?" + urlencode({k: v for k, v in params.items() if v and (k != "page" or v != "1")})


async def search(request: Request) -> Response:
    """``/search?q=…&page=N`` (optional ``lang``, ``source``): matching articles, best first, with snippets."""
    params = request.query_params
    query = params.get("q", "").strip()
    language = params.get("lang", "").strip()
    filters = SearchFilters(source_id=params.get("source", "").strip() or None,
                            language=language if language in LANGUAGES else None)
    context: dict[str, object] = {"q": query, "filters": filters, "languages": LANGUAGES, "result": None,
                                  "hits": [], "message": None, "previous": None, "next": None}
    if len(query) > MAX_QUERY:
        context["message"] = f"That query is too long: use at most {MAX_QUERY} characters."
    elif query:
        page = _page(params.get("page", "1"))
        try:
            result = await read(request, search_articles, query, page=page, page_size=options(request).page_size,
                                filters=filters)
        except SearchQueryError as exc:
            context["message"] = str(exc)
        else:
            context |= {
                "result": result,
                "hits": [HitView(hit, marked(hit.title), marked(hit.snippet)) for hit in result.hits],
                "previous": _link(query, filters, page - 1) if page > 1 else None,
                "next": _link(query, filters, page + 1) if result.has_next else None,
            }
    return render(request, "search.html", context)


routes: list[BaseRoute] = [Route("/search", search, name="search")]
