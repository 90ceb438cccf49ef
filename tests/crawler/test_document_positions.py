"""Pages and paragraphs of documents: a PDF's page and a DOCX's paragraph are kept with every sentence, stored with
claim sentences and sentence diffs, shown as "p. 3" on the article, diff and claim pages and exported by the API and
the CSV files; a revised report whose figure moved to another page says so. Real PDFs (fpdf2) and DOCX files
(python-docx) from a loopback server, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from html import unescape

import pytest
from alembic import command
from sqlalchemy import inspect, select
from starlette.testclient import TestClient

from analysis.claims.sentences import KnownClaims, match_article
from analysis.positions import at_line, diff_labels, label
from analysis.relevance import DEFAULT_TOPIC, matcher_for
from analysis.text import split_sentence_lines
from analysis.types import TextPositions
from crawler.documents import DOCX, PDF, extract_document
from db import claims as claim_store
from db.engine import Database
from db.migrate import alembic_config, current_revision, head_revision, upgrade
from db.models import Article, ArticleVersion, ClaimMatchRow, VersionDiffRow
from tests.crawler.docserver import doc_server
from tests.crawler.helpers import crawl, specs
from tests.crawler.test_claim_matching import import_claims
from tests.crawler.test_document_crawl import PDF_TYPE, REPORT
from tests.documents import make_docx, make_pdf
from web.app import create_app
from web.types import WebOptions

COVER = ["Annual report of the ministry on overseas labour, presented to the parliament committee."]
METHOD = ["The committee heard officials of four ministries in Geneva and Seoul over three sessions."]
ANNEX = ["An annex lists the companies named by the officials and the sites the inspectors visited."]
FIRST = [COVER, METHOD, REPORT]  # the report's findings on page 3
MOVED = REPORT[0].replace("50,000", "80,000")
REVISED = [COVER, METHOD, ANNEX, [MOVED, *REPORT[1:]]]  # an annex before them: the changed figure on page 4


def _pages(text: str, doc_positions: TextPositions | None) -> dict[str, int]:
    assert doc_positions is not None
    return {sentence: at_line(doc_positions, line) for line, sentence in split_sentence_lines(text)}


def test_each_sentence_of_a_pdf_is_on_its_page_and_each_of_a_docx_in_its_paragraph() -> None:
    # A page without text (a blank page, a scanned figure) is counted: the findings stay on page 4.
    pdf = extract_document(make_pdf([COVER, [], METHOD, REPORT]), "https://gov.example/r.pdf", PDF)
    assert pdf.positions is not None and pdf.positions.unit == "page"
    pages = _pages(pdf.text, pdf.positions)
    assert pages[COVER[0]] == 1 and pages[METHOD[0]] == 3
    assert [pages[sentence] for sentence in REPORT] == [4, 4, 4]
    # Empty paragraphs (spacing) are not counted: the numbers are those of the paragraphs with text.
    docx = extract_document(make_docx([COVER[0], "", METHOD[0], *REPORT]), "https://gov.example/r.docx", DOCX)
    assert docx.positions is not None and docx.positions.unit == "paragraph"
    paragraphs = _pages(docx.text, docx.positions)
    assert [paragraphs[sentence] for sentence in (COVER[0], METHOD[0], *REPORT)] == [1, 2, 3, 4, 5]
    assert label("paragraph", paragraphs[REPORT[0]]) == "¶ 3" and label("page", 3) == "p. 3"


def test_a_docx_claim_sentence_is_matched_with_its_paragraph(database: Database) -> None:
    import_claims(database)
    doc = extract_document(make_docx([COVER[0], METHOD[0], *REPORT]), "https://gov.example/r.docx", DOCX)
    with database.read() as session:
        known = KnownClaims.of(claim_store.matching_claims(session))
    matches = match_article(doc.text, matcher_for(DEFAULT_TOPIC), known.matcher, doc.title)
    assert doc.positions is not None
    found = {m.sentence: at_line(doc.positions, m.line) for m in matches if m.line is not None}
    assert found[REPORT[0]] == 3 and found[REPORT[1]] == 4


@pytest.fixture
def revised(database: Database) -> Iterator[tuple[Database, str]]:
    """The report crawled as a ``document`` source, then re-posted with its figure changed and moved to page 4."""
    import_claims(database)
    with doc_server() as served:
        served.documents["/annual.pdf"] = (make_pdf(FIRST, title="Annual report on overseas labour"), PDF_TYPE)
        sources = specs([{"id": "ministry", "kind": "document", "url": served.origin + "/annual.pdf"}])
        assert not crawl(database, sources).ledger.errors
        served.documents["/annual.pdf"] = (make_pdf(REVISED, title="Annual report on overseas labour"), PDF_TYPE)
        assert not crawl(database, sources).ledger.errors
    yield database, served.origin + "/annual.pdf"


def _stored_positions(db: Database) -> tuple[list[ArticleVersion], dict[int, dict[str, int | None]], VersionDiffRow]:
    with db.read() as session:
        versions = list(session.scalars(select(ArticleVersion).order_by(ArticleVersion.number)))
        by_version: dict[int, dict[str, int | None]] = {}
        for row in session.scalars(select(ClaimMatchRow)):
            by_version.setdefault(row.version_id, {})[row.sentence] = row.position
        (diff,) = session.scalars(select(VersionDiffRow))
        session.expunge_all()
    return versions, by_version, diff


def test_claim_sentences_and_the_diff_keep_the_pages_of_the_revised_report(revised: tuple[Database, str]) -> None:
    db, _ = revised
    versions, matches, diff = _stored_positions(db)
    assert [(v.number, v.position_unit) for v in versions] == [(1, "page"), (2, "page")]
    first, second = (matches[v.id] for v in versions)
    assert first[REPORT[0]] == 3 and first[REPORT[1]] == 3
    # The changed figure is on page 4 now, and so is the unchanged sentence after it.
    assert second[MOVED] == 4 and second[REPORT[1]] == 4
    removed = dict(zip(diff.removed, diff_labels(diff.positions, "removed", len(diff.removed)), strict=True))
    added = dict(zip(diff.added, diff_labels(diff.positions, "added", len(diff.added)), strict=True))
    assert removed == {REPORT[0]: "p. 3"}
    assert added == {ANNEX[0]: "p. 3", MOVED: "p. 4"}
    # Matched again after the claims change (``claims rematch``): the pages come from the stored version.
    with db.read() as session:
        known = KnownClaims.of(claim_store.matching_claims(session))
        stored = [v for batch in claim_store.iter_versions(session) for v in batch]
    with db.write() as session:
        for version in stored:
            again = match_article(version.text, matcher_for(DEFAULT_TOPIC), known.matcher, version.title)
            claim_store.replace_matches(session, version, again, "rematched", version.fetched_at)
    assert _stored_positions(db)[1] == matches


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_pages_show_and_export_where_each_sentence_is(revised: tuple[Database, str]) -> None:
    db, url = revised
    with db.read() as session:
        article_id = session.scalars(select(Article.id).where(Article.url == url)).one()
        claim_id = session.scalars(select(ClaimMatchRow.claim_id).where(ClaimMatchRow.sentence == MOVED)).one()
    assert claim_id is not None
    with TestClient(create_app(db, WebOptions())) as client:
        article = client.get(f"/articles/{article_id}").text
        claim = client.get(f"/claims/{claim_id}").text
        api = client.get("/api/matches", params={"article": article_id, "all": "1"}).json()["items"]
        detail = client.get(f"/api/articles/{article_id}").json()
        matches_csv = list(csv.DictReader(io.StringIO(client.get("/export/matches.csv", params={"all": "1"})
                                                       .text.lstrip("\ufeff"))))
        diffs_csv = list(csv.DictReader(io.StringIO(client.get("/export/diffs.csv").text.lstrip("\ufeff"))))
    # The article page: the claim sentences table, and the diff (inline and side by side).
    table = _text(article[article.index('<table class="matches">'):])
    assert f"{MOVED} (p. 4)" in table
    inline = article[article.index('class="diff-inline"'):article.index("Side by side")]
    assert [_text(cell) for cell in re.findall(r'<del class="sentence">(.*?)</del>', inline)] == [f"{REPORT[0]} (p. 3)"]
    assert [_text(cell) for cell in re.findall(r'<ins class="sentence">(.*?)</ins>', inline)] == [
        f"{ANNEX[0]} (p. 3)", f"{MOVED} (p. 4)"]
    side = _text(article[article.index("Side by side"):])
    assert f"{REPORT[0]} (p. 3)" in side and f"{MOVED} (p. 4)" in side
    # The claim page: the evidence of each report with its page.
    assert f"{MOVED} (p. 4)" in _text(claim)
    # The JSON API and the CSV files.
    assert {m["sentence"]: m["position"] for m in api}[MOVED] == "p. 4"
    (diff,) = [v["diff"] for v in detail["versions"] if v["diff"]]
    assert dict(zip(diff["added"], diff["added_positions"], strict=True)) == {ANNEX[0]: "p. 3", MOVED: "p. 4"}
    assert diff["removed_positions"] == ["p. 3"]
    assert {row["sentence"]: row["position"] for row in matches_csv}[MOVED] == "p. 4"
    assert {row["sentence"]: row["position"] for row in matches_csv}[REPORT[0]] == "p. 3"
    assert [(row["added_positions"], row["removed_positions"]) for row in diffs_csv] == [
        ('["p. 3", "p. 4"]', '["p. 3"]')]


def test_migration_0014_adds_the_position_columns_and_takes_them_away(revised: tuple[Database, str]) -> None:
    db, _ = revised
    columns = {"article_versions": {"position_unit", "position_starts"}, "claim_matches": {"position"},
               "diffs": {"positions"}}

    def present() -> dict[str, set[str]]:
        found = inspect(db.engine)
        return {table: {c["name"] for c in found.get_columns(table)} & wanted for table, wanted in columns.items()}

    assert present() == columns
    command.downgrade(alembic_config(db), "0013")
    assert current_revision(db) == "0013" and present() == {table: set() for table in columns}
    with db.read() as session:  # the documents' versions and matches are still there, without their pages
        assert len(session.execute(select(ArticleVersion.id)).all()) == 2
    upgrade(db)
    assert current_revision(db) == head_revision() and present() == columns
    versions, matches, diff = _stored_positions(db)
    assert [v.position_unit for v in versions] == [None, None] and diff.positions is None
    assert {position for by_sentence in matches.values() for position in by_sentence.values()} == {None}
