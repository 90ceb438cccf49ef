"""A source whose article failed is polled afresh next time, so the article is retried, not lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from db.engine import Database
from db.models import Article, HttpValidator
from tests.crawler.helpers import crawl, specs

PAGE = ("<html><head><title>North Korean workers</title></head><body><article><h1>North Korean workers"
        "</h1>" + "<p>More than 50,000 North Korean workers may be sent to Russia to work on construction "
        "sites, officials in Seoul said on Tuesday, citing intelligence reports.</p>" * 6 + "</article></body></html>")


class FlakyHandler(BaseHTTPRequestHandler):
    """A feed with one article; the article answers 503 on its first request and 200 afterwards."""

    article_hits = 0

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/rss.xml":
            body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>{base}/</link>'
                    f"<description>d</description><item><title>North Korean workers</title>"
                    f"<link>{base}/a.html</link></item></channel></rss>").encode()
            self._send(200, body, "application/rss+xml", etag='"feed-v1"')
        elif self.path == "/a.html":
            type(self).article_hits += 1
            if type(self).article_hits == 1:
                self._send(503, b"busy", "text/plain")
            else:
                self._send(200, PAGE.encode(), "text/html; charset=utf-8")
        else:
            self._send(404, b"", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str, etag: str | None = None) -> None:
        if etag and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def flaky_site() -> Iterator[str]:
    FlakyHandler.article_hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_failed_article_is_retried_on_the_next_poll(sqlite_database: Database, flaky_site: str) -> None:
    sources = specs([{"id": "flaky", "kind": "feed", "url": f"{flaky_site}/rss.xml"}])
    first = crawl(sqlite_database, sources)
    assert [e.code for e in first.ledger.errors] == ["http_503"]
    with sqlite_database.read() as session:
        assert session.scalars(select(Article)).all() == []
        # The feed's validators were not kept: next time it is fetched and parsed again.
        assert session.get(HttpValidator, f"{flaky_site}/rss.xml") is None
    crawl(sqlite_database, sources)
    with sqlite_database.read() as session:
        articles = session.scalars(select(Article)).all()
        assert [a.canonical_url for a in articles] == [f"{flaky_site}/a.html"]
        assert session.get(HttpValidator, f"{flaky_site}/rss.xml") is not None
    third = crawl(sqlite_database, sources, rechecks=False)
    assert third.stats.get("documents_not_modified") == 1
