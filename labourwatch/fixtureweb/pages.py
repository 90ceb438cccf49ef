"""HTML pages of a fixture site: article pages, the paginated /news/ listing, the home page and info pages.

Article pages carry churn (a "most read" rotation, an "updated n minutes ago" widget and a footer date) that
changes on every state outside ``<article>``; everything inside ``<article>`` changes only on a real edit.
"""

from __future__ import annotations

import json
from html import escape

from labourwatch.fixtureweb.content import Article, LanguagePack, format_datetime, language_pack
from labourwatch.fixtureweb.feeds import article_url, iso
from labourwatch.fixtureweb.sites import SiteModel, clock

LISTING_PAGE_SIZE = 10
MOST_READ = 5
RELATED = 3


def _x(text: str) -> str:
    return escape(text, quote=True)


def _head(model: SiteModel, title: str, extra: str = "") -> str:
    spec = model.spec
    feeds = ""
    if spec.rss:
        feeds += f'<link rel="alternate" type="application/rss+xml" title="{_x(spec.name)}" href="/rss.xml">\n'
    if spec.atom:
        feeds += f'<link rel="alternate" type="application/atom+xml" title="{_x(spec.name)}" href="/atom.xml">\n'
    return (f'<!DOCTYPE html>\n<html lang="{spec.language}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{_x(title)}</title>\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<link rel="stylesheet" href="/static/site.css">\n{feeds}{extra}</head>\n<body>\n')


def _header(model: SiteModel, pack: LanguagePack, widget: str = "") -> str:
    links = "".join(f'<li><a href="{href}">{_x(label)}</a></li>' for label, href in pack.ui["nav"])
    return (f'<header class="site-header">\n<a class="logo" href="/">{_x(model.spec.name)}</a>\n'
            f'<nav class="main-nav"><ul>{links}</ul></nav>\n{widget}</header>\n')


def _footer(model: SiteModel, pack: LanguagePack, generated: str = "") -> str:
    links = "".join(f'<li><a href="{href}">{_x(label)}</a></li>' for label, href in pack.ui["footer_nav"])
    stamp = f'<p class="generated">{_x(generated)}</p>\n' if generated else ""
    return (f'<footer class="site-footer">\n<nav class="footer-nav"><ul>{links}</ul></nav>\n'
            f"<p>© 2026 {_x(model.spec.name)}. {_x(pack.ui['rights'])}</p>\n{stamp}</footer>\n"
            "</body>\n</html>\n")


def _rotate(articles: list[Article], by: int, count: int) -> list[Article]:
    if not articles:
        return []
    by %= len(articles)
    return (articles[by:] + articles[:by])[:count]


def _link_list(articles: list[Article], tag: str) -> str:
    items = "".join(f'<li><a href="/articles/{a.slug}.html">{_x(a.title)}</a></li>' for a in articles)
    return f"<{tag}>{items}</{tag}>"


def _sidebar(model: SiteModel, article: Article, state: int, pack: LanguagePack) -> str:
    others = [a for a in model.newest_first() if a is not article]
    # The rotation depends on the state, so the sidebar differs on every state.
    most_read = _rotate(others, state * 2 + article.index, MOST_READ)
    related = _rotate([a for a in others if a.on_topic == article.on_topic], state + 1, RELATED)
    return (
        '<aside class="sidebar">\n'
        f'<section class="most-read"><h2>{_x(pack.ui["most_read"])}</h2>{_link_list(most_read, "ol")}</section>\n'
        f'<section class="related"><h2>{_x(pack.ui["related"])}</h2>{_link_list(related, "ul")}</section>\n'
        f'<section class="newsletter"><h2>{_x(pack.ui["newsletter_title"])}</h2>'
        f'<p>{_x(pack.ui["newsletter_text"])}</p>\n<form action="/newsletter/" method="post">'
        f'<input type="email" name="email" placeholder="{_x(pack.ui["email"])}">'
        f'<button type="submit">{_x(pack.ui["subscribe"])}</button></form></section>\n</aside>\n'
    )


def _meta(model: SiteModel, article: Article, url: str) -> str:
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": article.title,
        "datePublished": iso(article.published), "dateModified": iso(article.last_modified),
        "author": {"@type": "Person", "name": article.author}, "mainEntityOfPage": url,
        "inLanguage": article.language, "publisher": {"@type": "Organization", "name": model.spec.name},
    }
    ld_text = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
    return (f'<link rel="canonical" href="{url}">\n<meta name="description" content="{_x(article.standfirst)}">\n'
            f'<meta name="author" content="{_x(article.author)}">\n<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{_x(article.title)}">\n<meta property="og:url" content="{url}">\n'
            f'<meta property="og:site_name" content="{_x(model.spec.name)}">\n'
            f'<meta property="article:published_time" content="{iso(article.published)}">\n'
            f'<meta property="article:modified_time" content="{iso(article.last_modified)}">\n'
            f'<script type="application/ld+json">{ld_text}</script>\n')


def _story(article: Article, pack: LanguagePack) -> str:
    lang = article.language
    dateline = f'<time datetime="{iso(article.published)}">{_x(format_datetime(article.published, lang))}</time>'
    if article.modified:
        dateline += (f' · {_x(pack.ui["updated"])} <time class="modified" datetime="{iso(article.modified)}">'
                     f"{_x(format_datetime(article.modified, lang))}</time>")
    body = "".join(f"<p>{_x(p)}</p>\n" for p in article.paragraphs()[:len(article.templates)])
    body += "".join(f'<p class="correction"><em>{_x(c)}</em></p>\n' for c in article.corrections)
    return (f'<article class="story">\n<h1 class="story-title">{_x(article.title)}</h1>\n'
            f'<p class="standfirst">{_x(article.standfirst)}</p>\n'
            f'<p class="byline">{_x(pack.text("byline", author=article.author))}</p>\n'
            f'<p class="dateline">{dateline}</p>\n<div class="story-body">\n{body}</div>\n</article>\n')


def article_page(model: SiteModel, article: Article, state: int, base: str) -> str:
    """The full HTML page of ``article`` as it looks in ``state``."""
    pack = language_pack(model.spec.language)
    url = article_url(base, article)
    minutes = (state * 7 + article.index * 3) % 58 + 1
    widget = (f'<div class="live-widget"><span class="updated-ago">'
              f'{_x(pack.text("updated_ago", n=str(minutes)))}</span></div>\n')
    cookie = (f'<div class="cookie-banner" id="cookie-consent" role="dialog"><p>{_x(pack.ui["cookie_text"])}</p>'
              f'<button type="button">{_x(pack.ui["accept"])}</button></div>\n')
    generated = pack.text("generated", date=format_datetime(clock(state), model.spec.language))
    return (_head(model, f"{article.title} | {model.spec.name}", _meta(model, article, url)) + cookie
            + _header(model, pack, widget) + '<main class="content">\n' + _story(article, pack)
            + _sidebar(model, article, state, pack) + "</main>\n" + _footer(model, pack, generated))


def _listing_item(article: Article) -> str:
    lang = article.language
    return (f'<div class="story-item">\n<h2 class="headline"><a href="/articles/{article.slug}.html">'
            f"{_x(article.title)}</a></h2>\n<p class=\"summary\">{_x(article.standfirst)}</p>\n"
            f'<p class="meta"><time datetime="{iso(article.published)}">'
            f"{_x(format_datetime(article.published, lang))}</time></p>\n</div>\n")


def _pager(page: int, pages: int, pack: LanguagePack) -> str:
    links = []
    if page > 1:
        prev = "/news/" if page == 2 else f"/news/?page={page - 1}"
        links.append(f'<a rel="prev" class="prev" href="{prev}">{_x(pack.ui["prev"])}</a>')
    if page < pages:
        links.append(f'<a rel="next" class="next" href="/news/?page={page + 1}">{_x(pack.ui["next"])}</a>')
    return f'<nav class="pagination">{" ".join(links)}</nav>\n'


def listing_pages(model: SiteModel) -> dict[str, str]:
    """The /news/ listing, ten articles a page, newest first, keyed "/news/", "/news/?page=2", …"""
    pack = language_pack(model.spec.language)
    newest = model.newest_first()
    pages = max(1, -(-len(newest) // LISTING_PAGE_SIZE))
    out = {}
    for page in range(1, pages + 1):
        chunk = newest[(page - 1) * LISTING_PAGE_SIZE:page * LISTING_PAGE_SIZE]
        key = "/news/" if page == 1 else f"/news/?page={page}"
        out[key] = (_head(model, f"{pack.ui['latest']} | {model.spec.name}") + _header(model, pack)
                    + f'<main class="content">\n<h1>{_x(pack.ui["latest"])}</h1>\n<div class="story-list">\n'
                    + "".join(_listing_item(a) for a in chunk) + "</div>\n" + _pager(page, pages, pack)
                    + "</main>\n" + _footer(model, pack))
    return out


def home_page(model: SiteModel) -> str:
    """The front page: a few headlines and a link to the listing."""
    pack = language_pack(model.spec.language)
    top = "".join(f'<li><h3><a href="/articles/{a.slug}.html">{_x(a.title)}</a></h3></li>'
                  for a in model.newest_first()[:5])
    return (_head(model, model.spec.name) + _header(model, pack)
            + f'<main class="content">\n<h1>{_x(model.spec.name)}</h1>\n<ul class="top-stories">{top}</ul>\n'
            + f'<p><a href="/news/">{_x(pack.ui["latest"])}</a></p>\n</main>\n' + _footer(model, pack))


def info_page(model: SiteModel, key: str) -> str:
    """A static "about", "contact" or "privacy" page."""
    pack = language_pack(model.spec.language)
    text = pack.text(key, name=model.spec.name)
    return (_head(model, model.spec.name) + _header(model, pack)
            + f'<main class="content">\n<p>{_x(text)}</p>\n</main>\n' + _footer(model, pack))
