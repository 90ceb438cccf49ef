"""Routing: which destinations an event must reach, decided when the event is written (the outbox rows).

A destination is named by a fingerprint of its URL *as the config writes it* — ``${ENV}`` references
unresolved, or the apprise config file and position — never by the URL: URLs carry webhook tokens and
passwords, the fingerprint is all the database ever holds, and rotating a secret keeps the name (and so
the queue). The dispatcher finds the URL again in the current config; a destination removed from the
config is reported, not guessed. Rows stored before destinations were named this way carry the
fingerprint of the resolved URL; each destination answers to that legacy key too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from alerts.types import RouteSpec
from db.events import DeliveryTarget, EventDraft

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")
_FILE_PREFIX = "apprise_config:"


def fingerprint(text: str) -> str:
    """A stable short name for a destination (its written form, or a URL) that reveals nothing of it."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _shown_host(host: str) -> bool:
    # Many apprise schemes put a token where the host goes (discord://ID/TOKEN, tgram://BOT_TOKEN/CHAT,
    # slack://T/B/C): only something that looks like a host name is shown.
    return "." in host or ":" in host or host == "localhost" or host.startswith("${")


def redacted(url: str) -> str:
    """``scheme://host`` of a destination URL, for lists and logs (no user, password, token or path); the host
    only when it looks like one. A destination written as one ``${ENV}`` reference is shown as that reference."""
    whole = _REFERENCE.fullmatch(url.strip())
    if whole:
        return f"${{{whole.group(1)}}}"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "(unparseable URL)"
    if not parts.scheme:
        return "(unparseable URL)"
    return f"{parts.scheme}://{host}" if host and _shown_host(host) else f"{parts.scheme}://…"


def label(url: str, written: str) -> str:
    """How a destination is shown: from its written form where that names it (no secret there), else the
    resolved URL redacted; URLs from an apprise config file also say which file and position."""
    if written.startswith(_FILE_PREFIX):
        return f"{redacted(url)} ({written.removeprefix(_FILE_PREFIX)})"
    return redacted(written) if _REFERENCE.search(written) else redacted(url)


@dataclass(frozen=True)
class Destination:
    """One URL of one route, as the dispatcher needs it.

    ``key`` fingerprints the written form (what new delivery rows store); ``legacy_key`` fingerprints the
    resolved URL, which is what rows stored before that change carry."""

    route: RouteSpec
    url: str
    key: str
    label: str
    legacy_key: str

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key its delivery rows may carry."""
        return (self.key,) if self.legacy_key == self.key else (self.key, self.legacy_key)


def route_destinations(route: RouteSpec) -> list[Destination]:
    """The destinations of one route, in config order, each once (unset ``${ENV}`` URLs are left out)."""
    found: dict[str, Destination] = {}
    for url, written in zip(route.urls, route.written or route.urls, strict=True):
        if url:
            key = fingerprint(written)
            found.setdefault(key, Destination(route, url, key, label(url, written), fingerprint(url)))
    return list(found.values())


def destinations(routes: Sequence[RouteSpec]) -> dict[tuple[str, str], Destination]:
    """Every destination of every route, once each, by (route name, key)."""
    return {(d.route.name, d.key): d for route in routes for d in route_destinations(route)}


def by_any_key(routes: Sequence[RouteSpec]) -> dict[tuple[str, str], Destination]:
    """Every destination by (route name, key) and by (route name, legacy key) — the latter unless it is another
    destination's key: what the dispatcher looks stored rows up in."""
    found = destinations(routes)
    for destination in list(found.values()):
        found.setdefault((destination.route.name, destination.legacy_key), destination)
    return found


def accepts(route: RouteSpec, draft: EventDraft) -> bool:
    """Whether ``route`` wants ``draft``: its type, its source, whether it is a copy's, and the route's minimum
    scores."""
    if draft.type not in route.events:
        return False
    if route.sources and draft.source_id not in route.sources:
        return False
    if draft.details.get("copy_of") and not route.copies:
        return False  # the original's story went out already
    if route.min_relevance is not None and draft.relevance is not None and draft.relevance < route.min_relevance:
        return False
    return not (route.min_confidence is not None and draft.confidence is not None
                and draft.confidence < route.min_confidence)


class Router:
    """The routes of the config as the outbox's router: ``router(draft)`` lists the delivery targets."""

    def __init__(self, routes: Sequence[RouteSpec]) -> None:
        self.routes = [(route, route_destinations(route)) for route in routes]

    def __call__(self, draft: EventDraft) -> list[DeliveryTarget]:
        return [
            DeliveryTarget(route.name, destination.key, destination.label, route.mode)
            for route, targets in self.routes if accepts(route, draft)
            for destination in targets
        ]
