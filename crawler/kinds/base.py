"""What every source kind provides: option names, and a pure ``parse`` from a response body to links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from crawler.types import SourceSpec

# How many records (feed items, sitemap URLs or child sitemaps, listing links) one document may give: the
# first this many are read and the rest left with a ``too_many_items`` warning, so a hostile document of a
# million items costs what 5,000 cost. Real feeds list 10-100 items; Google News sitemaps at most 1,000.
MAX_ITEMS = 5000
# Dates this far in the future are a publisher's mistake (feedparser accepts 2099), not news.
FUTURE_SLACK = timedelta(days=1)


class SourceParseError(Exception):
    """A source document could not be used; ``code`` is a stable, short error name stored on the source."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class DiscoveredLink:
    """A link to an article found on a source document, with whatever metadata it carried."""

    url: str
    title: str | None = None
    published: datetime | None = None
    language: str | None = None


@dataclass(frozen=True)
class ParseResult:
    """Links to articles, further documents of the same source to fetch, and non-fatal warnings."""

    links: tuple[DiscoveredLink, ...] = ()
    follow: tuple[str, ...] = ()
    warnings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ParseLimits:
    """Bounds on one document's parse: ``max_size`` bytes after inflating (``crawl.max_size``) and at most
    ``max_items`` records."""

    max_size: int = 10 * 1024 * 1024
    max_items: int = MAX_ITEMS


DEFAULT_LIMITS = ParseLimits()


def too_many(limits: ParseLimits, what: str) -> tuple[str, str]:
    """The ``too_many_items`` warning of a document that had more than ``limits.max_items`` ``what``."""
    return "too_many_items", f"more than {limits.max_items} {what}; read the first {limits.max_items}"


@dataclass(frozen=True)
class OptionSpec:
    """One kind-specific source option: its help text and whether it must be given."""

    help: str
    required: bool = False


class SourceKind:
    """Base class of source kinds. A kind is one subclass with a ``name``; its docstring is its help."""

    name: ClassVar[str]
    options: ClassVar[dict[str, OptionSpec]] = {}

    def parse(self, body: bytes, url: str, content_type: str | None, spec: SourceSpec, depth: int,
              limits: ParseLimits = DEFAULT_LIMITS) -> ParseResult:
        """Turn one fetched document of ``spec`` into links and follow-ups within ``limits``; raise
        SourceParseError."""
        raise NotImplementedError

    def check_options(self, options: Mapping[str, Any]) -> dict[str, str]:
        """Problems with a source's kind options, by option name, found by building what ``parse`` builds from
        them (selectors compiled, numbers read); empty when every option is usable. Called at config load."""
        problems = {}
        for name, spec in self.options.items():
            if spec.required and name not in options:
                problems[name] = "required"
        return problems


def count_option(options: Mapping[str, Any], name: str, default: int) -> int:
    """A whole-number option of at least 1 (``max_pages``, ``max_depth`` …); ValueError otherwise."""
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a whole number of at least 1, not {value!r}")
    return value


def clamp_date(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """A timezone-aware UTC date, or None for dates implausibly far in the future."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if value > now + FUTURE_SLACK:
        return None
    return value.astimezone(UTC)
