"""PDF and DOCX extraction (crawler.documents) on real files made with fpdf2 and python-docx: the text recovered
sentence by sentence, metadata, and every limit refused with its stable code."""

from __future__ import annotations

import pickle

import pytest

from analysis.text import split_sentences
from crawler.documents import DOCX, DOCX_TYPE, PDF, document_type, extract_document, sniff
from crawler.extract import ExtractionError
from tests.documents import (
    CREATED,
    TEXTS,
    TITLES,
    make_bomb_pdf,
    make_docx,
    make_docx_bomb,
    make_pdf,
    make_scanned_pdf,
)

URL = "https://ministry.example/reports/workers.pdf"
MIB = 1024 * 1024


def recovered(expected: list[str], text: str) -> float:
    """The share of ``expected`` sentences found exactly among the sentences of ``text``."""
    found = set(split_sentences(text))
    return sum(sentence in found for sentence in expected) / len(expected)


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_a_pdf_gives_every_sentence_exactly_with_its_metadata(language: str) -> None:
    # Two pages, each paragraph wrapped over several lines by fpdf2: the lines are joined back into sentences.
    paragraphs = [" ".join(TEXTS[language][:3]), " ".join(TEXTS[language][3:])]
    body = make_pdf([paragraphs, TEXTS[language]], title=TITLES[language], language=language)
    doc = extract_document(body, URL, PDF)
    assert recovered(TEXTS[language], doc.text) == 1.0, doc.text
    assert doc.title == TITLES[language]
    assert doc.published == CREATED
    assert doc.language == language
    assert doc.canonical_url == URL
    assert "\n\n" in doc.text  # the page break


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_a_docx_gives_every_paragraph_with_its_metadata(language: str) -> None:
    doc = extract_document(make_docx(TEXTS[language], title=TITLES[language]), URL, DOCX)
    assert doc.text.split("\n") == TEXTS[language]
    assert (doc.title, doc.published, doc.language) == (TITLES[language], CREATED, language)


def test_without_a_title_in_the_metadata_the_first_line_is_the_title() -> None:
    doc = extract_document(make_docx(TEXTS["en"], title=None), URL, DOCX)
    assert doc.title == TEXTS["en"][0]


def test_documents_are_recognised_by_type_then_by_url_then_by_their_bytes() -> None:
    assert document_type("application/pdf; qs=0.9", "https://x.example/a") == PDF
    assert document_type(DOCX_TYPE, "https://x.example/a") == DOCX
    assert document_type("application/octet-stream", "https://x.example/a.PDF?v=2") == PDF
    assert document_type(None, "https://x.example/report.docx") == DOCX
    assert document_type("text/html", "https://x.example/a.pdf") is None  # an HTML page about a PDF
    assert sniff(make_pdf([TEXTS["en"]])) == PDF and sniff(make_docx(TEXTS["en"])) == DOCX
    assert sniff(b"<html>") is None


def _code(body: bytes, kind: str = PDF, **limits: int) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract_document(body, URL, kind, **limits)
    # Raised in a worker process and pickled back: the code travels with it.
    assert pickle.loads(pickle.dumps(caught.value)).code == caught.value.code
    return caught.value.code


def test_an_encrypted_pdf_is_document_encrypted() -> None:
    assert _code(make_pdf([TEXTS["en"]], encrypt=True)) == "document_encrypted"


def test_a_scanned_pdf_without_text_is_no_text() -> None:
    assert _code(make_scanned_pdf()) == "no_text"


@pytest.mark.parametrize("body", [b"%PDF-1.7\n1 0 obj << /Type /Catalog", b"%PDF-" + bytes(range(256)) * 8],
                         ids=["truncated", "garbage"])
def test_a_malformed_pdf_is_document_malformed(body: bytes) -> None:
    assert _code(body) == "document_malformed"


@pytest.mark.parametrize("body", [b"PK\x03\x04 not really a zip", make_docx(["One paragraph."])[:1500]],
                         ids=["garbage", "truncated"])
def test_a_malformed_docx_is_document_malformed(body: bytes) -> None:
    assert _code(body, DOCX) == "document_malformed"


def test_a_pdf_over_the_page_cap_is_refused() -> None:
    body = make_pdf([TEXTS["en"]] * 4)
    assert _code(body, max_pages=3) == "document_too_many_pages"
    assert extract_document(body, URL, PDF, max_pages=4).text


def test_a_pdf_stream_that_inflates_past_the_cap_is_document_too_large() -> None:
    body = make_bomb_pdf(24 * MIB)
    assert len(body) < 64 * 1024
    assert _code(body, max_size=MIB) == "document_too_large"


def test_a_docx_whose_parts_inflate_past_the_cap_is_document_too_large() -> None:
    body = make_docx_bomb(TEXTS["en"], 24 * MIB)
    assert _code(body, DOCX, max_size=10 * MIB) == "document_too_large"
    assert extract_document(body, URL, DOCX, max_size=32 * MIB).text.split("\n") == TEXTS["en"]
