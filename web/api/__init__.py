"""Routes of the web UI: the read-only JSON API under ``/api/`` (events, articles, claims, claim matches, search), its
OpenAPI 3.1 document and the ``/api`` page; one module a resource (``events``, ``articles``, ``claims``, ``search``),
the document in ``openapi`` and ``schemas``, what the routes share in ``paging``.

Lists are newest first, ``limit`` items at a time; ``next`` is the URL of the following page (a ``cursor``
parameter), null on the last. Errors are JSON (``{"error", "status"}``, made by ``web.app``); timestamps are
ISO 8601 in UTC.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from web.api import articles, claims, events, openapi, search
from web.api.openapi import openapi_document

__all__ = ["openapi_document", "routes"]

routes: list[BaseRoute] = [*openapi.routes, *events.routes, *articles.routes, *claims.routes, *search.routes]
