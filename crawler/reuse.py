"""What a process's crawls share between them: the known claims with their matcher, and the Scrapy runners.

A cluster node runs one crawl per politeness key, seconds apart; a single daemon one per poll. Each crawl needs the
known claims (read from the database, their matcher built) and a Scrapy runner (built from the crawl's settings):
fixed costs a node paid for every key's crawl. Both are kept here between crawls, for as long as what they were
built from is unchanged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from scrapy.crawler import AsyncCrawlerRunner

from analysis.claims import semantic as semantic_signal
from analysis.claims.sentences import KnownClaims
from crawler.settings import scrapy_settings
from crawler.types import CrawlOptions
from db import candidates
from db import claims as claim_queries
from db.engine import Database


@dataclass(frozen=True)
class _ClaimsRead:
    """The known claims a crawl of this process read, and what they were read at."""

    fingerprint: tuple[str, str]  # ``claims.matching_fingerprint`` when they were read
    semantic: bool  # the semantic signal's setting the matcher was built with
    claims: KnownClaims | None


# The last claims read, by database URL: a crawl reuses them while the database's fingerprint of the claims is
# unchanged, instead of reading every claim and review and building the matcher again. Any change, made by this
# process or another node, changes the fingerprint (SQLite has none: read every time).
_claims_read: dict[str, _ClaimsRead] = {}
_claims_lock = threading.Lock()


def known_claims(db: Database) -> KnownClaims | None:
    """The active known claims and their matcher, as the database has them now (None: there are none)."""
    semantic = semantic_signal.enabled()
    with db.read() as session:
        fingerprint = claim_queries.matching_fingerprint(session)  # before the claims: see its docstring
        with _claims_lock:
            last = _claims_read.get(db.url)
        if fingerprint is not None and last is not None and (last.fingerprint, last.semantic) == (fingerprint,
                                                                                                   semantic):
            claims = last.claims
        else:
            active = claim_queries.matching_claims(session)
            claims = KnownClaims.of(active, semantic=semantic) if active else None
            if fingerprint is not None:
                with _claims_lock:
                    _claims_read[db.url] = _ClaimsRead(fingerprint, semantic, claims)
        # New claims are grouped with recent candidates as they are stored: key those now, outside the writes.
        candidates.warm(session, datetime.now(UTC))
    return claims


# The Scrapy runners, by their settings' inputs: building one copies Scrapy's settings twice (its own and its
# spider loader's frozen copy). A runner holds no state of a crawl once it ended; each crawl still gets a crawler
# (and settings copy) of its own.
_runners: dict[tuple[CrawlOptions, bool], AsyncCrawlerRunner] = {}
_RUNNERS_KEPT = 4  # settings seen since start (a reload that changes the crawl options makes a new one)


def scrapy_runner(options: CrawlOptions, browser: bool) -> AsyncCrawlerRunner:
    """The runner for crawls with ``options`` (and the browser's handler, with ``browser``); on the reactor's loop."""
    key = (options, browser)
    try:
        runner = _runners.get(key)
    except TypeError:  # options that cannot be hashed: a runner of its own
        return AsyncCrawlerRunner(scrapy_settings(options, browser=browser))
    if runner is None:
        if len(_runners) >= _RUNNERS_KEPT:
            _runners.clear()  # crawls running on a dropped runner keep it until they end
        runner = _runners[key] = AsyncCrawlerRunner(scrapy_settings(options, browser=browser))
    return runner
