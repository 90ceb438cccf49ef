"""The ``feed`` source kind: RSS 0.9x, 1.0 (RDF), 2.0 and Atom, read with the hardened pull parser.

feedparser reads feeds with expat, whose entity handling cannot be turned off; items are therefore read
here from lxml's tree (links resolved against the document URL and ``xml:base``), and only feedparser's
date reader (RFC 822, W3C-DTF and their many variants) is used."""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from feedparser.datetimes import _parse_date  # feedparser's lenient date reader; not re-exported
from lxml import etree

from crawler.kinds.base import (
    DEFAULT_LIMITS,
    DiscoveredLink,
    ParseLimits,
    ParseResult,
    SourceKind,
    SourceParseError,
    clamp_date,
    too_many,
)
from crawler.kinds.xmldoc import XML_NS, XmlReading, base_url, child_text, inflate, local_name, read_xml, resolve
from crawler.types import SourceSpec

FEED_ROOTS = frozenset({"rss", "RDF", "feed"})
_RECORDS = frozenset({"item", "entry"})
# Where an entry's date is, most specific first (RSS pubDate, Atom published, Dublin Core date …).
_DATES = ("pubDate", "published", "issued", "date", "updated", "modified", "created")
_TAG = re.compile(r"<[^>]*>")
# Real dates are under 40 characters; longer strings are not handed to feedparser's regular expressions.
_MAX_DATE = 100
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class _Entry:
    url: str | None
    title: str | None
    published: datetime | None


def _is_entry(element: etree._Element, depth: int) -> bool:
    # RSS 2.0 items sit in <channel> (depth 2); RSS 1.0 items and Atom entries under the root (depth 1).
    return depth <= 2 and local_name(element) in _RECORDS


def _link(entry: etree._Element, document_url: str) -> str | None:
    """The entry's article URL: an RSS <link> text or an Atom alternate link, else a permalink guid/id."""
    for child in entry:
        if local_name(child) != "link":
            continue
        href = child.get("href")
        if href is not None:
            url = resolve(base_url(child, document_url), href) if child.get("rel", "alternate") == "alternate" else None
        else:
            url = resolve(base_url(child, document_url), child.text) if child.text else None
        if url:
            return url
    return _permalink(entry)


def _permalink(entry: etree._Element) -> str | None:
    """An RSS <guid> or Atom <id> that is an absolute http(s) URL (the scheme in any case, as RFC 3986 allows),
    unless the guid says it is no permalink (RSS 2.0 isPermaLink="false": an identifier that only looks like
    one). Ids that are not absolute URLs are never links: '1' resolved against the feed would be no article."""
    for child in entry:
        if local_name(child) not in ("guid", "id") or child.get("isPermaLink", "").strip().lower() == "false":
            continue
        text = "".join(child.itertext()).strip()
        if text.lower().startswith(("http://", "https://")):
            return text
    return None


def _title(entry: etree._Element) -> str | None:
    for child in entry:
        if local_name(child) == "title":
            text = "".join(child.itertext())
            if child.get("type") in ("html", "text/html"):
                text = html.unescape(_TAG.sub(" ", text))
            return _SPACE.sub(" ", text).strip() or None
    return None


def _date(entry: etree._Element) -> datetime | None:
    for name in _DATES:
        value = child_text(entry, name)
        parsed = _parse_date(value) if value and len(value) <= _MAX_DATE else None
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _language(root: etree._Element) -> str | None:
    """The feed's language: RSS <language> or <dc:language> of the channel, or the root's ``xml:lang``."""
    for node in (root, *(child for child in root if local_name(child) == "channel")):
        text = child_text(node, "language")
        if text:
            return text
    return root.get(f"{XML_NS}lang") or None


def _read(body: bytes, url: str, content_type: str | None, limits: ParseLimits) -> XmlReading[_Entry]:
    def convert(entry: etree._Element) -> _Entry:
        return _Entry(_link(entry, url), _title(entry), _date(entry))

    try:
        reading = read_xml(body, content_type, _is_entry, convert, limits.max_items)
    except SourceParseError as exc:
        if exc.code == "malformed_xml":
            raise SourceParseError("malformed_feed", f"not a usable feed: {exc.message}") from exc
        raise
    if reading.root_name not in FEED_ROOTS:
        raise SourceParseError("malformed_feed", f"not a feed: the root element is <{reading.root_name}>"
                               + (f" (and the document is not well-formed: {reading.problem})"
                                  if reading.problem else ""))
    return reading


def _warnings(reading: XmlReading[_Entry], links: int, limits: ParseLimits) -> list[tuple[str, str]]:
    warnings = []
    if reading.charset_warning:
        warnings.append(("charset_mismatch", reading.charset_warning))
    if reading.problem:
        warnings.append(("feed_warning", f"feed is not well-formed; read what could be read: {reading.problem}"))
    if reading.truncated:
        warnings.append(too_many(limits, "feed items"))
    if not reading.records:
        warnings.append(("empty_feed", "the feed is well-formed but lists no items"))
    elif links < len(reading.records):
        warnings.append(("item_without_link", f"{len(reading.records) - links} of {len(reading.records)} "
                                              "feed items have no usable link"))
    return warnings


class FeedKind(SourceKind):
    """An RSS or Atom feed; every entry's link is a candidate article."""

    name = "feed"

    def parse(self, body: bytes, url: str, content_type: str | None, spec: SourceSpec, depth: int,
              limits: ParseLimits = DEFAULT_LIMITS) -> ParseResult:
        body = inflate(body, limits.max_size)
        if not body.strip():
            raise SourceParseError("empty", "empty feed document")
        reading = _read(body, url, content_type, limits)
        if reading.problem and not any(entry.url for entry in reading.records):
            raise SourceParseError("malformed_feed", f"not a usable feed: no item links could be read from a "
                                                     f"document that is not well-formed: {reading.problem}")
        language = _language(reading.root) if reading.root is not None else None
        links, future = [], []
        for entry in reading.records:
            if not entry.url:
                continue
            clamped = clamp_date(entry.published)
            if entry.published is not None and clamped is None:
                future.append(entry.url)
            links.append(DiscoveredLink(url=entry.url, title=entry.title, published=clamped,
                                        language=language or spec.language))
        warnings = _warnings(reading, len(links), limits)
        if future:
            warnings.append(("future_date", f"{len(future)} entries dated in the future; their dates ignored "
                                            f"(first: {future[0]})"))
        return ParseResult(links=tuple(links), warnings=tuple(warnings))
