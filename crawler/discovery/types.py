"""What a discovery found: proposed sources, every request it made, and why the site could not be read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """One proposed source: a feed, a sitemap or a listing page, checked by the kind's own parser."""

    kind: str
    url: str
    found_by: str
    title: str | None = None
    language: str | None = None
    items: int = 0
    news: bool = False  # a sitemap whose entries carry Google News (news:) fields
    index: bool = False  # a sitemap index: its children are the sitemaps
    options: Mapping[str, Any] = field(default_factory=dict)  # kind options (a listing's link_selector)
    sample: tuple[str, ...] = ()  # the first links it gives
    links: frozenset[str] = field(default=frozenset(), repr=False)  # every link it gives, to spot duplicates
    recommended: bool = True
    note: str | None = None


@dataclass(frozen=True)
class Check:
    """One request a discovery made and what came of it (``ok`` or a stable error code)."""

    url: str
    purpose: str
    outcome: str
    detail: str | None = None


@dataclass
class Discovery:
    """The result of discovering one site. ``error`` (code, message) is set when its page could not be read."""

    url: str
    final_url: str | None = None
    title: str | None = None
    language: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: tuple[str, str] | None = None
