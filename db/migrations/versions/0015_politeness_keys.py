"""when each politeness key's last crawl ended, for cluster nodes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

What it adds (issue 18): ``politeness_keys``, one row per politeness key (host and port) that a cluster node
crawled: when that crawl ended. A key's crawls never run side by side (the job engine's lock), but one may start on
another node right after the last one ended; it now waits out the request delay from this time first, as a crawl
on one node waits between its own requests. Single-node daemons never write it.

Downgrade: the table dropped.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'politeness_keys',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('last_crawl_at', db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_politeness_keys')),
    )


def downgrade() -> None:
    op.drop_table('politeness_keys')
