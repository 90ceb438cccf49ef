"""Stories: one event per article change, carrying what a monitor needs to know of it.

A new article, or a new version of one, makes one ``story`` event: its headline and source, the verdicts of the
claim sentences new in this version (updates first, with old and new values; then new claims; corroborations
in one line) and, for an edit, the diff. The article-level and claim-level events are stored beside it as
before, one per sentence, for the API, exports and research; routes get them only when they name them.

Some of a change is news to nobody, and is stored without being sent (``quiet``): everything of a source's
first poll (its baseline), the claims of an article that copies another outlet's (the original's story went
out), sentences the outlet prints in article after article (its background) and new claims another article
reported first. The story says how many sentences it left out, and the copy's story goes only to routes
that ask for copies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from analysis.claims.model import Claim
from analysis.claims.sentences import SentenceMatch
from db.events import (
    ARTICLE_EDITED,
    BASELINE,
    CLAIM_CORROBORATED,
    CLAIM_UPDATED,
    NEW_CLAIM,
    STORY,
    EventDraft,
    StoredArticle,
    article_events,
)

# The claim verdicts of a story, most telling first.
_ORDER = {CLAIM_UPDATED: 0, NEW_CLAIM: 1, CLAIM_CORROBORATED: 2}
_VERDICT = {CLAIM_UPDATED: "updates", NEW_CLAIM: "new", CLAIM_CORROBORATED: "corroborates"}
_CLAIM_FIELDS = ("claim_text", "claim_source", "old_values", "new_values", "sentence", "figures", "confidence",
                 "sentence_index")
_LEFT_OUT = ("background", "repeat")
_MAX_UPDATES_NAMED = 2  # in the one-line summary; the message lists them all


@dataclass(frozen=True)
class ChangeContext:
    """What is known of an article change beyond the article: whether it is a source's baseline, whether the
    article copies another outlet's (``copy_of``: the original, as ``db.copies`` describes it), and which of
    its sentences (by index) are the outlet's background or new claims reported before."""

    baseline: bool = False
    copy_of: Mapping[str, Any] | None = None
    background: frozenset[int] = frozenset()
    repeats: frozenset[int] = frozenset()


def _quiet_reason(draft: EventDraft, context: ChangeContext) -> str | None:
    if context.baseline:
        return "baseline"
    if context.copy_of is not None:
        return "copy"
    index = draft.details.get("sentence_index")
    if index in context.background:
        return "background"
    return "repeat" if index in context.repeats and draft.type == NEW_CLAIM else None


def _quieted(draft: EventDraft, reason: str | None) -> EventDraft:
    return draft if reason is None else replace(draft, quiet=True, details={**draft.details, "quiet": reason})


def change_events(stored: StoredArticle, matches: Sequence[SentenceMatch], claims: Mapping[str, Claim],
                  context: ChangeContext = ChangeContext()) -> list[EventDraft]:
    """The events of one stored article change: the story first, then the article-level and claim-level events
    (``db.events.article_events``), those that are news to nobody marked quiet."""
    drafts = [_quieted(draft, _quiet_reason(draft, context)) for draft in article_events(stored, matches, claims)]
    if not drafts:
        return []
    return [story_draft(stored, drafts, context), *drafts]


def _claim_item(draft: EventDraft) -> dict[str, Any]:
    item = {"verdict": _VERDICT[draft.type], "claim_id": draft.claim_id}
    return item | {name: draft.details.get(name) for name in _CLAIM_FIELDS}


def _claims_line(items: Sequence[Mapping[str, Any]]) -> list[str]:
    parts = []
    updates = [i for i in items if i["verdict"] == "updates"]
    for item in updates[:_MAX_UPDATES_NAMED]:
        parts.append(f"{item['claim_id']} updated: {', '.join(item['old_values'] or ())} → "
                     f"{', '.join(item['new_values'] or ())}")
    if len(updates) > _MAX_UPDATES_NAMED:
        parts.append(f"{len(updates) - _MAX_UPDATES_NAMED} more update(s)")
    new = sum(1 for i in items if i["verdict"] == "new")
    if new:
        parts.append(f"{new} new claim{'s' if new > 1 else ''}")
    corroborated = sorted({str(i["claim_id"]) for i in items if i["verdict"] == "corroborates"})
    if corroborated:
        parts.append(f"corroborates {', '.join(corroborated)}")
    return parts


def story_draft(stored: StoredArticle, drafts: Sequence[EventDraft], context: ChangeContext) -> EventDraft:
    """The story of one article change, from its article-level and claim-level drafts."""
    claim_drafts = [d for d in drafts if d.type in _ORDER]
    # The story of a baseline or of a copy lists its claims all the same (it is stored, and routes that ask for
    # copies get it); what it leaves out is what is news to nobody.
    sent = sorted((d for d in claim_drafts if d.details.get("quiet") not in _LEFT_OUT),
                  key=lambda d: (_ORDER[d.type], d.details.get("sentence_index", 0)))
    items = [_claim_item(d) for d in sent]
    omitted = {"background": sum(1 for d in claim_drafts if d.details.get("quiet") == "background"),
               "repeats": sum(1 for d in claim_drafts if d.details.get("quiet") == "repeat")}
    edited = next((d for d in drafts if d.type == ARTICLE_EDITED), None)
    edit = {"summary": edited.summary, **{k: v for k, v in edited.details.items() if k != "version"}} \
        if edited is not None else None
    parts = _claims_line(items)
    if edit is not None:
        parts.append(edit["summary"])
    elif not parts:
        parts.append("new article")
    copy_of = dict(context.copy_of) if context.copy_of is not None else None
    if copy_of is not None:
        parts.insert(0, f"copy of {copy_of.get('source_id') or 'another outlet'}")
    details = {"action": stored.action, "version": stored.version_number, "claims": items, "omitted": omitted,
               "edit": edit, "copy_of": copy_of}
    if context.baseline:
        details["quiet"] = "baseline"
    confidence = min((d.confidence for d in sent if d.confidence is not None), default=None)
    rank = 50 if any(i["verdict"] != "corroborates" for i in items) else 30 if edit is not None else 20
    return EventDraft(STORY, f"{STORY}:v{stored.version_id}", stored.title, "; ".join(parts),
                      source_id=stored.source_id, article_id=stored.article_id, version_id=stored.version_id,
                      url=stored.url, details=details, relevance=stored.relevance, confidence=confidence,
                      quiet=context.baseline, rank=rank)


def baseline_draft(run_id: int, sources: Sequence[Mapping[str, Any]]) -> EventDraft:
    """The one summary of a crawl's new sources, whose articles were stored without alerts: ``sources`` are
    dicts with ``source_id``, ``name``, ``articles``, ``relevant`` and ``claim_sentences``."""
    articles = sum(int(s["articles"]) for s in sources)
    relevant = sum(int(s["relevant"]) for s in sources)
    names = ", ".join(str(s.get("name") or s["source_id"]) for s in sources)
    count = len(sources)
    title = f"Baseline of {count} new source{'s' if count > 1 else ''}: {names}"
    summary = (f"{articles} article(s) stored as the baseline ({relevant} on the topic), without alerts; "
               "changes from now on are alerted")
    return EventDraft(BASELINE, f"{BASELINE}:run{run_id}", title, summary,
                      details={"run_id": run_id, "sources": [dict(s) for s in sources]})
