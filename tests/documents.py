"""Real PDF and DOCX files made for tests and benchmarks: fpdf2 writes PDFs with embedded TrueType fonts (DejaVu for
Latin and Cyrillic, a Nanum font for Hangul), python-docx writes DOCX files. Each carries known text, so what an
extractor recovers can be counted sentence by sentence."""

from __future__ import annotations

import io
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import docx
from fpdf import FPDF

# Where Debian puts the fonts (fonts-dejavu-core, fonts-nanum). DejaVu has no Hangul; Nanum Gothic has Hangul and
# Latin but only some Cyrillic, so each document is set in the font its language needs.
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/nanum"))
LATIN_FONT = "DejaVuSans.ttf"
HANGUL_FONT = "NanumGothic.ttf"

TEXTS: dict[str, list[str]] = {
    "en": [
        "More than 50,000 North Korean workers were sent to Russia last year, the ministry said in its report.",
        "The workers are employed on construction sites in Vladivostok and Moscow under state contracts.",
        "Officials estimate that each worker sends about 800 dollars a month back to Pyongyang.",
        "Human rights groups say the labourers work up to 16 hours a day with few days off.",
        "The report was presented to the parliament committee on Tuesday.",
    ],
    "ru": [
        "В прошлом году в Россию прибыли более 50 тысяч рабочих из КНДР, сообщило министерство.",
        "Северокорейские рабочие заняты на стройках во Владивостоке и в Москве.",
        "По оценкам чиновников, каждый рабочий отправляет в Пхеньян около 800 долларов в месяц.",
        "Правозащитники утверждают, что рабочие трудятся до 16 часов в день.",
        "Доклад был представлен комитету парламента во вторник.",
    ],
    "ko": [
        "지난해 북한 노동자 5만 명 이상이 러시아에 파견됐다고 통일부가 보고서에서 밝혔다.",
        "북한 노동자들은 블라디보스토크와 모스크바의 건설 현장에서 일하고 있다.",
        "당국자들은 노동자 한 명이 매달 약 800달러를 평양으로 보내는 것으로 추정했다.",
        "인권 단체들은 노동자들이 하루 최대 16시간 일한다고 말했다.",
        "보고서는 화요일 국회 위원회에 제출됐다.",
    ],
}
TITLES = {"en": "North Korean workers in Russia", "ru": "Рабочие из КНДР в России",
          "ko": "러시아의 북한 노동자"}
CREATED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def font_path(name: str) -> Path | None:
    """The path of a font file this machine has, or None."""
    for folder in _FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    return None


def make_pdf(pages: list[list[str]], *, title: str | None = None, language: str = "en",
             created: datetime | None = CREATED, encrypt: bool = False) -> bytes:
    """A PDF with one page per entry of ``pages``, each paragraph a text block; ``title`` and ``created`` in its
    metadata. Raises FileNotFoundError when the font the language needs is missing."""
    font = font_path(HANGUL_FONT if language == "ko" else LATIN_FONT)
    if font is None:
        package = "fonts-nanum" if language == "ko" else "fonts-dejavu-core"
        raise FileNotFoundError(f"no font for {language!r} text on this machine: apt-get install {package}")
    pdf = FPDF()
    pdf.add_font("body", "", str(font))
    pdf.set_font("body", size=11)
    if title:
        pdf.set_title(title)
    if created:
        pdf.set_creation_date(created)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    if encrypt:
        pdf.set_encryption(owner_password="owner", user_password="secret")
    return bytes(pdf.output())


def make_scanned_pdf() -> bytes:
    """A PDF whose one page is a drawing with no text layer, as a scanned page is."""
    pdf = FPDF()
    pdf.add_page()
    for step in range(0, 180, 6):
        pdf.line(10, 10 + step, 200, 190 - step)
    return bytes(pdf.output())


def make_docx(paragraphs: list[str], *, title: str | None = None, created: datetime | None = CREATED) -> bytes:
    """A DOCX file of ``paragraphs`` with ``title`` and ``created`` in its core properties."""
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if title:
        document.core_properties.title = title
    if created:
        document.core_properties.created = created
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_bomb_pdf(inflated: int) -> bytes:
    """A one-page PDF whose content stream is ``inflated`` bytes of spaces deflated to a few KiB."""
    data = zlib.compress(b" " * inflated, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_docx_bomb(paragraphs: list[str], inflated: int) -> bytes:
    """A DOCX of ``paragraphs`` carrying one more part of ``inflated`` zero bytes, deflated to a few KiB."""
    source = zipfile.ZipFile(io.BytesIO(make_docx(paragraphs)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        archive.writestr("word/media/padding.bin", b"\0" * inflated)
    return out.getvalue()
