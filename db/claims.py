"""Queries over known claims: import (insert or update by id), list, export, add."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.claims.model import Claim, Figure
from db.models import KnownClaim, utcnow


@dataclass(frozen=True)
class ImportResult:
    """How an import changed the claims table."""

    added: int
    updated: int
    unchanged: int


def _figures_data(claim: Claim) -> list[dict[str, object]]:
    return [{"value": f.value, "unit": f.unit, "qualifier": f.qualifier} for f in claim.figures]


def _same(row: KnownClaim, claim: Claim) -> bool:
    return (row.text, row.subject, row.figures, row.source, row.tags, row.approx, row.status) == (
        claim.text, claim.subject, _figures_data(claim), claim.source, list(claim.tags), claim.approx, claim.status)


def import_claims(session: Session, claims: Iterable[Claim]) -> ImportResult:
    """Insert new claims and update changed ones, matched by id; claims not in the file are kept."""
    added = updated = unchanged = 0
    for claim in claims:
        row = session.get(KnownClaim, claim.id)
        if row is None:
            row = KnownClaim(id=claim.id, created_at=utcnow())
            session.add(row)
            added += 1
        elif _same(row, claim):
            unchanged += 1
            continue
        else:
            updated += 1
        row.text, row.subject, row.figures = claim.text, claim.subject, _figures_data(claim)
        row.source, row.tags, row.approx, row.status = claim.source, list(claim.tags), claim.approx, claim.status
        row.updated_at = utcnow()
    return ImportResult(added, updated, unchanged)


def _to_claim(row: KnownClaim) -> Claim:
    figures = tuple(Figure(value=f["value"], unit=f["unit"], qualifier=f.get("qualifier", "exact"))
                    for f in row.figures)
    return Claim(id=row.id, text=row.text, subject=row.subject, figures=figures, source=row.source,
                 tags=tuple(row.tags), approx=row.approx, status=row.status)


def list_claims(session: Session, status: str | None = None) -> list[Claim]:
    """Stored claims in id order, optionally only those of one status (``active`` or ``retired``)."""
    query = select(KnownClaim).order_by(KnownClaim.id)
    if status:
        query = query.where(KnownClaim.status == status)
    return [_to_claim(row) for row in session.scalars(query)]
