"""on-topic or off-topic articles, newest first, read from an index (relevant, id)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05

What it changes: ``ix_articles_relevant`` (``relevant``) becomes ``ix_articles_relevant_id`` (``relevant``, ``id``).
The API pages articles newest first within on-topic or off-topic (``db.export.newest_articles``: ``WHERE relevant
IS true ORDER BY relevant, id DESC``). SQLite answered that from the one-column index, whose entries end with the
rowid; PostgreSQL walked the primary key backwards past every newer article of the other kind: 113-187 ms for a
page behind 1,000,000 off-topic links (bench/history_bench.py: ``/api/articles`` 247 ms), 0.06 ms from the new
index. Every query that used the old index (``relevant`` alone) uses the new one's first column.

Downgrade: the one-column index again.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_articles_relevant_id', 'articles', ['relevant', 'id'])
    op.drop_index('ix_articles_relevant', table_name='articles')


def downgrade() -> None:
    op.create_index('ix_articles_relevant', 'articles', ['relevant'])
    op.drop_index('ix_articles_relevant_id', table_name='articles')
