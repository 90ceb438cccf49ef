"""The ``sitemap`` source kind: sitemap indexes, urlsets and Google News ``news:`` fields.

Elements are matched by local name, whatever their namespace (sitemaps.org 0.9, Google's old 0.84, none),
as Scrapy's sitemap reader does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from lxml import etree

from crawler.kinds.base import (
    DEFAULT_LIMITS,
    DiscoveredLink,
    OptionSpec,
    ParseLimits,
    ParseResult,
    SourceKind,
    SourceParseError,
    clamp_date,
    count_option,
    too_many,
)
from crawler.kinds.xmldoc import XmlReading, base_url, child_text, inflate, local_name, read_xml, resolve
from crawler.types import SourceSpec


@dataclass(frozen=True)
class _Record:
    """One <url> of a urlset or <sitemap> of an index."""

    tag: str
    loc: str
    lastmod: datetime | None
    title: str | None = None
    language: str | None = None
    published: datetime | None = None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return clamp_date(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return next((child for child in element if local_name(child) == name), None)


def _is_record(element: etree._Element, depth: int) -> bool:
    return depth == 1 and local_name(element) in ("url", "sitemap")


def _converter(url: str) -> Any:
    def convert(element: etree._Element) -> _Record | None:
        loc = child_text(element, "loc")
        resolved = resolve(base_url(element, url), loc) if loc else None
        if not resolved:
            return None
        record = _Record(local_name(element), resolved, _date(child_text(element, "lastmod")))
        news = _child(element, "news")
        if news is None:
            return record
        publication = _child(news, "publication")
        return _Record(record.tag, record.loc, record.lastmod, child_text(news, "title"),
                       child_text(publication, "language") if publication is not None else None,
                       _date(child_text(news, "publication_date")))
    return convert


class SitemapKind(SourceKind):
    """A sitemap or sitemap index; ``news:`` fields give titles and publication dates."""

    name = "sitemap"
    options: ClassVar[dict[str, OptionSpec]] = {
        "max_depth": OptionSpec("how many levels of sitemap indexes to follow (default 2)"),
        "max_sitemaps": OptionSpec("how many child sitemaps of an index to fetch (default 20, newest first)"),
    }

    def check_options(self, options: Mapping[str, Any]) -> dict[str, str]:
        problems = super().check_options(options)
        for name, default in (("max_depth", 2), ("max_sitemaps", 20)):
            try:
                count_option(options, name, default)
            except ValueError as exc:
                problems[name] = str(exc)
        return problems

    def parse(self, body: bytes, url: str, content_type: str | None, spec: SourceSpec, depth: int,
              limits: ParseLimits = DEFAULT_LIMITS) -> ParseResult:
        body = inflate(body, limits.max_size)
        if not body.strip():
            raise SourceParseError("empty", "empty sitemap document")
        reading: XmlReading[_Record] = read_xml(body, content_type, _is_record, _converter(url), limits.max_items)
        kind = reading.root_name
        if kind not in ("sitemapindex", "urlset"):
            raise SourceParseError("not_a_sitemap", f"root element <{kind}> is neither urlset nor sitemapindex")
        warnings = []
        if reading.charset_warning:
            warnings.append(("charset_mismatch", reading.charset_warning))
        if reading.problem:
            warnings.append(("sitemap_warning", f"sitemap is not well-formed; read what could be read: "
                                                f"{reading.problem}"))
        if reading.truncated:
            warnings.append(too_many(limits, "sitemap entries"))
        if kind == "sitemapindex":
            return self._index(reading.records, url, spec, depth, warnings)
        links = tuple(DiscoveredLink(url=r.loc, title=r.title, published=r.published or r.lastmod,
                                     language=r.language or spec.language) for r in reading.records if r.tag == "url")
        return ParseResult(links=links, warnings=tuple(warnings))

    def _index(self, records: list[_Record], url: str, spec: SourceSpec, depth: int,
               warnings: list[tuple[str, str]]) -> ParseResult:
        if depth >= count_option(spec.options, "max_depth", 2):
            warnings.append(("sitemap_depth", "sitemap index nested too deep; not followed"))
            return ParseResult(warnings=tuple(warnings))
        newest: dict[str, float] = {}
        for record in records:
            if record.tag == "sitemap" and record.loc != url:  # an index listing itself is not followed
                stamp = record.lastmod.timestamp() if record.lastmod else 0.0
                newest[record.loc] = max(stamp, newest.get(record.loc, stamp))
        # Newest first, so a capped index still yields the news sitemap, not the 2009 archive.
        children = sorted(newest, key=lambda loc: -newest[loc])
        return ParseResult(follow=tuple(children[:count_option(spec.options, "max_sitemaps", 20)]),
                           warnings=tuple(warnings))
