"""The ``feed`` source kind: RSS 0.9x, 1.0, 2.0 and Atom through feedparser."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from typing import Any

import feedparser
from charset_normalizer import from_bytes

from crawler.kinds.base import (
    DiscoveredLink,
    ParseResult,
    SourceKind,
    SourceParseError,
    clamp_date,
    reject_xml_entities,
)
from crawler.types import SourceSpec


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed: time.struct_time | None = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return str(link)
    for candidate in entry.get("links", []):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            return str(candidate["href"])
    guid = entry.get("id")
    if guid and str(guid).startswith(("http://", "https://")):
        return str(guid)
    return None


def _redecode(body: bytes) -> tuple[str, str] | None:
    """The body decoded with the encoding its bytes point to, when the declared one was wrong."""
    best = from_bytes(body[:200_000]).best()
    if best is None or best.encoding is None:
        return None
    try:
        return body.decode(best.encoding), best.encoding
    except (LookupError, UnicodeDecodeError):
        return None


def _parse(body: bytes, content_type: str | None) -> tuple[Any, list[tuple[str, str]]]:
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    problem = parsed.get("bozo_exception")
    if not parsed.get("bozo") or not isinstance(problem, feedparser.CharacterEncodingOverride):
        return parsed, []
    # The declared charset did not fit the bytes and feedparser fell back to a guess (often
    # windows-1252, which garbles Cyrillic): detect the real one and parse the decoded text.
    decoded = _redecode(body)
    if decoded is not None:
        reparsed = feedparser.parse(decoded[0], sanitize_html=False, resolve_relative_uris=False)
        if reparsed.entries:
            return reparsed, [("charset_mismatch", f"{problem}; the bytes are {decoded[1]}, read as such")]
    return parsed, [("charset_mismatch", str(problem))]


class FeedKind(SourceKind):
    """An RSS or Atom feed; every entry's link is a candidate article."""

    name = "feed"

    def parse(self, body: bytes, url: str, content_type: str | None, spec: SourceSpec, depth: int) -> ParseResult:
        if not body.strip():
            raise SourceParseError("empty", "empty feed document")
        reject_xml_entities(body)
        parsed, warnings = _parse(body, content_type)
        if parsed.get("bozo") and not warnings:
            problem = parsed.get("bozo_exception")
            if not parsed.entries or not parsed.get("version") or not any(map(_entry_link, parsed.entries)):
                raise SourceParseError("malformed_feed", f"not a usable feed: {problem}")
            warnings.append(("feed_warning", f"feed is not well-formed; read what could be read: {problem}"))
        language = parsed.feed.get("language") or spec.language
        links = []
        for entry in parsed.entries:
            link = _entry_link(entry)
            if not link:
                continue
            published = _entry_date(entry)
            clamped = clamp_date(published)
            if published is not None and clamped is None:
                warnings.append(("future_date", f"entry dated {published.isoformat()} ignored date: {link}"))
            links.append(DiscoveredLink(url=link, title=entry.get("title"), published=clamped, language=language))
        return ParseResult(links=tuple(links), warnings=tuple(warnings))
