"""Routes of the web UI: the read-only JSON API under ``/api/`` (events, articles, claims, claim matches, search), its
OpenAPI 3.1 document (written here as data, next to the handlers it describes) and the ``/api`` page.

Lists are newest first, ``limit`` items at a time; ``next`` is the URL of the following page (a ``cursor``
parameter), null on the last. Errors are JSON (``{"error", "status"}``, made by ``web.app``); timestamps are
ISO 8601 in UTC.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from db import export
from db.browse_lists import SOURCE_SORTS
from db.events import EVENT_TYPES
from db.export import LABELS
from db.search import MARK_END, MARK_START, SearchHit, SearchQueryError
from db.status import HEALTHS
from web import browse_pages, filters
from web.deps import options, read, render
from web.search import LANGUAGES, marked, run_search, search_link, search_request

MAX_LIMIT = 500


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "")
    if not raw:
        return min(options(request).page_size, MAX_LIMIT)
    if not raw.isdigit() or not 0 < int(raw[:6]) <= MAX_LIMIT:
        raise HTTPException(400, f"`limit` must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}.")
    return int(raw)


def _cursor(request: Request) -> int | None:
    raw = request.query_params.get("cursor", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(400, f"`cursor` must be the `next` link's value (a whole number), not {raw!r}.")
    return int(raw)


def _page(request: Request, items: list[dict[str, Any]], limit: int) -> JSONResponse:
    """A list page: ``next`` continues after the last item when the page is full."""
    following = None
    if len(items) == limit:
        following = str(request.url.include_query_params(cursor=items[-1]["id"], limit=limit))
    return JSONResponse({"items": items, "next": following})


def _found(item: dict[str, Any] | None, what: str) -> JSONResponse:
    if item is None:
        raise HTTPException(404, f"No such {what}.")
    return JSONResponse(item)


async def events(request: Request) -> Response:
    """``/api/events``: events, newest first; ``type`` (repeatable), ``source``, ``claim``, ``since``, ``until``."""
    limit, before = _limit(request), _cursor(request)
    query = filters.event_filter(request.query_params, await browse_pages.choices(request))
    return _page(request, await read(request, export.events_before, query, limit, before), limit)


async def event(request: Request) -> Response:
    """``/api/events/{id}``: one event."""
    return _found(await read(request, export.event, request.path_params["id"]), "event")


async def articles(request: Request) -> Response:
    """``/api/articles``: articles, newest first; filters as ``/articles`` (``source``, ``language``,
    ``relevant`` (``true`` (default), ``false``, ``all``), ``edited``, ``since``, ``until``)."""
    limit, before = _limit(request), _cursor(request)
    query = filters.article_filter(request.query_params, await browse_pages.choices(request))
    items = await read(request, export.articles_before, query, limit=limit, before=before)
    return _page(request, items, limit)


async def article(request: Request) -> Response:
    """``/api/articles/{id}``: one article with every version and its diff, ``copy_of`` (the original it copies, or
    null) and ``copies`` (the other articles of its story: the original, then its copies)."""
    return _found(await read(request, export.article, request.path_params["id"]), "article")


async def claims(request: Request) -> Response:
    """``/api/claims``: the known claims in id order; ``status`` (``active``, ``retired``)."""
    status = filters.claim_status(request.query_params)
    limit, after = _limit(request), request.query_params.get("cursor", "")
    items = await read(request, export.claims_after, status, after, limit)
    return _page(request, items, limit)


async def claim(request: Request) -> Response:
    """``/api/claims/{id}``: one known claim with its match counts and newest matches."""
    return _found(await read(request, export.claim, request.path_params["id"]), "claim")


async def matches(request: Request) -> Response:
    """``/api/matches``: claim matches, newest first; ``claim``, ``label``, ``article``, ``all``."""
    limit, before = _limit(request), _cursor(request)
    query = filters.match_query(request.query_params, await browse_pages.choices(request))
    return _page(request, await read(request, export.matches_before, query, limit, before), limit)


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
    page_size = _limit(request)
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


async def openapi(request: Request) -> Response:
    """``/api/openapi.json``: the OpenAPI 3.1 document of this API."""
    return JSONResponse(openapi_document(str(request.base_url).rstrip("/")))


async def api_page(request: Request) -> Response:
    """``/api``: what the API offers, with links."""
    return render(request, "api.html", {"endpoints": endpoints()})


# --- the OpenAPI 3.1 document --------------------------------------------------------------------------

def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


def _list(item: str) -> dict[str, Any]:
    return _object(items={"type": "array", "items": _ref(item)},
                   next={"type": ["string", "null"], "format": "uri", "description": "the next page, or null"})


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
STRS = {"type": "array", "items": STR}
POSITION = {"type": ["string", "null"], "description": 'where a document\'s sentence is: "p. 3" (PDF page), "¶ 12" '
            "(DOCX paragraph), null for a web page's"}
POSITIONS = {"type": "array", "items": POSITION, "description": "parallel to the sentences"}
EVENT = _object(id=INT, type={"enum": list(EVENT_TYPES)}, key=STR, created_at=TIME, source_id=_or_null(STR),
                article_id=_or_null(INT), version_id=_or_null(INT), claim_id=_or_null(STR), url=_or_null(STR),
                title=STR, summary=STR, details={"type": "object"}, importance=INT)
ARTICLE_FIELDS: dict[str, dict[str, Any]] = dict(
    id=INT, url=STR, source_id=_or_null(STR), title=_or_null(STR), language=_or_null(STR),
    published_at=_or_null(TIME), relevant=BOOL, relevance_score=NUM, matched_terms=STRS, version_count=INT,
    first_seen_at=TIME, last_checked_at=_or_null(TIME))
DIFF = _object(id=INT, from_version_id=INT, changed=STRS, title_before=_or_null(STR), title_after=_or_null(STR),
               added=STRS, removed=STRS, added_positions=POSITIONS, removed_positions=POSITIONS, figures_before=STRS,
               figures_after=STRS, unified=STR, created_at=TIME)
VERSION = _object(id=INT, number=INT, fetched_at=TIME, url=STR, title=STR, byline=_or_null(STR),
                  published_at=_or_null(TIME), modified_at=_or_null(TIME), language=_or_null(STR),
                  content_hash=STR, text=STR, diff=_or_null(_ref("Diff")))
FIGURE = _object(value={"type": ["number", "string"]}, unit=STR, qualifier=STR)
COPY_OF = _object(article_id=INT, source_id=_or_null(STR), title=STR, url=STR, similarity=NUM)
PUBLICATION = _object(article_id=INT, source_id=_or_null(STR), source_name=_or_null(STR), title=STR, url=STR,
                      role={"enum": ["original", "copy"]}, similarity=_or_null(NUM), first_seen_at=TIME)
CLAIM_FIELDS: dict[str, dict[str, Any]] = dict(
    id=STR, text=STR, subject=STR, figures={"type": "array", "items": _ref("Figure")}, source=STR, tags=STRS,
    approx=BOOL, status={"enum": ["active", "retired"]}, created_at=TIME, updated_at=TIME)
MATCH = _object(id=INT, label={"enum": list(LABELS)}, claim_id=_or_null(STR), confidence=NUM, score=NUM,
                sentence=STR, old_values=STRS, new_values=STRS, reasons=STRS, on_subject=BOOL, article_id=INT,
                version_id=INT, version=INT, sentence_index=INT, position=POSITION, source_id=_or_null(STR), url=STR,
                title=_or_null(STR), fetched_at=TIME, matched_at=TIME, claims_digest=STR)
SEARCH_HIT = _object(article_id=INT, version_id=INT, version=INT, title=STR, snippet=STR,
                     title_html={**STR, "description": "the title as escaped HTML, matches in <mark>"},
                     snippet_html={**STR, "description": "the snippet as escaped HTML, matches in <mark>"},
                     url=STR, source_id=_or_null(STR), language=_or_null(STR), published_at=_or_null(TIME),
                     fetched_at=TIME, rank=NUM)
SCHEMAS = {
    "Event": EVENT, "EventList": _list("Event"), "Article": _object(**ARTICLE_FIELDS),
    "ArticleDetail": _object(**ARTICLE_FIELDS, versions={"type": "array", "items": _ref("Version")},
                             copy_of=_or_null(_ref("CopyOf")), copies={"type": "array", "items": _ref("Publication")}),
    "CopyOf": COPY_OF, "Publication": PUBLICATION,
    "ArticleList": _list("Article"), "Version": VERSION, "Diff": DIFF, "Figure": FIGURE,
    "Claim": _object(**CLAIM_FIELDS), "ClaimList": _list("Claim"), "Match": MATCH, "MatchList": _list("Match"),
    "ClaimDetail": _object(**CLAIM_FIELDS, match_counts=_object(corroborates=INT, updates=INT),
                           matches={"type": "array", "items": _ref("Match")}),
    "Error": _object(error=STR, status=INT),
    "SearchHit": SEARCH_HIT,
    "SearchResults": _object(query=STR, total=INT, more=BOOL, page=INT, pages=INT, page_size=INT,
                             mode={"enum": ["fulltext", "substring"]}, also_searched=STRS,
                             items={"type": "array", "items": _ref("SearchHit")},
                             next={"type": ["string", "null"], "format": "uri",
                                   "description": "the next page, or null"}),
}


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
_BODY = {"/api/openapi.json": {"type": "object"}, "/export/events.json": {"type": "array", "items": _ref("Event")},
         "/export/claims.json": {"type": "array", "items": _ref("Claim")},
         "/export/matches.json": {"type": "array", "items": _ref("Match")},
         "/export/articles.json": {"type": "array", "items": {"type": "object"}},
         "/export/diffs.json": {"type": "array", "items": {"type": "object"}},
         "/export/sources.json": {"type": "array", "items": {"type": "object"}}}


def _operation(path: str, summary: str, parameters: list[dict[str, Any]],
               response: tuple[str, str | None]) -> dict[str, Any]:
    media, schema = response
    body = _ref(schema) if schema else _BODY.get(path, STR)
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
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
    Route("/api/events", events, name="api_events"),
    Route("/api/events/{id:int}", event, name="api_event"),
    Route("/api/articles", articles, name="api_articles"),
    Route("/api/articles/{id:int}", article, name="api_article"),
    Route("/api/claims", claims, name="api_claims"),
    Route("/api/claims/{id:str}", claim, name="api_claim"),
    Route("/api/matches", matches, name="api_matches"),
    Route("/api/search", search, name="api_search"),
]
