"""Pages a cluster crawl found on another politeness key than its own (``pending_articles``): article pages, and
a source's child documents (the sitemaps an index lists).

A node's crawl holds one key (host and port) across the cluster; an article a feed on host A links on host B is
fetched by a crawl of B's key, never by A's, so two nodes never hit B at once. A's crawl records the page here, in
a transaction of its own before it moves on; a crawl of B's key takes it (a lease, so a node that dies leaves it
due again), fetches it, and deletes it in the transaction that stores the article. A page that fails is taken
again when its lease ends, longer each time, and dropped after ``MAX_ATTEMPTS``; a crawl stopped with the node
gives back those it did not store at once.

A child sitemap on B of an index on A (``kind`` ``DOCUMENT``) goes the same way: B's crawl reads it for its source,
as A's crawl would have (its links, errors and validators are the source's), and deletes it in the transaction that
ends the crawl once it was read (answered and parsed, or not modified).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db import repository as repo
from db.chunks import in_chunks
from db.models import PendingArticle
from db.upsert import dialect_insert

logger = logging.getLogger(__name__)
# How long a crawl's hold on a page lasts (its node may die): the first lease; each further attempt waits this
# many times longer, so a page that keeps failing costs little.
LEASE = timedelta(minutes=1)
LEASE_GROWTH = 4
MAX_ATTEMPTS = 4  # crawls that may take a page before it is dropped
ARTICLE, DOCUMENT = "article", "document"  # what a pending page is: an article page, or a source's child document


@dataclass(frozen=True)
class Pending:
    """A page found by ``source_id`` on politeness key ``key``, with what the spider carried for it: an article page,
    or (``kind`` ``DOCUMENT``) a document of the source ``depth`` levels below its own (a child sitemap)."""

    url: str
    key: str
    source_id: str | None
    language: str | None = None
    title: str | None = None
    baseline: bool = False
    kind: str = ARTICLE
    depth: int = 0


def add(session: Session, pages: Sequence[Pending], now: datetime) -> None:
    """Record ``pages`` as due now; a URL pending already keeps its row (the first source to find it has it, as a
    stored article has one source)."""
    if not pages:
        return
    connection = session.connection()
    connection.execute(_insert(connection.dialect.name), [
        {"url": p.url, "key": p.key, "source_id": p.source_id, "language": p.language, "title": p.title,
         "baseline": p.baseline, "discovered_at": now, "not_before": now, "attempts": 0, "kind": p.kind,
         "depth": p.depth} for p in pages])


@functools.cache
def _insert(dialect: str) -> Any:
    return dialect_insert(dialect, PendingArticle).on_conflict_do_nothing(index_elements=[PendingArticle.url])


def due_keys(session: Session, now: datetime) -> set[str]:
    """The politeness keys with a page due."""
    return set(session.scalars(select(PendingArticle.key).where(PendingArticle.not_before <= now).distinct()))


def due(session: Session, now: datetime, *, key: str | None = None, source_ids: Sequence[str] | None = None,
        kinds: Sequence[str] = (ARTICLE, DOCUMENT), limit: int = 500) -> list[tuple[Pending, int]]:
    """Pages due at ``now`` (of ``key``, of ``source_ids``, when given; of ``kinds``), the earliest found first, with
    the attempts they had."""
    query = (select(PendingArticle).where(PendingArticle.not_before <= now, PendingArticle.kind.in_(list(kinds)))
             .order_by(PendingArticle.discovered_at, PendingArticle.url).limit(limit))
    if key is not None:
        query = query.where(PendingArticle.key == key)
    if source_ids is not None:
        query = query.where(PendingArticle.source_id.in_(list(source_ids)))
    return [(Pending(row.url, row.key, row.source_id, row.language, row.title, row.baseline, row.kind, row.depth),
             row.attempts) for row in session.scalars(query)]


def take(session: Session, rows: Sequence[tuple[Pending, int]], now: datetime) -> list[Pending]:
    """Take the pages ``rows`` (as ``due`` read them) for a crawl: each one's lease moves on where no other crawl
    took it since. Pages stored as articles meanwhile, and pages taken ``MAX_ATTEMPTS`` times, are deleted instead.
    Returns the pages to fetch."""
    known = repo.known_urls(session, [page.url for page, _ in rows])
    spent = [page.url for page, attempts in rows if attempts >= MAX_ATTEMPTS and page.url not in known]
    if spent:
        logger.warning("%d page(s) found on another host dropped after %d failed attempts: %s", len(spent),
                       MAX_ATTEMPTS, ", ".join(spent[:5]) + (", …" if len(spent) > 5 else ""))
    done(session, [*known, *spent])
    taken = []
    for page, attempts in rows:
        if page.url in known or attempts >= MAX_ATTEMPTS:
            continue
        result = session.execute(
            update(PendingArticle).where(PendingArticle.url == page.url, PendingArticle.attempts == attempts)
            .values(attempts=attempts + 1, not_before=now + LEASE * LEASE_GROWTH ** attempts))
        if getattr(result, "rowcount", 0):
            taken.append(page)
    return taken


def release(session: Session, urls: Sequence[str], now: datetime) -> None:
    """A stopped crawl gives back the pages at ``urls`` it took (those it stored are gone already): due at ``now``,
    the attempt not counted."""
    for chunk in in_chunks(urls):
        session.execute(update(PendingArticle).where(PendingArticle.url.in_(list(chunk)),
                                                     PendingArticle.attempts > 0)
                        .values(not_before=now, attempts=PendingArticle.attempts - 1))


def done(session: Session, urls: Iterable[str]) -> None:
    """Forget the pages at ``urls``: stored (a document: read), or given up."""
    for chunk in in_chunks(list(urls)):
        session.execute(delete(PendingArticle).where(PendingArticle.url.in_(chunk)))
