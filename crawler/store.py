"""The crawl's view of the database: blocking repository calls run in worker threads, never on the loop.

In a dry run every read works as usual and every write is skipped, so ``crawl --dry-run`` stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
        # One writer thread: concurrent writers would only queue on the database's write lock (SQLite
        # sleeps in its busy handler while it waits); extraction still runs in parallel beside it.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labourwatch-db-writer")

    def close(self) -> None:
        """Finish pending writes and stop the writer thread."""
        self._writer.shutdown(wait=True)

    async def known_urls(self, urls: Sequence[str]) -> set[str]:
        """Which URLs already lead to a stored article."""
        return await asyncio.to_thread(self._read, repo.known_urls, urls)

    async def validators(self, urls: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """Stored validators of the given URLs."""
        return await asyncio.to_thread(self._read, repo.validators_for, urls)

    async def store_page(self, page: FetchedPage) -> PageResult:
        """Extract and score one article page in a worker thread, then store it in the writer thread.

        Raises ExtractionError."""
        processed = await asyncio.to_thread(process_page, page, self.topic)
        if self.dry_run:
            fetch = processed.to_fetch(page)
            action = await asyncio.to_thread(self._read, repo.classify_article, fetch.doc.canonical_url,
                                             fetch.content_hash)
            return PageResult(processed, action)
        return await self._in_writer(self._store_processed, page, processed)

    async def _in_writer(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: func(*args, **kwargs))

    def _store_processed(self, page: FetchedPage, processed: ProcessedPage) -> PageResult:
        fetch = processed.to_fetch(page)
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
