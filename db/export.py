"""Read queries for machine readers: CSV/JSON exports and the Atom feed (in keyset batches, so memory stays flat
however much is stored) and the JSON API (pages of events, articles, claims and matches; single records).

Rows are plain dicts with ISO 8601 UTC timestamps. Exports walk ids upwards from ``after``; API pages and feeds
walk them downwards (newest first) from ``before``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from db import claims, copies, queries
from db.browse import LABELS, EventFilter
from db.browse_lists import ArticleFilter
from db.events import event_dict
from db.models import Article, ArticleVersion, ClaimMatchRow, Event, KnownClaim, VersionDiffRow
from db.queries import _iso

# --- events -----------------------------------------------------------------------------------------------

def last_event_id(session: Session) -> int:
    """The newest event's id (0 when there is none): an export stops there, so rows added meanwhile wait."""
    return int(session.scalar(select(func.max(Event.id))) or 0)


def events_after(session: Session, query: EventFilter, after: int, limit: int, up_to: int) -> list[dict[str, Any]]:
    """Up to ``limit`` events with ``after < id <= up_to``, oldest first."""
    rows = session.scalars(select(Event).where(Event.id > after, Event.id <= up_to, *query.where())
                           .order_by(Event.id).limit(limit))
    return [event_dict(event) for event in rows]


def events_before(session: Session, query: EventFilter, limit: int, before: int | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` events, newest first, with ids below ``before`` (when given)."""
    statement = select(Event).where(*query.where()).order_by(Event.id.desc()).limit(limit)
    if before is not None:
        statement = statement.where(Event.id < before)
    return [event_dict(event) for event in session.scalars(statement)]


def event(session: Session, event_id: int) -> dict[str, Any] | None:
    """One event."""
    found = session.get(Event, event_id)
    return event_dict(found) if found is not None else None


# --- claims -----------------------------------------------------------------------------------------------

def claim_dict(row: KnownClaim) -> dict[str, Any]:
    """The JSON form of a known claim."""
    return {"id": row.id, "text": row.text, "subject": row.subject, "figures": row.figures, "source": row.source,
            "tags": row.tags, "approx": row.approx, "status": row.status, "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at)}


def claims_after(session: Session, status: str | None, after: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` known claims with ids after ``after`` (text order), optionally of one status."""
    statement = select(KnownClaim).where(KnownClaim.id > after).order_by(KnownClaim.id).limit(limit)
    if status:
        statement = statement.where(KnownClaim.status == status)
    return [claim_dict(row) for row in session.scalars(statement)]


def claim(session: Session, claim_id: str, matches: int = 100) -> dict[str, Any] | None:
    """One known claim with how often each label matched it and its newest ``matches`` matches."""
    row = session.get(KnownClaim, claim_id)
    if row is None:
        return None
    counts = {label: count for label, count in session.execute(
        select(ClaimMatchRow.label, func.count()).where(ClaimMatchRow.claim_id == claim_id)
        .group_by(ClaimMatchRow.label))}
    return claim_dict(row) | {
        "match_counts": {label: counts.get(label, 0) for label in LABELS if label != "new"},
        "matches": matches_before(session, MatchQuery(claim_id=claim_id), matches),
    }


# --- claim matches ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MatchQuery:
    """Which claim matches: of one claim, label or article; new-claim sentences that are not about North
    Korean workers only with ``off_subject`` (as ``claims matches --all``)."""

    claim_id: str | None = None
    label: str | None = None
    article_id: int | None = None
    off_subject: bool = False

    def where(self) -> list[ColumnElement[bool]]:
        """The query as SQL conditions."""
        conditions: list[ColumnElement[bool]] = []
        if self.claim_id:
            conditions.append(ClaimMatchRow.claim_id == self.claim_id)
        if self.label:
            conditions.append(ClaimMatchRow.label == self.label)
        if self.article_id is not None:
            conditions.append(ClaimMatchRow.article_id == self.article_id)
        if not self.off_subject:
            conditions.append(or_(ClaimMatchRow.label != "new", ClaimMatchRow.on_subject.is_(True)))
        return conditions


def _matches(query: MatchQuery) -> Select[ClaimMatchRow, int, datetime, str | None, str | None]:
    return (select(ClaimMatchRow, ArticleVersion.number, ArticleVersion.fetched_at, Article.title,
                   ArticleVersion.position_unit)
            .join(ArticleVersion, ArticleVersion.id == ClaimMatchRow.version_id)
            .join(Article, Article.id == ClaimMatchRow.article_id)
            .where(*query.where()))


def last_match_id(session: Session) -> int:
    """The newest claim match's id (0 when there is none)."""
    return int(session.scalar(select(func.max(ClaimMatchRow.id))) or 0)


def matches_after(session: Session, query: MatchQuery, after: int, limit: int, up_to: int) -> list[dict[str, Any]]:
    """Up to ``limit`` claim matches with ``after < id <= up_to``, in id order, with their provenance."""
    statement = (_matches(query).where(ClaimMatchRow.id > after, ClaimMatchRow.id <= up_to)
                 .order_by(ClaimMatchRow.id).limit(limit))
    return [claims.match_dict(*row) for row in session.execute(statement)]


def matches_before(session: Session, query: MatchQuery, limit: int, before: int | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` claim matches, newest first, with ids below ``before`` (when given)."""
    statement = _matches(query).order_by(ClaimMatchRow.id.desc()).limit(limit)
    if before is not None:
        statement = statement.where(ClaimMatchRow.id < before)
    return [claims.match_dict(*row) for row in session.execute(statement)]


# --- articles ---------------------------------------------------------------------------------------------

def article_dict(article: Article) -> dict[str, Any]:
    """The JSON form of an article (without its versions)."""
    return {
        "id": article.id, "url": article.canonical_url, "source_id": article.source_id, "title": article.title,
        "language": article.language, "published_at": _iso(article.published_at), "relevant": article.relevant,
        "relevance_score": round(article.relevance_score, 3), "matched_terms": article.matched_terms,
        "version_count": article.version_count, "first_seen_at": _iso(article.first_seen_at),
        "last_checked_at": _iso(article.last_checked_at),
    }


def articles_before(session: Session, query: ArticleFilter, *, limit: int,
                    before: int | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` articles matching ``query``, newest first (by id), ids below ``before``."""
    return [article_dict(row) for row in session.scalars(newest_articles(query, limit=limit, before=before))]


def newest_articles(query: ArticleFilter, *, limit: int, before: int | None = None) -> Select[Article]:
    """The statement of ``articles_before``. With on-topic or off-topic fixed, ordering by (relevant, id) is the
    same order and one that only the index (relevant, id) gives: by id alone, PostgreSQL walked the primary key
    backwards past every newer article of the other kind, which it takes for evenly spread (113-187 ms behind
    1,000,000 off-topic links; 0.06 ms from the index)."""
    order = (Article.relevant.desc(), Article.id.desc()) if query.relevant is not None else (Article.id.desc(),)
    statement = select(Article).where(*query.where()).order_by(*order).limit(limit)
    if before is not None:
        statement = statement.where(Article.id < before)
    return statement


def _diff_dict(diff: VersionDiffRow) -> dict[str, Any]:
    return {"id": diff.id, "from_version_id": diff.from_version_id, "changed": diff.changed,
            "title_before": diff.title_before, "title_after": diff.title_after, "added": diff.added,
            "removed": diff.removed, "figures_before": diff.figures_before, "figures_after": diff.figures_after,
            **queries.diff_positions(diff), "unified": diff.unified, "created_at": _iso(diff.created_at)}


def article(session: Session, article_id: int) -> dict[str, Any] | None:
    """One article with every version (text included), each with its diff against the one before (None for
    the first), the original it copies (``copy_of``, or None) and the other articles of its story (``copies``:
    the original, then its copies; empty when the article is neither a copy nor copied)."""
    found = session.get(Article, article_id)
    if found is None:
        return None
    diffs = {d.to_version_id: d for d in session.scalars(select(VersionDiffRow)
                                                          .where(VersionDiffRow.article_id == article_id))}
    versions = session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id)
                               .order_by(ArticleVersion.number))
    return article_dict(found) | {"versions": [{
        "id": v.id, "number": v.number, "fetched_at": _iso(v.fetched_at), "url": v.url, "title": v.title,
        "byline": v.byline, "published_at": _iso(v.published_at), "modified_at": _iso(v.modified_at),
        "language": v.language, "content_hash": v.content_hash, "text": v.text,
        "diff": _diff_dict(diffs[v.id]) if v.id in diffs else None,
    } for v in versions], "copy_of": _copy_of(session, article_id),
        "copies": [copies.publication_dict(p) for p in copies.copies_of(session, article_id)]}


def _copy_of(session: Session, article_id: int) -> dict[str, Any] | None:
    found = copies.copy_of(session, article_id)
    return copies.copy_dict(found) if found is not None else None
