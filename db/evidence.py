"""The stored evidence of article versions, read for export: each version's raw HTTP response (decompressed)
with what identifies the version, selected by article, source and fetch time, in version id order.

Reads go in batches (``captures_after``), each one short read, so an export of a whole database never holds
more than one batch of bodies in memory, nor one transaction open while it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db import rawbody
from db.models import Article, ArticleVersion, RawResponse, Source

BATCH = 50
Ts = TypeVarTuple("Ts")


class EvidenceSelectionError(LookupError):
    """What was asked for does not exist (an unknown article or source id)."""


@dataclass(frozen=True)
class EvidenceSelection:
    """Which versions to export: of one article, of one source, fetched at or after ``since`` and before
    ``until`` (aware datetimes); every criterion given must hold, none given means every stored version."""

    article_id: int | None = None
    source_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def describe(self) -> str:
        """The selection in words, for the export's warcinfo record."""
        parts = [f"article {self.article_id}" if self.article_id is not None else "",
                 f"source {self.source_id}" if self.source_id is not None else "",
                 f"fetched since {self.since.isoformat()}" if self.since else "",
                 f"fetched before {self.until.isoformat()}" if self.until else ""]
        return ", ".join(p for p in parts if p) or "every stored version"


@dataclass(frozen=True)
class NotModified:
    """A re-check of the article that answered 304 after its latest version was fetched: when, and the URL asked."""

    at: datetime
    url: str


@dataclass(frozen=True)
class Capture:
    """One article version and the raw response it was extracted from (``body`` as fetched, decoded)."""

    version_id: int
    article_id: int
    number: int
    source_id: str | None
    content_hash: str
    url: str
    status: int
    headers: dict[str, Any]
    body: bytes
    sha256: str
    fetched_at: datetime
    # Only on the article's latest version, and only when the article's last re-check answered 304.
    not_modified: NotModified | None = None


def check_selection(session: Session, selection: EvidenceSelection) -> None:
    """Raise EvidenceSelectionError when the selection names an article or source that is not stored."""
    if selection.article_id is not None and (
            selection.article_id >= 2**31 or session.get(Article, selection.article_id) is None):
        raise EvidenceSelectionError(f"no article {selection.article_id}")
    if selection.source_id is not None and session.get(Source, selection.source_id) is None:
        raise EvidenceSelectionError(f"no source {selection.source_id!r}")


def _where(query: Select[*Ts], selection: EvidenceSelection) -> Select[*Ts]:
    if selection.article_id is not None:
        query = query.where(ArticleVersion.article_id == selection.article_id)
    if selection.source_id is not None:
        query = query.where(Article.source_id == selection.source_id)
    if selection.since is not None:
        query = query.where(RawResponse.fetched_at >= selection.since)
    if selection.until is not None:
        query = query.where(RawResponse.fetched_at < selection.until)
    return query


def _joined(query: Select[*Ts]) -> Select[*Ts]:
    return (query.join(ArticleVersion, ArticleVersion.id == RawResponse.version_id)
            .join(Article, Article.id == ArticleVersion.article_id))


def count_captures(session: Session, selection: EvidenceSelection) -> int:
    """How many selected versions have their raw response stored."""
    return session.scalar(_where(_joined(select(func.count()).select_from(RawResponse)), selection)) or 0


def last_version_id(session: Session, selection: EvidenceSelection) -> int:
    """The highest selected version id now (0 when none): an export stops there, whatever is stored meanwhile."""
    return session.scalar(_where(_joined(select(func.max(RawResponse.version_id))), selection)) or 0


def captures_after(session: Session, selection: EvidenceSelection, after: int, up_to: int,
                   limit: int = BATCH) -> list[Capture]:
    """The selected captures with version ids above ``after`` and at most ``up_to``, at most ``limit``."""
    query = _where(_joined(select(RawResponse, ArticleVersion, Article)), selection)
    query = (query.where(RawResponse.version_id > after, RawResponse.version_id <= up_to)
             .order_by(RawResponse.version_id).limit(limit))
    return [_capture(raw, version, article, selection) for raw, version, article in session.execute(query)]


def _capture(raw: RawResponse, version: ArticleVersion, article: Article, selection: EvidenceSelection) -> Capture:
    return Capture(
        version_id=version.id, article_id=article.id, number=version.number, source_id=article.source_id,
        content_hash=version.content_hash, url=raw.url, status=raw.status, headers=dict(raw.headers),
        body=rawbody.unpack(raw.body, raw.compression), sha256=raw.sha256, fetched_at=raw.fetched_at,
        not_modified=_not_modified(version, article, selection))


def _not_modified(version: ArticleVersion, article: Article, selection: EvidenceSelection) -> NotModified | None:
    # The database keeps only the outcome of an article's *last* check (``last_status``, ``last_checked_at``);
    # earlier 304s are counted in ``check_count`` and otherwise forgotten. So one 304 at most, and only after the
    # latest version: a 304 then means the page was still that version's. The re-check asked ``article.url``
    # (the URL the source led to), with the validators of the last fetch.
    if version.number != article.version_count or article.last_status != 304 or article.last_checked_at is None:
        return None
    if article.last_checked_at <= version.fetched_at:
        return None
    if selection.until is not None and article.last_checked_at >= selection.until:
        return None
    return NotModified(at=article.last_checked_at, url=article.url)
