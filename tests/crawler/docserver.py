"""A real HTTP server on 127.0.0.1 that serves fixed documents by path and counts the requests of each."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class DocServer:
    """``documents[path] = (body, content type)``; any other path is a 404. ``hits`` counts requests by path."""

    documents: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    origin: str = ""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        served: DocServer = self.server.served  # type: ignore[attr-defined]
        served.hits[self.path] += 1
        body, content_type = served.documents.get(self.path, (b"not found", "text/plain"))
        try:
            self.send_response(200 if self.path in served.documents else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler gave up on the body

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def doc_server() -> Iterator[DocServer]:
    """Serve a ``DocServer`` (fill its ``documents`` once ``origin`` is known) while inside."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    served = DocServer(origin=f"http://127.0.0.1:{server.server_address[1]}")
    server.served = served  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
