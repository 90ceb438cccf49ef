"""From a fetched article response to what the store needs: extraction, relevance, content hash."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from analysis import nearcopy
from analysis.claims.grouping import ClaimKey, claim_key
from analysis.claims.sentences import KnownClaims, SentenceMatch, match_article
from analysis.relevance import matcher_for
from analysis.text import content_hash
from analysis.types import ArticleDoc, Relevance, Topic
from analysis.urls import canonicalise_url, same_site
from crawler.documents import DocumentFetch, extract_document
from crawler.extract import extract_article
from db.repository import CANONICAL_HOMEPAGE, CANONICAL_OFFSITE, ArticleFetch, Notice, RawCapture


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
    previous_hash: str | None = None  # a re-check's stored content hash: unchanged text is not matched again
    document: DocumentFetch | None = None  # a PDF or DOCX: extracted from ``body``, not from ``text``
    pending: bool = False  # found by a crawl of another politeness key (``db.pending``): its row goes when stored
    baseline: bool = False  # found by its source's baseline poll (a pending page): stored without story alerts


@dataclass(frozen=True)
class ProcessedPage:
    """The extracted article, its topic score and the hash that decides whether it changed."""

    doc: ArticleDoc
    relevance: Relevance
    content_hash: str
    matches: tuple[SentenceMatch, ...] = ()
    claims_digest: str | None = None
    notices: tuple[Notice, ...] = ()
    sketch: nearcopy.TextSketch | None = None  # what copies of other outlets' articles are found by (db.copies)
    # The keys of its new claims about the workers, by sentence index: made here, where the matcher has analysed
    # the sentences already, rather than analysed again by the database writer (db.candidates groups by them).
    claim_keys: tuple[tuple[int, ClaimKey], ...] = ()

    def to_fetch(self, page: FetchedPage) -> ArticleFetch:
        """The repository's input for storing this page."""
        raw = RawCapture(url=page.url, status=page.status, headers=page.headers, body=page.body,
                         fetched_at=page.fetched_at)
        aliases = tuple(url for url in {page.url} if url not in (page.discovered_url, self.doc.canonical_url))
        return ArticleFetch(doc=self.doc, relevance=self.relevance, content_hash=self.content_hash, raw=raw,
                            source_id=page.source_id, discovered_url=page.discovered_url, aliases=aliases,
                            matches=self.matches, claims_digest=self.claims_digest, article_id=page.article_id)


def trusted_canonical(doc: ArticleDoc, page_url: str) -> tuple[ArticleDoc, tuple[Notice, ...]]:
    """``doc`` with its canonical URL trusted only within the page's own site (registrable domain): a page
    that names a URL of another site keeps its own URL, with a ``canonical_offsite`` notice. A page may say
    which of its site's URLs it is, never that it is another site's article."""
    own = canonicalise_url(page_url)
    if not same_site(doc.canonical_url, page_url):
        notice = Notice(CANONICAL_OFFSITE, f"{page_url} names {doc.canonical_url} on another site as its "
                                           f"canonical URL: ignored, the page is kept under its own URL {own}")
        return replace(doc, canonical_url=own), (notice,)
    if _is_home(doc.canonical_url) and not _is_home(own):
        notice = Notice(CANONICAL_HOMEPAGE, f"{page_url} names its site's home page {doc.canonical_url} as its "
                                            f"canonical URL: ignored, the page is kept under its own URL {own}")
        return replace(doc, canonical_url=own), (notice,)
    return doc, ()


def _is_home(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def _extract(page: FetchedPage) -> ArticleDoc:
    """The article of a page, or of a document: after this, both take the same path."""
    if page.document is None:
        return extract_article(page.text, page.url, page.language_hint)
    return extract_document(page.body, page.url, page.document.kind, max_pages=page.document.max_pages,
                            max_size=page.document.max_size, language_hint=page.language_hint)


def process_page(page: FetchedPage, topic: Topic, claims: KnownClaims | None = None) -> ProcessedPage:
    """Extract and score one page, and match the claim sentences of a relevant one against ``claims``
    (CPU-bound: call it in a worker thread). Raises ExtractionError."""
    doc, notices = trusted_canonical(_extract(page), page.url)
    topic_matcher = matcher_for(topic)
    relevance = topic_matcher.score(doc.title, doc.text)
    digest = content_hash(doc.title, doc.text)
    if not relevance.relevant or digest == page.previous_hash:
        return ProcessedPage(doc=doc, relevance=relevance, content_hash=digest, notices=notices)
    # Sketched and matched here, before the store knows whether the text changed: an unchanged page's are thrown
    # away, but the writer thread never waits for them. analysis.minhash (numpy) is imported here, in the workers
    # (their fork server preloads it), never by the daemon's process, which imports this module too.
    from analysis import minhash

    sketch = minhash.sketch(doc.text)
    if claims is None:
        return ProcessedPage(doc=doc, relevance=relevance, content_hash=digest, notices=notices, sketch=sketch)
    matches = tuple(match_article(doc.text, topic_matcher, claims.matcher, doc.title))
    keys = tuple((m.index, claim_key(m.sentence)) for m in matches if m.on_subject and m.match.label == "new")
    return ProcessedPage(doc=doc, relevance=relevance, content_hash=digest, matches=matches,
                         claims_digest=claims.digest, notices=notices, sketch=sketch, claim_keys=keys)
