"""A deterministic fixture news web: fake news sites and fault endpoints on 127.0.0.1 for tests and demos.

Standard library only. Start it with ``FixtureWeb().start()`` (or as a context manager), point the crawler at
``sources()`` and ``fault_sources()``, and move it forward with ``advance()``.
"""

from labourwatch.fixtureweb.server import RequestLog, RequestRecord
from labourwatch.fixtureweb.sites import (
    CLOCK_BASE,
    ArticleInfo,
    SiteSpec,
    StateChange,
    clock,
    default_sites,
    generate_sites,
)
from labourwatch.fixtureweb.web import LISTING_SELECTOR, FixtureWeb, FixtureWebError

__all__ = [
    "CLOCK_BASE",
    "LISTING_SELECTOR",
    "ArticleInfo",
    "FixtureWeb",
    "FixtureWebError",
    "RequestLog",
    "RequestRecord",
    "SiteSpec",
    "StateChange",
    "clock",
    "default_sites",
    "generate_sites",
]
