"""article pages found on another politeness key than their crawl's, and baselines not yet summarised, for
cluster nodes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

What it adds (issue 18): ``pending_articles``, one row per article URL a cluster crawl found (in a feed, sitemap
or listing) on another host and port than the one it crawls: the source that found it, its politeness key, what the
feed entry said (title, language), whether it came from the source's baseline poll, when it was found, and when a
crawl of its key may take it (``not_before``, a lease while a crawl fetches it) with the count of crawls that did.
A crawl of that key fetches it and deletes the row in the transaction that stores the article. Single-node daemons
never write it.

And ``sources.baseline_run_id``: in cluster mode, the crawl run that took the source's baseline, until the plan
reports the baselines of the cluster's first polls in one summary event (a single daemon reports each crawl's at its
end, and never sets it).

Downgrade: the table and the column dropped (article pages found and not fetched yet are found again by their
source's next poll that reads its document whole; baselines not yet summarised are not).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pending_articles',
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('source_id', sa.String(length=64), nullable=True),
        sa.Column('language', sa.String(length=16), nullable=True),
        sa.Column('title', sa.Text(), nullable=True),
        sa.Column('baseline', sa.Boolean(), nullable=False),
        sa.Column('discovered_at', db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('not_before', db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_pending_articles_source_id_sources'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('url', name=op.f('pk_pending_articles')),
    )
    op.create_index('ix_pending_articles_key_not_before', 'pending_articles', ['key', 'not_before'], unique=False)
    with op.batch_alter_table('sources') as batch:
        batch.add_column(sa.Column('baseline_run_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources') as batch:
        batch.drop_column('baseline_run_id')
    op.drop_index('ix_pending_articles_key_not_before', table_name='pending_articles')
    op.drop_table('pending_articles')
