"""The browser's guard-checking proxy on its own, over real sockets on loopback addresses: a refused host is never
connected (CONNECT and plain HTTP), an allowed one is connected at the address the guard pinned even when its name
answers differently later, tunnels carry bytes both ways, and a plain request goes on in origin form with
``Connection: close``."""

from __future__ import annotations

import asyncio
import socket
import threading

from crawler.browser_proxy import GuardProxy
from crawler.resolver import AddressGuard
from tests.crawler.test_browser_render import Listener
from tests.crawler.test_pinning import METADATA, FakeDNS


class Echo:
    """A TCP server on ``host``:``port`` that keeps what each connection sent and answers ``reply`` to it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, reply: bytes = b"") -> None:
        self.socket = socket.create_server((host, port))
        self.port = self.socket.getsockname()[1]
        self.received: list[bytes] = []
        self.reply = reply
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data and (chunk := connection.recv(4096)):
                        data += chunk
                    connection.sendall(self.reply or data)
                except OSError:
                    pass
                self.received.append(data)

    def close(self) -> None:
        self.socket.close()


async def _ask(proxy: GuardProxy, request: bytes, then: bytes = b"") -> bytes:
    """Send ``request`` to the proxy (and ``then`` once it answers a head), return all it answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(request)
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    if then:
        writer.write(then)
    answer += await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    return answer


def _run_proxy(guard: AddressGuard, refused: list[tuple[str, str]], *asks: tuple[bytes, bytes]) -> list[bytes]:
    async def main() -> list[bytes]:
        proxy = GuardProxy(guard, lambda url, message: refused.append((url, message)))
        await proxy.start()
        try:
            return [await _ask(proxy, request, then) for request, then in asks]
        finally:
            await proxy.close()

    return asyncio.run(main())


def test_a_host_that_resolves_to_a_refused_address_is_never_connected() -> None:
    internal = Listener()
    try:
        dns = FakeDNS({"intranet.test": [["127.0.0.1"]], "metadata.test": [[METADATA]]})
        refused: list[tuple[str, str]] = []
        tunnel, plain, metadata = _run_proxy(
            AddressGuard(allow_private=False, lookup=dns), refused,
            (f"CONNECT intranet.test:{internal.port} HTTP/1.1\r\nHost: intranet.test\r\n\r\n".encode(), b""),
            (f"GET http://intranet.test:{internal.port}/x HTTP/1.1\r\nHost: intranet.test\r\n\r\n".encode(), b""),
            (f"GET http://metadata.test:{internal.port}/ HTTP/1.1\r\nHost: metadata.test\r\n\r\n".encode(), b""))
    finally:
        internal.close()
    assert internal.accepted == 0
    assert tunnel.startswith(b"HTTP/1.1 403") and plain.startswith(b"HTTP/1.1 403") and metadata.startswith(
        b"HTTP/1.1 403")
    assert [url for url, _ in refused] == [f"https://intranet.test:{internal.port}/",
                                           f"http://intranet.test:{internal.port}/x",
                                           f"http://metadata.test:{internal.port}/"]
    assert "not public" in refused[0][1] and "cloud metadata endpoint" in refused[2][1]
    assert dns.calls["intranet.test"] == 1  # resolved once, the answer kept


def test_a_name_is_connected_at_its_pinned_address_when_it_answers_differently_later() -> None:
    pinned = Echo("127.0.0.1", reply=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    rebound = Listener(host="127.0.0.2", port=pinned.port)  # where the name points on its second answer
    try:
        dns = FakeDNS({"rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
        request = (f"GET http://rebind.test:{pinned.port}/a?b=1 HTTP/1.1\r\nHost: rebind.test:{pinned.port}\r\n"
                   "Proxy-Connection: keep-alive\r\nConnection: keep-alive\r\nAccept: */*\r\n\r\n").encode()
        answers = _run_proxy(AddressGuard(allow_private=True, lookup=dns), [], (request, b""), (request, b""))
    finally:
        pinned.close()
        rebound.close()
    assert all(answer.endswith(b"\r\n\r\nok") and answer.startswith(b"HTTP/1.1 200") for answer in answers)
    assert rebound.accepted == 0 and dns.calls["rebind.test"] == 1
    # Origin form, the proxy's and the client's hop-by-hop headers gone, and the server told to close.
    assert pinned.received == [(f"GET /a?b=1 HTTP/1.1\r\nHost: rebind.test:{pinned.port}\r\nAccept: */*\r\n"
                                "Connection: close\r\n\r\n").encode()] * 2


def test_a_tunnel_to_an_allowed_host_carries_bytes_both_ways() -> None:
    echo = Echo("127.0.0.1")
    try:
        (answer,) = _run_proxy(AddressGuard(allow_private=True, lookup=FakeDNS({"site.test": [["127.0.0.1"]]})), [],
                               (f"CONNECT site.test:{echo.port} HTTP/1.1\r\n\r\n".encode(), b"hello\r\n\r\n"))
    finally:
        echo.close()
    assert answer == b"HTTP/1.1 200 Connection Established\r\n\r\nhello\r\n\r\n"
    assert echo.received == [b"hello\r\n\r\n"]


def test_what_is_not_a_proxy_request_is_refused() -> None:
    answers = _run_proxy(AddressGuard(allow_private=True, lookup=FakeDNS({})), [],
                         (b"GET /relative HTTP/1.1\r\n\r\n", b""), (b"CONNECT nonsense HTTP/1.1\r\n\r\n", b""),
                         (b"GET ftp://x.test/ HTTP/1.1\r\n\r\n", b""), (b"BROKEN\r\n\r\n", b""))
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [b"HTTP/1.1 400 Bad Request"] * 4
