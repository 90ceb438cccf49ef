"""The crawl's view of the database: blocking repository calls run in worker threads, never on the loop.

In a dry run every read works as usual and every write is skipped, so ``crawl --dry-run`` stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from analysis.diff import diff_versions
from analysis.types import Topic
from crawler.processing import FetchedPage, ProcessedPage, process_page
from crawler.types import CrawlOptions
from db import repository as repo
from db.engine import Database
from db.repository import StoreOptions

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class PageResult:
    """What happened to one article page: ``new``, ``new_offtopic``, ``changed`` or ``unchanged``."""

    page: ProcessedPage
    action: str
    stored: repo.StoreOutcome | None = None


class CrawlStore:
    """Async access to the repository for one crawl."""

    def __init__(self, db: Database, options: CrawlOptions, topic: Topic, *, dry_run: bool = False) -> None:
        self.db = db
        self.topic = topic
        self.dry_run = dry_run
        self.store_options = StoreOptions(revisit=options.revisit, keep_raw=options.keep_raw)

    async def known_urls(self, urls: Sequence[str]) -> set[str]:
        """Which URLs already lead to a stored article."""
        return await asyncio.to_thread(self._read, repo.known_urls, urls)

    async def validators(self, urls: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """Stored validators of the given URLs."""
        return await asyncio.to_thread(self._read, repo.validators_for, urls)

    async def not_modified(self, article_id: int, now: datetime) -> None:
        """A re-check answered 304: nothing to parse, only the schedule moves on."""
        if not self.dry_run:
            await asyncio.to_thread(self._write, repo.record_not_modified, article_id, now,
                                    self.store_options.revisit)

    async def store_page(self, page: FetchedPage) -> PageResult:
        """Extract, score and store one article page in a worker thread. Raises ExtractionError."""
        return await asyncio.to_thread(self._store_page, page)

    def _store_page(self, page: FetchedPage) -> PageResult:
        processed = process_page(page, self.topic)
        fetch = processed.to_fetch(page)
        if self.dry_run:
            action = self._read(repo.classify_article, fetch.doc.canonical_url, fetch.content_hash)
            return PageResult(processed, action)
        with self.db.write() as session:
            stored = repo.store_article(session, fetch, self.store_options, diff_versions)
            repo.save_validators(session, fetch.doc.canonical_url, page.headers.get("etag"),
                                 page.headers.get("last-modified"))
        return PageResult(processed, stored.action, stored)

    def _read(self, func: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        with self.db.read() as session:
            return func(session, *args, **kwargs)

    def _write(self, func: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        with self.db.write() as session:
            return func(session, *args, **kwargs)
