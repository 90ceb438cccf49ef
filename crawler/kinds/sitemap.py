"""The ``sitemap`` source kind: sitemap indexes, urlsets and Google News ``news:`` fields."""

from __future__ import annotations

import gzip
import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from lxml import etree

from crawler.kinds.base import (
    DiscoveredLink,
    OptionSpec,
    ParseResult,
    SourceKind,
    SourceParseError,
    clamp_date,
    count_option,
    reject_xml_entities,
)
from crawler.types import SourceSpec

_SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
# A .xml.gz sitemap is a gzip file served as such (not Content-Encoding), so Scrapy does not
# inflate it; inflate it here with the same bound the downloader applies.
_MAX_INFLATED = 50 * 1024 * 1024


def _parser() -> etree.XMLParser:
    # No entities, no network, no huge trees: a sitemap is plain data.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


def _inflate(body: bytes) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as handle:
        data = handle.read(_MAX_INFLATED + 1)
    if len(data) > _MAX_INFLATED:
        raise SourceParseError("too_large", "gzipped sitemap inflates past the size limit")
    return data


def _text(node: etree._Element, path: str) -> str | None:
    found = node.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return clamp_date(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


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

    def parse(self, body: bytes, url: str, content_type: str | None, spec: SourceSpec, depth: int) -> ParseResult:
        body = _inflate(body)
        if not body.strip():
            raise SourceParseError("empty", "empty sitemap document")
        reject_xml_entities(body)
        try:
            root = etree.fromstring(body, parser=_parser())
        except etree.XMLSyntaxError as exc:
            raise SourceParseError("malformed_xml", f"sitemap is not well-formed XML: {exc}") from exc
        kind = _local(root.tag)
        if kind == "sitemapindex":
            return self._index(root, spec, depth)
        if kind == "urlset":
            return ParseResult(links=tuple(self._urls(root, spec)))
        raise SourceParseError("not_a_sitemap", f"root element <{kind}> is neither urlset nor sitemapindex")

    def _index(self, root: etree._Element, spec: SourceSpec, depth: int) -> ParseResult:
        if depth >= count_option(spec.options, "max_depth", 2):
            return ParseResult(warnings=(("sitemap_depth", "sitemap index nested too deep; not followed"),))
        children = []
        for node in root.iter(f"{_SM}sitemap"):
            loc = _text(node, f"{_SM}loc")
            if loc:
                lastmod = _date(_text(node, f"{_SM}lastmod"))
                children.append((lastmod.timestamp() if lastmod else 0.0, loc))
        # Newest first, so a capped index still yields the news sitemap, not the 2009 archive.
        children.sort(key=lambda pair: -pair[0])
        limit = count_option(spec.options, "max_sitemaps", 20)
        return ParseResult(follow=tuple(loc for _, loc in children[:limit]))

    def _urls(self, root: etree._Element, spec: SourceSpec) -> list[DiscoveredLink]:
        links = []
        for node in root.iter(f"{_SM}url"):
            loc = _text(node, f"{_SM}loc")
            if not loc:
                continue
            news = node.find(f"{_NEWS}news")
            title = language = None
            published = _date(_text(node, f"{_SM}lastmod"))
            if news is not None:
                title = _text(news, f"{_NEWS}title")
                language = _text(news, f"{_NEWS}publication/{_NEWS}language")
                published = _date(_text(news, f"{_NEWS}publication_date")) or published
            links.append(DiscoveredLink(url=loc, title=title, published=published,
                                        language=language or spec.language))
        return links
