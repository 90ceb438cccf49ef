"""The ``listing`` source kind: an HTML page whose article links a CSS or XPath selector picks out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urljoin

from parsel import Selector, SelectorList

from crawler.kinds.base import (
    DEFAULT_LIMITS,
    DiscoveredLink,
    OptionSpec,
    ParseLimits,
    ParseResult,
    SourceKind,
    SourceParseError,
    count_option,
    too_many,
)
from crawler.types import SourceSpec

DEFAULT_NEXT = "a[rel~=next]"
_EMPTY_PAGE = "<html><body></body></html>"


def _select(page: Selector, css: str | None, xpath: str | None) -> SelectorList[Selector]:
    if xpath:
        return page.xpath(xpath)
    return page.css(css or "")


def _next_link_css(options: Mapping[str, Any]) -> str:
    return f"{options.get('next_selector', DEFAULT_NEXT)}::attr(href)"


def _selector_problem(css: str | None, xpath: str | None) -> str | None:
    """Why parsel cannot compile the selector (tried on an empty page, as ``parse`` uses it), or None."""
    try:
        _select(Selector(text=_EMPTY_PAGE), css, xpath)
    except (SyntaxError, RuntimeError, ValueError) as exc:  # cssselect's two errors, lxml's XPath error
        kind = "XPath" if xpath else "CSS selector"
        return f"not a valid {kind}: {exc}"
    return None


def _href_and_title(node: Selector) -> tuple[str | None, str | None]:
    if isinstance(node.root, str):  # the selector already picked an attribute or text
        return node.root.strip() or None, None
    href = node.attrib.get("href") or node.css("a::attr(href)").get()
    title = " ".join(part.strip() for part in node.css("::text").getall() if part.strip())
    return href, title or None


class ListingKind(SourceKind):
    """An HTML listing page; ``link_selector`` (CSS) or ``link_xpath`` picks the article links."""

    name = "listing"
    options: ClassVar[dict[str, OptionSpec]] = {
        "link_selector": OptionSpec("CSS selector of the article links, e.g. 'h2 a'"),
        "link_xpath": OptionSpec("XPath of the article links (instead of link_selector)"),
        "next_selector": OptionSpec(f"CSS selector of the next-page link (default '{DEFAULT_NEXT}')"),
        "max_pages": OptionSpec("how many listing pages to read per poll (default 1)"),
    }

    def parse(self, body: bytes, url: str, content_type: str | None, spec: SourceSpec, depth: int,
              limits: ParseLimits = DEFAULT_LIMITS) -> ParseResult:
        if not body.strip():
            raise SourceParseError("empty", "empty listing page")
        page = Selector(body=body, type="html", base_url=url)
        base = page.css("base::attr(href)").get() or url
        links: list[DiscoveredLink] = []
        seen: set[str] = set()
        warnings: list[tuple[str, str]] = []
        for node in _select(page, spec.options.get("link_selector"), spec.options.get("link_xpath")):
            href, title = _href_and_title(node)
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            absolute = urljoin(base, href)
            if absolute not in seen:
                if len(links) == limits.max_items:
                    warnings.append(too_many(limits, "links"))
                    break
                seen.add(absolute)
                links.append(DiscoveredLink(url=absolute, title=title, language=spec.language))
        if not links and depth == 0:
            # A listing page always lists something: no match means the layout changed under us.
            raise SourceParseError("no_links", "the link selector matched no links; has the page layout changed?")
        follow: tuple[str, ...] = ()
        if depth + 1 < count_option(spec.options, "max_pages", 1):
            next_href = page.css(_next_link_css(spec.options)).get()
            if next_href:
                follow = (urljoin(base, next_href),)
        return ParseResult(links=tuple(links), follow=follow, warnings=tuple(warnings))

    def check_options(self, options: Mapping[str, Any]) -> dict[str, str]:
        problems = super().check_options(options)
        for name, value in options.items():
            if name in ("link_selector", "link_xpath", "next_selector") and not isinstance(value, str):
                problems[name] = f"must be a string, not {value!r}"
        if problems:
            return problems
        if not (options.get("link_selector") or options.get("link_xpath")):
            problems["link_selector"] = "a listing source needs link_selector (CSS) or link_xpath"
        checks = {"link_selector": (options.get("link_selector"), None),
                  "link_xpath": (None, options.get("link_xpath")), "next_selector": (_next_link_css(options), None)}
        for name, (css, xpath) in checks.items():
            if name in options and (problem := _selector_problem(css, xpath)):
                problems[name] = problem
        try:
            count_option(options, "max_pages", 1)
        except ValueError as exc:
            problems["max_pages"] = str(exc)
        return problems
