"""page and paragraph positions of documents

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

What it adds (issue 16): where a sentence of a PDF or DOCX document is, so that it can be cited as "p. 3".

- ``article_versions.position_unit`` (``page`` or ``paragraph``) and ``article_versions.position_starts`` (JSON:
  the first line of the version's text on each page or paragraph);
- ``claim_matches.position``: the page or paragraph of the claim sentence;
- ``diffs.positions`` (JSON): the pages or paragraphs of the removed and added sentences.

All nullable and left empty for the rows already stored: a web page has no positions, and a document version
stored before this migration gets them only when the document is fetched again as a new version (its text is
not re-extracted here; the raw response may be gone). Readers show no position where there is none.

Downgrade: the four columns dropped.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN in both dialects (nullable, no default): no table is copied, so 0005/0013's search
    # triggers on article_versions stay as they are.
    op.add_column('article_versions', sa.Column('position_unit', sa.String(length=16), nullable=True))
    op.add_column('article_versions', sa.Column('position_starts', sa.JSON(), nullable=True))
    op.add_column('claim_matches', sa.Column('position', sa.Integer(), nullable=True))
    op.add_column('diffs', sa.Column('positions', sa.JSON(), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), as 0007 does: a batch copy would drop and recreate article_versions,
    # which the search index's triggers and every foreign key to it depend on.
    op.execute('ALTER TABLE diffs DROP COLUMN positions')
    op.execute('ALTER TABLE claim_matches DROP COLUMN position')
    op.execute('ALTER TABLE article_versions DROP COLUMN position_starts')
    op.execute('ALTER TABLE article_versions DROP COLUMN position_unit')
