"""Fault endpoints: feeds that fail in the ways real publishers' feeds fail, served by one extra site.

Each endpoint is named by its path ``/faults/<name>.xml``; ``FAULT_SOURCES`` lists the ones that are sources.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from functools import cache

from labourwatch.fixtureweb.server import Response, entity, error_page
from labourwatch.fixtureweb.sites import SiteSpec

FAULT_SITE_ID = "fault"
ROBOTS_DISALLOW_ID = "fault-robots-disallow"
ROBOTS_500_ID = "fault-robots-500"
RSS = "application/rss+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
# Bodies are written against this origin; the real one is substituted once the fault site has its port.
ORIGIN = "http://fault.fixture.invalid"
GZIP_BOMB_SIZE = 50 * 1024 * 1024 + 1024  # inflated size, a little over 50 MiB
TRUNCATED_DECLARED, TRUNCATED_SENT = 5000, 1000
# (source id suffix, kind, path) of every fault that is configured as a source on the fault site.
_FEED_FAULTS = (
    "500", "slow", "truncated", "wrong-charset", "malformed", "entities", "redirect-loop", "gzip-bomb",
    "redirect-private", "empty", "html-not-feed", "404",
)
FAULT_SOURCES: tuple[tuple[str, str, str], ...] = (
    *((name, "feed", f"/faults/{name}.xml") for name in _FEED_FAULTS),
    ("listing-no-links", "listing", "/faults/listing-no-links.html"),
)


def robots_fault_specs() -> list[SiteSpec]:
    """Two small sites whose robots.txt disallows everything or answers 500."""
    return [
        SiteSpec(ROBOTS_DISALLOW_ID, "Closed Archive", "en", feed="rss2", sitemap=False, listing=False,
                 articles=3, offtopic_every=0, robots="disallow"),
        SiteSpec(ROBOTS_500_ID, "Flaky Gazette", "en", feed="rss2", sitemap=False, listing=False,
                 articles=3, offtopic_every=0, robots="error500"),
    ]


def _rss(items: str, title: str = "Fault feed") -> str:
    return (f'<rss version="2.0"><channel><title>{title}</title><link>{ORIGIN}/</link>'
            f"<description>A feed for testing failures</description>{items}</channel></rss>\n")


def _item(n: int, title: str, description: str = "") -> str:
    return (f"<item><title>{title}</title><link>{ORIGIN}/faults/articles/{n}.html</link>"
            f'<guid isPermaLink="false">fault-{n}</guid><pubDate>Thu, 01 Jan 2026 00:00:00 GMT</pubDate>'
            f"<description>{description or title}</description></item>")


def _xml(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


@cache
def gzip_bomb() -> bytes:
    """A gzip stream of about 50 KB that inflates to over 50 MiB (built once, streamed through zlib)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    head = b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Bomb</title><description>'
    tail = b"</description></channel></rss>\n"
    chunk = b" " * (1024 * 1024)
    parts = [compressor.compress(head)]
    remaining = GZIP_BOMB_SIZE - len(head) - len(tail)
    while remaining > 0:
        parts.append(compressor.compress(chunk[:remaining]))
        remaining -= len(chunk)
    parts += [compressor.compress(tail), compressor.flush()]
    return b"".join(parts)


def _entities() -> bytes:
    levels = "".join(f'  <!ENTITY l{i} "{f"&l{i - 1};" * 10}">\n' for i in range(1, 10))
    doctype = ('<!DOCTYPE rss [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
               f'  <!ENTITY l0 "{"a" * 64}">\n{levels}]>\n')
    return _xml(doctype + _rss(_item(1, "Billion laughs &l9;") + "<item><title>&xxe;</title></item>"))


def _wrong_charset() -> bytes:
    items = (_item(1, "Северокорейские рабочие на стройках Приморья",
                   "Бригады из КНДР работают на стройках, рассказали бывшие рабочие и местные подрядчики.")
             + _item(2, "Рабочие из КНДР и студенческие визы",
                     "Граждане КНДР въезжают в Россию по учебным визам, а работают на строительных площадках."))
    # No encoding in the declaration: the only charset the client is told is the (wrong) utf-8 in the header.
    return ('<?xml version="1.0"?>\n' + _rss(items, "Восточные новости")).encode("cp1251")


def _html(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><nav><a href="/">Home</a> <a href="/about.html">About</a></nav>{body}</body></html>\n').encode()


class FaultResponder:
    """Answers the fault site's paths; ``/faults/slow.xml`` waits ``fault_delay`` seconds first."""

    def __init__(self, fault_delay: float) -> None:
        self.fault_delay = fault_delay
        self.origin = ORIGIN
        self._templates: dict[str, tuple[bytes, str]] = {
            "/robots.txt": (b"User-agent: *\nAllow: /\n", "text/plain; charset=utf-8"),
            "/faults/slow.xml": (_xml(_rss(_item(1, "Worth the wait"))), RSS),
            "/faults/wrong-charset.xml": (_wrong_charset(), RSS),
            "/faults/malformed.xml": (_xml('<rss version="2.0"><channel><title>Broken <b>feed</title><item>'
                                           f"<title>Unclosed<link>{ORIGIN}/faults/articles/1.html")
                                      + b"\x00\xff<<>>&&;</rss", RSS),
            "/faults/entities.xml": (_entities(), RSS),
            "/faults/empty.xml": (b"", RSS),
            "/faults/html-not-feed.xml": (_html("Page moved", "<h1>Our feed has moved</h1><p>Please visit "
                                                "the <a href='/'>home page</a>.</p>"), HTML),
            "/faults/listing-no-links.html": (_html("Latest", '<main><h1>Latest</h1><h2 class="title">No '
                                                    "stories today</h2><p>Check back later.</p></main>"), HTML),
            "/faults/truncated.xml": (_xml(_rss("".join(_item(n, f"Item {n}") for n in range(1, 40)))), RSS),
        }
        self._served: dict[str, Response] = {}

    def _static(self, path: str) -> Response:
        response = self._served.get(path)
        if response is None or self.origin == ORIGIN:
            body, content_type = self._templates[path]
            response = entity(body.replace(ORIGIN.encode(), self.origin.encode()), content_type)
            self._served[path] = response
        return response

    def respond(self, path: str, query: str) -> Response:
        """The response for one fault path."""
        if path == "/faults/slow.xml":
            return replace(self._static(path), delay=self.fault_delay)
        if path == "/faults/truncated.xml":
            body = self._static(path).body[:TRUNCATED_SENT]
            return Response(200, body, RSS, declared_length=TRUNCATED_DECLARED)
        if path in self._templates:
            return self._static(path)
        if path == "/faults/500.xml":
            return error_page(500, "Internal Server Error")
        if path in ("/faults/redirect-loop.xml", "/faults/redirect-loop2.xml"):
            target = "/faults/redirect-loop2.xml" if path.endswith("loop.xml") else "/faults/redirect-loop.xml"
            return Response(302, headers=(("Location", target),))
        if path == "/faults/redirect-private.xml":
            return Response(302, headers=(("Location", "http://169.254.169.254/latest/meta-data/"),))
        if path == "/faults/gzip-bomb.xml":
            return Response(200, gzip_bomb(), RSS, content_encoding="gzip")
        if path.startswith("/faults/articles/"):
            return entity(_html("Fault article", "<article><h1>Fault article</h1><p>Nothing to see.</p>"
                                "</article>"), HTML)
        return error_page(404, "Not found")
