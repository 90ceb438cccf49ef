"""Document extraction quality and speed (issue 16): the share of known sentences recovered exactly, and the time
per page, for PDFs (pypdf, the extractor in use, against pdfminer.six) and DOCX files (python-docx), in English,
Russian and Korean.

Documents are generated with known text (tests/documents.py: fpdf2 with embedded DejaVu Sans, Nanum Gothic for
Hangul; python-docx): ``--pages`` pages of 10 paragraphs each, every paragraph 2-3 sentences wrapped over several
lines. A sentence counts as recovered when it is one of the sentences ``analysis.text.split_sentences`` finds in
the extracted text, character for character (after crawler.documents joins wrapped lines; pdfminer's raw output
gets the same joining, so the comparison is of the extractors).

Run: ``.venv/bin/python bench/document_bench.py`` (``--pages 20``, ``--repeat 3``). pdfminer.six is not a
dependency: install it into the venv to compare (``pip install pdfminer.six``); without it only pypdf is measured.
Prints a markdown table and writes JSON to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402

from analysis.text import split_sentences  # noqa: E402
from crawler.documents import DOCX, PDF, _unwrap, extract_document  # noqa: E402
from tests.documents import TEXTS, TITLES, make_docx, make_pdf  # noqa: E402

PARAGRAPHS_PER_PAGE = 10


def _paragraphs(language: str, count: int) -> list[str]:
    """``count`` paragraphs of 2-3 of the language's known sentences, each paragraph numbered so none repeats."""
    sentences = TEXTS[language]
    out = []
    for n in range(count):
        size = 2 + n % 2
        picked = [sentences[(n + k) % len(sentences)] for k in range(size)]
        out.append(" ".join(picked))
    return out


def _pdfminer(line_margin: float | None) -> Callable[[bytes], str] | None:
    """pdfminer.six's text, with its default layout analysis or a wider ``line_margin`` (its default, 0.5, makes
    every line of fpdf2's justified paragraphs a text box of its own, a blank line between each)."""
    try:
        from pdfminer.high_level import extract_text
        from pdfminer.layout import LAParams
    except ImportError:
        return None

    def run(body: bytes) -> str:
        params = LAParams() if line_margin is None else LAParams(line_margin=line_margin)
        pages = extract_text(io.BytesIO(body), laparams=params).split("\f")
        return "\n\n".join(_unwrap(page) for page in pages)

    return run


def _pypdf(body: bytes) -> str:
    return extract_document(body, "https://bench.example/doc.pdf", PDF, max_pages=10_000).text


def _docx(body: bytes) -> str:
    return extract_document(body, "https://bench.example/doc.docx", DOCX).text


def _share(expected: list[str], text: str) -> float:
    found = split_sentences(text)
    wanted = [s for paragraph in expected for s in split_sentences(paragraph)]
    pool = list(found)
    hits = 0
    for sentence in wanted:
        if sentence in pool:
            pool.remove(sentence)
            hits += 1
    return hits / len(wanted)


def _time(func: Callable[[bytes], str], body: bytes, repeat: int) -> tuple[str, float]:
    best, text = float("inf"), ""
    for _ in range(repeat):
        start = time.perf_counter()
        text = func(body)
        best = min(best, time.perf_counter() - start)
    return text, best


def run(pages: int, repeat: int) -> list[dict[str, Any]]:
    """One row per language and extractor."""
    rows = []
    miners = [(name, func) for name, func in (("pdfminer.six", _pdfminer(None)),
                                              ("pdfminer.six line_margin=1", _pdfminer(1.0))) if func is not None]
    for language in sorted(TEXTS):
        paragraphs = _paragraphs(language, pages * PARAGRAPHS_PER_PAGE)
        per_page = [paragraphs[i:i + PARAGRAPHS_PER_PAGE] for i in range(0, len(paragraphs), PARAGRAPHS_PER_PAGE)]
        pdf = make_pdf(per_page, title=TITLES[language], language=language)
        pdf_pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        docx_body = make_docx(paragraphs, title=TITLES[language])
        cases: list[tuple[str, str, Callable[[bytes], str], bytes, int]] = [
            ("pdf", "pypdf", _pypdf, pdf, pdf_pages), ("docx", "python-docx", _docx, docx_body, pdf_pages)]
        cases[1:1] = [("pdf", name, func, pdf, pdf_pages) for name, func in miners]
        for fmt, extractor, func, body, count in cases:
            text, seconds = _time(func, body, repeat)
            rows.append({"language": language, "format": fmt, "extractor": extractor, "pages": count,
                         "bytes": len(body), "recovered": round(_share(paragraphs, text), 4),
                         "ms_per_page": round(1000 * seconds / count, 2)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20, help="PDF pages per document (10 paragraphs a page)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per document; the fastest counts")
    args = parser.parse_args()
    rows = run(args.pages, args.repeat)
    print("| language | format | extractor | pages | bytes | sentences recovered exactly | ms per page |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['language']} | {row['format']} | {row['extractor']} | {row['pages']} | {row['bytes']:,} | "
              f"{100 * row['recovered']:.1f}% | {row['ms_per_page']:.2f} |")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"document_bench_{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps({"pages": args.pages, "repeat": args.repeat, "python": platform.python_version(),
                                "pypdf": pypdf.__version__, "rows": rows}, indent=2))
    print(f"\nwritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
