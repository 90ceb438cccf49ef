"""The kinds' parse on the hostile corpus: every case refused with its code or read with its links, and the
size and item bounds that keep one document's cost fixed."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest

from crawler.kinds import MAX_ITEMS, SOURCE_KINDS, ParseLimits, SourceParseError
from crawler.kinds.xmldoc import inflate
from crawler.types import SourceSpec
from tests.crawler.hostile_xml import GZIP_LIMIT, SENTINEL_PATH, SENTINEL_TEXT, Case, corpus

BASE = "https://outlet.example"
CASES = corpus(BASE)


@pytest.fixture(autouse=True)
def sentinel() -> Iterator[None]:
    """The file the XXE cases point at, with a text that must never come out of a parse."""
    SENTINEL_PATH.write_text(SENTINEL_TEXT)
    yield


def parse(case: Case, max_size: int = 10 * 1024 * 1024):  # type: ignore[no-untyped-def]
    spec = SourceSpec("s", case.kind, BASE + case.path)
    limits = ParseLimits(max_size=case.max_size or max_size)
    return SOURCE_KINDS[case.kind].parse(case.body, BASE + case.path, case.content_type, spec, 0, limits)


def test_the_corpus_has_at_least_thirty_named_cases() -> None:
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [c for c in CASES if c.code], ids=lambda c: c.name)
def test_hostile_document_is_refused_with_its_code(case: Case) -> None:
    with pytest.raises(SourceParseError) as caught:
        parse(case)
    assert caught.value.code == case.code
    assert SENTINEL_TEXT not in caught.value.message


@pytest.mark.parametrize("case", [c for c in CASES if not c.code], ids=lambda c: c.name)
def test_real_world_document_is_read_with_its_links(case: Case) -> None:
    result = parse(case)
    urls = [link.url for link in result.links]
    assert len(urls) == case.links and len(result.follow) == case.follow
    assert set(case.urls) <= set(urls)
    assert all(url.startswith(BASE) for url in urls + list(result.follow))
    if case.warning:
        assert case.warning in {code for code, _ in result.warnings}
    assert SENTINEL_TEXT not in repr(result)


def test_a_capped_document_keeps_its_first_items() -> None:
    case = next(c for c in CASES if c.name == "too-many-feed-items")
    result = parse(case)
    assert len(result.links) == MAX_ITEMS
    assert result.links[0].url == f"{BASE}/articles/0.html"
    assert result.links[-1].url == f"{BASE}/articles/{MAX_ITEMS - 1}.html"


def test_relative_feed_links_keep_titles_and_language() -> None:
    case = next(c for c in CASES if c.name == "rss-relative-links")
    result = SOURCE_KINDS["feed"].parse(case.body, f"{BASE}/feeds/rss.xml", None,
                                        SourceSpec("s", "feed", BASE, language="ko"), 0)
    assert [(link.url, link.title, link.language) for link in result.links] == [
        (f"{BASE}/news/0.html", "R0", "ko"), (f"{BASE}/news/1.html", "R1", "ko")]


def test_an_empty_feed_says_so() -> None:
    result = parse(next(c for c in CASES if c.name == "empty-rss"))
    assert result.warnings == (("empty_feed", "the feed is well-formed but lists no items"),)


def _bomb(inflated: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1024 * 1024)
    parts = [compressor.compress(b"<urlset>")]
    parts += [compressor.compress(chunk) for _ in range(inflated // len(chunk))]
    return b"".join([*parts, compressor.compress(b"</urlset>"), compressor.flush()])


def test_inflation_stops_at_the_size_limit_without_allocating_past_it() -> None:
    bomb = _bomb(200 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(SourceParseError) as caught:
            inflate(bomb, GZIP_LIMIT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.code == "too_large"
    assert peak < 4 * GZIP_LIMIT


def test_inflation_reads_every_gzip_member_and_passes_plain_bodies() -> None:
    assert inflate(gzip.compress(b"<a>") + gzip.compress(b"</a>") + b"\x00" * 8, 100) == b"<a></a>"
    assert inflate(b"<urlset/>", 1) == b"<urlset/>"
