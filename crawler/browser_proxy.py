"""The forward proxy every connection of the crawl's Chromium goes through (HTTP on 127.0.0.1, an ephemeral port):
the host of each CONNECT tunnel and each plain-HTTP request is resolved once by the crawl's ``AddressGuard``,
checked, and connected at that checked address (the pin), or refused with a 403.

Why: the request routing of ``crawler/browser_handler.py`` checks each request's host, but Chromium then resolves
the name itself (a name that answers a public address to the guard and a private one to Chromium would pass) and
preconnects to hosts whose requests the routing refuses (a subframe's, before its request is made). Through a
proxy Chromium resolves no name and connects nowhere but here: a preconnect reaches the proxy, not the host.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from contextlib import suppress
from urllib.parse import urlsplit, urlunsplit

from scrapy.exceptions import CannotResolveHostError

from crawler.resolver import AddressGuard, BlockedAddressError

logger = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024  # a request head longer than this is refused
HEAD_TIMEOUT = 30.0  # seconds for a client (Chromium) to send a request head; a preconnect sends none
CONNECT_TIMEOUT = 10.0  # seconds to connect to the checked address
CHUNK = 64 * 1024
# Hop-by-hop headers of the client's request that are not forwarded; "Connection: close" is sent instead, so that
# the upstream server ends the connection after its answer and no second request (perhaps for another host) can
# follow on it unchecked.
_HOP_HEADERS = frozenset({b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization", b"te",
                          b"upgrade"})

# Called with (url, message) for every connection the guard refused.
Refused = Callable[[str, str], None]


class GuardProxy:
    """One crawl's proxy: its listening socket is bound when it is made (the browser's launch options need the
    port), it serves from ``start()`` to ``close()``."""

    def __init__(self, guard: AddressGuard, refused: Refused) -> None:
        self.guard = guard
        self.refused = refused
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The proxy's address as Chromium's ``--proxy-server`` takes it."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Serve (idempotent)."""
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, sock=self._socket, limit=HEAD_LIMIT)

    async def close(self) -> None:
        """Stop serving and end every open connection."""
        if self._server is None:
            self._socket.close()
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        with suppress(Exception):
            await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._proxy(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # the client went away, sent nothing (a preconnect) or sent too much
        finally:
            writer.close()
            if task is not None:
                self._connections.discard(task)

    async def _proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        line, _, headers = head.partition(b"\r\n")
        try:
            method, target, version = line.decode("latin-1").split(" ")
        except ValueError:
            await _answer(writer, 400, "not a proxy request")
            return
        if method == "CONNECT":
            host, port = _host_port(target)
            upstream = await self._open(host, port, f"https://{target}/", writer) if host else None
            if upstream is None:
                if not host:
                    await _answer(writer, 400, f"not a host and port: {target}")
                return
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await _relay(reader, writer, *upstream)
            return
        try:
            parts = urlsplit(target)
            port = parts.port or 80
        except ValueError:
            parts, port = urlsplit(""), 0
        if parts.scheme != "http" or not parts.hostname:
            await _answer(writer, 400, f"only absolute http URLs are proxied, not {target[:200]}")
            return
        upstream = await self._open(parts.hostname, port, target, writer)
        if upstream is None:
            return
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        kept = [h for h in headers.split(b"\r\n") if h and h.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
        upstream[1].write(b"\r\n".join([f"{method} {path} {version}".encode("latin-1"), *kept,
                                        b"Connection: close", b"", b""]))
        await _relay(reader, writer, *upstream)

    async def _open(self, host: str, port: int, url: str,
                    writer: asyncio.StreamWriter) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to ``host``'s checked address, or None after answering the client why not."""
        try:
            addresses = await self.guard.check(host)
        except BlockedAddressError as exc:
            self.refused(url, f"the browser's proxy refused {url}: {exc}")
            await _answer(writer, 403, str(exc))
            return None
        except (CannotResolveHostError, UnicodeError) as exc:  # not resolvable, or not a name at all
            await _answer(writer, 502, str(exc))
            return None
        for address in addresses:
            try:
                return await asyncio.wait_for(asyncio.open_connection(str(address), port), CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                logger.debug("the browser's proxy could not connect to %s (%s:%s): %s", host, address, port, exc)
        await _answer(writer, 502, f"could not connect to {host}:{port}")
        return None


def _host_port(target: str) -> tuple[str, int]:
    """A CONNECT target's host (without brackets) and port; ("", 0) when it is not one."""
    host, _, port = target.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return "", 0
    return host, int(port)


_REASONS = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    """Answer the client ``status`` with ``reason`` as its text, and no more."""
    body = reason.encode("utf-8", "replace")
    writer.write(f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    with suppress(ConnectionError):
        await writer.drain()


async def _relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                 upstream_reader: asyncio.StreamReader, upstream_writer: asyncio.StreamWriter) -> None:
    """Copy bytes both ways until either side ends, then end both."""
    try:
        copies = [asyncio.ensure_future(_copy(client_reader, upstream_writer)),
                  asyncio.ensure_future(_copy(upstream_reader, client_writer))]
        try:
            await asyncio.wait(copies, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for copy in copies:
                copy.cancel()
            await asyncio.gather(*copies, return_exceptions=True)
    finally:
        upstream_writer.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(ConnectionError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
