"""history scale

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

What keeps the cost of the daemon and the web UI flat as history grows (issue 15): ``offtopic_links``, the keys of
the URLs of off-topic articles whose rows were pruned (``db.offtopic``: 8 bytes of a URL's digest and when it was
first seen, in place of a whole article row and its URL rows); an index on ``candidate_claims.first_article_id``,
so deleting an article does not read every candidate claim; and ``ix_events_type_created_at``, which answers the
dashboard's counts by type over its windows from one short range of the index per type (over ``ix_events_type``
alone, SQLite read the whole history to count a week).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offtopic_links",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_offtopic_links")),
    )
    with op.batch_alter_table("candidate_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidate_claims_first_article_id"), ["first_article_id"], unique=False)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_type_created_at", ["type", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_type_created_at")
    with op.batch_alter_table("candidate_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_claims_first_article_id"))
    op.drop_table("offtopic_links")
