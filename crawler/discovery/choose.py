"""Which proposals to switch on: one feed per set of items, news sitemaps before whole-site ones, and a listing
page only when neither gives the site's news. The others are still proposed, switched off, with the reason."""

from __future__ import annotations

from dataclasses import replace

from crawler.discovery.types import Candidate

_ORDER = {"feed": 0, "sitemap": 1, "listing": 2}
# A feed whose items are mostly another's (the RSS and Atom versions of one channel) adds nothing.
SAME_ITEMS = 0.8


def _covered(candidate: Candidate, chosen: list[Candidate]) -> Candidate | None:
    for other in chosen:
        if candidate.links and len(candidate.links & other.links) >= SAME_ITEMS * len(candidate.links):
            return other
    return None


def _feeds(feeds: list[Candidate]) -> list[Candidate]:
    out: list[Candidate] = []
    for feed in feeds:
        if "comment" in f"{feed.url} {feed.title or ''}".lower():
            out.append(replace(feed, recommended=False, note="a comments feed"))
        elif not feed.items:
            out.append(replace(feed, recommended=False, note="the feed lists no items"))
        elif (same := _covered(feed, [f for f in out if f.recommended])) is not None:
            out.append(replace(feed, recommended=False, note=f"the same items as {same.url}"))
        else:
            out.append(feed)
    return out


def _sitemaps(sitemaps: list[Candidate], have_feed: bool) -> list[Candidate]:
    news = [s for s in sitemaps if s.news]
    out = []
    for sitemap in sitemaps:
        if sitemap.news:
            out.append(replace(sitemap, note="a Google News sitemap"))
        elif news:
            out.append(replace(sitemap, recommended=False, note=f"the news sitemap {news[0].url} is proposed"))
        elif have_feed:
            out.append(replace(sitemap, recommended=False, note="no news: entries; the feeds give the news"))
        else:
            out.append(sitemap)
    if not news and not have_feed:  # one whole-site sitemap is enough: the first index, else the first one
        first = next((s for s in out if s.index), out[0] if out else None)
        out = [s if s is first or not s.recommended else
               replace(s, recommended=False, note=f"{first.url if first else ''} is proposed") for s in out]
    return out


def recommend(candidates: list[Candidate]) -> list[Candidate]:
    """``candidates`` in kind order (feeds, sitemaps, listing), each ``recommended`` or not with a ``note``."""
    ordered = sorted(candidates, key=lambda c: _ORDER.get(c.kind, 3))
    feeds = _feeds([c for c in ordered if c.kind == "feed"])
    have_feed = any(f.recommended for f in feeds)
    sitemaps = _sitemaps([c for c in ordered if c.kind == "sitemap"], have_feed)
    news = have_feed or any(s.recommended and s.news for s in sitemaps)
    listings = [replace(c, recommended=False, note="the feeds or news sitemap already give the site's news")
                if news else c for c in ordered if c.kind == "listing"]
    return [*feeds, *sitemaps, *listings]
