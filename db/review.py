"""The review queue: claim sentences a researcher should look at (new claims, and matches the matcher was unsure
of) and the decisions on them — promote to a known claim, link to a known claim, dismiss.

Exceptions::

    ReviewError (ValueError)      a decision that cannot be made; the message says why and what to do
    ├── UnknownMatchError         no claim match has that id
    ├── AlreadyDecidedError       the sentence is not (or no longer) in the queue
    └── InvalidDecisionError      the form's claim id, text or figures are not usable
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Subquery, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from analysis.claims import semantic
from analysis.claims.compare import compare
from analysis.claims.matcher import ClaimMatcher, analyse
from analysis.claims.model import Claim, ClaimDataError, Figure, claims_from_yaml_data
from analysis.claims.quantities import Quantity, extract_quantities
from analysis.claims.sentences import claims_digest
from db import candidates as candidate_store
from db.candidates import Repeat
from db.claims import insert_claim, matching_claims
from db.models import Article, ArticleVersion, CandidateSighting, ClaimMatchRow, KnownClaim, Review, Source, utcnow
from db.sentence_keys import sentence_hash
from db.upsert import dialect_insert

# Confidence is 0.5 + |similarity - MIN_SIMILARITY|: how far a verdict is from the matcher's cut. On the labelled
# sentences (tests/analysis/claims/data: eval_dev, 150; probes_own, 120) every wrong verdict has a confidence
# below 0.55 (3 of the 6 probe matches between 0.50 and 0.55 are wrong) and every verdict from 0.55 up is right;
# 0.6 doubles that margin and queues 13% (19/150) and 17% (20/120) of the sentences, new claims included.
LOW_CONFIDENCE = 0.6
ACTIONS = ("promote", "link", "dismiss")
CLAIM_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")
REVIEW_ID_PREFIX = "R"
PROMOTE_ATTEMPTS = 20  # concurrent promotions that can take the next R id before ours gives up
MAX_CLAIM_TEXT = 2000
T = TypeVar("T")


class ReviewError(ValueError):
    """A review decision that cannot be made; the message says why and what to do."""


class UnknownMatchError(ReviewError):
    """No claim match has the given id (a rematch may have replaced it: reload the queue)."""


class AlreadyDecidedError(ReviewError):
    """The sentence is not in the queue: someone decided on it already, or it never needed review."""


class InvalidDecisionError(ReviewError):
    """The claim id, text or figures given for a decision are not usable."""


@dataclass(frozen=True)
class QueueItem:
    """One sentence waiting for review, with the verdict the matcher gave it and where it was found."""

    match_id: int
    article_id: int
    version: int
    title: str
    source: str
    url: str
    fetched_at: datetime
    sentence: str
    label: str
    confidence: float
    claim_id: str | None
    claim_text: str | None
    old_values: tuple[str, ...]
    new_values: tuple[str, ...]
    copies: int  # how many stored versions of the article carry this sentence; one decision covers them all
    # A new claim other outlets reported too: its candidate, how many articles and outlets reported it, and the
    # other sightings (first first). One decision covers them all.
    candidate_id: int | None = None
    sightings: int = 1
    outlets: int = 1
    repeats: tuple[Repeat, ...] = ()


@dataclass(frozen=True)
class Decision:
    """A decision taken on a queued sentence: who, when, what, and the verdict before and after."""

    id: int
    action: str
    reviewer: str
    decided_at: datetime
    article_id: int
    title: str
    sentence: str
    label_before: str
    claim_before: str | None
    confidence_before: float
    claim_id: str | None
    label_after: str | None
    note: str
    repeats: int = 0  # the other sightings of the same candidate claim the decision was recorded for too


@dataclass(frozen=True)
class ReviewPage(Generic[T]):
    """One page of a list and how many entries the whole list has."""

    items: tuple[T, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


# --- the queue -----------------------------------------------------------------------------------------------

def needs_review(row: ClaimMatchRow) -> bool:
    """Whether a match belongs in the queue by its verdict (the Python twin of :func:`_needs_review`)."""
    return (row.label == "new" and row.on_subject) or (row.label != "new" and row.confidence < LOW_CONFIDENCE)


def _needs_review() -> ColumnElement[bool]:
    # New claims about North Korean workers (off-subject ones are asides about someone else), and
    # corroborations or updates close to the matcher's cut.
    return or_(and_(ClaimMatchRow.label == "new", ClaimMatchRow.on_subject.is_(True)),
               and_(ClaimMatchRow.label != "new", ClaimMatchRow.confidence < LOW_CONFIDENCE))


def _undecided() -> ColumnElement[bool]:
    return ~exists().where(Review.article_id == ClaimMatchRow.article_id, Review.sentence == ClaimMatchRow.sentence)


def _groups(article_ids: Iterable[int] | None = None) -> Subquery:
    # Each queued (article, sentence) once: its newest match and how many matches (versions) carry it.
    query = (select(func.max(ClaimMatchRow.id).label("id"), func.count().label("copies"))
             .where(_needs_review(), _undecided()).group_by(ClaimMatchRow.article_id, ClaimMatchRow.sentence))
    if article_ids is not None:
        query = query.where(ClaimMatchRow.article_id.in_(set(article_ids)))
    return query.subquery()


def queue(session: Session, page: int = 1, page_size: int = 50, *, scan_batch: int = 100) -> ReviewPage[QueueItem]:
    """Sentences waiting for review, newest version first; a sentence repeated in several versions of an article
    is listed once (its newest match), and so is a new claim several outlets reported (a candidate claim): where
    its newest sighting would be, as its first queued sighting with the others as its repeats.

    The queue is read in SQL pages (``scan_batch`` entries and more) up to the page asked for, never the whole queue
    at once; ``total`` is exact when that reading reached the queue's end, else the queued sentences less the
    repeats met so far."""
    page = max(1, page)
    start = (page - 1) * page_size
    shown, skipped, exhausted, queued = _scan(session, start + page_size, scan_batch)
    wanted = _representatives(session, shown[start:start + page_size])
    total = len(shown) if exhausted else queued - skipped
    grouped = _groups({article_id for article_id, _ in wanted.values()})
    query = (select(ClaimMatchRow, grouped.c.copies, ArticleVersion.number, ArticleVersion.fetched_at,
                    Article.title, Source.name, KnownClaim.text)
             .join(grouped, grouped.c.id == ClaimMatchRow.id)
             .join(ArticleVersion, ArticleVersion.id == ClaimMatchRow.version_id)
             .join(Article, Article.id == ClaimMatchRow.article_id)
             .outerjoin(Source, Source.id == ClaimMatchRow.source_id)
             .outerjoin(KnownClaim, KnownClaim.id == ClaimMatchRow.claim_id)
             .where(ClaimMatchRow.id.in_(wanted)))
    owners = {candidate for _, candidate in wanted.values() if candidate is not None}
    repeats, counts = candidate_store.repeats_of(session, owners), candidate_store.candidate_counts(session, owners)
    found = {}
    for row, copies, number, fetched_at, title, source_name, claim_text in session.execute(query):
        item = QueueItem(match_id=row.id, article_id=row.article_id, version=number, title=title or row.url,
                         source=source_name or row.source_id or "", url=row.url, fetched_at=fetched_at,
                         sentence=row.sentence, label=row.label, confidence=row.confidence, claim_id=row.claim_id,
                         claim_text=claim_text, old_values=tuple(row.old_values), new_values=tuple(row.new_values),
                         copies=copies)
        candidate = wanted[row.id][1]
        if candidate is not None and candidate in counts:
            item = replace(item, candidate_id=candidate, sightings=counts[candidate].sightings,
                           outlets=counts[candidate].outlets, repeats=tuple(
                               r for r in repeats.get(candidate, ())
                               if (r.article_id, r.sentence) != (row.article_id, row.sentence)))
        found[row.id] = item
    return ReviewPage(tuple(found[match_id] for match_id in wanted if match_id in found), max(total, len(shown)),
                      page, page_size)


def _scan(session: Session, wanted: int,
          first_batch: int) -> tuple[list[tuple[int, int, int | None]], int, bool, int]:
    """The queue's first ``wanted`` entries (more if a batch holds more), in order, read in growing SQL pages:
    (match id, article id, candidate or None) each, a candidate's entry at its newest queued sighting; how many
    queued sentences were left out on the way (further sightings of a listed candidate, sightings of a decided
    one), whether the reading reached the queue's end, and how many sentences are queued in all."""
    grouped = _groups()
    # The count of all queued sentences comes with every row (a window over the grouping the ordering needs
    # anyway): counting them in a query of its own grouped the whole queue a second time.
    ordered = (select(ClaimMatchRow.id, ClaimMatchRow.article_id, ClaimMatchRow.sentence, ClaimMatchRow.label,
                      func.count().over())
               .join(grouped, grouped.c.id == ClaimMatchRow.id)
               .join(ArticleVersion, ArticleVersion.id == ClaimMatchRow.version_id)
               .order_by(ArticleVersion.fetched_at.desc(), ClaimMatchRow.id.desc()))
    shown: list[tuple[int, int, int | None]] = []
    listed: set[int] = set()
    skipped, offset, batch, queued = 0, 0, max(2 * wanted, first_batch), 0
    while True:
        rows = session.execute(ordered.offset(offset).limit(batch)).all()
        offset += len(rows)
        queued = int(rows[0][4]) if rows else queued
        owners = candidate_store.candidates_of(session, [(a, sentence) for _, a, sentence, label, _ in rows
                                                         if label == "new"])
        decided = candidate_store.decided_candidates(session, owners.values())
        for match_id, article_id, sentence, _, _ in rows:
            candidate = owners.get((article_id, sentence))
            if candidate is None:
                shown.append((match_id, article_id, None))
            elif candidate in decided or candidate in listed:
                skipped += 1
            else:
                listed.add(candidate)
                shown.append((match_id, article_id, candidate))
        if len(rows) < batch:
            return shown, skipped, True, queued
        if len(shown) > wanted:
            return shown, skipped, False, queued
        batch *= 2


def _representatives(session: Session,
                     entries: Sequence[tuple[int, int, int | None]]) -> dict[int, tuple[int, int | None]]:
    """The match each entry of a page shows, in order, with its article and candidate: its own, or for a
    candidate's entry the first stored of the candidate's queued sightings (the lowest match id), which stands for
    all of them."""
    candidates = {candidate for _, _, candidate in entries if candidate is not None}
    first: dict[int, tuple[int, int]] = {}
    if candidates:
        sightings = session.execute(select(CandidateSighting.candidate_id, CandidateSighting.article_id,
                                           CandidateSighting.sentence_hash)
                                    .where(CandidateSighting.candidate_id.in_(candidates))).all()
        owner = {(article_id, key): candidate for candidate, article_id, key in sightings}
        grouped = _groups({article_id for _, article_id, _ in sightings})
        for match_id, article_id, sentence in session.execute(
                select(ClaimMatchRow.id, ClaimMatchRow.article_id, ClaimMatchRow.sentence)
                .join(grouped, grouped.c.id == ClaimMatchRow.id).where(ClaimMatchRow.label == "new")):
            candidate = owner.get((article_id, sentence_hash(sentence)))
            if candidate is not None and (candidate not in first or match_id < first[candidate][0]):
                first[candidate] = (match_id, article_id)
    wanted: dict[int, tuple[int, int | None]] = {}
    for match_id, article_id, candidate in entries:
        if candidate is not None and candidate in first:
            match_id, article_id = first[candidate]
        wanted[match_id] = (article_id, candidate)
    return wanted


def decisions(session: Session, page: int = 1, page_size: int = 50) -> ReviewPage[Decision]:
    """The decisions taken, newest first."""
    total = int(session.scalar(select(func.count()).select_from(Review)) or 0)
    query = (select(Review, Article.title, Article.url).join(Article, Article.id == Review.article_id)
             .order_by(Review.decided_at.desc(), Review.id.desc())
             .offset((max(1, page) - 1) * page_size).limit(page_size))
    items = tuple(
        Decision(id=r.id, action=r.action, reviewer=r.reviewer, decided_at=r.decided_at, article_id=r.article_id,
                 title=title or url, sentence=r.sentence, label_before=r.label_before, claim_before=r.claim_before,
                 confidence_before=r.confidence_before, claim_id=r.claim_id, label_after=r.label_after, note=r.note)
        for r, title, url in session.execute(query))
    return ReviewPage(items, total, max(1, page), page_size)


def active_claims(session: Session) -> list[tuple[str, str]]:
    """(id, text) of every active claim, for the "link to" choice."""
    query = select(KnownClaim.id, KnownClaim.text).where(KnownClaim.status == "active").order_by(KnownClaim.id)
    return [(claim_id, text) for claim_id, text in session.execute(query)]


def link_candidates(session: Session, sentences: Sequence[str]) -> dict[str, list[tuple[str, float]]]:
    """For each sentence, the claims the matcher found closest, best first, with their similarity (0..1): what
    the "link to" choice offers first. Claims the subject gate turned away come after those it let through."""
    if not sentences:
        return {}
    matcher = _matcher(matching_claims(session))
    found: dict[str, list[tuple[str, float]]] = {}
    for sentence in dict.fromkeys(sentences):
        candidates = sorted(matcher.explain(sentence).candidates, key=lambda c: (not c.gate_passed, -c.similarity))
        found[sentence] = [(candidate.claim_id, round(candidate.similarity, 2)) for candidate in candidates]
    return found


_matchers: dict[tuple[str, bool], ClaimMatcher] = {}


def _matcher(claims: list[Claim]) -> ClaimMatcher:
    """A matcher over ``claims``, built once per set of claims (every review page would otherwise analyse
    them all again); only the newest set is kept."""
    key = (claims_digest(claims), semantic.enabled())  # a reloaded config may switch the signal
    matcher = _matchers.get(key)
    if matcher is None:
        _matchers.clear()
        matcher = _matchers[key] = ClaimMatcher(claims)
    return matcher


def _insert_promoted(session: Session, claim: Claim, chosen: str) -> str:
    """Insert the promoted claim under ``chosen``, or else the next free R id; the id it got.

    The next R id is read then inserted with ON CONFLICT DO NOTHING: a reviewer promoting at the same time may
    take the same number first (on PostgreSQL our INSERT waits for their commit, then does nothing), and then
    the number after it is tried, so concurrent promotions get distinct ids instead of a unique violation."""
    if chosen:
        if not insert_claim(session, replace(claim, id=chosen)):
            raise InvalidDecisionError(f"claim {chosen} exists already: choose another id, leave it empty for the "
                                       "next free R id, or link the sentence to that claim instead")
        return chosen
    for _ in range(PROMOTE_ATTEMPTS):
        claim_id = next_claim_id(session)
        if insert_claim(session, replace(claim, id=claim_id)):
            return claim_id
    raise InvalidDecisionError(f"no free R id after {PROMOTE_ATTEMPTS} tries (many promotions at once): enter a "
                               "claim id, or try again")


def next_claim_id(session: Session) -> str:
    """The next free id for a promoted claim: R0001, R0002, ..."""
    taken = session.scalars(select(KnownClaim.id).where(KnownClaim.id.like(f"{REVIEW_ID_PREFIX}%")))
    numbers = [int(claim_id[1:]) for claim_id in taken if claim_id[1:].isdigit()]
    return f"{REVIEW_ID_PREFIX}{max(numbers, default=0) + 1:04d}"


# --- figures of a sentence ----------------------------------------------------------------------------------

_UNIT_OF_KIND = {"percent": "percent", "year": "year", "date": "date", "hours": "hours_per_day",
                 "resolution": "un_resolution"}
_COUNT_UNITS = {"countries": "countries", "barrels": "barrels_per_year"}


def _unit_of(quantity: Quantity) -> str:
    """The claims-file unit of a figure the sentence states: money in its currency and per its period where
    the sentence says them (dollars when it names no currency), counts of what they count."""
    if quantity.kind == "money":
        return (quantity.currency or "usd") + (f"_per_{quantity.period}" if quantity.period else "")
    return _UNIT_OF_KIND.get(quantity.kind) or _COUNT_UNITS.get(quantity.unit_guess or "", "workers")


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _figures_of(quantity: Quantity) -> list[str]:
    unit = _unit_of(quantity)
    if unit == "date":
        value = int(quantity.value)
        return [f"{value // 100:04d}-{value % 100:02d}:date"]
    if quantity.is_range:
        return [f"{_number(quantity.low)}:{unit}:range_low", f"{_number(quantity.high)}:{unit}:range_high"]
    if quantity.is_magnitude:  # the claims file writes a vague magnitude as its decade's floor: 10000, not 20000
        return [f"{10 ** (len(str(int(quantity.low))) - 1)}:{unit}:magnitude"]
    qualifier = "" if quantity.qualifier == "exact" else f":{quantity.qualifier}"
    return [f"{_number(quantity.value)}:{unit}{qualifier}"]


def suggested_figures(sentence: str) -> str:
    """The sentence's figures in the ``VALUE:UNIT[:QUALIFIER]`` form of ``claims add``, separated by "; "."""
    return "; ".join(figure for quantity in extract_quantities(sentence) for figure in _figures_of(quantity))


def parse_figures(text: str) -> tuple[Figure, ...]:
    """Figures written as ``VALUE:UNIT[:QUALIFIER]``, separated by ";" or new lines, validated like the claims file."""
    data: list[dict[str, Any]] = []
    for part in filter(None, (item.strip() for item in re.split(r"[;\n]", text))):
        pieces = [piece.strip() for piece in part.split(":")]
        if len(pieces) not in (2, 3) or not pieces[0]:
            raise InvalidDecisionError(f"figure {part!r}: write VALUE:UNIT or VALUE:UNIT:QUALIFIER, "
                                       "e.g. 50000:workers:more_than")
        value: int | float | str = pieces[0]
        if re.fullmatch(r"-?\d+", pieces[0]):
            value = int(pieces[0])
        elif re.fullmatch(r"-?\d+\.\d+", pieces[0]):
            value = float(pieces[0])
        data.append({"value": value, "unit": pieces[1], "qualifier": pieces[2] if len(pieces) == 3 else "exact"})
    try:
        return claims_from_yaml_data({"claims": [{"id": "figures", "text": "-", "figures": data}]})[0].figures
    except ClaimDataError as exc:
        raise InvalidDecisionError(str(exc).replace("claim figures: ", "")) from exc


# --- decisions ----------------------------------------------------------------------------------------------

def _open_match(session: Session, match_id: int) -> ClaimMatchRow:
    row = session.get(ClaimMatchRow, match_id)
    if row is None:
        raise UnknownMatchError(f"claim match {match_id} does not exist (a rematch may have replaced it): "
                                "reload the review queue")
    decided = session.scalar(select(Review.id).where(Review.article_id == row.article_id,
                                                     Review.sentence_hash == sentence_hash(row.sentence)))
    if decided is not None or not needs_review(row):
        raise AlreadyDecidedError(f"claim match {match_id} is not in the review queue "
                                  f"({'decided already' if decided else 'it needs no review'}): reload the queue")
    return row


def _insert_review(session: Session, row: ClaimMatchRow, *, action: str, reviewer: str, note: str,
                   decided_at: datetime, claim_id: str | None, label_after: str | None) -> int | None:
    """Insert the decision on ``row``'s sentence; its id, or None when the sentence was decided already."""
    values: dict[str, Any] = {
        "article_id": row.article_id, "version_id": row.version_id, "match_id": row.id,
        "sentence_index": row.sentence_index, "sentence": row.sentence, "sentence_hash": sentence_hash(row.sentence),
        "action": action, "label_before": row.label, "claim_before": row.claim_id,
        "confidence_before": row.confidence, "claim_id": claim_id, "label_after": label_after,
        "reviewer": reviewer, "note": note, "decided_at": decided_at}
    conn = session.connection()
    # Two reviewers deciding at once: the unique (article, sentence) key lets one insert win; the other is
    # told, not a 500 (on PostgreSQL its INSERT waits for the winner's commit, then does nothing).
    stmt = dialect_insert(conn.dialect.name, Review).on_conflict_do_nothing(
        index_elements=["article_id", "sentence_hash"]).returning(Review.id)
    review_id: int | None = conn.execute(stmt, values).scalar()
    return review_id


def _record(session: Session, row: ClaimMatchRow, *, action: str, reviewer: str, note: str, at: datetime | None,
            claim_id: str | None = None, label_after: str | None = None) -> Decision:
    decided_at, reviewer, note = at or utcnow(), reviewer[:100], note.strip()
    review_id = _insert_review(session, row, action=action, reviewer=reviewer, note=note, decided_at=decided_at,
                               claim_id=claim_id, label_after=label_after)
    if review_id is None:
        raise AlreadyDecidedError(f"the sentence of claim match {row.id} was decided meanwhile: reload the queue")
    title = session.scalar(select(Article.title).where(Article.id == row.article_id)) or row.url
    return Decision(review_id, action, reviewer, decided_at, row.article_id, title, row.sentence, row.label,
                    row.claim_id, row.confidence, claim_id, label_after, note)


def _relabel(session: Session, row: ClaimMatchRow, label: str, claim_id: str, reviewer: str, action: str,
             olds: Sequence[str] = (), news: Sequence[str] = ()) -> None:
    # The reviewer's verdict replaces the matcher's on every stored copy of the sentence in this article, so the
    # claim's page lists it; the decision itself stays in `reviews` (a rematch recomputes these rows).
    copies = session.scalars(select(ClaimMatchRow).where(ClaimMatchRow.article_id == row.article_id,
                                                         ClaimMatchRow.sentence == row.sentence))
    for copy in copies:
        copy.label, copy.claim_id = label, claim_id
        copy.old_values, copy.new_values = list(olds), list(news)
        copy.reasons = [*copy.reasons, f"review: {action} by {reviewer}"]


def _record_repeats(session: Session, decision: Decision, row: ClaimMatchRow,
                    claim: KnownClaim | None = None) -> Decision:
    """The decision taken on ``row`` recorded for every other sighting of its candidate claim (the same new claim
    other outlets reported), each relabelled against ``claim`` when there is one; ``decision`` with their count."""
    owner = candidate_store.candidates_of(session, [(row.article_id, row.sentence)]).get((row.article_id, row.sentence))
    if owner is None:
        return decision
    recorded = 0
    for other in candidate_store.sighting_matches(session, owner):
        if (other.article_id, other.sentence) == (row.article_id, row.sentence):
            continue
        differences = compare(analyse(other.sentence).side, analyse(claim.text).side) if claim else []
        label = ("updates" if differences else "corroborates") if claim else None
        review_id = _insert_review(session, other, action=decision.action, reviewer=decision.reviewer,
                                   note=decision.note, decided_at=decision.decided_at,
                                   claim_id=claim.id if claim else None, label_after=label)
        if review_id is None:
            continue  # decided on its own already
        recorded += 1
        if claim is not None and label is not None:
            _relabel(session, other, label, claim.id, decision.reviewer, decision.action,
                     [d.old for d in differences], [d.new for d in differences])
    return replace(decision, repeats=recorded)


def _source_of(session: Session, row: ClaimMatchRow) -> str:
    name = session.scalar(select(Source.name).where(Source.id == row.source_id)) if row.source_id else None
    fetched = session.scalar(select(ArticleVersion.fetched_at).where(ArticleVersion.id == row.version_id))
    year = f", {fetched.year}" if fetched else ""
    return f"{name or row.source_id or row.url}{year} (article {row.article_id}, reviewed)"


def promote(session: Session, match_id: int, *, reviewer: str, claim_id: str = "", text: str = "",
            figures: str | None = None, subject: str = "", note: str = "", at: datetime | None = None) -> Decision:
    """Make the sentence a new active known claim (``claim_id`` or the next R id; ``text`` or the sentence;
    ``figures`` in ``VALUE:UNIT[:QUALIFIER]`` form or the sentence's own) and record the decision."""
    row = _open_match(session, match_id)
    chosen = claim_id.strip()
    if chosen and not CLAIM_ID_RE.match(chosen):
        raise InvalidDecisionError(f"claim id {chosen!r}: use a letter then letters, digits, '.', '_' or '-' "
                                   "(at most 32), or leave it empty for the next free R id")
    text = " ".join((text or row.sentence).split())
    if not text or len(text) > MAX_CLAIM_TEXT:
        raise InvalidDecisionError(f"the claim text must be one sentence of 1 to {MAX_CLAIM_TEXT} characters")
    parsed = parse_figures(suggested_figures(row.sentence) if figures is None else figures)
    claim = Claim(id=chosen or "-", text=text, subject=" ".join(subject.split()), figures=parsed,
                  source=_source_of(session, row), tags=("review",))
    claim_id = _insert_promoted(session, claim, chosen)
    decision = _record(session, row, action="promote", reviewer=reviewer, note=note, at=at, claim_id=claim_id,
                       label_after="corroborates")
    _relabel(session, row, "corroborates", claim_id, reviewer, "promote")
    return _record_repeats(session, decision, row, session.get(KnownClaim, claim_id))


def link(session: Session, match_id: int, *, reviewer: str, claim_id: str, note: str = "",
         at: datetime | None = None) -> Decision:
    """Tie the sentence to an active known claim; the figures and slots decide whether it corroborates or
    updates it."""
    row = _open_match(session, match_id)
    claim = session.get(KnownClaim, claim_id.strip())
    if claim is None or claim.status != "active":
        raise InvalidDecisionError(f"no active claim {claim_id!r}: choose one from the list")
    differences = compare(analyse(row.sentence).side, analyse(claim.text).side)
    label = "updates" if differences else "corroborates"
    decision = _record(session, row, action="link", reviewer=reviewer, note=note, at=at, claim_id=claim.id,
                       label_after=label)
    _relabel(session, row, label, claim.id, reviewer, "link", [d.old for d in differences],
             [d.new for d in differences])
    return _record_repeats(session, decision, row, claim)


def dismiss(session: Session, match_id: int, *, reviewer: str, note: str = "", at: datetime | None = None) -> Decision:
    """Take the sentence out of the queue without changing any claim or verdict."""
    row = _open_match(session, match_id)
    return _record_repeats(session, _record(session, row, action="dismiss", reviewer=reviewer, note=note, at=at), row)
