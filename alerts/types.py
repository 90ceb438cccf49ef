"""What the alerts package takes from the config: routes and delivery settings."""

from __future__ import annotations

from dataclasses import dataclass

from db.events import STORY_EVENT_TYPES

# A route that names no event types gets the newsroom's: one message per story change and the baseline
# summaries of new sources; nothing about the monitor itself.
NEWSROOM_EVENT_TYPES = STORY_EVENT_TYPES


def file_destination(file: str, position: int) -> str:
    """How a URL read from an apprise config file is written, for its fingerprint: the file as the route names
    it and the URL's position among the route's URLs from it (never the URL, which may hold a token)."""
    return f"apprise_config:{file}#{position}"


@dataclass(frozen=True)
class RouteSpec:
    """One alert route: which events go to which destinations, when, and how often at most.

    ``urls`` are resolved (they may hold secrets); ``written`` is each URL as the config writes it, in the
    same order: ``${ENV}`` references unresolved, or ``file_destination(...)`` for URLs from an apprise
    config file. Destinations are named after the written form, so a rotated secret keeps its deliveries.
    Empty ``written`` (routes built in code) means the URLs are written as they are."""

    name: str
    urls: tuple[str, ...]
    events: tuple[str, ...] = NEWSROOM_EVENT_TYPES
    mode: str = "immediate"  # or "digest", sent on ``cron``
    cron: str | None = None
    sources: tuple[str, ...] = ()  # only events of these sources (all when empty)
    min_relevance: float | None = None
    min_confidence: float | None = None
    rate_limit: int | None = None  # immediate messages per hour; the overflow waits for the next digest
    digest_cron: str | None = None  # when an immediate route's overflow goes out (default: hourly)
    copies: bool = False  # also the stories of articles that copy another outlet's
    written: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a ``written`` that does not pair up with ``urls``."""
        if self.written and len(self.written) != len(self.urls):
            raise ValueError(f"route {self.name}: {len(self.written)} written forms for {len(self.urls)} URLs")


@dataclass(frozen=True)
class AlertOptions:
    """Delivery settings: retries with capped exponential backoff and jitter, then ``dead``.

    A dispatch pass claims at most ``batch`` immediate deliveries under a ``lease`` and stops starting sends
    when most of the lease has gone (see ``alerts.dispatch``)."""

    failing_after: int = 3
    max_attempts: int = 8
    backoff: float = 30.0
    max_backoff: float = 3600.0
    timeout: float = 30.0
    lease: float = 300.0  # a claimed delivery returns to the queue when its dispatcher dies
    web_url: str | None = None
    batch: int = 200
