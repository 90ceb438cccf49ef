"""The Starlette application: routes from the page, API, export, search and review modules; security headers;
plain error pages.

Every piece of article-derived text reaches the browser through Jinja2 with autoescaping (or as JSON), and the
Content-Security-Policy allows no inline script, so hostile HTML in a title or body shows as text and cannot run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.engine import Database
from web.templating import templates
from web.throttle import LoginThrottle
from web.types import WebOptions

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """Adds the security headers to every response (pages, API, errors, static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def wants_json(request: Request) -> bool:
    """API paths, JSON exports and clients that ask for JSON get JSON errors; browsers get a page."""
    path = request.url.path
    return (path.startswith("/api/") or path.endswith(".json")
            or "application/json" in request.headers.get("accept", ""))


def wants_text(request: Request) -> bool:
    """CSV exports and Atom feeds get plain-text errors: what a script or feed reader shows as it is."""
    return request.url.path.endswith((".csv", ".atom"))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if wants_text(request):
        return PlainTextResponse(f"Error {exc.status_code}: {exc.detail}\n", status_code=exc.status_code)
    if wants_json(request):
        return JSONResponse({"error": exc.detail, "status": exc.status_code}, status_code=exc.status_code)
    return templates.TemplateResponse(request, "error.html", {"status": exc.status_code, "detail": exc.detail},
                                      status_code=exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Logged with its traceback for ops; the browser gets a plain page, never the traceback.
    logger.exception("error serving %s", request.url.path)
    if wants_json(request):
        return JSONResponse({"error": "internal error", "status": 500}, status_code=500)
    return templates.TemplateResponse(request, "error.html", {"status": 500, "detail": "Something went wrong."},
                                      status_code=500)


def create_app(db: Database, options: WebOptions | None = None,
               login_throttle: LoginThrottle | None = None) -> Starlette:
    """The web UI over ``db``; ``login_throttle`` counts failed logins (by default a fresh one with the rules of
    ``options.login_limits``)."""
    from web import api, browse_pages, evidence, export, pages, review, search

    routes = [*pages.routes, *browse_pages.routes, *evidence.routes, *search.routes, *review.routes, *export.routes,
              *api.routes,
              Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static")]
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        HTTPException: _http_error, Exception: _server_error}
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], exception_handlers=handlers)
    app.state.db = db
    app.state.options = options = options or WebOptions()
    app.state.login_throttle = login_throttle or LoginThrottle(options.login_limits)
    return app
