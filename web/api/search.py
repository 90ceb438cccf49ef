"""Route of the JSON API: full-text search (``/api/search``), the ``/search`` page's search as JSON."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from db.search import MARK_END, MARK_START, SearchHit, SearchQueryError
from web.api import paging
from web.search import marked, run_search, search_link, search_request


def _unmarked(value: str) -> str:
    return value.replace(MARK_START, "").replace(MARK_END, "")


def hit_json(hit: SearchHit) -> dict[str, object]:
    """One hit for the API: plain title and snippet, and the same as escaped HTML with ``<mark>`` matches."""
    return {"article_id": hit.article_id, "version_id": hit.version_id, "version": hit.version,
            "title": _unmarked(hit.title), "snippet": _unmarked(hit.snippet), "title_html": str(marked(hit.title)),
            "snippet_html": str(marked(hit.snippet)), "url": hit.url, "source_id": hit.source_id,
            "language": hit.language, "published_at": hit.published_at.isoformat() if hit.published_at else None,
            "fetched_at": hit.fetched_at.isoformat(), "rank": hit.rank}


async def search(request: Request) -> Response:
    """``/api/search``: the page's search as JSON (same parameters; ``limit`` sets the page size)."""
    wanted = search_request(request)
    if not wanted.query:
        raise HTTPException(400, "`q` is required: the words to search for.")
    page_size = paging.limit(request)
    try:
        result = await run_search(request, wanted, page_size)
    except SearchQueryError as exc:
        raise HTTPException(400, f"bad query: {exc}") from exc

    def link(page: int) -> str:
        return search_link(wanted, page, "/api/search") + (f"&limit={page_size}" if request.query_params.get("limit")
                                                     else "")

    return JSONResponse({
        "query": result.query, "total": result.total, "more": result.more, "page": result.page,
        "pages": result.pages, "page_size": result.page_size, "mode": result.mode,
        "also_searched": list(result.also_searched), "items": [hit_json(hit) for hit in result.hits],
        "next": str(request.base_url).rstrip("/") + link(result.page + 1) if result.has_next else None,
    })


routes: list[BaseRoute] = [Route("/api/search", search, name="api_search")]
