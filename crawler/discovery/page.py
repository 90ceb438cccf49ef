"""Reading a site's home page: its feed links, its language, and a listing candidate (a CSS ``link_selector``
that picks the page's links to article-like URLs, checked by running it through the listing kind's parser)."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html
from parsel import Selector

from analysis.urls import is_http_url, same_site
from crawler.kinds import SOURCE_KINDS, ParseLimits, SourceParseError
from crawler.kinds.base import DEFAULT_LIMITS
from crawler.types import SourceSpec

FEED_TYPES = {"application/rss+xml": "RSS", "application/atom+xml": "Atom", "application/rdf+xml": "RSS 1.0"}
# A listing candidate must pick at least this many article links, and few others.
MIN_LINKS = 3
MIN_PRECISION = 0.8
MAX_SELECTORS = 40
# How far above a link its containers are looked at for a selector (a link in <li><h3><a> inside a
# <ul class="top-stories"> is reached by 'h3 a' and 'ul.top-stories a').
_LEVELS = 4
# Path segments of navigation pages, never articles, wherever a long slug follows them.
_NAV_FIRST = frozenset({"tag", "tags", "category", "categories", "topic", "topics", "author", "authors", "section",
                        "sections", "page", "search", "login", "signin", "register", "account", "subscribe",
                        "newsletter", "newsletters", "feed", "rss", "user", "users", "profile", "static", "assets"})
_NAV_LAST = frozenset({"about", "contact", "privacy", "terms", "index", "home", "imprint", "impressum", "cookies",
                       "help", "faq", "advertise", "careers", "jobs", "sitemap"})
_NOT_PAGES = frozenset({"jpg", "jpeg", "png", "gif", "webp", "svg", "ico", "css", "js", "pdf", "xml", "rss", "zip",
                        "mp3", "mp4", "json", "txt", "doc", "docx", "xls", "xlsx"})
_DATE = re.compile(r"/(19|20)\d\d[/-](0?[1-9]|1[0-2])([/-]|$)|/(19|20)\d\d(0[1-9]|1[0-2])\d\d(/|$)")
_ID = re.compile(r"\d{3,}")
_WORD_SEP = re.compile(r"[-_]+")
# Generated class names (css-1x2y3z, sc-bdVaJa) change with every build of the site: never in a selector.
_CLASS = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
_GENERATED = re.compile(r"\d{3,}|^css-|^sc-|^jsx-")


@dataclass(frozen=True)
class FeedLink:
    """A ``<link rel="alternate">`` to a feed on the page."""

    url: str
    title: str | None
    format: str


@dataclass(frozen=True)
class Listing:
    """The listing candidate of a page: its selector, the links the listing parser took with it, and the URL
    pattern they share (``/articles/*``)."""

    selector: str
    links: tuple[str, ...]
    pattern: str | None


def page_base(page: Selector, url: str) -> str:
    """The URL the page's relative links resolve against (its ``<base href>``, else its own URL)."""
    base = page.css("base::attr(href)").get()
    return urljoin(url, base.strip()) if base and base.strip() else url


def feed_links(page: Selector, url: str) -> list[FeedLink]:
    """The page's ``<link rel="alternate">`` feeds (RSS, Atom, RSS 1.0), in page order, once each."""
    base, found = page_base(page, url), {}
    for node in page.css("link[href]"):
        rel = (node.attrib.get("rel") or "").lower().split()
        kind = (node.attrib.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rel or kind not in FEED_TYPES:
            continue
        absolute = urljoin(base, node.attrib["href"].strip())
        if is_http_url(absolute) and absolute not in found:
            found[absolute] = FeedLink(absolute, (node.attrib.get("title") or "").strip() or None, FEED_TYPES[kind])
    return list(found.values())


def page_title(page: Selector) -> str | None:
    """The page's ``<title>``, whitespace collapsed."""
    title = " ".join((page.css("title::text").get() or "").split())
    return title or None


def page_language(page: Selector) -> str | None:
    """The primary language subtag of ``<html lang>`` (``en-GB`` → ``en``), or None."""
    lang = (page.css("html::attr(lang)").get() or "").strip().lower()
    primary = re.split(r"[-_]", lang)[0] if lang else ""
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def article_like(url: str, page_url: str) -> bool:
    """Whether a link looks like an article of the page's site: a dated path, a long slug, or a slug or
    numeric id below a section; never a tag, category or author page, a file or the home page."""
    if not is_http_url(url) or not same_site(url, page_url):
        return False
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if not segments or segments[0].lower() in _NAV_FIRST:
        return False
    stem, _, extension = segments[-1].lower().rpartition(".") if "." in segments[-1] else (segments[-1].lower(),
                                                                                            "", "")
    if extension in _NOT_PAGES or stem in _NAV_LAST:
        return False
    if _DATE.search(urlsplit(url).path):
        return True
    words = [w for w in _WORD_SEP.split(stem) if w]
    if len(words) >= 3:
        return True
    return len(segments) >= 2 and (len(words) >= 2 or bool(_ID.search(stem)))


def _steps(element: lxml_html.HtmlElement) -> list[str]:
    """The selector steps naming one element: its tag, and its tag with each stable class."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if not re.fullmatch(r"[a-z][a-z0-9]*", tag):
        return []
    classes = [c for c in (element.get("class") or "").split() if _CLASS.match(c) and not _GENERATED.search(c)]
    return [tag, *(f"{tag}.{c}" for c in classes)]


def _selectors(anchor: lxml_html.HtmlElement) -> set[str]:
    """Candidate selectors reaching ``anchor``: the link's own classes, one container above it, or a classed
    container with a plain tag between (``div.story-item h2 a``)."""
    found = {f"a.{step.split('.', 1)[1]}" for step in _steps(anchor) if "." in step}
    chain: list[list[str]] = []
    parent = anchor.getparent()
    while parent is not None and len(chain) < _LEVELS and parent.tag not in ("body", "html"):
        chain.append(_steps(parent))
        parent = parent.getparent()
    for level, steps in enumerate(chain):
        found.update(f"{step} a" for step in steps)
        for inner in chain[:level]:
            if inner:
                found.update(f"{step} {inner[0]} a" for step in steps if "." in step)
    return found


def _links(page: Selector, selector: str, resolve: Callable[[str], str]) -> set[str]:
    out = set()
    for href in page.css(f"{selector}::attr(href)").getall():
        href = href.strip()
        if href and not href.startswith(("#", "javascript:", "mailto:")):
            out.add(resolve(href))
    return out


def _pattern(links: tuple[str, ...]) -> str | None:
    """The first path segment most of the links share, as ``/segment/*``."""
    firsts = Counter(next((s for s in urlsplit(u).path.split("/") if s), "") for u in links)
    segment, count = firsts.most_common(1)[0] if firsts else ("", 0)
    return f"/{segment}/*" if segment and count * 2 > len(links) else None


def listing_candidate(body: bytes, url: str, content_type: str | None,
                      limits: ParseLimits = DEFAULT_LIMITS) -> Listing | None:
    """The selector that picks the most article-like links of the page with few others (at least
    ``MIN_LINKS``, precision ``MIN_PRECISION``), confirmed by the listing kind's parser; None when no
    selector does."""
    page = Selector(body=body, type="html", base_url=url)
    base = page_base(page, url)
    # Each selector's links are resolved again: memoised, since urljoin is most of the time otherwise.
    resolve = functools.lru_cache(maxsize=None)(functools.partial(urljoin, base))
    articles: set[str] = set()
    reaching: Counter[str] = Counter()  # how many article links each candidate selector reaches
    for node in page.css("a[href]"):
        absolute = resolve(node.attrib["href"].strip())
        if article_like(absolute, url):
            articles.add(absolute)
            reaching.update(_selectors(node.root))
    if len(articles) < MIN_LINKS:
        return None
    scored = []
    # Only the selectors that reach the most article links are run on the page: a page with many class names
    # would otherwise run hundreds (a 420 KB page of 3,000 links and 76 class names: 2.2 s in all, 1.3-1.5 s so).
    for selector, _ in reaching.most_common(MAX_SELECTORS):
        picked = _links(page, selector, resolve)
        hits = len(picked & articles)
        if hits >= MIN_LINKS and hits / len(picked) >= MIN_PRECISION:
            misses = len(picked) - hits
            # Most article links, then fewest others, then the shortest (least tied to this page's markup).
            scored.append((-(hits - 3 * misses), misses, len(selector), selector))
    for *_, selector in sorted(scored):
        links = _validated(body, url, content_type, selector, limits)
        if links:
            return Listing(selector, links, _pattern(links))
    return None


def _validated(body: bytes, url: str, content_type: str | None, selector: str,
               limits: ParseLimits) -> tuple[str, ...]:
    """The links the listing kind's own parser takes from the page with ``selector`` (empty if it fails)."""
    spec = SourceSpec(id="discover", kind="listing", url=url, options={"link_selector": selector})
    kind = SOURCE_KINDS["listing"]
    if kind.check_options(spec.options):
        return ()
    try:
        parsed = kind.parse(body, url, content_type, spec, 0, limits)
    except SourceParseError:
        return ()
    return tuple(link.url for link in parsed.links)
