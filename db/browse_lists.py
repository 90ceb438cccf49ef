"""Read-side queries of the browse lists: articles, sources and edits (diffs), filtered, sorted and paged for
the pages (and events sorted by a column), in id order for the exports and newest first for the feeds.

Rows are those of the CLI's ``db.queries`` (``labourwatch articles|diffs|sources list``) with the source's
display name added. Page queries are bounded by the page; counts stop at ``COUNT_CAP``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, case, cast, func, select
from sqlalchemy.orm import Session

from db import queries
from db.browse import COUNT_CAP, EventFilter, filter_choices, in_window, source_names
from db.events import event_dict
from db.models import Article, Event, VersionDiffRow
from db.status import HEALTHS, source_health_report


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles: of one source, in one language, on-topic or not (None: both), edited (more than one
    version) or not (None: both), first seen in ``[since, until)``."""

    source_id: str | None = None
    language: str | None = None
    relevant: bool | None = True
    edited: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions."""
        conditions: list[ColumnElement[bool]] = []
        if self.source_id:
            conditions.append(Article.source_id == self.source_id)
        if self.language:
            conditions.append(Article.language == self.language)
        if self.relevant is not None:
            conditions.append(Article.relevant.is_(self.relevant))
        if self.edited is not None:
            conditions.append(Article.version_count > 1 if self.edited else Article.version_count <= 1)
        return conditions + in_window(Article.first_seen_at, self.since, self.until)


# A diff changed figures when its ``changed`` parts (a JSON list, stored as text on SQLite and as json on
# PostgreSQL; both print it as ``["text", "figures"]``) name them.
def figures_changed() -> ColumnElement[int]:
    """1 for a diff that changed figures, else 0 (SQL)."""
    return case((cast(VersionDiffRow.changed, String).like('%"figures"%'), 1), else_=0)


@dataclass(frozen=True)
class DiffFilter:
    """Which edits: of one source's or one article's articles, that changed figures or not (None: both), made
    in ``[since, until)``."""

    source_id: str | None = None
    article_id: int | None = None
    figures: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions (over diffs joined to their articles)."""
        conditions: list[ColumnElement[bool]] = []
        if self.source_id:
            conditions.append(Article.source_id == self.source_id)
        if self.article_id is not None:
            conditions.append(VersionDiffRow.article_id == self.article_id)
        if self.figures is not None:
            conditions.append(figures_changed() == (1 if self.figures else 0))
        return conditions + in_window(VersionDiffRow.created_at, self.since, self.until)


# Sortable columns of each list and their first direction when a header is clicked.
ARTICLE_SORTS = {"first_seen": "desc", "published": "desc", "title": "asc", "source": "asc", "language": "asc",
                 "score": "desc", "versions": "desc", "id": "desc"}
DIFF_SORTS = {"figures": "desc", "created": "desc", "article": "desc", "title": "asc", "source": "asc"}
EVENT_SORTS = {"created": "desc", "type": "asc", "source": "asc", "title": "asc", "claim": "asc"}
SOURCE_SORTS = {"health": "asc", "id": "asc", "kind": "asc", "last_poll": "desc", "next_poll": "asc",
                "failures": "desc", "items": "desc", "last_error": "desc"}
_ARTICLE_COLUMNS: dict[str, Any] = {
    "first_seen": Article.first_seen_at, "published": Article.published_at, "title": Article.title,
    "source": Article.source_id, "language": Article.language, "score": Article.relevance_score,
    "versions": Article.version_count, "id": Article.id}
_DIFF_COLUMNS: dict[str, Any] = {
    "figures": figures_changed(), "created": VersionDiffRow.created_at, "article": VersionDiffRow.article_id,
    "title": VersionDiffRow.title_after, "source": Article.source_id}

# Events by "created" go by id, as the newest-first keyset pages do (``db.browse.event_page``), so oldest first is
# newest first reversed: created_at is the time its writer was handed (a crawl's clock), which need not follow ids.
_EVENT_COLUMNS: dict[str, Any] = {
    "created": Event.id, "type": Event.type, "source": Event.source_id, "title": Event.title,
    "claim": Event.claim_id}


@dataclass(frozen=True)
class Listing:
    """Which page of a list: ``sort`` (a key of the list's allow-list), descending or not, page ``page`` (from
    1) of ``size`` rows."""

    sort: str
    descending: bool
    page: int = 1
    size: int = 50


def _order(column: Any, descending: bool, tiebreak: Any) -> list[Any]:
    # Empty values last either way (SQLite and PostgreSQL differ otherwise); the id keeps pages stable.
    first = column.desc() if descending else column.asc()
    return [first.nulls_last(), tiebreak.desc() if descending else tiebreak.asc()]


def _page(session: Session, query: Any, count_query: Any, listing: Listing) -> dict[str, Any]:
    page = max(1, listing.page)
    found = list(session.execute(query.limit(listing.size + 1).offset((page - 1) * listing.size)))
    total = int(session.scalar(select(func.count()).select_from(count_query.limit(COUNT_CAP + 1).subquery())) or 0)
    return {"found": found[:listing.size], "page": page, "has_next": len(found) > listing.size,
            "total": min(total, COUNT_CAP), "more": total > COUNT_CAP, "size": listing.size}


def _named(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    row["source_name"] = names.get(row["source_id"] or "", row["source_id"])
    return row


def choices(session: Session, *, languages: bool = True) -> dict[str, Any]:
    """What filters may name: sources (id, name), claim ids, event types and (with ``languages``) the stored
    article languages — a scan of every article (167 ms for 100,000 on SQLite), so only asked for when needed."""
    found = filter_choices(session)
    if languages:
        found["languages"] = [str(language) for language in session.scalars(
            select(Article.language).where(Article.language.is_not(None)).distinct().order_by(Article.language))]
    return found


def article_page(session: Session, filters: ArticleFilter, listing: Listing) -> dict[str, Any]:
    """A page of articles (``db.queries`` article rows with ``source_name``), in the listing's order."""
    where = filters.where()
    query = (select(Article).where(*where)
             .order_by(*_order(_ARTICLE_COLUMNS[listing.sort], listing.descending, Article.id)))
    page = _page(session, query, select(Article.id).where(*where), listing)
    names = source_names(session)
    page["rows"] = [_named(queries.article_row(article), names) for article, in page.pop("found")]
    return page


def articles_after(session: Session, filters: ArticleFilter, after: int, limit: int,
                   up_to: int) -> list[dict[str, Any]]:
    """Up to ``limit`` articles with ``after < id <= up_to``, in id order (the export)."""
    rows = session.scalars(select(Article).where(Article.id > after, Article.id <= up_to, *filters.where())
                           .order_by(Article.id).limit(limit))
    names = source_names(session)
    return [_named(queries.article_row(article), names) for article in rows]


def last_article_id(session: Session) -> int:
    """The newest article's id (0 when there is none): an export stops there."""
    return int(session.scalar(select(func.max(Article.id))) or 0)


def event_sorted_page(session: Session, filters: EventFilter, listing: Listing) -> dict[str, Any]:
    """A page of events (``event_dict`` rows with ``source_name``) in the listing's order: the events page
    sorted by a column; newest first it pages by key instead (``db.browse.event_page``)."""
    where = filters.where()
    query = select(Event).where(*where).order_by(*_order(_EVENT_COLUMNS[listing.sort], listing.descending, Event.id))
    page = _page(session, query, select(Event.id).where(*where), listing)
    names = source_names(session)
    page["rows"] = [_named(event_dict(event), names) for event, in page.pop("found")]
    return page


def _diffs() -> Any:
    return select(VersionDiffRow, Article).join(Article, Article.id == VersionDiffRow.article_id)


def diff_page(session: Session, filters: DiffFilter, listing: Listing) -> dict[str, Any]:
    """A page of edits (``db.queries`` diff rows with ``source_name`` and ``figures_changed``); sorted by
    ``figures`` the edits that changed figures come first, newest first within each."""
    where = filters.where()
    order = _order(_DIFF_COLUMNS[listing.sort], listing.descending, VersionDiffRow.id)
    if listing.sort == "figures":
        # Within "figures changed" and "not", the newest first.
        order = [order[0], VersionDiffRow.created_at.desc(), VersionDiffRow.id.desc()]
    count = select(VersionDiffRow.id).join(Article, Article.id == VersionDiffRow.article_id).where(*where)
    page = _page(session, _diffs().where(*where).order_by(*order), count, listing)
    names = source_names(session)
    page["rows"] = [_diff_dict(diff, article, names) for diff, article in page.pop("found")]
    return page


def _diff_dict(diff: VersionDiffRow, article: Article, names: dict[str, str]) -> dict[str, Any]:
    row = _named(queries.diff_row(diff, article), names)
    row["figures_changed"] = "figures" in diff.changed
    return row


def diffs_after(session: Session, filters: DiffFilter, after: int, limit: int, up_to: int) -> list[dict[str, Any]]:
    """Up to ``limit`` edits with ``after < id <= up_to``, in id order (the export)."""
    names = source_names(session)
    return [_diff_dict(diff, article, names) for diff, article in session.execute(
        _diffs().where(VersionDiffRow.id > after, VersionDiffRow.id <= up_to, *filters.where())
        .order_by(VersionDiffRow.id).limit(limit))]


def last_diff_id(session: Session) -> int:
    """The newest diff's id (0 when there is none)."""
    return int(session.scalar(select(func.max(VersionDiffRow.id))) or 0)


def source_list(session: Session, now: datetime, health: str | None = None, sort: str = "health",
                descending: bool = False) -> list[dict[str, Any]]:
    """Every source (of one ``health`` when given) with its health, polls, last error and items, as in
    ``db.status``: by default the failing first, then the longest-failing. Sources are few: sorted here."""
    rows = [row for row in source_health_report(session, now)["sources"] if health in (None, row["health"])]
    keys = {"health": lambda r: (HEALTHS.index(r["health"]), -r["consecutive_failures"]),
            "id": lambda r: r["id"], "kind": lambda r: r["kind"], "last_poll": lambda r: r["last_polled_at"],
            "next_poll": lambda r: r["next_poll_at"], "failures": lambda r: r["consecutive_failures"],
            "items": lambda r: r["items_last_run"], "last_error": lambda r: r["last_error_at"]}
    key = keys[sort]
    # Empty values last in either direction, then the id: the order is total.
    present = sorted((r for r in rows if key(r) is not None), key=lambda r: r["id"])
    present.sort(key=key, reverse=descending)
    return present + sorted((r for r in rows if key(r) is None), key=lambda r: r["id"])
