"""Read-side queries for the CLI and (later) the web UI: sources with health, articles, versions, diffs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import positions
from db import rawbody
from db.models import Article, ArticleUrl, ArticleVersion, FetchError, RawResponse, Source, VersionDiffRow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def source_rows(session: Session) -> list[dict[str, Any]]:
    """Every source with its health, in id order."""
    rows = []
    for source in session.scalars(select(Source).order_by(Source.id)):
        rows.append({
            "id": source.id, "kind": source.kind, "url": source.url, "name": source.name,
            "enabled": source.enabled, "last_polled_at": _iso(source.last_polled_at),
            "last_success_at": _iso(source.last_success_at), "last_error_at": _iso(source.last_error_at),
            "last_error_code": source.last_error_code, "last_error": source.last_error,
            "consecutive_failures": source.consecutive_failures, "items_last_run": source.items_last_run,
            "new_last_run": source.new_last_run, "not_modified_last_run": source.not_modified_last_run,
            "next_poll_at": _iso(source.next_poll_at), "created_at": _iso(source.created_at),
        })
    return rows


def recent_errors(session: Session, source_id: str | None = None, limit: int | None = 20) -> list[dict[str, Any]]:
    """The newest recorded problems, optionally of one source."""
    query = select(FetchError).order_by(FetchError.id.desc())
    if source_id:
        query = query.where(FetchError.source_id == source_id)
    if limit:
        query = query.limit(limit)
    return [{"id": e.id, "source_id": e.source_id, "url": e.url, "code": e.code, "message": e.message,
             "severity": e.severity, "at": _iso(e.at), "crawl_run_id": e.crawl_run_id}
            for e in session.scalars(query)]


def article_row(article: Article) -> dict[str, Any]:
    """An article's list row (no versions), as ``articles list`` and the web UI show it."""
    return {
        "id": article.id, "url": article.canonical_url, "source_id": article.source_id, "title": article.title,
        "language": article.language, "published_at": _iso(article.published_at), "relevant": article.relevant,
        "relevance_score": round(article.relevance_score, 3), "matched_terms": article.matched_terms,
        "versions": article.version_count, "first_seen_at": _iso(article.first_seen_at),
        "last_checked_at": _iso(article.last_checked_at), "next_check_at": _iso(article.next_check_at),
        "gone_at": _iso(article.gone_at),
    }


def article_rows(session: Session, *, source_id: str | None = None, relevant: bool | None = True,
                 limit: int | None = None) -> list[dict[str, Any]]:
    """Articles, newest first; by default only the on-topic ones."""
    query = select(Article).order_by(Article.first_seen_at.desc(), Article.id.desc())
    if source_id:
        query = query.where(Article.source_id == source_id)
    if relevant is not None:
        query = query.where(Article.relevant.is_(relevant))
    if limit:
        query = query.limit(limit)
    return [article_row(a) for a in session.scalars(query)]


def article_detail(session: Session, article_id: int) -> dict[str, Any] | None:
    """One article with its versions (text included) and the ids of its diffs."""
    article = session.get(Article, article_id)
    if article is None:
        return None
    row = article_row(article)
    raw_sizes = {version_id: size for version_id, size in session.execute(
        select(RawResponse.version_id, RawResponse.size)
        .join(ArticleVersion, ArticleVersion.id == RawResponse.version_id)
        .where(ArticleVersion.article_id == article_id))}
    row["versions"] = [{
        "id": v.id, "number": v.number, "fetched_at": _iso(v.fetched_at), "title": v.title, "byline": v.byline,
        "published_at": _iso(v.published_at), "modified_at": _iso(v.modified_at), "language": v.language,
        "content_hash": v.content_hash, "text": v.text, "raw_size": raw_sizes.get(v.id),
    } for v in article.versions]
    row["diffs"] = list(session.scalars(select(VersionDiffRow.id).where(VersionDiffRow.article_id == article_id)
                                        .order_by(VersionDiffRow.id)))
    # Every URL that led to this article and the source that reached it there: two sources or links folded
    # into one article (the same canonical URL) are visible here.
    row["found_at"] = article.url
    row["urls"] = [{"url": u.url, "source_id": u.source_id, "seen_at": _iso(u.seen_at)} for u in session.scalars(
        select(ArticleUrl).where(ArticleUrl.article_id == article_id).order_by(ArticleUrl.seen_at, ArticleUrl.url))]
    return row


def diff_positions(diff: VersionDiffRow) -> dict[str, list[str | None]]:
    """Where a diff's sentences are in a document, as lists parallel to its ``added`` and ``removed`` sentences:
    "p. 3", "¶ 12", or None (a web page's sentence, or a diff stored before positions were)."""
    return {"added_positions": positions.diff_labels(diff.positions, "added", len(diff.added)),
            "removed_positions": positions.diff_labels(diff.positions, "removed", len(diff.removed))}


def diff_row(diff: VersionDiffRow, article: Article) -> dict[str, Any]:
    """A diff's list row with its article's URL and source, as ``diffs list`` and the web UI show it."""
    return {
        "id": diff.id, "article_id": diff.article_id, "url": article.canonical_url, "source_id": article.source_id,
        "title": diff.title_after, "title_before": diff.title_before, "changed": diff.changed,
        "added": diff.added, "removed": diff.removed, **diff_positions(diff), "figures_before": diff.figures_before,
        "figures_after": diff.figures_after, "from_version_id": diff.from_version_id,
        "to_version_id": diff.to_version_id, "created_at": _iso(diff.created_at),
    }


def diff_rows(session: Session, *, article_id: int | None = None, source_id: str | None = None,
              limit: int | None = None) -> list[dict[str, Any]]:
    """Stored diffs, newest first."""
    query = (select(VersionDiffRow, Article).join(Article, Article.id == VersionDiffRow.article_id)
             .order_by(VersionDiffRow.created_at.desc(), VersionDiffRow.id.desc()))
    if article_id is not None:
        query = query.where(VersionDiffRow.article_id == article_id)
    if source_id:
        query = query.where(Article.source_id == source_id)
    if limit:
        query = query.limit(limit)
    return [diff_row(d, a) for d, a in session.execute(query)]


def diff_detail(session: Session, diff_id: int) -> dict[str, Any] | None:
    """One diff with its unified text."""
    diff = session.get(VersionDiffRow, diff_id)
    if diff is None:
        return None
    article = session.get(Article, diff.article_id)
    assert article is not None
    row = diff_row(diff, article)
    row["unified"] = diff.unified
    return row


def raw_body(session: Session, version_id: int) -> bytes | None:
    """The stored raw response body of a version, decompressed."""
    raw = session.scalars(select(RawResponse).where(RawResponse.version_id == version_id)).first()
    return rawbody.unpack(raw.body, raw.compression) if raw is not None else None


def counts(session: Session) -> dict[str, int]:
    """How many sources, articles, versions and diffs are stored."""
    return {
        "sources": session.scalar(select(func.count()).select_from(Source)) or 0,
        "articles": session.scalar(select(func.count()).select_from(Article)) or 0,
        "relevant_articles": session.scalar(select(func.count()).select_from(Article)
                                            .where(Article.relevant.is_(True))) or 0,
        "versions": session.scalar(select(func.count()).select_from(ArticleVersion)) or 0,
        "diffs": session.scalar(select(func.count()).select_from(VersionDiffRow)) or 0,
    }
