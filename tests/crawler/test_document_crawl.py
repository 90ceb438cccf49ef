"""Documents in real crawls from a local server, on SQLite and PostgreSQL: a listing of PDF and DOCX links, a
``document`` source whose report is re-posted with a changed figure, and every document limit recorded with its code
while the crawl carries on."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from sqlalchemy import select

from crawler.documents import DOCX_TYPE
from db.engine import Database
from db.models import Article, ArticleVersion, ClaimMatchRow, Event, RawResponse, VersionDiffRow
from db.rawbody import unpack
from labourwatch.errors import ConfigError
from tests.crawler.docserver import doc_server
from tests.crawler.helpers import FAST, crawl, specs
from tests.crawler.test_claim_matching import import_claims
from tests.documents import (
    TEXTS,
    TITLES,
    make_bomb_pdf,
    make_docx,
    make_docx_bomb,
    make_pdf,
    make_scanned_pdf,
)
from tests.loopback import answer, serving

PDF_TYPE = "application/pdf"
REPORT = [
    "More than 50,000 North Korean labourers may be sent to work in Russia, the ministry said in its annual report.",
    "North Korean labourers in Russia are made to work for as long as 18 hours a day, the report found.",
    "Most of the North Korean workers sent to Russia are put to work on construction sites in the Far East.",
]


def _articles(db: Database) -> dict[str, Article]:
    with db.read() as session:
        return {a.url: a for a in session.scalars(select(Article))}


def test_a_listing_of_pdf_and_docx_links_stores_each_document_as_an_article(database: Database) -> None:
    long = make_pdf([TEXTS["en"]] * 4)
    documents = {
        "/docs/en.pdf": (make_pdf([TEXTS["en"]], title=TITLES["en"]), PDF_TYPE),
        "/docs/ko.pdf": (make_pdf([TEXTS["ko"], TEXTS["ko"]], title=TITLES["ko"], language="ko"), PDF_TYPE),
        # Served as a type that says nothing: the .docx path tells.
        "/docs/ru.docx": (make_docx(TEXTS["ru"], title=TITLES["ru"]), "application/octet-stream"),
        "/docs/locked.pdf": (make_pdf([TEXTS["en"]], encrypt=True), PDF_TYPE),
        "/docs/scan.pdf": (make_scanned_pdf(), PDF_TYPE),
        "/docs/bomb.pdf": (make_bomb_pdf(24 * 1024 * 1024), PDF_TYPE),
        "/docs/bomb.docx": (make_docx_bomb(TEXTS["en"], 24 * 1024 * 1024), DOCX_TYPE),
        "/docs/broken.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog", PDF_TYPE),
        "/docs/long.pdf": (long, PDF_TYPE),
        "/docs/huge.pdf": (long + b"\n%" + b"x" * (2 * 1024 * 1024), PDF_TYPE),  # past crawl.max_size
    }
    with doc_server() as served:
        served.documents.update(documents)
        links = "".join(f'<li><a class="doc" href="{path}">{path}</a></li>' for path in documents)
        served.documents["/reports/"] = (f"<html><body><ul>{links}</ul></body></html>".encode(), "text/html")
        sources = specs([{"id": "reports", "kind": "listing", "url": served.origin + "/reports/",
                          "link_selector": "a.doc"}])
        report = crawl(database, sources, replace(FAST, document_max_pages=3, max_size=2 * 1024 * 1024))
    stored = _articles(database)
    good = {f"{served.origin}/docs/{name}": language for name, language in
            (("en.pdf", "en"), ("ko.pdf", "ko"), ("ru.docx", "ru"))}
    assert set(stored) == set(good), report.ledger.errors
    for url, language in good.items():
        article = stored[url]
        assert (article.title, article.language, article.relevant) == (TITLES[language], language, True)
    codes = {e.url.rsplit("/", 1)[1]: e.code for e in report.ledger.errors}
    assert codes == {"locked.pdf": "document_encrypted", "scan.pdf": "no_text", "bomb.pdf": "document_too_large",
                     "bomb.docx": "document_too_large", "broken.pdf": "document_malformed",
                     "long.pdf": "document_too_many_pages", "huge.pdf": "too_large"}
    assert report.ledger.sources["reports"].ok
    # The raw bytes are kept as the versions' evidence, byte for byte.
    with database.read() as session:
        raws = {r.url: unpack(r.body, r.compression) for r in session.scalars(select(RawResponse))}
    for url in good:
        path = url.removeprefix(served.origin)
        assert hashlib.sha256(raws[url]).digest() == hashlib.sha256(documents[path][0]).digest()


def test_a_document_source_versions_a_revised_report_with_its_figure_change(database: Database) -> None:
    import_claims(database)
    revised = [REPORT[0].replace("50,000", "80,000"), REPORT[1].replace("18 hours", "20 hours"), REPORT[2]]
    with doc_server() as served:
        served.documents["/annual.pdf"] = (make_pdf([REPORT], title="Annual report on overseas labour"), PDF_TYPE)
        sources = specs([{"id": "ministry", "kind": "document", "url": served.origin + "/annual.pdf"}])
        first = crawl(database, sources)
        assert first.ledger.sources["ministry"].ok and not first.ledger.errors
        crawl(database, sources)  # the same bytes again: no new version
        served.documents["/annual.pdf"] = (make_pdf([revised], title="Annual report on overseas labour"), PDF_TYPE)
        second = crawl(database, sources)
        assert second.ledger.sources["ministry"].ok and not second.ledger.errors
        assert served.hits["/annual.pdf"] == 3  # one request a poll: the source's response is the article
    url = served.origin + "/annual.pdf"
    with database.read() as session:
        (article,) = session.scalars(select(Article))
        versions = list(session.scalars(select(ArticleVersion).order_by(ArticleVersion.number)))
        (diff,) = session.scalars(select(VersionDiffRow))
        matches = list(session.scalars(select(ClaimMatchRow).where(ClaimMatchRow.version_id == versions[-1].id)))
        events = list(session.scalars(select(Event).where(Event.url == url)))
    assert (article.url, article.source_id, article.version_count) == (url, "ministry", 2)
    assert [v.number for v in versions] == [1, 2]
    assert "figures" in diff.changed
    assert any("80,000" in sentence for sentence in diff.added)
    assert any("50,000" in sentence for sentence in diff.removed)
    assert {m.label for m in matches if "20 hours" in m.sentence} == {"updates"}
    types = {e.type for e in events}
    assert {"article_edited", "claim_updated"} <= types, types
    edited = next(e for e in events if e.type == "article_edited")
    assert "figures" in edited.details["changed"]


class _Conditional(BaseHTTPRequestHandler):
    """One PDF at /annual.pdf with an ETag, answered 304 to a request that names it; logs (status, conditional)."""

    def do_GET(self) -> None:
        state: dict[str, Any] = self.server.state  # type: ignore[attr-defined]
        if self.path != "/annual.pdf":  # robots.txt
            answer(self, 404, b"not found", "text/plain")
            return
        etag = f'"{hashlib.sha1(state["body"], usedforsecurity=False).hexdigest()}"'
        fresh = self.headers.get("If-None-Match") == etag
        state["log"].append((304 if fresh else 200, self.headers.get("If-None-Match") is not None))
        self.send_response(304 if fresh else 200)
        self.send_header("ETag", etag)
        if fresh:
            self.end_headers()
            return
        self.send_header("Content-Type", PDF_TYPE)
        self.send_header("Content-Length", str(len(state["body"])))
        self.end_headers()
        self.wfile.write(state["body"])

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_unchanged_document_answers_304_and_counts_as_its_articles_check(database: Database) -> None:
    state: dict[str, Any] = {"body": make_pdf([REPORT], title="Annual report"), "log": []}
    with serving(_Conditional, state) as origin:
        sources = specs([{"id": "ministry", "kind": "document", "url": origin + "/annual.pdf"}])
        crawl(database, sources)
        second = crawl(database, sources)
    assert state["log"] == [(200, False), (304, True)]  # the re-check due (revisit 0s) is the source's poll
    assert second.ledger.sources["ministry"].ok and not second.ledger.errors
    with database.read() as session:
        (article,) = session.scalars(select(Article))
    assert (article.check_count, article.last_status, article.version_count) == (1, 304, 1)


def test_a_document_source_that_serves_no_document_fails_with_a_code(database: Database) -> None:
    with doc_server() as served:
        served.documents["/annual.pdf"] = (b"<html><body>Moved to our new site</body></html>", "text/html")
        sources = specs([{"id": "ministry", "kind": "document", "url": served.origin + "/annual.pdf"}])
        report = crawl(database, sources)
    result = report.ledger.sources["ministry"]
    assert (result.ok, result.error_code) == (False, "not_a_document")
    assert not _articles(database)


def test_a_document_source_takes_no_kind_options() -> None:
    with pytest.raises(ConfigError, match="link_selector"):
        specs([{"id": "d", "kind": "document", "url": "https://x.example/a.pdf", "link_selector": "a"}])
