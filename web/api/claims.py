"""Routes of the JSON API: known claims and the matcher's verdicts (``/api/claims``, ``/api/claims/{id}``,
``/api/matches``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from db import export
from web import browse_pages, filters
from web.api import paging
from web.deps import read


async def claims(request: Request) -> Response:
    """``/api/claims``: the known claims in id order; ``status`` (``active``, ``retired``)."""
    status = filters.claim_status(request.query_params)
    limit, after = paging.limit(request), request.query_params.get("cursor", "")
    items = await read(request, export.claims_after, status, after, limit)
    return paging.page(request, items, limit)


async def claim(request: Request) -> Response:
    """``/api/claims/{id}``: one known claim with its match counts and newest matches."""
    return paging.found(await read(request, export.claim, request.path_params["id"]), "claim")


async def matches(request: Request) -> Response:
    """``/api/matches``: claim matches, newest first; ``claim``, ``label``, ``article``, ``all``."""
    limit, before = paging.limit(request), paging.cursor(request)
    query = filters.match_query(request.query_params, await browse_pages.choices(request))
    return paging.page(request, await read(request, export.matches_before, query, limit, before), limit)


routes: list[BaseRoute] = [
    Route("/api/claims", claims, name="api_claims"),
    Route("/api/claims/{id:str}", claim, name="api_claim"),
    Route("/api/matches", matches, name="api_matches"),
]
