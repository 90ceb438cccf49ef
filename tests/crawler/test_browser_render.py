"""Script-rendered pages (``render: browser``) in a real headless Chromium (Debian's /usr/bin/chromium) against real
pages served on 127.0.0.1: links a script writes are found, every request the page makes passes the address guard,
a page that never finishes loading times out, and a crawl without such sources never starts a browser."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from analysis.urls import politeness_key
from crawler import browser, resolver
from crawler.browser_handler import BrowserDownloadHandler
from crawler.procstat import command_line, descendants
from crawler.types import CrawlOptions
from db.engine import Database
from labourwatch.config import parse_config
from labourwatch.errors import ConfigError
from tests.crawler.docserver import DocServer, doc_server
from tests.crawler.helpers import FAST, crawl
from tests.crawler.pagesite import article_html, rss
from tests.crawler.test_pinning import METADATA, FakeDNS

CHROMIUM = Path("/usr/bin/chromium")
# CI installs Chromium: there a missing browser fails these tests instead of skipping them.
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                                    reason=f"{CHROMIUM} is missing (apt-get install chromium); in CI these tests fail")

# The article links exist only once this script has run: it asks the site for them, then writes them.
SCRIPTED_LISTING = """<html><head><title>Latest</title></head><body><h1>Latest</h1><div id="list"></div>
<script>
fetch("/api/links.json").then(r => r.json()).then(links => {
  for (const href of links) {
    const a = document.createElement("a");
    a.href = href; a.className = "story"; a.textContent = "Story " + href;
    document.getElementById("list").appendChild(a);
  }
});
</script></body></html>"""


HTML = "text/html; charset=utf-8"


def add_articles(web: DocServer, count: int) -> list[str]:
    """``count`` on-topic article pages, and the JSON list of their paths that the scripted listing fetches."""
    paths = [f"/a/story-{n}.html" for n in range(count)]
    for n, path in enumerate(paths):
        web.documents[path] = (article_html(f"Workers sent abroad {n}", f"site {n}").encode(), HTML)
    web.documents["/api/links.json"] = (("[" + ",".join(f'"{p}"' for p in paths) + "]").encode(), "application/json")
    return paths


def scripted_story() -> str:
    """A page whose article is written by its script: its text is there only once rendered."""
    story = article_html("Workers sent abroad", "a scripted page")
    return ("<html><head><title>Workers sent abroad</title></head><body><main id='m'></main><script>"
            f"document.getElementById('m').innerHTML = {json.dumps(story.split('<body>')[1])};"
            "</script></body></html>")

class Listener:
    """A TCP port on 127.0.0.1 (or ``host``, ``port``) that counts the connections it accepts (an internal service a
    page must not reach); with ``hold``, it keeps them open without a word (a resource that never finishes loading)."""

    def __init__(self, hold: bool = False, host: str = "127.0.0.1", port: int = 0) -> None:
        self.socket = socket.create_server((host, port))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self.hold = hold
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self.hold:
                self._held.append(connection)
            else:
                connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self._held:
            connection.close()
        self.socket.close()


class BrowserWatch:
    """Samples this process's descendants while inside: the command lines of any Chromium or Playwright driver."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in descendants(os.getpid()):
                line = command_line(pid)
                if "chromium" in line or "run-driver" in line:
                    self.seen.add(line.split(" ", 1)[0])
            time.sleep(0.05)

    def __enter__(self) -> BrowserWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def configured(web: DocServer, source: dict[str, Any], **crawl_keys: Any) -> tuple[list[Any], CrawlOptions]:
    """Sources and crawl options through the real config loader, with the fast loopback options of the tests."""
    config = parse_config(yaml.safe_dump({"crawl": crawl_keys, "sources": [source]}), environ={})
    loaded = config.crawl_options
    options = replace(FAST, browser_sources=loaded.browser_sources, browser_pages=loaded.browser_pages,
                      browser_timeout=loaded.browser_timeout, browser_memory=loaded.browser_memory)
    return config.sources, options


def listing(web: DocServer, **extra: Any) -> dict[str, Any]:
    return {"id": "scripted", "kind": "listing", "url": web.origin + "/", "link_selector": "a.story", **extra}


@pytest.mark.slow
@pytest.mark.timeout(180)
@needs_chromium
class TestRendered:
    def test_links_a_script_writes_are_found_only_when_the_page_is_rendered(self, sqlite_database: Database) -> None:
        with doc_server() as web:
            paths = add_articles(web, 3)
            web.documents["/"] = (SCRIPTED_LISTING.encode(), HTML)
            sources, options = configured(web, listing(web))
            plain = crawl(sqlite_database, sources, options)
            assert [e.code for e in plain.ledger.errors] == ["no_links"]
            assert all(web.hits[p] == 0 for p in paths)

            sources, options = configured(web, listing(web, render="browser"))
            with BrowserWatch() as watch:
                rendered = crawl(sqlite_database, sources, options)
            assert rendered.status == "ok", rendered.ledger.errors
            assert all(web.hits[p] == 1 for p in paths)
            assert rendered.ledger.counts["articles_fetched"] == 3
            assert any("chromium" in line for line in watch.seen)  # the same watch that sees none without it
        with sqlite_database.read() as session:
            from db.models import Article

            stored = session.query(Article).filter(Article.relevant.is_(True)).count()
        assert stored == 3

    def test_a_feed_is_read_as_served_and_its_article_pages_are_rendered(self, sqlite_database: Database) -> None:
        scripted = scripted_story()
        with doc_server() as web:
            web.documents["/a/scripted.html"] = (scripted.encode(), HTML)
            web.documents["/feed.xml"] = (rss([web.origin + "/a/scripted.html"]).encode(), "application/rss+xml")
            feed = {"id": "scripted", "kind": "feed", "url": web.origin + "/feed.xml", "render": "browser"}
            sources, options = configured(web, feed)
            with BrowserWatch() as watch:
                report = crawl(sqlite_database, sources, options)
        assert report.status == "ok", report.ledger.errors
        assert report.ledger.counts["articles_fetched"] == 1 and any("chromium" in line for line in watch.seen)
        with sqlite_database.read() as session:
            from db.models import Article, ArticleVersion

            relevant = session.query(Article).filter(Article.relevant.is_(True)).one()
            text = session.query(ArticleVersion).filter(ArticleVersion.article_id == relevant.id).one().text
        assert "50,000 North Korean workers" in text  # written by the page's script: only there once rendered

    def test_a_page_found_on_another_key_is_rendered_by_its_keys_crawl(self, sqlite_database: Database) -> None:
        # A cluster's crawl of the feed's host (127.0.0.1) leaves the page on another host (localhost, the same
        # server) to that host's crawl, which renders it: its source asks for the browser.
        scripted = scripted_story()
        with doc_server() as web:
            elsewhere = web.origin.replace("127.0.0.1", "localhost")
            web.documents["/a/scripted.html"] = (scripted.encode(), HTML)
            web.documents["/feed.xml"] = (rss([elsewhere + "/a/scripted.html"]).encode(), "application/rss+xml")
            feed = {"id": "scripted", "kind": "feed", "url": web.origin + "/feed.xml", "render": "browser"}
            sources, options = configured(web, feed)
            found = crawl(sqlite_database, sources, options, key=politeness_key(web.origin))
            assert found.ledger.counts["articles_deferred"] == 1 and web.hits["/a/scripted.html"] == 0
            with BrowserWatch() as watch:
                report = crawl(sqlite_database, [], options, key=politeness_key(elsewhere))
        assert report.status == "ok", report.ledger.errors
        assert report.ledger.counts["articles_fetched"] == 1 and any("chromium" in line for line in watch.seen)
        with sqlite_database.read() as session:
            from db.models import Article, ArticleVersion

            relevant = session.query(Article).filter(Article.relevant.is_(True)).one()
            text = session.query(ArticleVersion).filter(ArticleVersion.article_id == relevant.id).one().text
        assert relevant.source_id == "scripted" and "50,000 North Korean workers" in text

    def test_a_pages_requests_to_refused_addresses_are_refused_recorded_and_never_connected(
            self, sqlite_database: Database) -> None:
        internal = Listener()
        try:
            with doc_server() as web:
                add_articles(web, 1)
                mapped = f"http://[::ffff:127.0.0.1]:{internal.port}"  # reaches 127.0.0.1: refused even so
                web.documents["/"] = (SCRIPTED_LISTING.replace("</body>", f"""
<img src="/pixel.png"><link rel="stylesheet" href="/style.css">
<script>
fetch("{mapped}/secret").catch(() => {{}});
fetch("http://169.254.169.254/latest/meta-data/").catch(() => {{}});
try {{ new WebSocket("ws://[::ffff:127.0.0.1]:{internal.port}/ws"); }} catch (e) {{}}
</script></body>""").encode(), HTML)
                sources, options = configured(web, listing(web, render="browser"))
                report = crawl(sqlite_database, sources, options)
                assert web.hits["/a/story-0.html"] == 1  # the page itself rendered and was read
                assert web.hits["/pixel.png"] == 0 and web.hits["/style.css"] == 0  # blocked resource types
        finally:
            internal.close()
        # Chromium writes the mapped address its own way (``[::ffff:7f00:1]``): matched by port and path.
        refused = sorted(e.url for e in report.ledger.errors
                         if (e.source_id, e.code, e.severity) == ("scripted", "browser_blocked", "warning"))
        assert len(refused) == 3, report.ledger.errors
        assert refused[0] == "http://169.254.169.254/latest/meta-data/"
        assert refused[1].startswith("http://[::ffff:") and refused[1].endswith(f":{internal.port}/secret")
        assert refused[2].startswith("ws://[::ffff:") and refused[2].endswith(f":{internal.port}/ws")
        assert internal.accepted == 0
        messages = " ".join(e.message for e in report.ledger.errors)
        assert "cloud metadata endpoint" in messages
        with sqlite_database.read() as session:
            from db.models import FetchError

            stored = {(row.source_id, row.code) for row in session.query(FetchError).all()}
        assert ("scripted", "browser_blocked") in stored

    def test_a_refused_subframe_is_never_connected(self, sqlite_database: Database) -> None:
        internal = Listener()
        try:
            with doc_server() as web:
                add_articles(web, 1)
                frame = f'<iframe src="http://[::ffff:127.0.0.1]:{internal.port}/frame"></iframe>'
                web.documents["/"] = (SCRIPTED_LISTING.replace("<body>", "<body>" + frame).encode(), HTML)
                sources, options = configured(web, listing(web, render="browser"))
                report = crawl(sqlite_database, sources, options)
        finally:
            internal.close()
        assert any(e.code == "browser_blocked" and e.url.endswith("/frame") for e in report.ledger.errors)
        assert internal.accepted == 0

    def test_a_name_is_fetched_at_the_address_the_guard_checked_not_where_chromium_resolves_it(
            self, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        # DNS rebinding: the guard's lookup answers 127.0.0.1, Chromium's own resolver would answer 127.0.0.2.
        monkeypatch.setattr(resolver, "LOOKUP", FakeDNS({"rebind.test": [["127.0.0.1"]]}))
        monkeypatch.setattr(browser, "CHROMIUM_ARGS", (*browser.CHROMIUM_ARGS,
                                                       "--host-resolver-rules=MAP rebind.test 127.0.0.2"))
        checked = Listener()
        elsewhere = Listener(host="127.0.0.2", port=checked.port)
        try:
            with doc_server() as web:
                add_articles(web, 1)
                fetch = f'<script>fetch("http://rebind.test:{checked.port}/data", {{mode: "no-cors"}})</script>'
                web.documents["/"] = (SCRIPTED_LISTING.replace("</body>", fetch + "</body>").encode(), HTML)
                sources, options = configured(web, listing(web, render="browser"))
                crawl(sqlite_database, sources, options)
                proxied = (checked.accepted, elsewhere.accepted)
                # The control: without the proxy, Chromium connects where its own resolver says.
                monkeypatch.setattr(BrowserDownloadHandler, "proxied", False)
                crawl(sqlite_database, sources, options)
        finally:
            checked.close()
            elsewhere.close()
        assert proxied[0] >= 1 and proxied[1] == 0
        assert elsewhere.accepted >= 1

    def test_a_name_that_resolves_to_a_refused_address_is_never_connected(
            self, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        # The guard's lookup answers the metadata address; Chromium's own would answer a port that counts.
        monkeypatch.setattr(resolver, "LOOKUP", FakeDNS({"metadata.test": [[METADATA]]}))
        monkeypatch.setattr(browser, "CHROMIUM_ARGS", (*browser.CHROMIUM_ARGS,
                                                       "--host-resolver-rules=MAP metadata.test 127.0.0.2"))
        internal = Listener(host="127.0.0.2")
        try:
            with doc_server() as web:
                add_articles(web, 1)
                target = f"http://metadata.test:{internal.port}"
                extra = (f'<iframe src="{target}/frame"></iframe><script>fetch("{target}/latest/meta-data/", '
                         '{mode: "no-cors"}).catch(() => {})</script>')
                web.documents["/"] = (SCRIPTED_LISTING.replace("<body>", "<body>" + extra).encode(), HTML)
                sources, options = configured(web, listing(web, render="browser"))
                report = crawl(sqlite_database, sources, options)
                proxied = internal.accepted
                monkeypatch.setattr(BrowserDownloadHandler, "proxied", False)
                crawl(sqlite_database, sources, options)
        finally:
            internal.close()
        refused = sorted(e.url for e in report.ledger.errors if (e.source_id, e.code) == ("scripted", "browser_blocked"))
        assert refused == [f"{target}/frame", f"{target}/latest/meta-data/"], report.ledger.errors
        assert proxied == 0
        assert internal.accepted >= 1  # the control: without the proxy, Chromium preconnects to the frame's host

    def test_a_page_that_never_finishes_loading_times_out(self, sqlite_database: Database) -> None:
        hanging = Listener(hold=True)
        try:
            with doc_server() as web:
                web.documents["/"] = (f'<html><body><a class="story" href="/a/x.html">x</a><script '
                                      f'src="http://127.0.0.1:{hanging.port}/never.js"></script></body></html>'.encode(),
                                      HTML)
                sources, options = configured(web, listing(web, render="browser"), browser_timeout="2s")
                started = time.monotonic()
                report = crawl(sqlite_database, sources, options)
                elapsed = time.monotonic() - started
        finally:
            hanging.close()
        assert hanging.accepted >= 1  # the script's request was made, and never answered
        assert [(e.code, e.source_id) for e in report.ledger.errors] == [("timeout", "scripted")]
        assert "crawl.browser_timeout" in report.ledger.errors[0].message
        assert elapsed < 30


    def test_a_browser_holding_more_than_its_memory_cap_is_restarted(self, sqlite_database: Database) -> None:
        hanging = Listener(hold=True)  # keeps the page open (never network-idle) while its memory is held
        hog = ("const held = []; for (let i = 0; i < 10; i++) { const b = new Uint8Array(100 * 1024 * 1024); "
               "b.fill(1); held.push(b); } window.held = held;")
        try:
            with doc_server() as web:
                web.documents["/"] = (f'<html><body><a class="story" href="/a/x.html">x</a><script>{hog}</script>'
                                      f'<script src="http://127.0.0.1:{hanging.port}/never.js"></script>'
                                      "</body></html>".encode(), HTML)
                sources, options = configured(web, listing(web, render="browser"), browser_timeout="8s",
                                              browser_memory="768MiB")
                report = crawl(sqlite_database, sources, options)
        finally:
            hanging.close()
        restarts = [e for e in report.ledger.errors if e.code == "browser_memory"]
        assert restarts and all(e.source_id == "scripted" and e.severity == "warning" for e in restarts)
        assert "more than crawl.browser_memory (768 MiB): restarted" in restarts[0].message
        assert report.status != "ok"  # the page it was rendering failed with the browser


def test_no_browser_starts_when_no_source_asks_for_one(sqlite_database: Database) -> None:
    with doc_server() as web:
        paths = add_articles(web, 2)
        links = "".join(f'<a class="story" href="{p}">s</a>' for p in paths)
        web.documents["/"] = (f"<html><body>{links}</body></html>".encode(), HTML)
        sources, options = configured(web, listing(web))
        # Another source of the config renders: this crawl does not poll it, so it starts no browser either.
        options = replace(options, browser_sources=frozenset({"elsewhere"}))
        with BrowserWatch() as watch:
            report = crawl(sqlite_database, sources, options)
    assert report.status == "ok" and all(web.hits[p] == 1 for p in paths)
    assert watch.seen == set()


@pytest.mark.parametrize(("keys", "where"), [
    ({"sources": [{"id": "s", "kind": "feed", "url": "http://x.example/f", "render": "chrome"}]}, "sources[0].render"),
    ({"sources": [{"id": "s", "kind": "feed", "url": "http://x.example/f", "render": True}]}, "sources[0].render"),
    ({"crawl": {"browser_pages": 0}}, "crawl.browser_pages"),
    ({"crawl": {"browser_pages": "two"}}, "crawl.browser_pages"),
    ({"crawl": {"browser_timeout": "0s"}}, "crawl.browser_timeout"),
    ({"crawl": {"browser_timeout": "1h"}}, "crawl.browser_timeout"),
    ({"crawl": {"browser_pages": 17}}, "crawl.browser_pages"),
    ({"crawl": {"browser_memory": "10MiB"}}, "crawl.browser_memory"),
])
def test_render_and_browser_keys_are_checked_at_load(keys: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml.safe_dump(keys), environ={})
    assert any(problem.startswith(where) for problem in raised.value.problems), raised.value.problems


def test_only_render_browser_sources_are_rendered() -> None:
    text = yaml.safe_dump({"crawl": {"browser_pages": 4, "browser_timeout": "45s", "browser_memory": "2GiB"},
                           "sources": [{"id": "a", "kind": "feed", "url": "http://x.example/f", "render": "browser"},
                                       {"id": "b", "kind": "feed", "url": "http://x.example/g"}]})
    options = parse_config(text, environ={}).crawl_options
    assert options.browser_sources == frozenset({"a"})
    assert (options.browser_pages, options.browser_timeout, options.browser_memory) == (4, 45.0, 2 * 1024**3)


def test_a_missing_browser_is_a_config_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from crawler import browser

    text = yaml.safe_dump({"sources": [{"id": "a", "kind": "feed", "url": "http://x.example/f", "render": "browser"},
                                       {"id": "b", "kind": "feed", "url": "http://x.example/g"}]})
    monkeypatch.setattr(browser, "CHROMIUM", str(tmp_path / "no-chromium"))
    assert [w for w in parse_config(text, environ={}).warnings if "render: browser" in w] == [
        f"sources: render: browser (a) needs {tmp_path / 'no-chromium'}, which is missing (apt-get install chromium); "
        "their pages fail until it is there"]
    monkeypatch.setattr(browser, "CHROMIUM", __file__)  # a file that exists
    assert not [w for w in parse_config(text, environ={}).warnings if "render: browser" in w]
