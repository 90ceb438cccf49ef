"""Every resource of a fixture site rendered for one state, and the responder that serves them.

Resources are rendered against a placeholder origin (``http://<site>.fixture.invalid``) and the real
``http://127.0.0.1:PORT`` is substituted when served, so change tracking and Last-Modified do not depend on
the port a run happened to get.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs

from labourwatch.fixtureweb.feeds import (
    FEED_RENDERERS,
    atom,
    robots_txt,
    rss2,
    sitemap_archive,
    sitemap_index,
    sitemap_news,
)
from labourwatch.fixtureweb.pages import article_page, home_page, info_page, listing_pages
from labourwatch.fixtureweb.server import Response, entity, error_page
from labourwatch.fixtureweb.sites import SiteModel, clock

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"
FEED_TYPES = {
    "rss2": "application/rss+xml; charset=utf-8",
    "rss091": "application/rss+xml; charset=utf-8",
    "rss1": "application/rdf+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}


def placeholder_origin(site_id: str) -> str:
    """The origin resources are rendered against before the real one is known."""
    return f"http://{site_id}.fixture.invalid"


def render_site(model: SiteModel, state: int, feed_of: SiteModel | None = None) -> dict[str, tuple[str, str]]:
    """Every resource of the site in ``state``: path (with ``?page=N`` for listings) → (body, content type). The
    feeds list ``feed_of``'s articles at its addresses, and the sitemap index its sitemaps, when given (an
    aggregator)."""
    spec, base = model.spec, placeholder_origin(model.spec.id)
    fed = feed_of or model
    fed_base = placeholder_origin(fed.spec.id)
    out = {"/robots.txt": (robots_txt(model, base), TEXT), "/": (home_page(model), HTML)}
    out |= {f"/{key}.html": (info_page(model, key), HTML) for key in ("about", "contact", "privacy")}
    if spec.rss and spec.feed:
        out["/rss.xml"] = (FEED_RENDERERS[spec.feed](fed, fed_base), FEED_TYPES[spec.feed])
    if spec.atom:
        out["/atom.xml"] = (atom(fed, fed_base), FEED_TYPES["atom"])
    out |= {spec.section_path(k): (rss2(model, base, k), FEED_TYPES["rss2"]) for k in range(spec.sections)}
    if spec.sitemap:
        # An aggregator's index lists the other site's sitemaps, at its addresses (children on another host).
        out["/sitemap-index.xml"] = (sitemap_index(fed, fed_base), XML)
        out["/sitemap-news.xml"] = (sitemap_news(model, base), XML)
        out["/sitemap-archive.xml"] = (sitemap_archive(model, base), XML)
    if spec.listing:
        out |= {key: (body, HTML) for key, body in listing_pages(model).items()}
    for article in model.articles:
        out[f"/articles/{article.slug}.html"] = (article_page(model, article, state, base), HTML)
    return out


@dataclass(eq=False)
class Resource:
    """One rendered resource and the state in which its body last changed."""

    body: str
    content_type: str
    changed: int
    _served: tuple[tuple[tuple[str, str], ...], Response] | None = field(default=None, repr=False)

    def response(self, origins: tuple[tuple[str, str], ...]) -> Response:
        """The 200 response with the real origins substituted for their placeholders (built once per origins)."""
        served = self._served
        if served is None or served[0] != origins:
            body = self.body
            for placeholder, origin in origins:
                body = body.replace(placeholder, origin)
            served = (origins, entity(body.encode("utf-8"), self.content_type, clock(self.changed)))
            self._served = served  # a race here only builds the same response twice
        return served[1]


class SiteResponder:
    """Serves one site's rendered resources; ``update`` re-renders them for a new state. An aggregator's responder
    has the responder of the site its feeds list (``feed_of``), whose origin its feeds name."""

    def __init__(self, model: SiteModel, feed_of: SiteResponder | None = None) -> None:
        self.model = model
        self.feed_of = feed_of
        self.placeholder = placeholder_origin(model.spec.id)
        self.origin = self.placeholder
        self._resources: dict[str, Resource] = {}
        self._latency = random.Random(f"latency:{model.spec.id}")  # the same waits run after run

    def update(self, state: int) -> None:
        """Render every resource for ``state``, keeping the change state of those whose body is unchanged."""
        old = self._resources
        fresh: dict[str, Resource] = {}
        fed = self.feed_of.model if self.feed_of is not None else None
        for path, (body, content_type) in render_site(self.model, state, fed).items():
            previous = old.get(path)
            unchanged = previous is not None and previous.body == body
            fresh[path] = previous if previous is not None and unchanged else Resource(body, content_type, state)
        self._resources = fresh  # one assignment, so handler threads see either the old or the new set

    def paths(self) -> list[str]:
        """Every servable path (listing pages as ``/news/?page=N``)."""
        return list(self._resources)

    def respond(self, path: str, query: str) -> Response:
        """The response for ``path``, after the site's latency; article pages ignore their query string
        (tracking parameters)."""
        least, most = self.model.spec.latency
        response = self._respond(path, query)
        return replace(response, delay=self._latency.uniform(least, most)) if most > 0 else response

    def _respond(self, path: str, query: str) -> Response:
        if path == "/robots.txt" and self.model.spec.robots == "error500":
            return error_page(500, "robots.txt is having a bad day")
        if path == "/news" and self.model.spec.listing:
            return Response(301, headers=(("Location", "/news/"),))
        key = self._key(path, query)
        resource = self._resources.get(key) if key else None
        if resource is None:
            return error_page(404, "Not found")
        origins: tuple[tuple[str, str], ...] = ((self.placeholder, self.origin),)
        if self.feed_of is not None:
            origins += ((self.feed_of.placeholder, self.feed_of.origin),)
        return resource.response(origins)

    @staticmethod
    def _key(path: str, query: str) -> str | None:
        if path != "/news/":
            return path
        page = parse_qs(query).get("page", ["1"])[0]
        if not page.isdigit() or int(page) < 1:
            return None
        return "/news/" if int(page) == 1 else f"/news/?page={int(page)}"
