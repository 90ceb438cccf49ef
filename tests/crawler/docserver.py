"""A real HTTP server on 127.0.0.1 that serves fixed documents by path and counts the requests of each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.loopback import answer, serving


@dataclass
class DocServer:
    """``documents[path] = (body, content type)``, ``redirects[path] = location`` (a 302); any other path is a
    404. ``hits`` counts requests by path."""

    documents: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    origin: str = ""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        served: DocServer = self.server.state  # type: ignore[attr-defined]
        served.hits[self.path] += 1
        if self.path in served.redirects:
            self.send_response(302)
            self.send_header("Location", served.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, content_type = served.documents.get(self.path, (b"not found", "text/plain"))
        answer(self, 200 if self.path in served.documents else 404, body, content_type)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def doc_server() -> Iterator[DocServer]:
    """Serve a ``DocServer`` (fill its ``documents`` once ``origin`` is known) while inside."""
    served = DocServer()
    with serving(_Handler, served) as origin:
        served.origin = origin
        yield served
