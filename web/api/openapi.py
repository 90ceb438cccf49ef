"""The OpenAPI 3.1 document of the JSON API, the exports and the feeds (written here as data: each endpoint with
its parameters; the schemas are in ``web.api.schemas``), and the routes that serve it: ``/api/openapi.json`` and
the ``/api`` page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from db.browse_lists import SOURCE_SORTS
from db.events import EVENT_TYPES
from db.export import LABELS
from db.status import HEALTHS
from web.api.paging import MAX_LIMIT
from web.api.schemas import BOOL, INT, SCHEMAS, STR, ref
from web.deps import render
from web.search import LANGUAGES


async def openapi(request: Request) -> Response:
    """``/api/openapi.json``: the OpenAPI 3.1 document of this API."""
    return JSONResponse(openapi_document(str(request.base_url).rstrip("/")))


async def api_page(request: Request) -> Response:
    """``/api``: what the API offers, with links."""
    return render(request, "api.html", {"endpoints": endpoints()})


def _param(name: str, description: str, schema: dict[str, Any] | None = None, *, where: str = "query",
           many: bool = False) -> dict[str, Any]:
    schema = schema or STR
    param = {"name": name, "in": where, "required": where == "path", "description": description,
             "schema": {"type": "array", "items": schema} if many else schema}
    return param | ({"style": "form", "explode": True} if many else {})


PAGE = [_param("limit", f"items per page, 1–{MAX_LIMIT} (default: the UI's page size)",
               {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
        _param("cursor", "where the page starts: the value in the previous page's `next` link")]
WINDOW = [_param("since", "at or after (ISO 8601 date or time; UTC if no zone); old name `from`"),
          _param("until", "before this time, or up to the end of this date (ISO 8601; UTC if no zone); old name `to`")]
EVENT_FILTERS = [_param("type", "event type; repeat for several", {"enum": list(EVENT_TYPES)}, many=True),
                 _param("source", "source id"), _param("claim", "claim id"), *WINDOW]
YES_NO = {"enum": ["true", "false", "all"]}
ARTICLE_FILTERS = [_param("source", "source id"), _param("language", "language code, as stored"),
                   _param("relevant", "on-topic articles (default), off-topic or all", YES_NO),
                   _param("edited", "only articles with more than one version (true) or with one (false)", YES_NO),
                   *WINDOW]
DIFF_FILTERS = [_param("source", "source id"), _param("article", "article id", INT),
                _param("figures", "only edits that changed figures (true) or that did not (false)", YES_NO), *WINDOW]
SOURCE_FILTERS = [_param("health", "source health", {"enum": list(HEALTHS)}),
                  _param("sort", "sort column", {"enum": list(SOURCE_SORTS)}),
                  _param("dir", "sort direction", {"enum": ["asc", "desc"]})]
MATCH_FILTERS = [_param("claim", "claim id"), _param("label", "the matcher's label", {"enum": list(LABELS)}),
                 _param("article", "article id", INT),
                 _param("all", "also new-claim sentences not about North Korean workers", BOOL)]
SEARCH_PARAMS = [
    {**_param("q", 'the query: words (all must match), "a phrase", OR between two terms, -word to exclude, '
                   "word* for a prefix"), "required": True},
    _param("lang", "only articles in this language", {"enum": list(LANGUAGES)}), _param("source", "source id"),
    _param("xlang", "also search each term's words in the other languages (the multilingual lexicon)",
           {"enum": ["1", "0"]}),
    _param("page", "result page, from 1", {"type": "integer", "minimum": 1}),
    _param("limit", f"results per page, 1–{MAX_LIMIT} (default: the UI's page size)",
           {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})]
BOM_PARAM = [_param("bom", "1 (default): start with a UTF-8 byte-order mark, so Excel reads UTF-8; 0: none",
                    {"enum": ["0", "1"]})]
FEED_LIMIT = [_param("limit", "entries, 1–200 (default 50)", INT)]


def _exports(name: str, what: str, parameters: list[dict[str, Any]]) -> list[
        tuple[str, str, list[dict[str, Any]], tuple[str, str | None]]]:
    return [(f"/export/{name}.csv", f"{what} as CSV (a download)", parameters + BOM_PARAM, ("text/csv", None)),
            (f"/export/{name}.json", f"{what} as a JSON array (a download)", parameters, ("application/json", None))]


# (path, summary, parameters, 200 response: (media type, schema name or None))
ENDPOINTS: list[tuple[str, str, list[dict[str, Any]], tuple[str, str | None]]] = [
    ("/api/events", "Events, newest first", EVENT_FILTERS + PAGE, ("application/json", "EventList")),
    ("/api/events/{id}", "One event", [_param("id", "event id", INT, where="path")], ("application/json", "Event")),
    ("/api/articles", "Articles, newest first",
     ARTICLE_FILTERS + PAGE,
     ("application/json", "ArticleList")),
    ("/api/articles/{id}", "One article with every version and its diff, the original it copies and the other "
                           "outlets' articles of its story",
     [_param("id", "article id", INT, where="path")], ("application/json", "ArticleDetail")),
    ("/api/claims", "Known claims, in id order", [_param("status", "claim status", {"enum": ["active", "retired"]}),
                                                  *PAGE], ("application/json", "ClaimList")),
    ("/api/claims/{id}", "One known claim with match counts and its newest 100 matches",
     [_param("id", "claim id", where="path")], ("application/json", "ClaimDetail")),
    ("/api/matches", "Claim matches with provenance, newest first", MATCH_FILTERS + PAGE,
     ("application/json", "MatchList")),
    ("/api/search", "Full-text search over the articles' latest versions, best first (the /search page as JSON)",
     SEARCH_PARAMS, ("application/json", "SearchResults")),
    ("/api/openapi.json", "This document", [], ("application/json", None)),
    *_exports("events", "All matching events", EVENT_FILTERS),
    *_exports("claims", "The known claims", [_param("status", "claim status", {"enum": ["active", "retired"]})]),
    *_exports("matches", "All matching claim matches", MATCH_FILTERS),
    *_exports("articles", "All matching articles, in id order", ARTICLE_FILTERS),
    *_exports("diffs", "All matching edits (diffs), in id order", DIFF_FILTERS),
    *_exports("sources", "Every source with its health", SOURCE_FILTERS),
    ("/feeds/events.atom", "The newest events as an Atom 1.0 feed", EVENT_FILTERS + FEED_LIMIT,
     ("application/atom+xml", None)),
    ("/feeds/articles.atom", "The newest articles as an Atom 1.0 feed", ARTICLE_FILTERS + FEED_LIMIT,
     ("application/atom+xml", None)),
    ("/feeds/diffs.atom", "The newest edits as an Atom 1.0 feed", DIFF_FILTERS + FEED_LIMIT,
     ("application/atom+xml", None)),
]
_BODY = {"/api/openapi.json": {"type": "object"}, "/export/events.json": {"type": "array", "items": ref("Event")},
         "/export/claims.json": {"type": "array", "items": ref("Claim")},
         "/export/matches.json": {"type": "array", "items": ref("Match")},
         "/export/articles.json": {"type": "array", "items": {"type": "object"}},
         "/export/diffs.json": {"type": "array", "items": {"type": "object"}},
         "/export/sources.json": {"type": "array", "items": {"type": "object"}}}


def _operation(path: str, summary: str, parameters: list[dict[str, Any]],
               response: tuple[str, str | None]) -> dict[str, Any]:
    media, schema = response
    body = ref(schema) if schema else _BODY.get(path, STR)
    error = {"content": {"application/json": {"schema": ref("Error")}}}
    responses = {"200": {"description": summary, "content": {media: {"schema": body}}},
                 "400": {"description": "a parameter is not valid", **error}}
    if "{id}" in path:
        responses["404"] = {"description": "no such item", **error}
    operation_id = path.strip("/").replace("/", "_").replace(".", "_").replace("{id}", "one")
    return {"get": {"operationId": operation_id, "summary": summary, "parameters": parameters,
                    "responses": responses}}


def openapi_document(server: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API (and the exports and feeds), served from ``server``."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "labourwatch API", "version": "1",
                 "description": "Read-only access to what labourwatch stores: events, articles with their versions "
                                "and diffs, known claims and the matcher's verdicts. Timestamps are ISO 8601 UTC."},
        "servers": [{"url": server}],
        "paths": {path: _operation(path, summary, parameters, response)
                  for path, summary, parameters, response in ENDPOINTS},
        "components": {"schemas": SCHEMAS},
    }


def endpoints() -> list[dict[str, Any]]:
    """The endpoints for the ``/api`` page: path, summary, parameter names, a link when no parameter is required."""
    return [{"path": path, "summary": summary, "parameters": [p["name"] for p in parameters if p["in"] == "query"],
             "link": None if "{" in path or any(p["required"] for p in parameters) else path, "media": response[0]}
            for path, summary, parameters, response in ENDPOINTS]


routes: list[BaseRoute] = [
    Route("/api", api_page, name="api"),
    Route("/api/openapi.json", openapi, name="api_openapi"),
]
