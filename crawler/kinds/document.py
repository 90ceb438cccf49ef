"""The ``document`` source kind: one PDF or DOCX document at a fixed URL, watched for revisions."""

from __future__ import annotations

from crawler.documents import sniff
from crawler.kinds.base import DEFAULT_LIMITS, DiscoveredLink, ParseLimits, ParseResult, SourceKind, SourceParseError
from crawler.types import SourceSpec


class DocumentKind(SourceKind):
    """One PDF or DOCX document (a report re-posted at the same URL); each poll that finds it changed stores a new
    version of it, with its sentence diff."""

    name = "document"

    def parse(self, body: bytes, url: str, content_type: str | None, spec: SourceSpec, depth: int,
              limits: ParseLimits = DEFAULT_LIMITS) -> ParseResult:
        """The document itself is the one article: the spider extracts this response as it is (no second fetch)."""
        if not body.strip():
            raise SourceParseError("empty", "the document is empty")
        if sniff(body) is None:
            raise SourceParseError("not_a_document", f"{url} is not a PDF or DOCX document "
                                                     f"(Content-Type {content_type or 'none'})")
        return ParseResult(links=(DiscoveredLink(url=url, language=spec.language),))
