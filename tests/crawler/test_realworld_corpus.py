"""Real-world corpus: feedparser's and Scrapy's own test documents read by the kinds' parse, and the parser bugs
they showed, each kept as a small document of our own."""

from __future__ import annotations

from crawler.kinds import SOURCE_KINDS, ParseResult
from crawler.types import SourceSpec

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
