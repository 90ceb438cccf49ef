"""The HTTP side of the fixture web: one threaded stdlib server per site, conditional GET, gzip, a request log."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Response:
    """What a responder answers; ``declared_length`` and ``content_encoding`` exist for fault endpoints."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    etag: str | None = None
    last_modified: datetime | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    declared_length: int | None = None
    content_encoding: str | None = None


def etag_of(body: bytes) -> str:
    """The quoted SHA-1 of ``body``."""
    return f'"{hashlib.sha1(body, usedforsecurity=False).hexdigest()}"'


def entity(body: bytes, content_type: str, last_modified: datetime | None = None) -> Response:
    """A 200 response with an ETag (and Last-Modified when known)."""
    return Response(200, body, content_type, etag_of(body), last_modified)


def error_page(status: int, message: str) -> Response:
    """A small HTML error page."""
    body = f"<!DOCTYPE html>\n<html><head><title>{status}</title></head><body><h1>{status}</h1><p>{message}</p>"
    return Response(status, (body + "</body></html>\n").encode(), "text/html; charset=utf-8")


class Responder(Protocol):
    """Answers a request path (the query string separately) of one site."""

    def respond(self, path: str, query: str) -> Response: ...


@dataclass(frozen=True)
class RequestRecord:
    """One request as a site saw it; ``conditional`` means it carried If-None-Match or If-Modified-Since; ``at``
    is when its answer was ready (after any delay), ``started`` when its request line was read."""

    site_id: str
    path: str
    query: str
    status: int
    method: str
    conditional: bool
    user_agent: str
    at: datetime
    started: datetime | None = None


class RequestLog:
    """A thread-safe, append-only list of every request to every site."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        """Add one record."""
        with self._lock:
            self._records.append(record)

    def records(self, site_id: str | None = None) -> list[RequestRecord]:
        """A snapshot of the log, optionally only one site's requests."""
        with self._lock:
            return [r for r in self._records if site_id is None or r.site_id == site_id]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.records())

    def __getitem__(self, index: int) -> RequestRecord:
        with self._lock:
            return self._records[index]


def not_modified(headers: Message, response: Response) -> bool:
    """Whether a conditional request may be answered 304; If-None-Match wins over If-Modified-Since."""
    if response.status != 200:
        return False
    match = headers.get("If-None-Match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or response.etag in tags
    since = headers.get("If-Modified-Since")
    if since is None or response.last_modified is None:
        return False
    try:
        return response.last_modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def accepts_gzip(value: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (q=0 forbids it)."""
    for part in value.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class _FixtureServer(ThreadingHTTPServer):
    """A threaded HTTP server that remembers open connections so ``stop()`` can close idle keep-alives."""

    daemon_threads = True

    def __init__(self, site_id: str, responder: Responder, log: RequestLog, stopping: threading.Event,
                 host: str = "127.0.0.1") -> None:
        self.site_id = site_id
        self.responder = responder
        self.log = log
        self.stopping = stopping
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can take seconds; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open connection so handler threads blocked on keep-alive reads return."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients of fault endpoints hang up mid-response on purpose; that is not worth a traceback on stderr.
        logger.debug("error while serving %s on %s", client_address, self.site_id, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FixtureWeb/1.0"
    sys_version = ""
    timeout = 30

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _serve(self, head: bool) -> None:
        server = cast(_FixtureServer, self.server)
        started = datetime.now(UTC)
        parts = urlsplit(self.path)
        response = server.responder.respond(parts.path, parts.query)
        if response.delay > 0:
            server.stopping.wait(response.delay)  # an Event, so stop() cuts the wait short
        status = 304 if not_modified(self.headers, response) else response.status
        server.log.append(RequestRecord(
            site_id=server.site_id, path=parts.path, query=parts.query, status=status, method=self.command,
            conditional="If-None-Match" in self.headers or "If-Modified-Since" in self.headers,
            user_agent=self.headers.get("User-Agent", ""), at=datetime.now(UTC), started=started,
        ))
        try:
            self._send(response, status, head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, response: Response, status: int, head: bool) -> None:
        body, encoding = response.body, response.content_encoding
        if (status != 304 and encoding is None and body and response.declared_length is None
                and accepts_gzip(self.headers.get("Accept-Encoding", ""))):
            body, encoding = gzip.compress(body, mtime=0), "gzip"
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(response.declared_length or len(body)))
        if encoding and status != 304:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Vary", "Accept-Encoding")
        if response.etag:
            self.send_header("ETag", response.etag)
        if response.last_modified:
            self.send_header("Last-Modified", format_datetime(response.last_modified, usegmt=True))
        for name, value in response.headers:
            self.send_header(name, value)
        if response.declared_length is not None:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)


class SiteServer:
    """One site's HTTP server on a loopback address (127.0.0.1 unless told) with an OS-chosen port, served from a
    background thread."""

    def __init__(self, site_id: str, responder: Responder, log: RequestLog, stopping: threading.Event,
                 poll_interval: float = 0.05, host: str = "127.0.0.1") -> None:
        """``poll_interval``: how often the serving thread looks for ``stop()`` (each look costs a wake-up)."""
        self._httpd = _FixtureServer(site_id, responder, log, stopping, host)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": poll_interval},
                                        name=f"fixtureweb-{site_id}", daemon=True)

    def start(self) -> None:
        """Start answering requests."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close open connections, close the socket and join every thread."""
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()  # also joins the per-request threads
        if self._thread.ident is not None:
            self._thread.join()
