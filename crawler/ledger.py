"""What one crawl found and what went wrong, collected in memory and written once at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# An article that is gone will not come back by retrying; everything else may.
# A document refused for what it is (encrypted, too large, too many pages, broken) fails the same way until it is
# replaced, which a changed ETag shows.
PERMANENT_ARTICLE_ERRORS = frozenset({"http_404", "http_410", "not_html", "blocked_address", "robots_disallowed",
                                      "document_encrypted", "document_too_large", "document_too_many_pages",
                                      "document_malformed"})
# A re-check answering one of these means the page was removed: it is marked gone and never re-checked again.
GONE_ERRORS = frozenset({"http_404", "http_410"})
# The code a source fails with when most of its article pages failed (store, extraction, fetch) in one crawl.
ARTICLES_FAILING = "articles_failing"
# A source's article pages fail systematically when at least this many had an outcome and more than half of
# them failed with a non-permanent error: below it, one bad page among two is not a pattern.
SYSTEMATIC_MIN_PAGES = 3


@dataclass
class SourceResult:
    """The outcome of polling one source."""

    source_id: str
    ok: bool | None = None
    not_modified: bool = False
    documents: int = 0
    items: int = 0
    new: int = 0
    error_code: str | None = None
    error: str | None = None
    follow_urls: list[str] | None = None
    # Validators of the documents parsed this run; saved at the end only when every new article it led to
    # was fetched and none failed, so a page not stored is fetched next poll instead of hiding behind a 304.
    validators: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    # Links left for the next poll (more than max_articles_per_source, or a document that broke while its
    # links were read): a 304 must not hide them, so this run's validators are not saved.
    incomplete: bool = False


@dataclass
class PageTally:
    """The article pages of one source in one crawl (new ones and re-checks) that reached an outcome."""

    pages: int = 0
    new_finished: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # non-permanent failures by code
    examples: dict[str, str] = field(default_factory=dict)  # the first message of each code
    first_failed_url: str = ""

    @property
    def failed(self) -> int:
        """Pages that failed with a non-permanent error."""
        return sum(self.failures.values())

    def systematic(self) -> str | None:
        """Why this source's article pages fail systematically (most of them, with non-permanent errors), or
        None; the message names the dominant cause."""
        if self.pages < SYSTEMATIC_MIN_PAGES or 2 * self.failed <= self.pages:
            return None
        code, _ = self.failures.most_common(1)[0]
        return f"{self.failed} of {self.pages} article pages failed: {code}: {self.examples[code]}"[:1000]


@dataclass(frozen=True)
class ErrorRecord:
    """One problem, attached to its source."""

    source_id: str | None
    url: str
    code: str
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class FoundArticle:
    """An article the crawl fetched, and what storing it did (or would do, in a dry run)."""

    source_id: str | None
    url: str
    title: str
    relevant: bool
    score: float
    action: str


def http_status(code: str) -> int | None:
    """The HTTP status of an error code such as ``http_503``; None for other codes (timeouts, ...)."""
    prefix, _, number = code.partition("_")
    return int(number) if prefix == "http" and number.isdigit() else None


@dataclass
class CrawlLedger:
    """Per-source results, errors, counters and found articles of one crawl."""

    sources: dict[str, SourceResult] = field(default_factory=dict)
    # Sources not polled in this crawl whose documents it read for them (child sitemaps another key's crawl left
    # to this key's, ``db.pending``): their links, errors and validators, not a poll of the source.
    followed: dict[str, SourceResult] = field(default_factory=dict)
    documents_read: list[str] = field(default_factory=list)  # pending documents read (their rows go at the end)
    errors: list[ErrorRecord] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    found: list[FoundArticle] = field(default_factory=list)
    # Article pages by source (None: articles whose source is gone), polled or not in this crawl.
    pages: dict[str | None, PageTally] = field(default_factory=dict)
    # Re-checks answered 304, and re-checks that failed (article id -> error code): recorded together in the
    # end-of-crawl transaction, not one write each.
    not_modified_articles: list[int] = field(default_factory=list)
    failed_rechecks: dict[int, str] = field(default_factory=dict)
    on_progress: Callable[[str], None] | None = None

    def source(self, source_id: str) -> SourceResult:
        """The result record of a source, created on first use."""
        if source_id not in self.sources:
            self.sources[source_id] = SourceResult(source_id)
        return self.sources[source_id]

    def followed_source(self, source_id: str) -> SourceResult:
        """The record of the documents this crawl read for a source it does not poll, created on first use."""
        if source_id not in self.followed:
            self.followed[source_id] = SourceResult(source_id)
        return self.followed[source_id]

    def tally(self, source_id: str | None) -> PageTally:
        """The article-page tally of a source, created on first use."""
        if source_id not in self.pages:
            self.pages[source_id] = PageTally()
        return self.pages[source_id]

    def error(self, source_id: str | None, url: str, code: str, message: str, severity: str = "error") -> None:
        """Record a problem and count it."""
        self.errors.append(ErrorRecord(source_id, url, code, message, severity))
        self.counts[f"{severity}s"] += 1

    def article_done(self, source_id: str | None, article_id: int | None, *, not_modified: bool = False) -> None:
        """An article page was answered and handled: stored, found unchanged or not modified."""
        if not_modified and article_id is not None:
            self.not_modified_articles.append(article_id)
        self._finished(source_id, article_id)

    def article_failed(self, source_id: str | None, url: str, code: str, message: str,
                       article_id: int | None = None) -> None:
        """Record a failed article page (``article_id``: a re-check); unless the failure is permanent, its
        source is polled afresh next time and the failure counts towards a systematic one."""
        self.error(source_id, url, code, message)
        tally = self._finished(source_id, article_id)
        if code not in PERMANENT_ARTICLE_ERRORS:
            tally.failures[code] += 1
            tally.examples.setdefault(code, message)
            tally.first_failed_url = tally.first_failed_url or url
        if article_id is not None:
            self.failed_rechecks[article_id] = code

    def documents_deferred(self, count: int) -> None:
        """``count`` documents of a polled source (child sitemaps) were left, durably, to the crawl of their own
        politeness key (``db.pending``), which reads them for the source."""
        self.counts["documents_deferred"] += count

    def articles_deferred(self, source_id: str, count: int) -> None:
        """``count`` new article pages of a polled source were left, durably, to the crawl of their own politeness
        key (``db.pending``): an outcome for this crawl, so they do not keep its validators from being saved."""
        self.counts["articles_deferred"] += count
        self.tally(source_id).new_finished += count

    def article_abandoned(self, source_id: str | None, url: str, message: str) -> None:
        """A page the crawl stopped before storing: a warning, and no outcome, so its source's validators are
        not saved and the page comes again next poll."""
        self.error(source_id, url, "abandoned", message, severity="warning")

    def _finished(self, source_id: str | None, article_id: int | None) -> PageTally:
        tally = self.tally(source_id)
        tally.pages += 1
        if article_id is None:
            tally.new_finished += 1
        return tally

    def complete(self, source_id: str, *, followed: bool = False) -> bool:
        """Whether every new article a polled source (``followed``: the documents read for a source not polled)
        led to reached an outcome and none failed for a reason that may pass: only then may its documents'
        validators be saved."""
        tally = self.pages.get(source_id, PageTally())
        result = self.followed_source(source_id) if followed else self.source(source_id)
        return not tally.failed and not result.incomplete and tally.new_finished >= result.new

    def judge_articles(self) -> dict[str, str]:
        """Sources whose article pages failed systematically in this crawl, with why, each recorded as an
        ``articles_failing`` error; a polled source that answered fails with it (a source whose own document
        failed keeps that error)."""
        failing = {}
        for source_id, tally in self.pages.items():
            reason = tally.systematic()
            if source_id is None or reason is None:
                continue
            failing[source_id] = reason
            self.error(source_id, tally.first_failed_url, ARTICLES_FAILING, reason)
            result = self.sources.get(source_id)
            if result is not None and result.ok:
                result.ok, result.error_code, result.error = False, ARTICLES_FAILING, reason
        return failing

    def source_failed(self, source_id: str, code: str, message: str) -> None:
        """The source's own document could not be fetched or used."""
        result = self.source(source_id)
        if result.ok is None:
            result.ok, result.error_code, result.error = False, code, message
            self._progress(source_id)

    def source_succeeded(self, source_id: str) -> None:
        """The source's own document was fetched (or not modified) and parsed."""
        result = self.source(source_id)
        if result.ok is None:
            result.ok = True
            self._progress(source_id)

    def _progress(self, label: str) -> None:
        if self.on_progress is not None:
            self.on_progress(label)
