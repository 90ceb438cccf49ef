"""review decisions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reviewed: the review queue's decisions, one per (article, sentence); a table of its own rather than
    # columns on claim_matches, whose rows `claims rematch` deletes and re-inserts.
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('sentence_index', sa.Integer(), nullable=False),
    sa.Column('sentence', sa.Text(), nullable=False),
    sa.Column('sentence_hash', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('label_before', sa.String(length=16), nullable=False),
    sa.Column('claim_before', sa.String(length=32), nullable=True),
    sa.Column('confidence_before', sa.Float(), nullable=False),
    sa.Column('claim_id', sa.String(length=32), nullable=True),
    sa.Column('label_after', sa.String(length=16), nullable=True),
    sa.Column('reviewer', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_at', db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_reviews_article_id_articles'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_reviews_claim_id_claims'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['match_id'], ['claim_matches.id'], name=op.f('fk_reviews_match_id_claim_matches'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['article_versions.id'],
                            name=op.f('fk_reviews_version_id_article_versions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('article_id', 'sentence_hash', name=op.f('uq_reviews_article_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_decided_at'), ['decided_at'], unique=False)


def downgrade() -> None:
    # Reviewed: the review queue's decisions.
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_decided_at'))
        batch_op.drop_index(batch_op.f('ix_reviews_claim_id'))

    op.drop_table('reviews')
