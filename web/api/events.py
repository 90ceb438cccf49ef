"""Routes of the JSON API: events (``/api/events``, ``/api/events/{id}``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from db import export
from web import browse_pages, filters
from web.api import paging
from web.deps import read


async def events(request: Request) -> Response:
    """``/api/events``: events, newest first; ``type`` (repeatable), ``source``, ``claim``, ``since``, ``until``."""
    limit, before = paging.limit(request), paging.cursor(request)
    query = filters.event_filter(request.query_params, await browse_pages.choices(request))
    return paging.page(request, await read(request, export.events_before, query, limit, before), limit)


async def event(request: Request) -> Response:
    """``/api/events/{id}``: one event."""
    return paging.found(await read(request, export.event, request.path_params["id"]), "event")


routes: list[BaseRoute] = [
    Route("/api/events", events, name="api_events"),
    Route("/api/events/{id:int}", event, name="api_event"),
]
