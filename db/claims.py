"""Queries over known claims and their matches: import (insert or update by id), list, export, add; the
stored verdicts on article sentences, and replacing them when the claims change (``claims rematch``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.orm import Session

from analysis import positions
from analysis.claims.model import Claim, Figure
from analysis.claims.sentences import SentenceMatch
from db.models import Article, ArticleVersion, ClaimMatchRow, KnownClaim, Review, utcnow
from db.queries import _iso
from db.repository import insert_matches
from db.upsert import dialect_insert


@dataclass(frozen=True)
class ImportResult:
    """How an import changed the claims table."""

    added: int
    updated: int
    unchanged: int


def _figures_data(claim: Claim) -> list[dict[str, object]]:
    return [{"value": f.value, "unit": f.unit, "qualifier": f.qualifier} for f in claim.figures]


def _same(row: KnownClaim, claim: Claim) -> bool:
    return (row.text, row.subject, row.figures, row.source, row.tags, row.approx, row.status, row.paraphrases) == (
        claim.text, claim.subject, _figures_data(claim), claim.source, list(claim.tags), claim.approx, claim.status,
        list(claim.paraphrases))


def _claim_values(claim: Claim) -> dict[str, Any]:
    return {"text": claim.text, "subject": claim.subject, "figures": _figures_data(claim), "source": claim.source,
            "tags": list(claim.tags), "approx": claim.approx, "status": claim.status,
            "paraphrases": list(claim.paraphrases)}


def insert_claim(session: Session, claim: Claim) -> bool:
    """Insert ``claim`` if its id is free; whether it was. One ``INSERT … ON CONFLICT DO NOTHING``: an id taken
    meanwhile by another transaction (another reviewer, another daemon) is a ``False``, never an IntegrityError."""
    conn = session.connection()
    now = utcnow()
    stmt = dialect_insert(conn.dialect.name, KnownClaim).on_conflict_do_nothing(index_elements=["id"])
    values = {"id": claim.id, **_claim_values(claim), "created_at": now, "updated_at": now}
    return conn.execute(stmt.returning(KnownClaim.id), values).first() is not None


def import_claims(session: Session, claims: Iterable[Claim]) -> ImportResult:
    """Insert new claims and update changed ones, matched by id; claims not in the file are kept."""
    wanted = list(claims)
    existing = {row.id: row for row in session.scalars(
        select(KnownClaim).where(KnownClaim.id.in_([claim.id for claim in wanted])))} if wanted else {}
    added = updated = unchanged = 0
    for claim in wanted:
        row = existing.get(claim.id)
        if row is None and insert_claim(session, claim):
            added += 1
            continue
        # Stored before, or inserted by a concurrent writer since our read: compare and update.
        row = row or session.get_one(KnownClaim, claim.id, populate_existing=True)
        if _same(row, claim):
            unchanged += 1
            continue
        updated += 1
        for name, value in _claim_values(claim).items():
            setattr(row, name, value)
        row.updated_at = utcnow()
    return ImportResult(added, updated, unchanged)


def _to_claim(row: KnownClaim) -> Claim:
    figures = tuple(Figure(value=f["value"], unit=f["unit"], qualifier=f.get("qualifier", "exact"))
                    for f in row.figures)
    return Claim(id=row.id, text=row.text, subject=row.subject, figures=figures, source=row.source,
                 tags=tuple(row.tags), approx=row.approx, status=row.status, paraphrases=tuple(row.paraphrases))


def list_claims(session: Session, status: str | None = None) -> list[Claim]:
    """Stored claims in id order, optionally only those of one status (``active`` or ``retired``)."""
    query = select(KnownClaim).order_by(KnownClaim.id)
    if status:
        query = query.where(KnownClaim.status == status)
    return [_to_claim(row) for row in session.scalars(query)]


NO_CLAIMS_WARNING = ("no known claims: every claim sentence is stored as new, nothing corroborates or updates "
                     "(set claims.file in the config, or run 'labourwatch claims import FILE')")


def active_claim_count(session: Session) -> int:
    """How many claims new reporting is matched against."""
    return int(session.scalar(select(func.count()).select_from(KnownClaim).where(KnownClaim.status == "active"))
               or 0)


def matching_claims(session: Session) -> list[Claim]:
    """The active claims as the matcher uses them: each with its paraphrases, from the claims file and from the
    review queue (every sentence a reviewer linked to it, or promoted into it with other wording), oldest
    first. Review decisions widen what a claim is found through for all later matching, across outlets."""
    reviewed: dict[str, list[str]] = {}
    query = (select(Review.claim_id, Review.sentence)
             .where(Review.action.in_(("link", "promote")), Review.claim_id.is_not(None))
             .order_by(Review.decided_at, Review.id))
    for claim_id, sentence in session.execute(query):
        if claim_id is not None:
            reviewed.setdefault(claim_id, []).append(sentence)
    claims = []
    for claim in list_claims(session, "active"):
        known = {claim.text, *claim.paraphrases}
        extra = [s for s in dict.fromkeys(reviewed.get(claim.id, ())) if s not in known]
        claims.append(replace(claim, paraphrases=(*claim.paraphrases, *extra)) if extra else claim)
    return claims


# Every row version of the tables ``matching_claims`` reads, as (id, xmin) pairs: PostgreSQL gives a row a new xmin
# (the writing transaction's id) on each insert and update, so the digest changes with any insert, update or delete
# of a claim or a review, whichever node or command made it and whatever its clock says (an ``updated_at`` compared
# across nodes would not), and it is computed in the database without reading the rows out.
_FINGERPRINT = text(
    "SELECT (SELECT md5(coalesce(string_agg(id || ':' || xmin::text, ',' ORDER BY id), '')) FROM claims), "
    "(SELECT md5(coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '')) FROM reviews)")


def matching_fingerprint(session: Session) -> tuple[str, str] | None:
    """A value that differs whenever what :func:`matching_claims` reads may differ (a claim or a review added,
    changed or deleted since), so that a process can keep the claims and their matcher while it stays the same;
    None where the database cannot tell (SQLite): read the claims each time there.

    Read it before the claims, in the same session: a change committed between the two reads then shows as a
    different fingerprint next time (one read too many), never as claims older than their fingerprint."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = session.execute(_FINGERPRINT).one()
    return str(row[0]), str(row[1])


# --- matches -------------------------------------------------------------------------------------

def match_rows(session: Session, *, claim_id: str | None = None, label: str | None = None,
               article_id: int | None = None, off_subject: bool = True,
               limit: int | None = None, offset: int = 0, labels: Sequence[str] = (),
               oldest_first: bool = False) -> list[dict[str, Any]]:
    """Stored claim matches with their provenance (article, version, source, URL, fetch time), newest first (or
    oldest first), ``limit`` of them from ``offset`` on; ``labels`` keeps those with one of these labels.

    ``off_subject=False`` leaves out new-claim sentences that are not about North Korean workers."""
    order = ((ArticleVersion.fetched_at, ClaimMatchRow.version_id) if oldest_first
             else (ArticleVersion.fetched_at.desc(), ClaimMatchRow.version_id.desc()))
    query = (select(ClaimMatchRow, ArticleVersion.number, ArticleVersion.fetched_at, Article.title,
                    ArticleVersion.position_unit)
             .join(ArticleVersion, ArticleVersion.id == ClaimMatchRow.version_id)
             .join(Article, Article.id == ClaimMatchRow.article_id)
             .order_by(*order, ClaimMatchRow.sentence_index))
    if claim_id:
        query = query.where(ClaimMatchRow.claim_id == claim_id)
    if label:
        query = query.where(ClaimMatchRow.label == label)
    if labels:
        query = query.where(ClaimMatchRow.label.in_(list(labels)))
    if article_id is not None:
        query = query.where(ClaimMatchRow.article_id == article_id)
    if not off_subject:
        query = query.where(or_(ClaimMatchRow.label != "new", ClaimMatchRow.on_subject.is_(True)))
    if limit:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return [match_dict(*row) for row in session.execute(query)]


def match_dict(row: ClaimMatchRow, number: int, fetched_at: datetime, title: str | None,
               position_unit: str | None = None) -> dict[str, Any]:
    """One stored verdict with its provenance, JSON-able (``claims matches``, the exports and the API);
    ``position`` is where a document's sentence is ("p. 3", "¶ 12"; None for a web page's)."""
    return {
        "id": row.id, "label": row.label, "claim_id": row.claim_id, "confidence": round(row.confidence, 3),
        "score": round(row.score, 3), "sentence": row.sentence, "old_values": row.old_values,
        "new_values": row.new_values, "reasons": row.reasons, "on_subject": row.on_subject,
        "article_id": row.article_id, "version_id": row.version_id, "version": number,
        "sentence_index": row.sentence_index, "position": positions.label(position_unit, row.position),
        "source_id": row.source_id, "url": row.url, "title": title,
        "fetched_at": _iso(fetched_at), "matched_at": _iso(row.matched_at), "claims_digest": row.claims_digest,
    }


@dataclass(frozen=True)
class StoredVersion:
    """A stored version of a relevant article, as ``claims rematch`` reads it."""

    id: int
    article_id: int
    source_id: str | None
    url: str
    text: str
    fetched_at: datetime
    title: str = ""
    position_unit: str | None = None
    position_starts: list[Any] | None = None


def count_versions(session: Session, article_ids: Sequence[int] | None = None) -> int:
    """How many stored versions of relevant articles there are (of the given articles, if any)."""
    query = (select(func.count()).select_from(ArticleVersion).join(Article, Article.id == ArticleVersion.article_id)
             .where(Article.relevant.is_(True)))
    if article_ids:
        query = query.where(Article.id.in_(list(article_ids)))
    return int(session.scalar(query) or 0)


def iter_versions(session: Session, article_ids: Sequence[int] | None = None,
                  batch: int = 200) -> Iterator[list[StoredVersion]]:
    """Stored versions of relevant articles in id order, ``batch`` at a time (keyset pages, so memory stays flat)."""
    last = 0
    while True:
        query = (select(ArticleVersion.id, ArticleVersion.article_id, Article.source_id, ArticleVersion.url,
                        ArticleVersion.text, ArticleVersion.fetched_at, ArticleVersion.title,
                        ArticleVersion.position_unit, ArticleVersion.position_starts)
                 .join(Article, Article.id == ArticleVersion.article_id)
                 .where(Article.relevant.is_(True), ArticleVersion.id > last)
                 .order_by(ArticleVersion.id).limit(batch))
        if article_ids:
            query = query.where(Article.id.in_(list(article_ids)))
        rows = [StoredVersion(*row) for row in session.execute(query)]
        if not rows:
            return
        yield rows
        last = rows[-1].id


@dataclass(frozen=True)
class Replaced:
    """What replacing one version's matches changed."""

    sentences: int
    changed: int  # sentences whose label or matched claim differs from before (or that are new)
    removed: int  # sentences that had a verdict before and are no longer claim sentences


def replace_matches(session: Session, version: StoredVersion, matches: Sequence[SentenceMatch], digest: str,
                    at: datetime) -> Replaced:
    """Swap a version's stored matches for ``matches``, counting what changed."""
    conn = session.connection()
    before = {index: (label, claim_id) for index, label, claim_id in conn.execute(
        select(ClaimMatchRow.sentence_index, ClaimMatchRow.label, ClaimMatchRow.claim_id)
        .where(ClaimMatchRow.version_id == version.id))}
    conn.execute(delete(ClaimMatchRow).where(ClaimMatchRow.version_id == version.id))
    if matches:
        insert_matches(conn, version.id, version.article_id, version.source_id, version.url, matches, digest, at,
                       positions.loaded(version.position_unit, version.position_starts))
    changed = sum(1 for m in matches if before.get(m.index) != (m.match.label, m.match.claim_id))
    removed = len(set(before) - {m.index for m in matches})
    return Replaced(len(matches), changed, removed)
