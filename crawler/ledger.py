"""What one crawl found and what went wrong, collected in memory and written once at the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# An article that is gone will not come back by retrying; everything else may.
PERMANENT_ARTICLE_ERRORS = frozenset({"http_404", "http_410", "not_html", "blocked_address", "robots_disallowed"})


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
    # Validators of the documents parsed this run; saved at the end only when none of the source's new
    # articles failed, so a transient failure is retried next poll instead of hiding behind a 304.
    validators: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    article_failures: int = 0


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


@dataclass
class CrawlLedger:
    """Per-source results, errors, counters and found articles of one crawl."""

    sources: dict[str, SourceResult] = field(default_factory=dict)
    errors: list[ErrorRecord] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    found: list[FoundArticle] = field(default_factory=list)
    # Re-checks answered 304: recorded together in the end-of-crawl transaction, not one write each.
    not_modified_articles: list[int] = field(default_factory=list)
    on_progress: Callable[[str], None] | None = None

    def source(self, source_id: str) -> SourceResult:
        """The result record of a source, created on first use."""
        if source_id not in self.sources:
            self.sources[source_id] = SourceResult(source_id)
        return self.sources[source_id]

    def error(self, source_id: str | None, url: str, code: str, message: str, severity: str = "error") -> None:
        """Record a problem and count it."""
        self.errors.append(ErrorRecord(source_id, url, code, message, severity))
        self.counts[f"{severity}s"] += 1

    def article_failed(self, source_id: str | None, url: str, code: str, message: str,
                       severity: str = "error") -> None:
        """Record a failed article; unless the failure is permanent, its source is polled afresh next time."""
        self.error(source_id, url, code, message, severity)
        if source_id is not None and code not in PERMANENT_ARTICLE_ERRORS:
            self.source(source_id).article_failures += 1

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
