"""re-check failures, gone articles, delivery lease holders

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reviewed: failed re-checks back off (failed_checks) and end for pages that are gone (gone_at);
    # a delivery's outcome is written only by the dispatcher pass that holds its lease (lease_owner).
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_checks', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('gone_at', db.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=32), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy would drop and recreate `articles`, and dropping it
    # cascades into article_versions and the search index's triggers.
    op.execute('ALTER TABLE deliveries DROP COLUMN lease_owner')
    op.execute('ALTER TABLE articles DROP COLUMN gone_at')
    op.execute('ALTER TABLE articles DROP COLUMN failed_checks')
