"""Text of PDF and DOCX documents: pypdf for PDF (as good as pdfminer.six on our generated documents in English,
Russian and Korean, and 4-7 times faster: bench/document_bench.py), python-docx for DOCX.

The result is an ``ArticleDoc`` like a page's, so a document goes on along the HTML article path (topic filter,
versions and sentence diffs, claims). Every failure is an ``ExtractionError`` with a stable code. CPU-bound: it
runs in the extraction workers, whose timeout ends a document that takes too long.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml import etree

from analysis.language import guess_language
from analysis.positions import PAGE, PARAGRAPH, of_lines
from analysis.text import to_nfc
from analysis.types import ArticleDoc, TextPositions
from analysis.urls import canonicalise_url
from crawler.extract import MIN_TEXT_CHARS, ExtractionError

if TYPE_CHECKING:
    import pypdf

# pypdf and python-docx are imported where a document is read (in an extraction worker), not with this module: the
# daemon's own process imports it for its types, and the two libraries cost it 12 MiB of resident memory.

PDF, DOCX = "pdf", "docx"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TYPES = {"application/pdf": PDF, "application/x-pdf": PDF, DOCX_TYPE: DOCX}
_SUFFIXES = {".pdf": PDF, ".docx": DOCX}
DEFAULT_MAX_PAGES = 300

DOCUMENT_ENCRYPTED = "document_encrypted"
DOCUMENT_MALFORMED = "document_malformed"
DOCUMENT_TOO_LARGE = "document_too_large"
DOCUMENT_TOO_MANY_PAGES = "document_too_many_pages"
NO_TEXT = "no_text"

# A line ending like this ends its paragraph; any other line of a PDF page is a wrapped line of the same one.
_PARAGRAPH_END = re.compile(r"[.!?:;。！？…\"'”’»)]\s*$")


@dataclass(frozen=True)
class DocumentFetch:
    """A fetched response to extract as a document: its kind (``pdf``, ``docx``) and the crawl's limits."""

    kind: str
    max_pages: int = DEFAULT_MAX_PAGES
    max_size: int = 10 * 1024 * 1024


def document_type(content_type: str | None, url: str) -> str | None:
    """``pdf`` or ``docx`` when the response is a document we extract (by its Content-Type, else by a ``.pdf`` or
    ``.docx`` URL path when the type says nothing: ``application/octet-stream`` or none), else None."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _TYPES:
        return _TYPES[media]
    if media in ("", "application/octet-stream", "binary/octet-stream"):
        path = urlsplit(url).path.lower()
        for suffix, kind in _SUFFIXES.items():
            if path.endswith(suffix):
                return kind
    return None


def sniff(body: bytes) -> str | None:
    """``pdf`` or ``docx`` by the body's first bytes (a PDF header in its first KiB, as readers accept; a zip
    archive for DOCX), else None."""
    if b"%PDF-" in body[:1024]:
        return PDF
    if body.startswith(b"PK\x03\x04"):
        return DOCX
    return None


def extract_document(body: bytes, url: str, kind: str, *, max_pages: int = DEFAULT_MAX_PAGES,
                     max_size: int = 10 * 1024 * 1024, language_hint: str | None = None) -> ArticleDoc:
    """Text and metadata of a PDF or DOCX ``body``; streams or parts that inflate past ``max_size`` bytes, PDFs of
    more than ``max_pages`` pages, encrypted, malformed and textless files raise ExtractionError with a code.
    The text's positions say which page (PDF) or paragraph (DOCX) each of its lines is on."""
    if kind == PDF:
        title, created, modified, units = _pdf(body, max_pages, max_size)
        text, positions = _assemble(PAGE, units, "\n\n")  # a blank line between pages: a page break ends a paragraph
    elif kind == DOCX:
        title, created, modified, units = _docx(body, max_size)
        text, positions = _assemble(PARAGRAPH, units, "\n")
    else:
        raise ValueError(f"unknown document kind {kind!r}")
    if len(text) < MIN_TEXT_CHARS:
        raise ExtractionError(f"the {kind.upper()} has no text layer (a scan?)", NO_TEXT)
    title = to_nfc(" ".join((title or "").split())) or _first_line(text)
    own = canonicalise_url(url)
    return ArticleDoc(url=url, canonical_url=own, title=title, text=text, published=created,
                      modified=modified if modified != created else None,
                      language=language_hint or guess_language(title + "\n" + text), positions=positions)


def _assemble(unit: str, units: list[str], separator: str) -> tuple[str, TextPositions]:
    """The text of a document's pages or paragraphs (each already whitespace-collapsed lines), joined by
    ``separator``, in NFC, with where each one starts; a unit without text adds no line."""
    parts = [to_nfc(part.strip()) for part in units]
    kept = [part for part in parts if part]
    text = separator.join(kept)
    gap = separator.count("\n") - 1  # the blank lines a separator adds, counted with the unit before it
    last = max((number for number, part in enumerate(parts) if part), default=-1)
    counts = [len(part.splitlines()) + (gap if part and number < last else 0) for number, part in enumerate(parts)]
    return text, of_lines(unit, counts)


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0][:200]


def _unwrap(page: str) -> str:
    """A PDF page's lines joined back into paragraphs: a line that does not end a sentence continues on the next
    (a word hyphenated across lines is joined)."""
    paragraphs: list[str] = []
    current = ""
    for raw in page.splitlines():
        line = " ".join(raw.split())
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}" if current else line
        if _PARAGRAPH_END.search(line):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return "\n".join(paragraphs)


def _pdf_date(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _page_text(page: pypdf.PageObject) -> str:
    # Decoded here first: extract_text swallows a decoder's LimitReachedError and returns no text, which would
    # make a decompression bomb a "scan". pypdf keeps the decoded stream, so it is decoded once.
    contents = page.get_contents()
    if contents is not None:
        contents.get_data()
    return _unwrap(page.extract_text() or "")


def _pdf(body: bytes, max_pages: int, max_size: int) -> tuple[str | None, datetime | None, datetime | None,
                                                             list[str]]:
    import pypdf
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

    # Every decoder's output bounded by the body cap: a small stream that inflates to gigabytes is refused
    # after max_size bytes, never held whole.
    try:
        with pypdf.apply_configuration(
                zlib_maximum_output_length=max_size, lzw_maximum_output_length=max_size,
                run_length_maximum_output_length=max_size, brotli_maximum_output_length=max_size,
                array_based_stream_maximum_output_length=max_size, image_maximum_buffer_size=max_size):
            reader = pypdf.PdfReader(io.BytesIO(body))
            if reader.is_encrypted:
                raise ExtractionError("the PDF is encrypted", DOCUMENT_ENCRYPTED)
            count = len(reader.pages)
            if count > max_pages:
                raise ExtractionError(f"the PDF has {count} pages, more than crawl.document_max_pages "
                                      f"({max_pages})", DOCUMENT_TOO_MANY_PAGES)
            pages = [_page_text(page) for page in reader.pages]
            meta = reader.metadata
            title = meta.title if meta else None
            created = _pdf_date(meta.creation_date) if meta else None
            modified = _pdf_date(meta.modification_date) if meta else None
    except ExtractionError:
        raise
    except FileNotDecryptedError as exc:
        raise ExtractionError(f"the PDF is encrypted: {exc}", DOCUMENT_ENCRYPTED) from exc
    except LimitReachedError as exc:
        raise ExtractionError(f"a stream of the PDF inflates past {max_size} bytes: {exc}",
                              DOCUMENT_TOO_LARGE) from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            UnicodeError, ZeroDivisionError) as exc:  # what a broken file makes pypdf's parser raise
        raise ExtractionError(f"not a readable PDF: {type(exc).__name__}: {exc}", DOCUMENT_MALFORMED) from exc
    return title if isinstance(title, str) else None, created, modified, pages


def _docx(body: bytes, max_size: int) -> tuple[str | None, datetime | None, datetime | None, list[str]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            # The sizes the archive declares for its parts: a zip bomb is refused before anything inflates.
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractionError(f"not a readable DOCX (not a zip archive): {exc}", DOCUMENT_MALFORMED) from exc
    if inflated > max_size:
        raise ExtractionError(f"the DOCX inflates to {inflated} bytes, more than {max_size}", DOCUMENT_TOO_LARGE)
    try:
        document = docx.Document(io.BytesIO(body))
        paragraphs = [" ".join(p.text.split()) for p in document.paragraphs]
        props = document.core_properties
        title, created, modified = props.title or None, props.created, props.modified
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, OSError, AttributeError,
            etree.XMLSyntaxError) as exc:  # a missing or damaged part
        raise ExtractionError(f"not a readable DOCX: {type(exc).__name__}: {exc}", DOCUMENT_MALFORMED) from exc
    # Paragraphs are numbered as the text has them: empty ones (spacing) are not counted.
    return title, _pdf_date(created), _pdf_date(modified), [p for p in paragraphs if p]
