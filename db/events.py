"""Events and their outbox rows: what happened, in the transaction that made it happen.

The crawl (and the source-health bookkeeping) turn stored changes into ``EventDraft``s with the functions
here; ``record_events`` writes each draft once — its ``key`` names the underlying change, so a repeated
call never makes a second event — together with one delivery row per destination that the router (from
``alerts``, which owns the routes) chose for it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, insert, select
from sqlalchemy.orm import Session

from analysis.claims.model import Claim
from analysis.claims.sentences import SentenceMatch
from analysis.text import normalise_text
from analysis.types import VersionDiff
from db.models import Delivery, Event
from db.upsert import dialect_insert

NEW_ARTICLE, ARTICLE_EDITED = "new_article", "article_edited"
CLAIM_CORROBORATED, CLAIM_UPDATED, NEW_CLAIM = "claim_corroborated", "claim_updated", "new_claim"
SOURCE_FAILING, SOURCE_RECOVERED, DELIVERY_DEAD = "source_failing", "source_recovered", "delivery_dead"
# A story: one event per article change (a new article or a new version) carrying its claim verdicts and edit;
# a baseline: what the first poll of new sources stored without alerting.
STORY, BASELINE = "story", "baseline"
EVENT_TYPES = (STORY, BASELINE, NEW_ARTICLE, ARTICLE_EDITED, CLAIM_CORROBORATED, CLAIM_UPDATED, NEW_CLAIM,
               SOURCE_FAILING, SOURCE_RECOVERED, DELIVERY_DEAD)
# Events about the monitor itself rather than the news: they go to ops routes, never to a newsroom by default.
OPS_EVENT_TYPES = (SOURCE_FAILING, SOURCE_RECOVERED, DELIVERY_DEAD)
# What a route that names no event types receives: one message per story change, and the baseline summaries.
# The claim-level and article-level types are stored all the same, for routes that ask for them by name.
STORY_EVENT_TYPES = (STORY, BASELINE)
_CLAIM_EVENT = {"corroborates": CLAIM_CORROBORATED, "updates": CLAIM_UPDATED, "new": NEW_CLAIM}
# Digests list the most important first.
_IMPORTANCE = {STORY: 35, BASELINE: 5, CLAIM_UPDATED: 50, NEW_CLAIM: 40, ARTICLE_EDITED: 30, NEW_ARTICLE: 20,
               CLAIM_CORROBORATED: 10, SOURCE_FAILING: 45, DELIVERY_DEAD: 45, SOURCE_RECOVERED: 15}


@dataclass(frozen=True)
class EventDraft:
    """An event before it is stored. ``relevance`` and ``confidence`` are there for route filters."""

    type: str
    key: str
    title: str
    summary: str
    source_id: str | None = None
    article_id: int | None = None
    version_id: int | None = None
    claim_id: str | None = None
    url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    relevance: float | None = None
    confidence: float | None = None
    # Stored, never sent: a change of a source's baseline, an outlet's background sentence, a copy's claims, a
    # new claim alerted before. ``details["quiet"]`` says which.
    quiet: bool = False
    rank: int | None = None  # how high it ranks in a digest, where its type does not say (a story)

    @property
    def importance(self) -> int:
        """How high the event ranks in a digest."""
        return self.rank if self.rank is not None else _IMPORTANCE.get(self.type, 0)


@dataclass(frozen=True)
class DeliveryTarget:
    """One destination of one route an event must reach; ``destination`` fingerprints its URL."""

    route: str
    destination: str
    label: str
    mode: str = "immediate"


Router = Callable[[EventDraft], Sequence[DeliveryTarget]]


def idempotency_key(event_key: str, route: str, destination: str) -> str:
    """The key a receiver sees: the same for every attempt of one delivery, different for any other."""
    return hashlib.sha256(f"{event_key}\x1f{route}\x1f{destination}".encode()).hexdigest()[:32]


_INSERT_DELIVERY = insert(Delivery)


@functools.cache
def _insert_new_events(dialect: str) -> Executable:
    # One INSERT ... ON CONFLICT (key) DO NOTHING for all drafts: the unique key decides which change has
    # its event already, atomically, so two writers storing the same change at once (two dispatchers or
    # daemons on PostgreSQL) make one event, not two nor an IntegrityError; and no SELECT per draft.
    # Built once per dialect; the values come at execution, so SQLAlchemy reuses the compiled form.
    return dialect_insert(dialect, Event).on_conflict_do_nothing(index_elements=["key"]).returning(Event.id, Event.key)


def _event_values(draft: EventDraft, now: datetime) -> dict[str, Any]:
    return {"type": draft.type, "key": draft.key, "created_at": now, "source_id": draft.source_id,
            "article_id": draft.article_id, "version_id": draft.version_id, "claim_id": draft.claim_id,
            "url": draft.url, "title": draft.title[:1000], "summary": draft.summary, "details": draft.details,
            "importance": draft.importance}


def _delivery_values(draft: EventDraft, event_id: int, target: DeliveryTarget, now: datetime) -> dict[str, Any]:
    return {"event_id": event_id, "route": target.route, "destination": target.destination,
            "destination_label": target.label[:200], "mode": target.mode, "status": "pending", "attempts": 0,
            "next_attempt_at": now, "idempotency_key": idempotency_key(draft.key, target.route, target.destination),
            "created_at": now}


def record_events(session: Session, drafts: Sequence[EventDraft], router: Router | None, now: datetime) -> list[int]:
    """Store each draft whose key is new, with its deliveries; returns the ids of the events this call
    stored, in the drafts' order (a key stored before, or by a concurrent writer, gets nothing).

    Two statements whatever the number of drafts: the events, then the deliveries of those inserted."""
    return record_changes(session, [(drafts, now)], router)


def record_changes(session: Session, changes: Sequence[tuple[Sequence[EventDraft], datetime]],
                   router: Router | None) -> list[int]:
    """``record_events`` for several changes at once, each (its drafts, when it happened), as one call after
    another would store them: still two statements (the crawl's writer stores a batch of pages this way)."""
    unique: dict[str, tuple[EventDraft, datetime]] = {}
    for drafts, now in changes:
        for draft in drafts:
            unique.setdefault(draft.key, (draft, now))  # a key twice: the first draft is the event
    if not unique:
        return []
    conn = session.connection()
    rows = conn.execute(_insert_new_events(conn.dialect.name), [_event_values(d, now) for d, now in unique.values()])
    inserted: dict[str, int] = {key: event_id for event_id, key in rows}
    stored = [(draft, now, inserted[key]) for key, (draft, now) in unique.items() if key in inserted]
    deliveries = [_delivery_values(draft, event_id, target, now) for draft, now, event_id in stored
                  for target in (router(draft) if router is not None and not draft.quiet else ())]
    if deliveries:
        conn.execute(_INSERT_DELIVERY, deliveries)
    return [event_id for _, _, event_id in stored]


# --- drafts from stored changes -------------------------------------------------------------------

@dataclass(frozen=True)
class StoredArticle:
    """What the store just did to one article, as the event drafts need it."""

    action: str
    article_id: int
    version_id: int | None
    version_number: int
    source_id: str | None
    url: str
    title: str
    relevance: float
    diff: VersionDiff | None = None
    previous_title: str | None = None


def _clip(text: str, limit: int = 280) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _edit_summary(diff: VersionDiff) -> str:
    parts = []
    if "title" in diff.changed_parts:
        parts.append("headline changed")
    if diff.added or diff.removed:
        parts.append(f"{len(diff.added)} sentence(s) added, {len(diff.removed)} removed")
    if "figures" in diff.changed_parts:
        before, after = ", ".join(diff.figures_before), ", ".join(diff.figures_after)
        parts.append(f"figures {before or '—'} → {after or '—'}")
    return "; ".join(parts) or "text changed"


def article_events(stored: StoredArticle, matches: Sequence[SentenceMatch], claims: Mapping[str, Claim]) -> list[
        EventDraft]:
    """The events of one stored article version: the article itself, then its claim sentences.

    For an edited article only the sentences the edit added can make claim events: the rest were there,
    and alerted on, before."""
    if stored.version_id is None or stored.action not in ("new", "changed"):
        return []
    drafts: list[EventDraft] = []
    if stored.action == "new":
        drafts.append(_draft(stored, NEW_ARTICLE, f"{NEW_ARTICLE}:a{stored.article_id}",
                             f"New article: {stored.title}", {"version": stored.version_number}))
        eligible = list(matches)
    else:
        diff = stored.diff
        assert diff is not None
        drafts.append(_draft(stored, ARTICLE_EDITED, f"{ARTICLE_EDITED}:v{stored.version_id}", _edit_summary(diff), {
            "version": stored.version_number, "changed": list(diff.changed_parts), "added": list(diff.added),
            "removed": list(diff.removed), "figures_before": list(diff.figures_before),
            "figures_after": list(diff.figures_after), "title_before": stored.previous_title}))
        added = {normalise_text(sentence) for sentence in diff.added}
        eligible = [m for m in matches if normalise_text(m.sentence) in added]
    for sentence in eligible:
        draft = _claim_event(stored, sentence, claims)
        if draft is not None:
            drafts.append(draft)
    return drafts


def _draft(stored: StoredArticle, kind: str, key: str, summary: str, details: dict[str, Any],
           claim_id: str | None = None, confidence: float | None = None) -> EventDraft:
    return EventDraft(kind, key, stored.title, summary, source_id=stored.source_id, article_id=stored.article_id,
                      version_id=stored.version_id, claim_id=claim_id, url=stored.url, details=details,
                      relevance=stored.relevance, confidence=confidence)


def _claim_event(stored: StoredArticle, sentence: SentenceMatch, claims: Mapping[str, Claim]) -> EventDraft | None:
    match = sentence.match
    kind = _CLAIM_EVENT[match.label]
    if kind == NEW_CLAIM and not (sentence.on_subject and sentence.figures):
        # A "new" sentence is an alert only when it is about North Korean workers and states a figure;
        # the rest (background, quotes, asides) stays stored for researchers, not pushed to monitors.
        return None
    claim = claims.get(match.claim_id) if match.claim_id else None
    details: dict[str, Any] = {
        "sentence": sentence.sentence, "sentence_index": sentence.index, "label": match.label,
        "confidence": round(match.confidence, 3), "figures": list(sentence.figures), "reasons": list(match.reasons),
    }
    if claim is not None:
        details |= {"claim_text": claim.text, "claim_source": claim.source}
    if kind == CLAIM_UPDATED:
        details |= {"old_values": list(match.old_values), "new_values": list(match.new_values)}
        change = f"{', '.join(match.old_values)} → {', '.join(match.new_values)}"
        summary = f"{match.claim_id} updated: {change}"
    elif kind == CLAIM_CORROBORATED:
        summary = f"{match.claim_id} corroborated"
    else:
        summary = "New claim: " + _clip(sentence.sentence)
    return _draft(stored, kind, f"{kind}:v{stored.version_id}:s{sentence.index}", summary, details,
                  claim_id=match.claim_id, confidence=match.confidence)


def failing_reported(session: Session, source_id: str) -> bool:
    """Whether the last health event of a source said it was failing (no ``source_recovered`` since)."""
    last = session.scalar(select(Event.type).where(
        Event.source_id == source_id, Event.type.in_((SOURCE_FAILING, SOURCE_RECOVERED)))
        .order_by(Event.id.desc()).limit(1))
    return last == SOURCE_FAILING


def source_events(source_id: str, name: str | None, url: str, *, failures_before: int, failures_after: int,
                  threshold: int, error: str | None, at: datetime, reported: bool) -> list[EventDraft]:
    """``source_failing`` when a source has ``threshold`` or more consecutive failures and that was not
    reported yet, ``source_recovered`` when a source reported failing succeeds again; nothing otherwise (no
    event per failed poll). ``reported`` (``failing_reported``) rather than the exact crossing decides, so
    lowering ``alerts.failing_after`` below a source's streak still reports it."""
    label = name or source_id
    stamp = at.strftime("%Y%m%dT%H%M%S%f")
    if failures_after >= threshold and not reported:
        return [EventDraft(SOURCE_FAILING, f"{SOURCE_FAILING}:{source_id}:{stamp}", label,
                           f"{label} failed {failures_after} times in a row: {error or 'unknown error'}",
                           source_id=source_id, url=url, details={"failures": failures_after, "error": error})]
    if failures_after == 0 and reported:
        return [EventDraft(SOURCE_RECOVERED, f"{SOURCE_RECOVERED}:{source_id}:{stamp}", label,
                           f"{label} works again after {failures_before} failures", source_id=source_id, url=url,
                           details={"failures_before": failures_before})]
    return []


# --- read side --------------------------------------------------------------------------------------

def event_rows(session: Session, *, types: Sequence[str] = (), since: datetime | None = None,
               source_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Stored events, newest first."""
    query = select(Event).order_by(Event.id.desc())
    if types:
        query = query.where(Event.type.in_(list(types)))
    if since is not None:
        query = query.where(Event.created_at >= since)
    if source_id:
        query = query.where(Event.source_id == source_id)
    if limit:
        query = query.limit(limit)
    return [event_dict(event) for event in session.scalars(query)]


def event_dict(event: Event) -> dict[str, Any]:
    """The JSON form of one event (``events list``, templates, the web UI)."""
    return {
        "id": event.id, "type": event.type, "created_at": event.created_at.isoformat(), "source_id": event.source_id,
        "url": event.url, "title": event.title, "summary": event.summary, "details": event.details,
        "article_id": event.article_id, "version_id": event.version_id, "claim_id": event.claim_id,
        "importance": event.importance, "key": event.key,
    }
