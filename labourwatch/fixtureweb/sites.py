"""Site specifications, the values the fixture web hands out, and the per-site model of published articles."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from labourwatch.fixtureweb.content import Article, make_article

LANGUAGES = ("en", "ko", "ru", "zh", "ja")
FEED_FORMATS = ("rss2", "rss1", "rss091", "atom")
ROBOTS_MODES = ("allow", "disallow", "error500")
# The fake clock: state N is CLOCK_BASE + N hours, so dates and Last-Modified never depend on the wall clock.
CLOCK_BASE = datetime(2026, 1, 1, tzinfo=UTC)
# Initial articles are published this far apart, the newest one at CLOCK_BASE minus one gap.
PUBLISH_GAP = timedelta(hours=5)
_SITE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


def clock(state: int) -> datetime:
    """The fake time of ``state``."""
    return CLOCK_BASE + timedelta(hours=state)


@dataclass(frozen=True)
class SiteSpec:
    """What one fake news site offers: language, feed format, sitemap, listing, articles and robots.txt."""

    id: str
    name: str
    language: str = "en"
    feed: str | None = "rss2"
    atom_too: bool = False
    sitemap: bool = True
    listing: bool = True
    articles: int = 10
    offtopic_every: int = 3
    robots: str = "allow"
    # An aggregator: its feed lists the articles of the site with this id, at that site's addresses (a feed on one
    # host whose articles are on another), and its sitemap index that site's sitemaps (children on another host).
    feed_of: str | None = None
    # Section feeds: /sections/<k>.xml for k < sections, RSS 2.0 of the articles whose number is k modulo sections
    # (several feeds on one host, as a news site has per desk).
    sections: int = 0
    # Seconds each answer waits, drawn evenly from (least, most) per request: a remote server's response time.
    latency: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        problems = []
        if not _SITE_ID.match(self.id):
            problems.append(f"id {self.id!r} must be lowercase letters, digits and '-'")
        if self.language not in LANGUAGES:
            problems.append(f"language {self.language!r} (known: {', '.join(LANGUAGES)})")
        if self.feed is not None and self.feed not in FEED_FORMATS:
            problems.append(f"feed {self.feed!r} (known: {', '.join(FEED_FORMATS)} or None)")
        if self.robots not in ROBOTS_MODES:
            problems.append(f"robots {self.robots!r} (known: {', '.join(ROBOTS_MODES)})")
        if self.articles < 0 or self.offtopic_every < 0:
            problems.append("articles and offtopic_every must not be negative")
        if self.sections < 0:
            problems.append("sections must not be negative")
        if not 0 <= self.latency[0] <= self.latency[1]:
            problems.append(f"latency {self.latency!r} must be (least, most) seconds with 0 <= least <= most")
        if problems:
            raise ValueError(f"invalid SiteSpec {self.id!r}: " + "; ".join(problems))

    @property
    def rss(self) -> bool:
        """Whether the site serves /rss.xml."""
        return self.feed in ("rss2", "rss1", "rss091")

    def section_path(self, section: int) -> str:
        """The path of section feed number ``section``."""
        return f"/sections/{section}.xml"

    @property
    def atom(self) -> bool:
        """Whether the site serves /atom.xml."""
        return self.feed == "atom" or (self.feed is not None and self.atom_too)


@dataclass(frozen=True)
class ArticleInfo:
    """A published article as the tests see it: where it is and what it is about."""

    site_id: str
    slug: str
    url: str
    title: str
    language: str
    on_topic: bool
    published: datetime
    version: int


@dataclass(frozen=True)
class StateChange:
    """What one ``advance()`` changed; every value is an absolute article URL without tracking parameters."""

    state: int
    new: tuple[str, ...] = ()
    edited: tuple[str, ...] = ()
    figure_edits: dict[str, tuple[str, str]] = field(default_factory=dict)
    headline_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    corrections: tuple[str, ...] = ()
    sidebar_only: tuple[str, ...] = ()


def default_sites() -> list[SiteSpec]:
    """Four sites: an English specialist, an English general outlet, a Korean and a Russian outlet."""
    return [
        SiteSpec("labourmonitor", "Overseas Labour Monitor", "en", feed="rss2", atom_too=True,
                 sitemap=True, listing=True, articles=12, offtopic_every=4),
        SiteSpec("meridian", "The Daily Meridian", "en", feed="rss2", sitemap=True, listing=False,
                 articles=12, offtopic_every=2),
        SiteSpec("hanbit", "한빛일보", "ko", feed="rss2", sitemap=False, listing=True,
                 articles=10, offtopic_every=3),
        SiteSpec("vostok", "Восточный вестник", "ru", feed="atom", sitemap=True, listing=False,
                 articles=10, offtopic_every=3),
    ]


def generate_sites(n_sites: int, articles_per_site: int, seed: int = 0) -> list[SiteSpec]:
    """``n_sites`` sites of mixed languages and discovery kinds for benchmarks (robots always allow)."""
    rng = random.Random(f"generate:{seed}")
    feeds: tuple[str | None, ...] = ("rss2", "atom", "rss2", "rss1", "rss091", None)
    specs = []
    for i in range(n_sites):
        feed = feeds[i % len(feeds)]
        language = rng.choice(("en", "en", "en", "ko", "ru"))
        specs.append(SiteSpec(
            id=f"site{i:03d}", name=f"Fixture News {i}", language=language, feed=feed,
            atom_too=feed == "rss2" and rng.random() < 0.3,
            sitemap=feed is None or rng.random() < 0.6, listing=feed is None or rng.random() < 0.5,
            articles=articles_per_site, offtopic_every=rng.choice((2, 3, 4, 5)),
        ))
    return specs


class SiteModel:
    """The articles a site has published so far, oldest first."""

    def __init__(self, spec: SiteSpec) -> None:
        self.spec = spec
        self.articles: list[Article] = []
        for i in range(spec.articles):
            # Spread initial articles over the hours before CLOCK_BASE, with a little irregularity.
            offset = PUBLISH_GAP * (spec.articles - i) - timedelta(minutes=(i * 17) % 50)
            self.publish(CLOCK_BASE - offset)

    def is_on_topic(self, index: int) -> bool:
        """Whether article number ``index`` is on topic (every ``offtopic_every``-th one is not)."""
        every = self.spec.offtopic_every
        return not (every and index % every == every - 1)

    def publish(self, published: datetime) -> Article:
        """Add the next article, published at ``published``."""
        index = len(self.articles)
        on_topic = self.is_on_topic(index)
        ordinal = sum(1 for a in self.articles if a.on_topic == on_topic)
        article = make_article(self.spec.id, self.spec.language, index, on_topic, ordinal, published)
        self.articles.append(article)
        return article

    def newest_first(self) -> list[Article]:
        """All articles, newest first."""
        return sorted(self.articles, key=lambda a: (a.published, a.index), reverse=True)
