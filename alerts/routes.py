"""Routing: which destinations an event must reach, decided when the event is written (the outbox rows).

A destination is named by a fingerprint of its URL, never by the URL: URLs carry webhook tokens and
passwords, and the fingerprint is all the database ever holds. The dispatcher finds the URL again in the
current config; a destination removed from the config is reported, not guessed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from alerts.types import RouteSpec
from db.events import DeliveryTarget, EventDraft


def fingerprint(url: str) -> str:
    """A stable short name for a destination URL that reveals nothing of it."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def redacted(url: str) -> str:
    """``scheme://host`` of a destination URL, for lists and logs (no user, password, token or path)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" if host else f"{parts.scheme}://…"


@dataclass(frozen=True)
class Destination:
    """One URL of one route, as the dispatcher needs it."""

    route: RouteSpec
    url: str
    key: str
    label: str


def destinations(routes: Sequence[RouteSpec]) -> dict[tuple[str, str], Destination]:
    """Every destination of every route, by (route name, fingerprint)."""
    return {
        (route.name, fingerprint(url)): Destination(route, url, fingerprint(url), redacted(url))
        for route in routes for url in route.urls if url
    }


def accepts(route: RouteSpec, draft: EventDraft) -> bool:
    """Whether ``route`` wants ``draft``: its type, its source, and the route's minimum scores."""
    if draft.type not in route.events:
        return False
    if route.sources and draft.source_id not in route.sources:
        return False
    if route.min_relevance is not None and draft.relevance is not None and draft.relevance < route.min_relevance:
        return False
    return not (route.min_confidence is not None and draft.confidence is not None
                and draft.confidence < route.min_confidence)


class Router:
    """The routes of the config as the outbox's router: ``router(draft)`` lists the delivery targets."""

    def __init__(self, routes: Sequence[RouteSpec]) -> None:
        self.routes = list(routes)

    def __call__(self, draft: EventDraft) -> list[DeliveryTarget]:
        return [
            DeliveryTarget(route.name, fingerprint(url), redacted(url), route.mode)
            for route in self.routes if accepts(route, draft)
            for url in dict.fromkeys(route.urls) if url
        ]
