"""Routes of the JSON API: articles (``/api/articles``, ``/api/articles/{id}``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from db import export
from web import browse_pages, filters
from web.api import paging
from web.deps import read


async def articles(request: Request) -> Response:
    """``/api/articles``: articles, newest first; filters as ``/articles`` (``source``, ``language``,
    ``relevant`` (``true`` (default), ``false``, ``all``), ``edited``, ``since``, ``until``)."""
    limit, before = paging.limit(request), paging.cursor(request)
    query = filters.article_filter(request.query_params, await browse_pages.choices(request))
    items = await read(request, export.articles_before, query, limit=limit, before=before)
    return paging.page(request, items, limit)


async def article(request: Request) -> Response:
    """``/api/articles/{id}``: one article with every version and its diff, ``copy_of`` (the original it copies, or
    null) and ``copies`` (the other articles of its story: the original, then its copies)."""
    return paging.found(await read(request, export.article, request.path_params["id"]), "article")


routes: list[BaseRoute] = [
    Route("/api/articles", articles, name="api_articles"),
    Route("/api/articles/{id:int}", article, name="api_article"),
]
