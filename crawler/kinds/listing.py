"""The ``listing`` source kind: an HTML page whose article links a CSS or XPath selector picks out."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urljoin

from parsel import Selector, SelectorList

from crawler.kinds.base import DiscoveredLink, OptionSpec, ParseResult, SourceKind, SourceParseError
from crawler.types import SourceSpec

DEFAULT_NEXT = "a[rel~=next]"


def _select(page: Selector, css: str | None, xpath: str | None) -> SelectorList[Selector]:
    if xpath:
        return page.xpath(xpath)
    return page.css(css or "")


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

    def parse(self, body: bytes, url: str, content_type: str | None, spec: SourceSpec, depth: int) -> ParseResult:
        if not body.strip():
            raise SourceParseError("empty", "empty listing page")
        page = Selector(body=body, type="html", base_url=url)
        base = page.css("base::attr(href)").get() or url
        links, seen = [], set()
        for node in _select(page, spec.options.get("link_selector"), spec.options.get("link_xpath")):
            href, title = _href_and_title(node)
            if not href or href.startswith(("#", "javascript:", "mailto:")):
                continue
            absolute = urljoin(base, href)
            if absolute not in seen:
                seen.add(absolute)
                links.append(DiscoveredLink(url=absolute, title=title, language=spec.language))
        if not links and depth == 0:
            # A listing page always lists something: no match means the layout changed under us.
            raise SourceParseError("no_links", "the link selector matched no links; has the page layout changed?")
        follow: tuple[str, ...] = ()
        if depth + 1 < int(spec.options.get("max_pages", 1)):
            next_href = page.css(f"{spec.options.get('next_selector', DEFAULT_NEXT)}::attr(href)").get()
            if next_href:
                follow = (urljoin(base, next_href),)
        return ParseResult(links=tuple(links), follow=follow)
