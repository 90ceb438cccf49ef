"""claim paraphrases

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Known claims keep other wordings of themselves (``paraphrases``, written in a claims file): the matcher finds a
claim through its text and through each of them. Existing claims get none.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paraphrases', sa.JSON(), server_default='[]', nullable=False))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), as 0007 does: a batch copy would recreate `claims`.
    op.execute('ALTER TABLE claims DROP COLUMN paraphrases')
