"""What route handlers share: the database (queries run in a thread), the options, and rendering."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from db.engine import Database
from web.templating import templates
from web.types import WebOptions

P = ParamSpec("P")
T = TypeVar("T")


def database(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


def options(request: Request) -> WebOptions:
    """The app's options."""
    found: WebOptions = request.app.state.options
    return found


async def read(request: Request, func: Callable[Concatenate[Session, P], T], *args: P.args,
               **kwargs: P.kwargs) -> T:
    """``func(session, *args, **kwargs)`` in a read session, in a worker thread (never on the loop)."""
    db = database(request)
    return await run_in_threadpool(lambda: db.in_read(func, *args, **kwargs))


async def write(request: Request, func: Callable[Concatenate[Session, P], T], *args: P.args,
                **kwargs: P.kwargs) -> T:
    """``func(session, *args, **kwargs)`` in one write transaction, in a worker thread."""
    db = database(request)
    return await run_in_threadpool(lambda: db.in_write(func, *args, **kwargs))


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page from ``web/templates`` (autoescaped)."""
    return templates.TemplateResponse(request, name, {"options": options(request), **context},
                                      status_code=status_code)
