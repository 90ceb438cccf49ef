"""A corpus of hostile and real-world feed and sitemap documents, each naming what the crawler must do with it:
refuse it with a stable code, or read a given number of links (and which URLs, where resolution matters).

``corpus(origin)`` builds the documents for a site at ``origin``; the XXE cases point at ``SENTINEL_PATH``,
whose content must never reach stored data."""

from __future__ import annotations

import gzip
import tempfile
from dataclasses import dataclass
from pathlib import Path

ATOM_NS = "http://www.w3.org/2005/Atom"
SM_09 = "http://www.sitemaps.org/schemas/sitemap/0.9"
SM_084 = "http://www.google.com/schemas/sitemap/0.84"
SENTINEL_TEXT = "LW-XXE-SENTINEL-7f3a9c"
# The file the XXE cases point at; tests write SENTINEL_TEXT into it.
SENTINEL_PATH = Path(tempfile.gettempdir()) / "labourwatch-xxe-sentinel.txt"
# The size limit the inflation case passes (and the crawl of the corpus runs with): every other case fits.
GZIP_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One document and the behaviour it must show. ``code`` set: refused with that code. Otherwise it is
    read with exactly ``links`` article links (and ``follow`` child documents), ``urls`` among them, and
    ``warning`` among its warnings."""

    name: str
    kind: str
    body: bytes
    code: str | None = None
    links: int = 0
    follow: int = 0
    urls: tuple[str, ...] = ()
    warning: str | None = None
    content_type: str = "application/xml"
    max_size: int | None = None

    @property
    def path(self) -> str:
        """Where the test server serves it."""
        return f"/hostile/{self.name}.xml"


def _items(origin: str, count: int = 3) -> str:
    return "".join(f"<item><title>Item {n}</title><link>{origin}/articles/{n}.html</link></item>"
                   for n in range(count))


def _rss(origin: str, items: str, doctype: str = "", head: str = '<?xml version="1.0"?>') -> str:
    return (f"{head}{doctype}<rss version=\"2.0\"><channel><title>Hostile</title><link>{origin}/</link>"
            f"<description>d</description>{items}</channel></rss>")


def _urlset(origin: str, count: int = 3, ns: str | None = SM_09, doctype: str = "",
            head: str = '<?xml version="1.0"?>') -> str:
    xmlns = f' xmlns="{ns}"' if ns else ""
    urls = "".join(f"<url><loc>{origin}/articles/{n}.html</loc></url>" for n in range(count))
    return f"{head}{doctype}<urlset{xmlns}>{urls}</urlset>"


def _index(origin: str, children: list[str], head: str = '<?xml version="1.0"?>') -> str:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in children)
    return f'{head}<sitemapindex xmlns="{SM_09}">{entries}</sitemapindex>'


def _laughs(root: str) -> str:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<!DOCTYPE {root} [<!ENTITY l0 "lol">{levels}]>'


def _xxe(root: str, sentinel: Path) -> str:
    return f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file://{sentinel}">]>'


def _entity_cases(origin: str, sentinel: Path) -> list[Case]:
    leak = _items(origin, 1).replace("Item 0", "&xxe;")
    laugh = _items(origin, 1).replace("Item 0", "&l9;")
    simple = '<!DOCTYPE rss [<!ENTITY a "x">]>'
    comment_pad = "<!--" + "x" * (300 * 1024) + "-->"
    return [
        Case("billion-laughs-feed", "feed", _rss(origin, laugh, _laughs("rss")).encode(), "xml_entities"),
        Case("billion-laughs-sitemap", "sitemap",
             _urlset(origin, doctype=_laughs("urlset")).replace("/0.html", "/&l9;.html").encode(), "xml_entities"),
        Case("xxe-feed", "feed", _rss(origin, leak, _xxe("rss", sentinel)).encode(), "xml_entities"),
        Case("xxe-sitemap", "sitemap",
             _urlset(origin, doctype=_xxe("urlset", sentinel)).replace("/0.html", "/&xxe;.html").encode(),
             "xml_entities"),
        Case("xxe-attribute-feed", "feed",
             _rss(origin, leak, _xxe("rss", sentinel)).replace('version="2.0"', 'version="&xxe;"').encode(),
             "xml_entities"),
        Case("parameter-entity-feed", "feed",
             _rss(origin, _items(origin), "<!DOCTYPE rss [<!ENTITY % p \"<!ENTITY b 'y'>\"> %p;]>").encode(),
             "xml_entities"),
        Case("parameter-entity-external", "feed",
             _rss(origin, _items(origin), f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "file://{sentinel}"> %p;]>')
             .encode(), "xml_entities"),
        Case("bracket-in-comment", "feed",
             _rss(origin, laugh.replace("&l9;", "&a;"), '<!DOCTYPE rss [<!-- ] --><!ENTITY a "x">]>').encode(),
             "xml_entities"),
        Case("gt-in-system-id", "feed",
             _rss(origin, _items(origin), '<!DOCTYPE rss SYSTEM "a>b" [<!ENTITY a "x">]>').encode(), "xml_entities"),
        Case("doctype-after-300k-comment", "feed",
             _rss(origin, _items(origin), comment_pad + simple).encode(), "xml_entities"),
        Case("utf16-le-entities", "feed",
             _rss(origin, _items(origin), simple, '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"),
             "xml_entities"),
        Case("utf16-be-no-bom-entities", "feed",
             _rss(origin, _items(origin), simple, '<?xml version="1.0" encoding="UTF-16BE"?>').encode("utf-16-be"),
             "xml_entities"),
        Case("utf32-entities", "feed",
             _rss(origin, _items(origin), simple, '<?xml version="1.0" encoding="UTF-32"?>').encode("utf-32"),
             "xml_entities"),
        Case("utf16-sitemap-entities", "sitemap",
             _urlset(origin, doctype=_laughs("urlset"), head='<?xml version="1.0" encoding="UTF-16"?>')
             .encode("utf-16"), "xml_entities"),
        Case("whitespace-then-entities", "feed", ("\n\n  " + _rss(origin, _items(origin), simple)).encode(),
             "xml_entities"),
        Case("entities-in-ill-formed-feed", "feed",
             _rss(origin, _items(origin) + "<item><title>&a; &nbsp;</title>", simple).encode(), "xml_entities"),
        Case("entities-latin1-declared", "feed",
             _rss(origin, _items(origin), simple, '<?xml version="1.0" encoding="ISO-8859-1"?>').encode("latin-1"),
             "xml_entities"),
    ]


def _encoding_cases(origin: str) -> list[Case]:
    return [
        Case("netscape-external-dtd", "feed", _rss(origin, _items(origin), '<!DOCTYPE rss PUBLIC "-//Netscape '
             'Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">').encode(),
             links=3),
        Case("external-dtd-not-loaded", "feed",
             _rss(origin, _items(origin).replace("Item 1", "Item &ext;"),
                  f'<!DOCTYPE rss SYSTEM "{origin}/hostile/evil.dtd">').encode(), links=3),
        Case("xinclude-not-processed", "feed",
             _rss(origin, _items(origin).replace("Item 1", f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                                 f'href="file://{SENTINEL_PATH}" parse="text"/>')).encode(), links=3),
        Case("element-declarations-only", "feed",
             _rss(origin, _items(origin), "<!DOCTYPE rss [<!ELEMENT rss ANY>]>").encode(), links=3),
        Case("undefined-entity-recovered", "feed",
             _rss(origin, _items(origin).replace("Item 1", "Item&nbsp;1")).encode(), links=3, warning="feed_warning"),
        Case("utf16-feed", "feed",
             _rss(origin, _items(origin), head='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"), links=3),
        Case("utf32-feed", "feed",
             _rss(origin, _items(origin), head='<?xml version="1.0" encoding="UTF-32"?>').encode("utf-32"), links=3),
        Case("utf16-sitemap", "sitemap",
             _urlset(origin, head='<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"), links=3),
        Case("whitespace-before-declaration-feed", "feed", ("\r\n \n" + _rss(origin, _items(origin))).encode(),
             links=3),
        Case("whitespace-before-declaration-index", "sitemap",
             ("\n\n" + _index(origin, [f"{origin}/a.xml", f"{origin}/b.xml"])).encode(), follow=2),
        Case("windows1251-declared", "feed", _rss(origin, _items(origin).replace("Item", "Статья"),
             head='<?xml version="1.0" encoding="windows-1251"?>').encode("cp1251"), links=3),
    ]


def _link_cases(origin: str) -> list[Case]:
    host = origin.split("//", 1)[1]
    relative = "".join(f"<item><title>R{n}</title><link>/news/{n}.html</link></item>" for n in range(2))
    atom = (f'<?xml version="1.0"?><feed xmlns="{ATOM_NS}" xml:base="{origin}/section/"><title>t</title>'
            '<entry><title>A</title><link href="a.html"/></entry>'
            '<entry xml:base="/other/"><title>B</title><link rel="alternate" href="b.html"/></entry>'
            '<entry><title>C</title><link href="//' + host + '/c.html"/></entry>'
            '<entry><title>D</title><link rel="enclosure" href="/d.mp3"/><link href="/d.html"/></entry></feed>')
    rdf = ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           f'xmlns="http://purl.org/rss/1.0/" xml:base="{origin}/rdf/"><channel><title>t</title></channel>'
           '<item><title>X</title><link>x.html</link></item></rdf:RDF>')
    return [
        Case("rss-relative-links", "feed", _rss(origin, relative).encode(), links=2,
             urls=(f"{origin}/news/0.html", f"{origin}/news/1.html")),
        Case("rss-protocol-relative", "feed",
             _rss(origin, f"<item><title>P</title><link>//{host}/p.html</link></item>").encode(), links=1,
             urls=(f"{origin}/p.html",)),
        Case("atom-relative-xml-base", "feed", atom.encode(), links=4,
             urls=(f"{origin}/section/a.html", f"{origin}/other/b.html", f"{origin}/c.html", f"{origin}/d.html")),
        Case("rss1-relative-xml-base", "feed", rdf.encode(), links=1, urls=(f"{origin}/rdf/x.html",)),
    ]


def _sitemap_cases(origin: str) -> list[Case]:
    self_url = f"{origin}/hostile/self-listing-index.xml"
    return [
        Case("sitemap-084", "sitemap", _urlset(origin, ns=SM_084).encode(), links=3),
        Case("sitemap-no-namespace", "sitemap", _urlset(origin, ns=None).encode(), links=3),
        Case("self-listing-index", "sitemap", _index(origin, [self_url] * 30).encode(), follow=0),
        Case("duplicate-children-index", "sitemap", _index(origin, [f"{origin}/hostile/sitemap-084.xml"] * 30)
             .encode(), follow=1),
        Case("too-many-sitemap-urls", "sitemap", _urlset(origin, 6000).encode(), links=5000,
             warning="too_many_items"),
        Case("gzip-sitemap", "sitemap", gzip.compress(_urlset(origin).encode()), links=3,
             content_type="application/x-gzip"),
        Case("gzip-truncated", "sitemap", gzip.compress(_urlset(origin, 50).encode())[:-40], "corrupt_gzip",
             content_type="application/x-gzip"),
        Case("gzip-corrupt", "sitemap", b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"not deflate at all" * 4,
             "corrupt_gzip", content_type="application/x-gzip"),
        Case("gzip-past-max-size", "sitemap",
             gzip.compress(_urlset(origin, ns=SM_09).replace("</urlset>", " " * (2 * GZIP_LIMIT) + "</urlset>")
                           .encode()), "too_large", content_type="application/x-gzip", max_size=GZIP_LIMIT),
    ]


def _shape_cases(origin: str) -> list[Case]:
    deep = "<x>" * 5000 + "</x>" * 5000
    return [
        Case("empty-rss", "feed", _rss(origin, "").encode(), links=0, warning="empty_feed"),
        Case("empty-atom", "feed", f'<?xml version="1.0"?><feed xmlns="{ATOM_NS}"><title>t</title></feed>'.encode(),
             links=0, warning="empty_feed"),
        Case("too-many-feed-items", "feed", _rss(origin, _items(origin, 6000)).encode(), links=5000,
             warning="too_many_items"),
        Case("html-page", "feed", b"<!DOCTYPE html><html><body><p>moved</p></body></html>", "malformed_feed"),
        Case("deep-nesting", "feed", _rss(origin, deep + _items(origin)).encode(), "malformed_feed"),
        Case("garbage", "feed", b"\x00\xff<<<&&&", "malformed_feed"),
        Case("not-a-sitemap", "sitemap", _rss(origin, _items(origin)).encode(), "not_a_sitemap"),
        Case("gzip-feed", "feed", gzip.compress(_rss(origin, _items(origin)).encode()), links=3,
             content_type="application/x-gzip"),
    ]


def corpus(origin: str) -> list[Case]:
    """Every case, with links on ``origin``."""
    return (_entity_cases(origin, SENTINEL_PATH) + _encoding_cases(origin) + _link_cases(origin)
            + _sitemap_cases(origin) + _shape_cases(origin))
