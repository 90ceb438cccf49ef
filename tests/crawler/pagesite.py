"""A tiny real web site on a loopback address: pages a test sets by path, and a log of every request it got."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from tests.loopback import answer, serving

STORY = ("More than 50,000 North Korean workers may be sent to Russia to work on construction sites, officials "
         "in Seoul said on Tuesday, citing intelligence reports about {topic}.")


def article_html(title: str, topic: str, canonical: str | None = None, body: str | None = None) -> str:
    """An on-topic article page, naming ``canonical`` in its head when given."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = body or "".join(f"<p>{STORY.format(topic=topic)} Paragraph {i}.</p>" for i in range(4))
    return (f"<html><head><title>{title}</title>{link}</head><body><article><h1>{title}</h1>{paragraphs}"
            "</article></body></html>")


def rss(links: list[str]) -> str:
    """An RSS 2.0 feed of ``links``."""
    items = "".join(f"<item><title>Item {n}</title><link>{url}</link></item>" for n, url in enumerate(links))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link>'
            f"<description>d</description>{items}</channel></rss>")


class PageSite:
    """Serves ``pages`` (path → HTML, or RSS for paths ending in .xml); every request's path is logged."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.requests: list[str] = []
        self.base = ""

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this site."""
        return self.base + path

    def hits(self, path: str) -> int:
        """How many requests ``path`` got."""
        return self.requests.count(path)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        site: PageSite = self.server.state  # type: ignore[attr-defined]
        site.requests.append(self.path)
        page = site.pages.get(self.path)
        if page is None:
            status, body, kind = 404, b"not found", "text/plain"
        else:
            kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
            status, body = 200, page.encode("utf-8")
        answer(self, status, body, kind)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def page_site(host: str = "127.0.0.1") -> Iterator[PageSite]:
    """Serve a ``PageSite`` on ``host`` (any loopback address) while inside."""
    site = PageSite()
    with serving(_Handler, site, host) as base:
        site.base = base
        yield site
