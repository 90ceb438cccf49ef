"""``/healthz`` and ``/metrics`` over a minimal HTTP/1.1 server on the daemon's own asyncio loop.

One request per connection (``Connection: close``), GET and HEAD only, no request bodies. A client gets
``read_timeout`` seconds to send its request line and headers (at most ``MAX_HEAD`` bytes), so a slow or
stuck client costs a socket for seconds, never a thread; no error in a handler ever reaches the loop.

Not uvicorn (which serves the web UI): it has no deadline for receiving a request, and its ``Server.serve`` takes
over the signals the daemon handles (docs/architecture.md, "Key decisions").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST

from scheduler.health import Health
from scheduler.metrics import Metrics

logger = logging.getLogger(__name__)

MAX_HEAD = 8192  # request line and headers, bytes
MAX_CLIENTS = 64  # connections served at once; more are answered 503 straight away
PATHS = ("/healthz", "/metrics")
TEXT = "text/plain; charset=utf-8"


class _Response:
    """A status, a content type and a body."""

    def __init__(self, status: int, body: bytes | str, content_type: str = TEXT,
                 headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.content_type = content_type
        self.headers = headers or {}

    def encode(self, head_only: bool) -> bytes:
        phrase = HTTPStatus(self.status).phrase
        lines = [f"HTTP/1.1 {self.status} {phrase}", f"Content-Type: {self.content_type}",
                 f"Content-Length: {len(self.body)}", "Cache-Control: no-store", "Connection: close",
                 *(f"{name}: {value}" for name, value in self.headers.items())]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if head_only else head + self.body


def _plain(status: HTTPStatus, headers: dict[str, str] | None = None) -> _Response:
    return _Response(status, f"{status.value} {status.phrase}\n", headers=headers)


def _parse_request_line(head: bytes) -> tuple[str, str] | None:
    """(method, path) of a request head, or None when it is not HTTP/1.x."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[0].isupper():
        return None
    method, target, version = parts
    if version not in ("HTTP/1.0", "HTTP/1.1") or not target.startswith("/"):
        return None
    return method, urlsplit(target).path


# Health checks and metric scrapes get threads of their own: on the shared default executor they queued
# behind a big crawl's feed parsing and database work, and /healthz said "no answer in 5 s" of a daemon
# that was fine (seen in the soak bench during a 2,000-article first crawl).
T = TypeVar("T")
_OBSERVER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lw-observe")


async def off_loop(func: Callable[[], T]) -> T:
    """``func()`` in the observability threads."""
    return await asyncio.get_running_loop().run_in_executor(_OBSERVER, func)


class ObservabilityServer:
    """Serves ``GET``/``HEAD`` ``/healthz`` (200 or 503, JSON) and ``/metrics`` (Prometheus text)."""

    def __init__(self, host: str, port: int, health: Health, metrics: Metrics,
                 check_database: Callable[[], Awaitable[None]] | None = None, *, read_timeout: float = 5.0,
                 check_timeout: float = 5.0, render_timeout: float = 20.0) -> None:
        self.host, self._port = host, port
        self.health, self.metrics, self.check_database = health, metrics, check_database
        self.read_timeout, self.check_timeout, self.render_timeout = read_timeout, check_timeout, render_timeout
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        """The port listened on (the one the system picked when 0 was asked for)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen; requests are served on the running loop from now on."""
        self._server = await asyncio.start_server(self._serve, self.host, self._port, limit=MAX_HEAD)
        logger.debug("health and metrics on http://%s:%d/ (/healthz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and drop the connections still open."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            if len(self._clients) > MAX_CLIENTS:
                await self._send(writer, _plain(HTTPStatus.SERVICE_UNAVAILABLE), head_only=False)
            else:
                await self._exchange(reader, writer)
        except Exception:
            logger.exception("health and metrics endpoint: request failed")
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.read_timeout):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            logger.debug("dropped a client that sent no complete request in %.1f s", self.read_timeout)
            return
        except asyncio.IncompleteReadError:
            return  # the client went away mid-request
        except asyncio.LimitOverrunError:
            await self._send(writer, _plain(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE), head_only=False)
            return
        request = _parse_request_line(head)
        if request is None:
            await self._send(writer, _plain(HTTPStatus.BAD_REQUEST), head_only=False)
            return
        method, path = request
        response = await self._respond(method, path)
        await self._send(writer, response, head_only=method == "HEAD")

    async def _respond(self, method: str, path: str) -> _Response:
        if path not in PATHS:
            return _plain(HTTPStatus.NOT_FOUND)
        if method not in ("GET", "HEAD"):
            return _plain(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD"})
        if path == "/healthz":
            return await self._healthz()
        return await self._metrics()

    async def _healthz(self) -> _Response:
        if self.check_database is not None:
            try:
                await asyncio.wait_for(self.check_database(), self.check_timeout)
            except TimeoutError:
                self.health.database_ok(False, f"no answer in {self.check_timeout:g} s")
            except Exception as exc:
                # The daemon's check records its own failures; this covers a check that raises anyway.
                self.health.database_ok(False, str(exc) or type(exc).__name__)
        snapshot = self.health.snapshot()
        status = HTTPStatus.OK if snapshot["status"] == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
        return _Response(status, json.dumps(snapshot, indent=2) + "\n", "application/json")

    async def _metrics(self) -> _Response:
        try:
            body = await asyncio.wait_for(off_loop(self.metrics.render), self.render_timeout)
        except TimeoutError:
            logger.warning("metrics: rendering took longer than %g s", self.render_timeout)
            return _plain(HTTPStatus.SERVICE_UNAVAILABLE)
        except Exception:
            logger.exception("metrics: rendering failed")
            return _plain(HTTPStatus.INTERNAL_SERVER_ERROR)
        return _Response(HTTPStatus.OK, body, CONTENT_TYPE_LATEST)

    async def _send(self, writer: asyncio.StreamWriter, response: _Response, head_only: bool) -> None:
        writer.write(response.encode(head_only))
        try:
            async with asyncio.timeout(self.read_timeout):
                await writer.drain()
        except (TimeoutError, ConnectionError):
            logger.debug("dropped a client that did not read its response")
