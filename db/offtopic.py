"""What is kept of an off-topic page, and for how long.

The crawl stores an off-topic page as an ``articles`` row (title, terms, score; no version, no raw response, no
re-check) with its URLs in ``article_urls``, so the link is never fetched as new again. That row costs about
0.8 KB of database (the URL is stored four times over, with its indexes). Once it is older than
``crawl.offtopic_retention`` the prune job compacts it: the article and its URL rows are deleted and each URL is
kept as an 8-byte key in ``offtopic_links`` (a digest: the URL itself is not needed to recognise it again). A key is
deleted in turn once it is older than ``crawl.offtopic_link_retention``; a link seen again after that is fetched
once more (and, still off-topic, remembered again).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Executable, delete, select
from sqlalchemy.orm import Session

from db.chunks import in_chunks
from db.engine import Database
from db.models import Article, ArticleUrl, OfftopicLink
from db.upsert import dialect_insert

BATCH = 2_000  # off-topic articles compacted per transaction: a writer never waits long for the prune


def link_key(url: str) -> int:
    """The key an off-topic URL is kept under: the first 8 bytes of its BLAKE2b digest, as a signed 64-bit
    integer (two of a million kept URLs share a key with a chance of about 3 in 100 million)."""
    return int.from_bytes(hashlib.blake2b(url.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def remembered(session: Session, urls: Iterable[str]) -> set[str]:
    """Which of ``urls`` are kept as keys of pruned off-topic articles."""
    by_key: dict[int, list[str]] = {}
    for url in set(urls):
        by_key.setdefault(link_key(url), []).append(url)
    keys, found = list(by_key), set()
    for chunk in in_chunks(keys):
        for key in session.scalars(select(OfftopicLink.key).where(OfftopicLink.key.in_(chunk))):
            found.update(by_key[key])
    return found


@functools.cache
def _insert_links(dialect: str) -> Executable:
    # A URL may be kept already (an off-topic page stored again after its key was kept): the first key stays.
    return dialect_insert(dialect, OfftopicLink).on_conflict_do_nothing(index_elements=["key"])


def compact_batch(session: Session, before: datetime, limit: int = BATCH) -> int:
    """Compact up to ``limit`` off-topic articles first seen before ``before``, oldest first: keep their URLs as
    keys, delete the articles (their URL rows go with them). Returns how many were compacted."""
    rows = session.execute(select(Article.id, Article.first_seen_at)
                           .where(Article.relevant.is_(False), Article.first_seen_at < before)
                           .order_by(Article.id).limit(limit)).all()
    if not rows:
        return 0
    seen = {article_id: at for article_id, at in rows}
    links = {link_key(url): seen[article_id] for url, article_id in session.execute(
        select(ArticleUrl.url, ArticleUrl.article_id).where(ArticleUrl.article_id.in_(list(seen))))}
    conn = session.connection()
    if links:
        conn.execute(_insert_links(conn.dialect.name), [{"key": k, "seen_at": at} for k, at in links.items()])
    session.execute(delete(Article).where(Article.id.in_(list(seen))).execution_options(synchronize_session=False))
    return len(rows)


def prune_links(session: Session, before: datetime) -> int:
    """Forget the kept keys first seen before ``before``; returns how many."""
    result = session.execute(delete(OfftopicLink).where(OfftopicLink.seen_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def prune(db: Database, *, rows_before: datetime | None, links_before: datetime | None,
          stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Compact the off-topic articles first seen before ``rows_before`` (a transaction per ``BATCH``, until none
    is left or ``stop()`` says so), then forget the keys first seen before ``links_before``; None skips a step.
    Returns how many articles were compacted and how many keys forgotten."""
    counts = {"offtopic_compacted": 0, "offtopic_links_forgotten": 0}
    if rows_before is not None:
        while not stop() and (done := db.in_write(compact_batch, rows_before)):
            counts["offtopic_compacted"] += done
    if links_before is not None:
        counts["offtopic_links_forgotten"] = db.in_write(prune_links, links_before)
    return counts
