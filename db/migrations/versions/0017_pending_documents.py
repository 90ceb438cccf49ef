"""source documents (child sitemaps) found on another politeness key than their crawl's, for cluster nodes

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

What it adds (issue 18): ``pending_articles.kind`` and ``pending_articles.depth``. A cluster crawl of one key that
reads a sitemap index listing child sitemaps on another host and port records each child there (``kind``
``document``, with its depth below the source), as it records article pages on another key (``kind`` ``article``,
what every existing row is): a crawl of the child's own key reads it for its source, so two nodes never hit that
host at once. Single-node daemons never write it.

Downgrade: the documents pending are deleted (their source's next poll finds them again: an index's children are
followed even when the index did not change), then the columns dropped.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pending_articles') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='article', nullable=False))
        batch.add_column(sa.Column('depth', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM pending_articles WHERE kind <> 'article'")
    with op.batch_alter_table('pending_articles') as batch:
        batch.drop_column('depth')
        batch.drop_column('kind')
