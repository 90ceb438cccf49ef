"""From a fetched article response to what the store needs: extraction, relevance, content hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from analysis.relevance import score_relevance
from analysis.text import content_hash
from analysis.types import ArticleDoc, Relevance, Topic
from crawler.extract import extract_article
from db.repository import ArticleFetch, RawCapture


@dataclass(frozen=True)
class FetchedPage:
    """An article response handed from the spider to the store pipeline."""

    source_id: str | None
    url: str
    discovered_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    text: str
    fetched_at: datetime
    language_hint: str | None = None
    link_title: str | None = None
    article_id: int | None = None


@dataclass(frozen=True)
class ProcessedPage:
    """The extracted article, its topic score and the hash that decides whether it changed."""

    doc: ArticleDoc
    relevance: Relevance
    content_hash: str

    def to_fetch(self, page: FetchedPage) -> ArticleFetch:
        """The repository's input for storing this page."""
        raw = RawCapture(url=page.url, status=page.status, headers=page.headers, body=page.body,
                         fetched_at=page.fetched_at)
        aliases = tuple(url for url in {page.url} if url not in (page.discovered_url, self.doc.canonical_url))
        return ArticleFetch(doc=self.doc, relevance=self.relevance, content_hash=self.content_hash, raw=raw,
                            source_id=page.source_id, discovered_url=page.discovered_url, aliases=aliases)


def process_page(page: FetchedPage, topic: Topic) -> ProcessedPage:
    """Extract and score one page (CPU-bound: call it in a worker thread). Raises ExtractionError."""
    doc = extract_article(page.text, page.url, page.language_hint)
    relevance = score_relevance(doc.title, doc.text, topic)
    return ProcessedPage(doc=doc, relevance=relevance, content_hash=content_hash(doc.title, doc.text))
