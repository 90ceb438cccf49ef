"""RSS 2.0, RSS 1.0, RSS 0.91 and Atom feeds, sitemaps and robots.txt of a fixture site.

Feeds show only what does not churn (headline, link, date, standfirst), so a feed's bytes change only when
the site publishes or changes a headline in it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from html import escape

from labourwatch.fixtureweb.content import Article, language_pack
from labourwatch.fixtureweb.sites import CLOCK_BASE, SiteModel

FEED_ITEMS = 20
NEWS_SITEMAP_ITEMS = 10
# Feed links carry these, as real CMSs do, so the crawler has to canonicalise.
TRACKING = "?utm_source=rss&utm_medium=feed"
XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'


def article_url(base: str, article: Article) -> str:
    """The canonical URL of ``article`` on a site served at ``base``."""
    return f"{base}/articles/{article.slug}.html"


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as feeds and sitemaps write it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(moment: datetime) -> str:
    """An RFC 822 date, as RSS 2.0 writes it."""
    return format_datetime(moment, usegmt=True)


def _x(text: str) -> str:
    return escape(text, quote=True)


def _items(model: SiteModel) -> list[Article]:
    return model.newest_first()[:FEED_ITEMS]


def _built(items: list[Article]) -> datetime:
    # Derived from the items, never from the state, so an unchanged feed keeps its bytes.
    return max((a.feed_updated for a in items), default=CLOCK_BASE)


def _tag(model: SiteModel, article: Article | None = None) -> str:
    suffix = f"/{article.slug}" if article else ""
    return f"tag:fixtureweb.invalid,2026:{model.spec.id}{suffix}"


def _tagline(model: SiteModel) -> str:
    return language_pack(model.spec.language).text("tagline", name=model.spec.name)


def rss2(model: SiteModel, base: str, section: int | None = None) -> str:
    """An RSS 2.0 feed of the newest articles, or of the newest of one section (``SiteSpec.sections``)."""
    items = _items(model) if section is None else [
        a for a in model.newest_first() if a.index % model.spec.sections == section][:FEED_ITEMS]
    path = "/rss.xml" if section is None else model.spec.section_path(section)
    out = [XML_DECL, '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n',
           f"<title>{_x(model.spec.name)}</title>\n<link>{base}/</link>\n",
           f"<description>{_x(_tagline(model))}</description>\n<language>{model.spec.language}</language>\n",
           f"<lastBuildDate>{rfc822(_built(items))}</lastBuildDate>\n",
           f'<atom:link href="{base}{path}" rel="self" type="application/rss+xml"/>\n']
    for a in items:
        out.append(
            f"<item>\n<title>{_x(a.title)}</title>\n<link>{_x(article_url(base, a) + TRACKING)}</link>\n"
            f'<guid isPermaLink="false">{_tag(model, a)}</guid>\n<pubDate>{rfc822(a.published)}</pubDate>\n'
            f"<dc:creator>{_x(a.author)}</dc:creator>\n<description>{_x(a.standfirst)}</description>\n</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def rss1(model: SiteModel, base: str) -> str:
    """An RSS 1.0 (RDF) feed of the newest articles."""
    items = _items(model)
    links = [_x(article_url(base, a) + TRACKING) for a in items]
    out = [XML_DECL, '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n',
           f'<channel rdf:about="{base}/rss.xml">\n<title>{_x(model.spec.name)}</title>\n<link>{base}/</link>\n',
           f"<description>{_x(_tagline(model))}</description>\n<dc:language>{model.spec.language}</dc:language>\n",
           f"<dc:date>{iso(_built(items))}</dc:date>\n<items>\n<rdf:Seq>\n"]
    out += [f'<rdf:li rdf:resource="{link}"/>\n' for link in links]
    out.append("</rdf:Seq>\n</items>\n</channel>\n")
    for a, link in zip(items, links, strict=True):
        out.append(
            f'<item rdf:about="{link}">\n<title>{_x(a.title)}</title>\n<link>{link}</link>\n'
            f"<description>{_x(a.standfirst)}</description>\n<dc:date>{iso(a.published)}</dc:date>\n"
            f"<dc:creator>{_x(a.author)}</dc:creator>\n</item>\n"
        )
    out.append("</rdf:RDF>\n")
    return "".join(out)


def rss091(model: SiteModel, base: str) -> str:
    """An RSS 0.91 feed: items have only title, link and description (0.91 has no item dates or guids)."""
    items = _items(model)
    out = [XML_DECL, '<rss version="0.91">\n<channel>\n',
           f"<title>{_x(model.spec.name)}</title>\n<link>{base}/</link>\n",
           f"<description>{_x(_tagline(model))}</description>\n<language>{model.spec.language}</language>\n",
           f"<lastBuildDate>{rfc822(_built(items))}</lastBuildDate>\n"]
    for a in items:
        out.append(
            f"<item>\n<title>{_x(a.title)}</title>\n<link>{_x(article_url(base, a) + TRACKING)}</link>\n"
            f"<description>{_x(a.standfirst)}</description>\n</item>\n"
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def atom(model: SiteModel, base: str) -> str:
    """An Atom 1.0 feed of the newest articles."""
    items = _items(model)
    out = [XML_DECL, f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{model.spec.language}">\n',
           f"<title>{_x(model.spec.name)}</title>\n<subtitle>{_x(_tagline(model))}</subtitle>\n",
           f"<id>{_tag(model)}</id>\n<updated>{iso(_built(items))}</updated>\n",
           f'<link rel="self" type="application/atom+xml" href="{base}/atom.xml"/>\n',
           f'<link rel="alternate" type="text/html" href="{base}/"/>\n']
    for a in items:
        out.append(
            f"<entry>\n<title>{_x(a.title)}</title>\n"
            f'<link rel="alternate" type="text/html" href="{_x(article_url(base, a) + TRACKING)}"/>\n'
            f"<id>{_tag(model, a)}</id>\n<published>{iso(a.published)}</published>\n"
            f"<updated>{iso(a.feed_updated)}</updated>\n<author><name>{_x(a.author)}</name></author>\n"
            f"<summary>{_x(a.standfirst)}</summary>\n</entry>\n"
        )
    out.append("</feed>\n")
    return "".join(out)


FEED_RENDERERS: dict[str, Callable[[SiteModel, str], str]] = {
    "rss2": rss2, "rss1": rss1, "rss091": rss091, "atom": atom,
}


def _split(model: SiteModel) -> tuple[list[Article], list[Article]]:
    newest = model.newest_first()
    return newest[:NEWS_SITEMAP_ITEMS], newest[NEWS_SITEMAP_ITEMS:]


def _lastmod(articles: list[Article]) -> datetime:
    return max((a.last_modified for a in articles), default=CLOCK_BASE)


def sitemap_index(model: SiteModel, base: str) -> str:
    """A sitemap index pointing at the news and archive sitemaps."""
    recent, older = _split(model)
    out = [XML_DECL, '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    for name, group in (("sitemap-news.xml", recent), ("sitemap-archive.xml", older)):
        out.append(f"<sitemap>\n<loc>{base}/{name}</loc>\n<lastmod>{iso(_lastmod(group))}</lastmod>\n</sitemap>\n")
    out.append("</sitemapindex>\n")
    return "".join(out)


def sitemap_news(model: SiteModel, base: str) -> str:
    """A Google News sitemap of the most recent articles."""
    recent, _ = _split(model)
    out = [XML_DECL, '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n']
    for a in recent:
        out.append(
            f"<url>\n<loc>{article_url(base, a)}</loc>\n<lastmod>{iso(a.last_modified)}</lastmod>\n"
            f"<news:news>\n<news:publication>\n<news:name>{_x(model.spec.name)}</news:name>\n"
            f"<news:language>{model.spec.language}</news:language>\n</news:publication>\n"
            f"<news:publication_date>{iso(a.published)}</news:publication_date>\n"
            f"<news:title>{_x(a.title)}</news:title>\n</news:news>\n</url>\n"
        )
    out.append("</urlset>\n")
    return "".join(out)


def sitemap_archive(model: SiteModel, base: str) -> str:
    """A plain sitemap of the older articles, with lastmod."""
    _, older = _split(model)
    out = [XML_DECL, '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    out += [f"<url>\n<loc>{article_url(base, a)}</loc>\n<lastmod>{iso(a.last_modified)}</lastmod>\n</url>\n"
            for a in older]
    out.append("</urlset>\n")
    return "".join(out)


def robots_txt(model: SiteModel, base: str) -> str:
    """robots.txt allowing or disallowing everything (the error500 mode is answered by the responder)."""
    rule = "Disallow: /" if model.spec.robots == "disallow" else "Allow: /"
    sitemap = f"\nSitemap: {base}/sitemap-index.xml\n" if model.spec.sitemap else ""
    return f"User-agent: *\n{rule}\n{sitemap}"
