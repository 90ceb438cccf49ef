"""The item pipeline: every fetched article page is extracted, scored and stored (off the event loop)."""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.crawler import Crawler

from crawler.extract import ExtractionError
from crawler.ledger import FoundArticle
from crawler.processing import FetchedPage
from crawler.store import StoreClosedError
from crawler.workers import ProcessingTimeoutError
from db.engine import database_unavailable, error_summary

logger = logging.getLogger(__name__)


class StorePipeline:
    """Hands each ``FetchedPage`` to the crawl's store and records the outcome in the ledger.

    One failing article is recorded on its source and never stops the crawl."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        spider: Any = self.crawler.spider
        ledger, store = spider.ledger, spider.store
        try:
            result = await store.store_page(item)
        except ProcessingTimeoutError as exc:
            ledger.article_failed(item.source_id, item.url, "extract_timeout", str(exc), item.article_id)
            return item
        except ExtractionError as exc:
            ledger.article_failed(item.source_id, item.url, exc.code, str(exc), item.article_id)
            return item
        except StoreClosedError as exc:
            # No outcome: the source's validators are not saved and the page comes again next poll.
            ledger.article_abandoned(item.source_id, item.url, str(exc))
            return item
        except Exception as exc:  # isolation boundary: one article
            if database_unavailable(exc):
                # An outage fails every page the same way: one line each, no traceback per page.
                logger.error("storing %s failed: the database is unavailable: %s", item.url, error_summary(exc))
            else:
                logger.exception("storing %s failed", item.url)
            ledger.article_failed(item.source_id, item.url, "store_failed", error_summary(exc, 500),
                                  item.article_id)
            return item
        ledger.article_done(item.source_id, item.article_id)
        ledger.counts[f"articles_{result.action}"] += 1
        for notice in result.notices:  # canonical URLs ignored, pages folded into another article
            ledger.error(item.source_id, item.url, notice.code, notice.message, severity=notice.severity)
        if result.action in ("new", "changed"):
            for sentence in result.page.matches:
                ledger.counts[f"claims_{sentence.match.label}"] += 1
        doc, relevance = result.page.doc, result.page.relevance
        ledger.found.append(FoundArticle(source_id=item.source_id, url=doc.canonical_url, title=doc.title,
                                         relevant=relevance.relevant, score=relevance.score, action=result.action))
        return item
