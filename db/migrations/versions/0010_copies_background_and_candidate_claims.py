"""copies, background and candidate claims

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

What alerts need to tell a story from its echoes: articles linked to the earlier article of another outlet they
copy (``article_copies``) and the text sketches copies are found by (``article_sketches``); the sentences each
outlet printed, per article (``source_sentences``: a sentence in several of one outlet's articles is background);
new claims grouped across outlets (``candidate_claims``, one row per claim, and ``candidate_sightings``).
Existing articles get none: they are sketched and counted from their next version on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_copies",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("original_id", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("detected_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_copies_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["original_id"], ["articles.id"], name=op.f("fk_article_copies_original_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_copies")),
    )
    with op.batch_alter_table("article_copies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_copies_original_id"), ["original_id"], unique=False)

    op.create_table(
        "article_sketches",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_article_sketches_article_id_articles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "band", name=op.f("pk_article_sketches")),
    )
    with op.batch_alter_table("article_sketches", schema=None) as batch_op:
        batch_op.create_index("ix_article_sketches_band_value", ["band", "value"], unique=False)

    op.create_table(
        "candidate_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("alerted_figures", sa.JSON(), nullable=False),
        sa.Column("first_article_id", sa.Integer(), nullable=True),
        sa.Column("first_source_id", sa.String(length=64), nullable=True),
        sa.Column("first_seen_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_article_id"],
            ["articles.id"],
            name=op.f("fk_candidate_claims_first_article_id_articles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["first_source_id"],
            ["sources.id"],
            name=op.f("fk_candidate_claims_first_source_id_sources"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_claims")),
    )
    with op.batch_alter_table("candidate_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidate_claims_first_seen_at"), ["first_seen_at"], unique=False)

    op.create_table(
        "source_sentences",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("sentence_hash", sa.String(length=32), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_source_sentences_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_source_sentences_source_id_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("source_id", "sentence_hash", "article_id", name=op.f("pk_source_sentences")),
    )
    with op.batch_alter_table("source_sentences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_sentences_article_id"), ["article_id"], unique=False)

    op.create_table(
        "candidate_sightings",
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("sentence_hash", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("seen_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_candidate_sightings_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate_claims.id"],
            name=op.f("fk_candidate_sightings_candidate_id_candidate_claims"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_candidate_sightings_source_id_sources"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["article_versions.id"],
            name=op.f("fk_candidate_sightings_version_id_article_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("candidate_id", "article_id", "sentence_hash", name=op.f("pk_candidate_sightings")),
    )
    with op.batch_alter_table("candidate_sightings", schema=None) as batch_op:
        batch_op.create_index("ix_candidate_sightings_article_sentence", ["article_id", "sentence_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("candidate_sightings", schema=None) as batch_op:
        batch_op.drop_index("ix_candidate_sightings_article_sentence")

    op.drop_table("candidate_sightings")
    with op.batch_alter_table("source_sentences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_sentences_article_id"))

    op.drop_table("source_sentences")
    with op.batch_alter_table("candidate_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_claims_first_seen_at"))

    op.drop_table("candidate_claims")
    with op.batch_alter_table("article_sketches", schema=None) as batch_op:
        batch_op.drop_index("ix_article_sketches_band_value")

    op.drop_table("article_sketches")
    with op.batch_alter_table("article_copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_copies_original_id"))

    op.drop_table("article_copies")
