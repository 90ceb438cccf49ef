"""A small real news site on 127.0.0.1 whose article answers a test sets: 200, any error status, or slow."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from tests.loopback import answer, serving

SLOW = "slow"  # answers after ``NewsSite.delay`` seconds: longer than the crawl's timeout
STORY = ("More than 50,000 North Korean workers may be sent to Russia to work on construction sites, officials "
         "in Seoul said on Tuesday, citing intelligence reports about article {n}.")


class NewsSite:
    """A feed of ``count`` on-topic articles ``/a{n}.html``; ``answers[n]`` sets how article ``n`` answers and
    ``edition`` changes every article's text."""

    def __init__(self, count: int, delay: float = 3.0) -> None:
        self.count, self.delay = count, delay
        self.answers: dict[int, int | str] = {}
        self.robots: int | str | None = None  # how /robots.txt answers (None: 404, no rules)
        self.edition = 1
        self.hits: Counter[str] = Counter()
        self.base = ""

    def url(self, n: int) -> str:
        """The URL of article ``n``."""
        return f"{self.base}/a{n}.html"

    @property
    def feed(self) -> str:
        """The URL of the site's RSS feed."""
        return f"{self.base}/rss.xml"

    def rss(self) -> bytes:
        items = "".join(f"<item><title>Article {n}</title><link>{self.url(n)}</link></item>" for n in range(self.count))
        return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>{self.base}/</link>'
                f"<description>d</description>{items}</channel></rss>").encode()

    def page(self, n: int) -> bytes:
        paragraphs = "".join(f"<p>{STORY.format(n=n)} Edition {self.edition}, paragraph {i}.</p>" for i in range(5))
        return (f"<html><head><title>Article {n}</title></head><body><article><h1>Article {n}</h1>{paragraphs}"
                "</article></body></html>").encode()


class _Handler(BaseHTTPRequestHandler):
    site: NewsSite

    def do_GET(self) -> None:
        site = self.server.state  # type: ignore[attr-defined]
        site.hits[self.path] += 1
        if self.path == "/rss.xml":
            self._send(200, site.rss(), "application/rss+xml")
            return
        if self.path == "/robots.txt" and site.robots is not None:
            if site.robots == SLOW:
                time.sleep(site.delay)
            self._send(200 if site.robots == SLOW else int(site.robots), b"User-agent: *\nAllow: /\n", "text/plain")
            return
        n = int(self.path[2:-5]) if self.path.startswith("/a") and self.path.endswith(".html") else -1
        if not 0 <= n < site.count:
            self._send(404, b"not found", "text/plain")
            return
        answer = site.answers.get(n, 200)
        if answer == SLOW:
            time.sleep(site.delay)
            answer = 200
        assert isinstance(answer, int)
        self._send(answer, site.page(n) if answer == 200 else b"error", "text/html; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        answer(self, status, body, content_type)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def news_site(count: int, delay: float = 3.0) -> Iterator[NewsSite]:
    """Serve a ``NewsSite`` while inside."""
    site = NewsSite(count, delay)
    with serving(_Handler, site) as base:
        site.base = base
        yield site
