"""Candidate claims: the same new claim reported by several outlets, grouped into one candidate with a first
appearance and its repeats (sightings), alerted once when first seen and again only when a repeat states a figure
it was not alerted with.

The crawl calls :func:`group_new_claims` in the store transaction of each article version, after its claim matches
are written. Which sentences are one claim is decided by :mod:`analysis.claims.grouping`; the keys of the recent
candidates are kept in memory per database and brought up to date from it on every call.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from analysis.claims.grouping import ClaimIndex, ClaimKey, claim_key
from analysis.claims.sentences import SentenceMatch
from db.models import Article, CandidateClaim, CandidateSighting, ClaimMatchRow, Review, Source
from db.sentence_keys import sentence_hash

# Only candidates reported within this long are matched: a claim repeated after a quarter of silence is news again.
WINDOW = timedelta(days=90)
# The keys in memory are read again from the database this often (seconds), and the newest OVERLAP ids on every
# call: a writer's rollback frees ids that SQLite hands out again, and PostgreSQL commits ids out of order.
RELOAD_EVERY = 900.0
OVERLAP = 64


@dataclass(frozen=True)
class Grouped:
    """What grouping made of one new-claim sentence: its candidate, whether this is the candidate's first sighting,
    whether it states a figure the candidate was not alerted with, and so whether it is worth an alert."""

    candidate_id: int
    first: bool
    figures_changed: bool
    alert: bool


@dataclass(frozen=True)
class Sightings:
    """How often a candidate was reported: by how many articles and how many outlets."""

    candidate_id: int
    sightings: int
    outlets: int


@dataclass(frozen=True)
class Repeat:
    """One sighting of a candidate, as the review queue lists it."""

    article_id: int
    title: str
    source: str
    url: str
    sentence: str
    seen_at: datetime


class _Recent:
    """The keys of one database's recent candidates, as this process last read them."""

    def __init__(self) -> None:
        self.index = ClaimIndex()
        self.sentences: dict[int, str] = {}
        self.upto = 0
        self.loaded_at: float | None = None
        self.fresh_for: weakref.ref[SessionTransaction] | None = None

    def refresh(self, session: Session, since: datetime) -> None:
        """Read what changed: every recent candidate now and then, else the newest ids."""
        full = self.loaded_at is None or time.monotonic() - self.loaded_at > RELOAD_EVERY
        query = select(CandidateClaim.id, CandidateClaim.sentence)
        if full:  # keys of unchanged candidates are kept: a key costs the matcher's analysis of a sentence
            rows = session.execute(query.where(CandidateClaim.last_seen_at >= since)).all()
            self.loaded_at = time.monotonic()
        else:
            rows = session.execute(query.where(CandidateClaim.id > self.upto - OVERLAP)).all()
        present = {key_id for key_id, _ in rows}
        # Gone: rolled back since we read them, or (on a full read) out of the window or deleted.
        for gone in [key_id for key_id in self.sentences
                     if key_id not in present and (full or key_id > self.upto - OVERLAP)]:
            self.forget(gone)
        for key_id, sentence in rows:
            self.remember(key_id, sentence)

    def refresh_for(self, session: Session, since: datetime) -> None:
        """:meth:`refresh`, once per transaction of ``session``: the candidates this writer makes meanwhile are
        remembered as it makes them, and on SQLite no other writer can commit while it holds the write lock."""
        transaction = session.get_transaction()
        if transaction is None or self.fresh_for is None or self.fresh_for() is not transaction:
            self.refresh(session, since)
            self.fresh_for = weakref.ref(transaction) if transaction is not None else None

    def remember(self, key_id: int, sentence: str, key: ClaimKey | None = None) -> None:
        if self.sentences.get(key_id) != sentence:
            self.sentences[key_id] = sentence
            self.index.add(key_id, key or claim_key(sentence))
        self.upto = max(self.upto, key_id)

    def forget(self, key_id: int) -> None:
        self.sentences.pop(key_id, None)
        self.index.remove(key_id)


_recent: weakref.WeakKeyDictionary[Engine, _Recent] = weakref.WeakKeyDictionary()


def _recent_of(session: Session) -> _Recent:
    engine = session.get_bind()
    assert isinstance(engine, Engine), "a session bound to one engine"
    found = _recent.get(engine)
    if found is None:
        found = _recent[engine] = _Recent()
    return found


def warm(session: Session, now: datetime) -> int:
    """Read and key the recent candidates ahead of the first :func:`group_new_claims` (a read transaction will do),
    so that the first store transaction does not; how many there are."""
    recent = _recent_of(session)
    recent.refresh(session, now - WINDOW)
    return len(recent.index)


def group_new_claims(session: Session, *, article_id: int, version_id: int, source_id: str | None,
                     sentences: Sequence[SentenceMatch], now: datetime,
                     keys: Mapping[int, ClaimKey] | None = None, new_article: bool = False) -> dict[int, Grouped]:
    """Group an article version's new-claim sentences with the candidates of other outlets; by sentence index.

    A sentence of a recent candidate (near-identical, or the same figures about the same subject) becomes a
    sighting of it; any other starts a candidate. A sentence this article already reported (an earlier version
    carried it) is no new sighting and never alerts. Sentences not about North Korean workers (``on_subject``
    false: asides about others) are no candidates and get no entry. ``keys``: the sentences' claim keys by index,
    where they were made already (the crawl's workers make them); ``new_article``: the article was stored in this
    transaction, so it has no sightings yet (and they are not looked up)."""
    grouping = Grouping(session)
    grouped = grouping.group(article_id=article_id, version_id=version_id, source_id=source_id, sentences=sentences,
                             now=now, keys=keys, new_article=new_article)
    grouping.finish()
    return grouped


class Grouping:
    """``group_new_claims`` for the article versions of one store transaction, one after another: each candidate's
    row is read (and locked) once, and the changes to it and the sightings are written once, by :meth:`finish`,
    which must come before the transaction commits. Nothing else in the transaction reads what these change
    (figures alerted, last sighting, count of sightings; sightings) in the meantime."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._states: dict[int, _State] = {}  # the candidates read or made in this transaction
        self._sightings: list[dict[str, object]] = []  # made in this transaction, not written yet
        self._reported: dict[int, dict[str, int]] = {}  # by article: its sightings' candidates by sentence hash

    def group(self, *, article_id: int, version_id: int, source_id: str | None, sentences: Sequence[SentenceMatch],
              now: datetime, keys: Mapping[int, ClaimKey] | None = None,
              new_article: bool = False) -> dict[int, Grouped]:
        """``group_new_claims`` for one article version; its changes to candidates are written by :meth:`finish`."""
        session = self.session
        about = [match for match in sentences if match.on_subject]
        if not about:
            return {}  # most articles: nothing to group, and no query to make
        since = now - WINDOW
        recent = _recent_of(session)
        recent.refresh_for(session, since)
        # Core statements, a few per article: this runs in the crawl's store transaction for every relevant version, and
        # the ORM's unit of work (an object per candidate and sighting, a flush per article) cost more than the SQL.
        connection = session.connection()
        # Its sightings: those written before, and those made in this transaction (``finish`` writes them).
        seen: dict[str, int] = {} if new_article else dict(
            connection.execute(_SIGHTINGS_OF_ARTICLE, {"article_id": article_id}).all())
        seen |= self._reported.get(article_id, {})
        reported = set(seen.values())  # candidates this article reported already (in any sentence)
        todo = []
        for match in about:
            digest = sentence_hash(match.sentence)
            key = (keys or {}).get(match.index) or claim_key(match.sentence)
            todo.append((match, digest, key, [] if digest in seen else recent.index.find(key)))
        states = self._read(connection, {key_id for *_, ids in todo for key_id in ids}, since)
        grouped: dict[int, Grouped] = {}
        sightings: list[dict[str, object]] = []
        made = False
        for match, digest, key, ids in todo:
            if digest in seen:
                grouped[match.index] = Grouped(seen[digest], first=False, figures_changed=False, alert=False)
                continue
            if made:  # a candidate this article started may be the one a later sentence repeats
                ids = recent.index.find(key)
            figures = sorted(key.figures)
            candidate_id = next((key_id for key_id in ids if key_id in states), None)
            if candidate_id is None:
                candidate_id = connection.execute(_INSERT_CANDIDATE, {
                    "sentence": match.sentence, "figures": figures, "alerted_figures": figures,
                    "first_article_id": article_id, "first_source_id": source_id, "first_seen_at": now,
                    "last_seen_at": now, "sightings": 1}).scalar_one()
                recent.remember(candidate_id, match.sentence, key)
                states[candidate_id] = self._states[candidate_id] = _State(figures, now)
                made = True
                result = Grouped(candidate_id, first=True, figures_changed=False, alert=True)
            else:
                result = states[candidate_id].repeat(candidate_id, figures, now,
                                                     new_article=candidate_id not in reported)
            sightings.append({"candidate_id": candidate_id, "article_id": article_id, "sentence_hash": digest,
                              "source_id": source_id, "version_id": version_id, "seen_at": now})
            seen[digest] = candidate_id
            reported.add(candidate_id)
            grouped[match.index] = result
        self._sightings += sightings
        self._reported[article_id] = seen
        return grouped

    def _read(self, connection: Connection, ids: set[int], since: datetime) -> dict[int, _State]:
        """The recent candidates among ``ids``: those this transaction read or made already as it left them, the
        others read and locked for our update (PostgreSQL; SQLite's writer holds the lock)."""
        self._states.update(_candidate_states(connection, ids - self._states.keys(), since))
        return {key_id: self._states[key_id] for key_id in ids
                if key_id in self._states and self._states[key_id].last_seen_at >= since}

    def finish(self) -> None:
        """Write the changes to the candidates and the sightings grouped so far: two statements."""
        connection = self.session.connection()
        changed = [state.row(key_id) for key_id, state in self._states.items() if state.changed]
        if changed:
            connection.execute(_UPDATE_CANDIDATE, changed)
        for state in self._states.values():
            state.changed, state.more = False, 0
        if self._sightings:
            connection.execute(_INSERT_SIGHTING, self._sightings)
            self._sightings = []


@dataclass
class _State:
    """What grouping reads and changes of one candidate in a store transaction."""

    alerted: list[str]
    last_seen_at: datetime
    more: int = 0  # sightings to add
    changed: bool = False

    def repeat(self, key_id: int, figures: list[str], now: datetime, *, new_article: bool) -> Grouped:
        """Count a repeat; it alerts when it states a figure none of the candidate's alerts stated."""
        alerted = set(self.alerted)
        figures_changed = not set(figures) <= alerted
        if figures_changed:
            # Every figure alerted so far: outlets that go on printing the old figure after the new one alert no more.
            self.alerted = sorted(alerted | set(figures))
        self.more += 1 if new_article else 0
        self.last_seen_at = max(self.last_seen_at, now)
        self.changed = True
        return Grouped(key_id, first=False, figures_changed=figures_changed, alert=figures_changed)

    def row(self, key_id: int) -> dict[str, object]:
        return {"key_id": key_id, "new_alerted": self.alerted, "new_last_seen": self.last_seen_at,
                "more": self.more}


def _candidate_states(connection: Connection, ids: set[int], since: datetime) -> dict[int, _State]:
    """The recent candidates among ``ids``, locked for our update (PostgreSQL; SQLite's writer holds the lock)."""
    if not ids:
        return {}
    rows = connection.execute(_CANDIDATE_ROWS, {"ids": sorted(ids), "since": since})
    return {key_id: _State(list(alerted or ()), last_seen) for key_id, alerted, last_seen in rows}


_CANDIDATE_ROWS = (select(CandidateClaim.id, CandidateClaim.alerted_figures, CandidateClaim.last_seen_at)
                   .where(CandidateClaim.id.in_(bindparam("ids", expanding=True)),
                          CandidateClaim.last_seen_at >= bindparam("since"))
                   .with_for_update())
_INSERT_CANDIDATE = insert(CandidateClaim).returning(CandidateClaim.id)
_UPDATE_CANDIDATE = (update(CandidateClaim).where(CandidateClaim.id == bindparam("key_id"))
                     .values(alerted_figures=bindparam("new_alerted"), last_seen_at=bindparam("new_last_seen"),
                             sightings=CandidateClaim.sightings + bindparam("more")))
_SIGHTINGS_OF_ARTICLE = (select(CandidateSighting.sentence_hash, CandidateSighting.candidate_id)
                         .where(CandidateSighting.article_id == bindparam("article_id")))
_INSERT_SIGHTING = insert(CandidateSighting)


def sightings_of(session: Session, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Sightings]:
    """For (article id, sentence) pairs, the counts of the candidate each sentence is a sighting of."""
    owners = candidates_of(session, pairs)
    counts = candidate_counts(session, owners.values())
    return {pair: counts[candidate_id] for pair, candidate_id in owners.items() if candidate_id in counts}


def candidate_counts(session: Session, candidate_ids: Iterable[int]) -> dict[int, Sightings]:
    """Each candidate's sightings (articles that reported it) and outlets (their distinct sources)."""
    ids = sorted(set(candidate_ids))
    if not ids:
        return {}
    query = (select(CandidateSighting.candidate_id, func.count(func.distinct(CandidateSighting.article_id)),
                    func.count(func.distinct(CandidateSighting.source_id)))
             .where(CandidateSighting.candidate_id.in_(ids)).group_by(CandidateSighting.candidate_id))
    return {cid: Sightings(cid, int(articles), int(outlets))
            for cid, articles, outlets in session.execute(query)}


# --- for the review queue -----------------------------------------------------------------------------------------

def candidates_of(session: Session, pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The candidate each (article id, sentence) is a sighting of, for those that are one."""
    wanted = {(article_id, sentence_hash(sentence)): (article_id, sentence) for article_id, sentence in pairs}
    if not wanted:
        return {}
    query = (select(CandidateSighting.article_id, CandidateSighting.sentence_hash, CandidateSighting.candidate_id)
             .where(CandidateSighting.article_id.in_({article_id for article_id, _ in wanted})))
    return {wanted[(a, h)]: c for a, h, c in session.execute(query) if (a, h) in wanted}


def decided_candidates(session: Session, candidate_ids: Iterable[int]) -> set[int]:
    """Those of the candidates a reviewer decided on (through any of their sightings)."""
    ids = set(candidate_ids)
    if not ids:
        return set()
    query = (select(CandidateSighting.candidate_id).distinct()
             .join(Review, (Review.article_id == CandidateSighting.article_id)
                   & (Review.sentence_hash == CandidateSighting.sentence_hash))
             .where(CandidateSighting.candidate_id.in_(ids)))
    return set(session.scalars(query))


def sighting_matches(session: Session, candidate_id: int) -> list[ClaimMatchRow]:
    """The newest stored match of each sighting of a candidate, first sighting first (sightings whose sentence a
    rematch no longer finds are left out)."""
    sightings = session.execute(select(CandidateSighting.article_id, CandidateSighting.sentence_hash)
                                .where(CandidateSighting.candidate_id == candidate_id)
                                .order_by(CandidateSighting.seen_at, CandidateSighting.article_id)).all()
    rows = session.scalars(select(ClaimMatchRow).where(
        ClaimMatchRow.article_id.in_({article_id for article_id, _ in sightings})).order_by(ClaimMatchRow.id))
    newest = {(row.article_id, sentence_hash(row.sentence)): row for row in rows}
    return [newest[(a, h)] for a, h in sightings if (a, h) in newest]


def repeats_of(session: Session, candidate_ids: Iterable[int]) -> dict[int, list[Repeat]]:
    """Every sighting of each candidate, first first, with its article and outlet."""
    ids = set(candidate_ids)
    if not ids:
        return {}
    query = (select(CandidateSighting, Article.title, Article.canonical_url, Source.name)
             .join(Article, Article.id == CandidateSighting.article_id)
             .outerjoin(Source, Source.id == CandidateSighting.source_id)
             .where(CandidateSighting.candidate_id.in_(ids))
             .order_by(CandidateSighting.seen_at, CandidateSighting.article_id))
    sightings = session.execute(query).all()
    texts = session.execute(select(ClaimMatchRow.article_id, ClaimMatchRow.sentence).distinct().where(
        ClaimMatchRow.article_id.in_({sighting.article_id for sighting, *_ in sightings}))).all()
    sentences = {(article_id, sentence_hash(sentence)): sentence for article_id, sentence in texts}
    found: dict[int, list[Repeat]] = {}
    for sighting, title, url, source_name in sightings:
        found.setdefault(sighting.candidate_id, []).append(Repeat(
            sighting.article_id, title or url, source_name or sighting.source_id or "", url,
            sentences.get((sighting.article_id, sighting.sentence_hash), ""), sighting.seen_at))
    return found
