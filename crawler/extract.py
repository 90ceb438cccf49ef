"""Article extraction: main text with trafilatura, metadata and the canonical URL from the page head.

CPU-bound; the crawl runs it in its extraction worker processes (a thread with `workers: 0`), never on the event loop.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import lxml.html
from lxml import etree

from analysis.language import guess_language
from analysis.text import to_nfc
from analysis.types import ArticleDoc
from analysis.urls import canonicalise_url, is_http_url

logger = logging.getLogger(__name__)

_PUBLISHED = ("article:published_time", "og:published_time", "datePublished", "pubdate", "date",
              "dc.date.issued", "sailthru.date")
_MODIFIED = ("article:modified_time", "og:updated_time", "dateModified", "last-modified")


# Below this, what trafilatura returns is a menu label or a caption, not an article ("Home", "Photo: AP").
MIN_TEXT_CHARS = 20


class ExtractionError(Exception):
    """The page or document has no extractable main text; ``code`` is the stable error code recorded for it
    (``no_text``, or a ``document_*`` code of ``crawler.documents``)."""

    def __init__(self, message: str, code: str = "no_text") -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[str, str]]:
        # Raised in a worker process and pickled back: the code must travel with the message.
        return type(self), (str(self), self.code)


def _meta(tree: lxml.html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.iter("meta"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
        value = (node.get("content") or "").strip()
        if key and value and key not in found:
            found[key] = value
    return found


def _json_ld(tree: lxml.html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(node.text or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict):
                for key in ("datePublished", "dateModified", "headline"):
                    if isinstance(item.get(key), str):
                        found.setdefault(key.lower(), item[key])
    return found


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _first(values: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if values.get(key.lower()):
            return values[key.lower()]
    return None


def _title(tree: lxml.html.HtmlElement, meta: dict[str, str], ld: dict[str, str]) -> str:
    h1 = tree.xpath("normalize-space(//article//h1 | //h1)")
    title = meta.get("og:title") or ld.get("headline") or (h1 if isinstance(h1, str) else "")
    if not title:
        title = tree.findtext(".//title") or ""
    return " ".join(title.split())


def _canonical(tree: lxml.html.HtmlElement, meta: dict[str, str], url: str) -> str:
    """The canonical URL the page claims: its first http(s) ``<link rel="canonical">``, else its ``og:url``
    (many pages carry only the Open Graph one), else its own URL. Only a claim: ``crawler.processing`` trusts
    it only within the page's own site, and never when it names the site's home page."""
    candidates = [node.get("href") for node in tree.xpath('//link[@rel="canonical"][@href]')]
    if meta.get("og:url"):
        candidates.append(meta["og:url"])
    for href in candidates:
        candidate = canonicalise_url(href, base=url)
        if is_http_url(candidate):
            return candidate
    return canonicalise_url(url)


def _strip_title_line(text: str, title: str) -> str:
    # trafilatura keeps the <h1> as the first line; without this a headline edit would also
    # count as a body edit.
    first, _, rest = text.partition("\n")
    return rest.lstrip("\n") if " ".join(first.split()) == title else text


def extract_article(html: str, url: str, language_hint: str | None = None) -> ArticleDoc:
    """Main text and metadata of one article page; raise ExtractionError when there is no text."""
    # Imported here, in the extraction workers that call this: the daemon's own process never extracts (5 MiB).
    import trafilatura
    from trafilatura.utils import load_html

    # One parse, with trafilatura's own loader, for both the metadata and the main text: the tree is the
    # one trafilatura would have built from the string (comments dropped, faulty markup repaired).
    try:
        tree = load_html(html)
    except (etree.ParserError, ValueError, TypeError) as exc:
        raise ExtractionError(f"not parseable as HTML: {exc}") from exc
    if tree is None:
        raise ExtractionError("not parseable as HTML")
    meta, ld = _meta(tree), _json_ld(tree)
    title, canonical = _title(tree, meta, ld), _canonical(tree, meta, url)
    published = _parse_date(_first(meta, _PUBLISHED) or ld.get("datepublished"))
    modified = _parse_date(_first(meta, _MODIFIED) or ld.get("datemodified"))
    lang_attr = (tree.get("lang") or meta.get("og:locale") or "").split("-")[0].split("_")[0].lower() or None
    document = trafilatura.bare_extraction(
        tree, url=url, with_metadata=False, include_comments=False, include_tables=False,
    )
    text = getattr(document, "text", None) or ""
    if len(text.strip()) < MIN_TEXT_CHARS:
        raise ExtractionError("no main text found on the page")
    # Stored text is NFC (decomposed pages would otherwise escape searches); title first, so the title line
    # is recognised in the text whatever form each was written in.
    title = to_nfc(title)
    text = _strip_title_line(to_nfc(text), title)
    byline = meta.get("author") or meta.get("article:author") or None
    return ArticleDoc(
        url=url, canonical_url=canonical, title=title, text=text, byline=to_nfc(byline) if byline else None,
        published=published, modified=modified,
        language=lang_attr or language_hint or guess_language(title + "\n" + text),
    )
