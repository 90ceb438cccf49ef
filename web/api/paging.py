"""What the JSON API's routes share: the ``limit`` and ``cursor`` parameters, a list page with its ``next``
link, and one item or a 404."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from web.deps import options

MAX_LIMIT = 500


def limit(request: Request) -> int:
    """``limit``: items per page, 1 to ``MAX_LIMIT`` (default: the UI's page size)."""
    raw = request.query_params.get("limit", "")
    if not raw:
        return min(options(request).page_size, MAX_LIMIT)
    if not raw.isdigit() or not 0 < int(raw[:6]) <= MAX_LIMIT:
        raise HTTPException(400, f"`limit` must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}.")
    return int(raw)


def cursor(request: Request) -> int | None:
    """``cursor``: where a page starts (the id in the previous page's ``next`` link); None on the first page."""
    raw = request.query_params.get("cursor", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(400, f"`cursor` must be the `next` link's value (a whole number), not {raw!r}.")
    return int(raw)


def page(request: Request, items: list[dict[str, Any]], limit: int) -> JSONResponse:
    """A list page: ``next`` continues after the last item when the page is full."""
    following = None
    if len(items) == limit:
        following = str(request.url.include_query_params(cursor=items[-1]["id"], limit=limit))
    return JSONResponse({"items": items, "next": following})


def found(item: dict[str, Any] | None, what: str) -> JSONResponse:
    """``item`` as JSON; a 404 saying there is no such ``what`` when it is None."""
    if item is None:
        raise HTTPException(404, f"No such {what}.")
    return JSONResponse(item)
