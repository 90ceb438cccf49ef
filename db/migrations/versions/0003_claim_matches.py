"""claim matches

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reviewed: claim matches of stored article versions, with provenance.
    op.create_table('claim_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('sentence_index', sa.Integer(), nullable=False),
    sa.Column('sentence', sa.Text(), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('claim_id', sa.String(length=32), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('old_values', sa.JSON(), nullable=False),
    sa.Column('new_values', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('on_subject', sa.Boolean(), nullable=False),
    sa.Column('claims_digest', sa.String(length=64), nullable=False),
    sa.Column('matched_at', db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_claim_matches_article_id_articles'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_matches_claim_id_claims'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_claim_matches_source_id_sources'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['article_versions.id'],
                            name=op.f('fk_claim_matches_version_id_article_versions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_matches')),
    sa.UniqueConstraint('version_id', 'sentence_index', name=op.f('uq_claim_matches_version_id'))
    )
    with op.batch_alter_table('claim_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_matches_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_matches_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_matches_label'), ['label'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_matches_matched_at'), ['matched_at'], unique=False)



def downgrade() -> None:
    # Reviewed: claim matches of stored article versions, with provenance.
    with op.batch_alter_table('claim_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_matches_matched_at'))
        batch_op.drop_index(batch_op.f('ix_claim_matches_label'))
        batch_op.drop_index(batch_op.f('ix_claim_matches_claim_id'))
        batch_op.drop_index(batch_op.f('ix_claim_matches_article_id'))

    op.drop_table('claim_matches')
