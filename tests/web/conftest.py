"""Shared fixtures of the web tests: the fixture news web plus one hostile site, crawled twice into a database
(with the shipped known claims), so there are versions, diffs, claim matches and a review queue to show.

The hostile site publishes one on-topic article whose title and text carry markup (script, an onerror image, a
table breaker with an ``h1``, a ``javascript:`` link) as *text*: every page that shows it must show it literally.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from analysis.claims.model import claims_from_yaml_data
from db import claims as claim_store
from db.engine import Database
from db.migrate import upgrade
from db.models import Article
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs
from tests.databases import database_copy, own_database_url

ROOT = Path(__file__).resolve().parents[2]
KNOWN_CLAIMS = ROOT / "known_claims.yaml"

HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=2">'
HOSTILE_TABLE = "</td></tr></table><h1>broken</h1>"
HOSTILE_LINK = '<a href="javascript:window.__pwned=3">read more</a>'
HOSTILE_STRINGS = (HOSTILE_SCRIPT, HOSTILE_IMG, HOSTILE_TABLE, HOSTILE_LINK)
HOSTILE_PATH = "/news/hostile.html"


def hostile_title(state: int) -> str:
    """The hostile article's headline in ``state`` (0 before ``advance()``, 1 after)."""
    verb = "sent" if state == 0 else "rushed"
    return f"North Korean workers {verb} to Russia {HOSTILE_SCRIPT} {HOSTILE_TABLE}"


def hostile_paragraphs(state: int) -> list[str]:
    """The hostile article's text in ``state``: claim-like sentences with the markup inside them."""
    figure = "12,000" if state == 0 else "15,000"
    paragraphs = [
        f"More than {figure} North Korean workers were sent to building sites in Russia in 2025, officials in "
        f"Seoul said {HOSTILE_SCRIPT} on Monday.",
        f"Recruiters in Vladivostok said the North Korean labourers {HOSTILE_IMG} worked shifts of up to "
        "16 hours a day.",
        f"A table in the leaked report {HOSTILE_TABLE} lists 3,400 North Korean workers at shipyards in Primorye.",
        f"Readers were told to {HOSTILE_LINK} about the canteens of North Korean workers in Russia.",
        "The ministry did not answer questions about the contracts, the wages or the housing of the workers, "
        "and the recruiters declined to say who paid for the flights from Pyongyang.",
    ]
    if state > 0:
        paragraphs.append("Most of their wages go to the state in Pyongyang, according to the leaked report, "
                          "which also names the companies that hired the North Korean crews.")
    return paragraphs


def _article_html(state: int) -> str:
    title = escape(hostile_title(state))
    body = "\n".join(f"<p>{escape(p)}</p>" for p in hostile_paragraphs(state))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>\n'
            f'<meta property="og:title" content="{title}">\n'
            '<meta property="article:published_time" content="2025-12-31T21:00:00+00:00">\n'
            '</head><body><header><a href="/">The Hostile Gazette</a></header>\n'
            f'<article><h1>{title}</h1>\n<p class="byline">By Staff</p>\n{body}\n</article>\n'
            "<footer>© 2026 The Hostile Gazette</footer></body></html>\n")


def _rss(base: str, state: int) -> str:
    title = escape(hostile_title(state))
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>The Hostile Gazette</title><link>{base}/</link><description>news</description>"
            f"<item><title>{title}</title><link>{base}{HOSTILE_PATH}</link><guid>{base}{HOSTILE_PATH}</guid>"
            "<pubDate>Wed, 31 Dec 2025 21:00:00 +0000</pubDate></item></channel></rss>\n")


def _attack_html(target: str) -> str:
    # A cross-origin page (another port of 127.0.0.1: same *site*, so SameSite cookies do go along) whose form
    # posts to the web UI: only the Origin check and the CSRF token stop it.
    return ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>You won</title></head><body>'
            f'<form method="post" action="{escape(target)}"><input type="hidden" name="note" value="pwned">'
            '<button type="submit">Claim your prize</button></form></body></html>\n')


class HostileSite:
    """A one-article news site on 127.0.0.1 whose article carries markup as text; ``advance()`` edits it.

    ``/attack`` serves a form that posts to ``attack_target`` (set it first), for cross-origin request tests."""

    def __init__(self) -> None:
        self.state = 0
        self.attack_target = "/"
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                base = f"http://127.0.0.1:{site.port}"
                pages = {"/rss.xml": ("application/rss+xml", _rss(base, site.state)),
                         HOSTILE_PATH: ("text/html; charset=utf-8", _article_html(site.state)),
                         "/robots.txt": ("text/plain", "User-agent: *\nAllow: /\n"),
                         "/attack": ("text/html; charset=utf-8", _attack_html(site.attack_target))}
                kind, body = pages.get(self.path, ("text/plain", "not found"))
                data = body.encode("utf-8")
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="hostile-site", daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def article_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOSTILE_PATH}"

    def source(self) -> dict[str, str]:
        return {"id": "hostile-rss", "kind": "feed", "url": f"http://127.0.0.1:{self.port}/rss.xml"}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@dataclass
class NewsWeb:
    """The fixture news web and the hostile site, started together."""

    web: FixtureWeb
    hostile: HostileSite

    @classmethod
    def start(cls) -> NewsWeb:
        return cls(FixtureWeb().start(), HostileSite())

    def sources(self) -> list[dict[str, str]]:
        return [*self.web.sources(), self.hostile.source()]

    def advance(self) -> None:
        self.web.advance()
        self.hostile.state += 1

    def close(self) -> None:
        self.hostile.close()
        self.web.stop()

    def __enter__(self) -> NewsWeb:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def crawl_news(db: Database, news: NewsWeb) -> None:
    """Import the shipped known claims, crawl, advance the web once and crawl again."""
    with db.write() as session:
        claim_store.import_claims(session, claims_from_yaml_data(yaml.safe_load(KNOWN_CLAIMS.read_text("utf-8"))))
    sources = specs(news.sources())
    for step in range(2):
        if step:
            news.advance()
        report = crawl(db, sources)
        assert report.status == "ok", report


def hostile_article_id(db: Database) -> int:
    """The id of the hostile site's article in a crawled database."""
    with db.read() as session:
        found = session.scalar(select(Article.id).where(Article.canonical_url.like(f"%{HOSTILE_PATH}")))
    assert found is not None, "the hostile article was not stored"
    return found


@pytest.fixture
def news_web() -> Iterator[NewsWeb]:
    """The fixture news web plus the hostile site."""
    with NewsWeb.start() as news:
        yield news


class CrawledNews:
    """Databases after ``crawl_news`` (migrated, crawled, the web advanced, crawled again), one per backend,
    made when a test first asks for it; tests get copies (the crawls take seconds, a copy milliseconds)."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self._folder = folder
        self._stack = stack
        self._urls: dict[str, str] = {}

    def template(self, request: pytest.FixtureRequest, kind: str) -> str:
        """The URL of the crawled database on backend ``kind`` ("sqlite" or "postgresql"); nothing stays
        connected to it."""
        if kind not in self._urls:
            url = self._stack.enter_context(contextmanager(own_database_url)(request, self._folder, kind, "crawled"))
            db = Database(url)
            try:
                upgrade(db)
                with NewsWeb.start() as news:
                    crawl_news(db, news)
            finally:
                db.dispose()
            self._urls[kind] = url
        return self._urls[kind]


@pytest.fixture(scope="session")
def crawled_news(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawledNews]:
    """The session's crawled news databases (see ``CrawledNews``), dropped at its end."""
    with ExitStack() as stack:
        yield CrawledNews(tmp_path_factory.mktemp("crawled-news"), stack)


@pytest.fixture
def crawled_database(request: pytest.FixtureRequest, db_url: str, tmp_path: Path,
                     crawled_news: CrawledNews) -> Iterator[Database]:
    """A migrated database (SQLite and PostgreSQL) after two crawls of the news web, the web advanced between:
    a copy of the session's, the test's own to change."""
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with database_copy(crawled_news.template(request, kind), tmp_path, "crawled") as url:
        db = Database(url)
        yield db
        db.dispose()
