"""Read-side queries of the researcher pages: the dashboard, the filtered events list, one event, an article with
its versions and diffs, the known claims and one claim with its matches and figure history.

Each function takes an open session and returns plain data for the templates (timestamps as ISO strings);
the shaping of diffs and figure histories lives in ``db.browse_views``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from db import claims, copies, queries
from db.background import BACKGROUND_ARTICLES, background_sentences
from db.browse_views import claim_amount, claim_value, diff_view, figure_history, figure_text, sentence_groups
from db.events import EVENT_TYPES, event_dict
from db.models import ArticleCopy, ArticleVersion, ClaimMatchRow, Event, KnownClaim, Source
from db.status import FAILING, event_counts, events_per_day, source_health_report

# The events page counts matching events up to this many, then says "more than": counting all of a long history
# would cost as much as reading it.
COUNT_CAP = 10_000
LABELS = ("corroborates", "updates", "new")
# The claim page's figure history is worked out from this many of the claim's oldest reports: who reported a value
# first is among them, and extracting figures from every sentence of a long history would cost as much as reading it.
HISTORY_LIMIT = 200


def in_window(column: Any, since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    """``since <= column < until`` as SQL conditions (either end left open when None)."""
    return ([column >= since] if since is not None else []) + ([column < until] if until is not None else [])


@dataclass(frozen=True)
class EventFilter:
    """Which events to list: any of ``types`` (all when empty), of one source, about one claim, created in
    ``[since, until)``."""

    types: tuple[str, ...] = ()
    source_id: str | None = None
    claim_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions."""
        conditions: list[ColumnElement[bool]] = []
        if self.types:
            conditions.append(Event.type.in_(list(self.types)))
        if self.source_id:
            conditions.append(Event.source_id == self.source_id)
        if self.claim_id:
            conditions.append(Event.claim_id == self.claim_id)
        return conditions + in_window(Event.created_at, self.since, self.until)


@dataclass(frozen=True)
class EventPage:
    """One page of events, newest first. ``newer``/``older`` are the keys of the neighbouring pages (``after``
    and ``before`` of ``event_page``), None when there is no such page; ``total`` counts the matching events, up to
    ``COUNT_CAP``: ``more`` says there are more than that."""

    rows: list[dict[str, Any]]
    total: int
    newer: int | None
    older: int | None
    more: bool = False


def source_names(session: Session) -> dict[str, str]:
    """Every source's display name (its name, else its id), by id."""
    return {id_: name or id_ for id_, name in session.execute(select(Source.id, Source.name))}


def _with_names(rows: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    for row in rows:
        row["source_name"] = names.get(row["source_id"] or "", row["source_id"])
    return rows


def dashboard(session: Session, now: datetime, *, latest: int = 20) -> dict[str, Any]:
    """Event counts by type over the last 24 hours and 7 days and per day over the last 30 (``days``,
    ``per_day``), the latest events, and source health (with the failing sources and their last error) from
    ``db.status``."""
    health = source_health_report(session, now)
    events = [event_dict(e) for e in session.scalars(select(Event).order_by(Event.id.desc()).limit(latest))]
    counts = event_counts(session, now)
    days, per_day = events_per_day(session, now)
    return {
        "days": days, "per_day": per_day,
        "event_counts": [{"type": kind, "day": day, "week": week} for kind, (day, week) in counts.items()],
        "events_day": sum(day for day, _ in counts.values()), "events_week": sum(week for _, week in counts.values()),
        "events": _with_names(events, source_names(session)),
        "health_counts": health["health_counts"], "sources": health["sources"],
        "failing": [row for row in health["sources"] if row["health"] == FAILING],
        "last_run": health["last_run"], "generated_at": health["generated_at"],
    }


def event_page(session: Session, filters: EventFilter, *, limit: int, before: int | None = None,
               after: int | None = None, count_cap: int = COUNT_CAP) -> EventPage:
    """A page of the events matching ``filters``, newest (highest id) first: the ``limit`` events older than
    id ``before``, or newer than id ``after``, or the newest. Keyset pages stay put while events arrive. The
    matching events are counted up to ``count_cap``."""
    where = filters.where()
    query = select(Event).where(*where)
    if after is not None:
        # The page just above ``after``: the oldest ``limit`` newer events, shown newest first.
        found = list(session.scalars(query.where(Event.id > after).order_by(Event.id).limit(limit + 1)))
        more_newer, found = len(found) > limit, found[:limit][::-1]
        more_older = _exists(session, where, Event.id <= after)
    else:
        if before is not None:
            query = query.where(Event.id < before)
        found = list(session.scalars(query.order_by(Event.id.desc()).limit(limit + 1)))
        more_older, found = len(found) > limit, found[:limit]
        more_newer = before is not None and _exists(session, where, Event.id >= before)
    if not found:
        # Past either end (a stale link): offer the way back to the newest events.
        more_newer, more_older = False, False
    total = int(session.scalar(select(func.count()).select_from(
        select(Event.id).where(*where).limit(count_cap + 1).subquery())) or 0)
    rows = _with_names([event_dict(e) for e in found], source_names(session))
    return EventPage(rows, min(total, count_cap), found[0].id if found and more_newer else None,
                     found[-1].id if found and more_older else None, more=total > count_cap)


def _exists(session: Session, where: list[ColumnElement[bool]], condition: ColumnElement[bool]) -> bool:
    return session.scalar(select(Event.id).where(*where, condition).limit(1)) is not None


def filter_choices(session: Session) -> dict[str, Any]:
    """What the events filter offers: the event types, the sources (id, name) and the claim ids."""
    return {"types": list(EVENT_TYPES), "sources": sorted(source_names(session).items()),
            "claims": list(session.scalars(select(KnownClaim.id).order_by(KnownClaim.id)))}


def event_view(session: Session, event_id: int) -> dict[str, Any] | None:
    """One event (``event_dict``) with its source's display name and its article version's number (the article
    page's anchor); None when there is no such event."""
    found = session.get(Event, event_id)
    if found is None:
        return None
    event = _with_names([event_dict(found)], source_names(session))[0]
    event["version_number"] = (session.scalar(select(ArticleVersion.number).where(
        ArticleVersion.id == found.version_id)) if found.version_id is not None else None)
    return event


def article_view(session: Session, article_id: int, *, show_background: bool = True) -> dict[str, Any] | None:
    """One article: its metadata, its versions oldest first (each but the first with its diff views), the
    claim sentences its versions matched (``sentences``: one row per sentence in groups, see
    :func:`db.browse_views.sentence_groups`; each flagged ``background`` when its outlet printed it in
    ``BACKGROUND_ARTICLES`` or more articles; those left out unless ``show_background``, ``background_count`` and
    ``hidden_background`` saying how many there are and how many were left out), the original it copies
    (``copy_of``) and the other articles of its story (``also_published_by``: the original, then the copies);
    None when there is no such article."""
    article = queries.article_detail(session, article_id)
    if article is None:
        return None
    diffs = {d["to_version_id"]: d for d in queries.diff_rows(session, article_id=article_id)}
    texts = {v["id"]: v["text"] for v in article["versions"]}
    for version in article["versions"]:
        diff = diffs.get(version["id"])
        version["diff"] = diff_view(texts.get(diff["from_version_id"], ""), version["text"], diff) if diff else None
    matches = claims.match_rows(session, article_id=article_id)
    matches.sort(key=lambda m: (m["version"], m["sentence_index"]))
    background = background_sentences(session, article["source_id"], {m["sentence"] for m in matches})
    for match in matches:
        match["background"] = match["sentence"] in background
    shown = [m for m in matches if show_background or not m["background"]]
    article["sentences"] = sentence_groups(shown)
    # Sentences, not stored rows: every version matches its sentences anew.
    background_count = len({m["sentence"] for m in matches if m["background"]})
    article["background_count"] = background_count
    article["hidden_background"] = 0 if show_background else background_count
    article["background_articles"] = BACKGROUND_ARTICLES
    names = source_names(session)
    article["source_name"] = names.get(article["source_id"] or "", article["source_id"])
    article["copy_of"] = _copy_dict(copies.copy_of(session, article_id), names)
    article["also_published_by"] = [
        copies.publication_dict(p) | {"source_name": names.get(p.source_id or "", p.source_id)}
        for p in copies.copies_of(session, article_id)]
    return article


def _copy_dict(found: copies.CopyOf | None, names: dict[str, str]) -> dict[str, Any] | None:
    """A copy's original as the templates show it (with its source's name), or None."""
    if found is None:
        return None
    return copies.copy_dict(found) | {"source_name": names.get(found.source_id or "", found.source_id)}


def _match_counts(session: Session) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for claim_id, label, count in session.execute(
            select(ClaimMatchRow.claim_id, ClaimMatchRow.label, func.count())
            .where(ClaimMatchRow.claim_id.is_not(None)).group_by(ClaimMatchRow.claim_id, ClaimMatchRow.label)):
        counts.setdefault(str(claim_id), dict.fromkeys(LABELS, 0))[label] = int(count)
    return counts


def _claim_row(row: KnownClaim, counts: dict[str, int]) -> dict[str, Any]:
    return {"id": row.id, "text": row.text, "subject": row.subject, "source": row.source, "status": row.status,
            "approx": row.approx, "tags": row.tags, "figures": [figure_text(f) for f in row.figures],
            "value": claim_value(row.figures), "matches": sum(counts.values()), "by_label": counts,
            "updated_at": row.updated_at.isoformat()}


# The claims list's sortable columns (keys of its rows) and their first direction when a header is clicked.
CLAIM_SORTS = {"id": "asc", "text": "asc", "source": "asc", "status": "asc", "matches": "desc"}


def claim_rows(session: Session, sort: str = "id", descending: bool = False) -> list[dict[str, Any]]:
    """Every known claim, with its figures as text and how many sentences matched it (by label), in the order of
    ``sort`` (a key of ``CLAIM_SORTS``; ties in id order the same way, empty values last). Known claims are a
    curated file's worth: sorted here."""
    counts = _match_counts(session)
    rows = [_claim_row(row, counts.get(row.id, dict.fromkeys(LABELS, 0)))
            for row in session.scalars(select(KnownClaim).order_by(KnownClaim.id))]
    present = [row for row in rows if row[sort] not in (None, "")]
    return [*sorted(present, key=lambda row: (row[sort], row["id"]), reverse=descending),
            *(row for row in rows if row[sort] in (None, ""))]


@dataclass(frozen=True)
class ClaimPage:
    """Which of a claim's matches the claim page lists: page ``page`` (from 1) of ``size``, newest first."""

    page: int = 1
    size: int = 50


def claim_view(session: Session, claim_id: str, listing: ClaimPage = ClaimPage(), *,
               history_limit: int = HISTORY_LIMIT, count_cap: int = COUNT_CAP) -> dict[str, Any] | None:
    """One claim: its row with its match counts by verdict, its outlets (how many matches each, and whether it
    carried the claim only through copies of another outlet's article), its figure history from its oldest
    ``history_limit`` corroborating or updating matches (``history_more``: there are more), and one page of its
    matches newest first (a copy's match with the original it copies), ``total`` counting them up to
    ``count_cap`` (``more``: more than that), and the amount its history is charted on (``amount``, from
    ``claim_amount``); None when there is no such claim. Every query is bounded by the
    page or the claim's outlets and labels, not by how many matches the claim has."""
    row = session.get(KnownClaim, claim_id)
    if row is None:
        return None
    names = source_names(session)
    counts = dict.fromkeys(LABELS, 0)
    for label, count in session.execute(select(ClaimMatchRow.label, func.count())
                                        .where(ClaimMatchRow.claim_id == claim_id).group_by(ClaimMatchRow.label)):
        counts[label] = int(count)
    claim = _claim_row(row, counts)
    outlets = _claim_outlets(session, claim_id, names)
    offset = (max(1, listing.page) - 1) * listing.size
    matches = _with_names(claims.match_rows(session, claim_id=claim_id, limit=listing.size + 1, offset=offset), names)
    has_older, matches = len(matches) > listing.size, matches[:listing.size]
    originals = copies.originals_of(session, (m["article_id"] for m in matches))
    for match in matches:
        match["copy_of"] = _copy_dict(originals.get(match["article_id"]), names)
    reports = _with_names(claims.match_rows(session, claim_id=claim_id, labels=("corroborates", "updates"),
                                            oldest_first=True, limit=history_limit + 1), names)
    total = min(claim["matches"], count_cap)
    return {"claim": claim, "matches": matches, "outlets": outlets, "outlet_count": len(outlets),
            "copy_outlet_count": sum(1 for outlet in outlets if outlet["only_copies"]),
            "history": figure_history(claim["value"], claim["source"], reports[:history_limit]),
            "amount": claim_amount(row.figures),
            "history_more": len(reports) > history_limit, "history_limit": history_limit,
            "page": max(1, listing.page), "page_size": listing.size, "has_older": has_older,
            "total": total, "more": claim["matches"] > count_cap}


def _claim_outlets(session: Session, claim_id: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """A claim's outlets by display name: how many of its matches each has, and whether every one of them is in a
    copy of another outlet's article (every outlet counts, a copy's too; the page says how many only copied)."""
    outlets: dict[str, dict[str, Any]] = {}
    query = (select(ClaimMatchRow.source_id, func.count(), func.count(ArticleCopy.article_id))
             .outerjoin(ArticleCopy, ArticleCopy.article_id == ClaimMatchRow.article_id)
             .where(ClaimMatchRow.claim_id == claim_id).group_by(ClaimMatchRow.source_id))
    for source_id, count, copied in session.execute(query):
        name = names.get(source_id or "", source_id) or "unknown source"
        outlet = outlets.setdefault(name, {"name": name, "matches": 0, "copied": 0})
        outlet["matches"] += int(count)
        outlet["copied"] += int(copied)
    return [outlet | {"only_copies": outlet["copied"] == outlet["matches"]} for _, outlet in sorted(outlets.items())]
