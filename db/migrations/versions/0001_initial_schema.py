"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Reviewed: the initial schema (sources, crawl runs, errors, articles, versions, raw evidence, diffs).
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_table(
        "http_validators",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("etag", sa.String(length=512), nullable=True),
        sa.Column("last_modified", sa.String(length=128), nullable=True),
        sa.Column("updated_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_http_validators")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_poll_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error_code", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("items_last_run", sa.Integer(), nullable=False),
        sa.Column("new_last_run", sa.Integer(), nullable=False),
        sa.Column("not_modified_last_run", sa.Boolean(), nullable=False),
        sa.Column("follow_urls", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sources_next_poll_at"), ["next_poll_at"], unique=False)

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("canonical_url", sa.String(length=2048), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("published_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("relevance_score", sa.Float(), nullable=False),
        sa.Column("matched_terms", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("check_count", sa.Integer(), nullable=False),
        sa.Column("version_count", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_articles_source_id_sources"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("canonical_url", name=op.f("uq_articles_canonical_url")),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_articles_first_seen_at"), ["first_seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_next_check_at"), ["next_check_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_relevant"), ["relevant"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_source_id"), ["source_id"], unique=False)

    op.create_table(
        "fetch_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["crawl_run_id"],
            ["crawl_runs.id"],
            name=op.f("fk_fetch_errors_crawl_run_id_crawl_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_fetch_errors_source_id_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_errors")),
    )
    with op.batch_alter_table("fetch_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fetch_errors_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fetch_errors_crawl_run_id"), ["crawl_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fetch_errors_source_id"), ["source_id"], unique=False)

    op.create_table(
        "article_urls",
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("seen_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_urls_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_article_urls_source_id_sources"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_article_urls")),
    )
    with op.batch_alter_table("article_urls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_urls_article_id"), ["article_id"], unique=False)

    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("fetched_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("byline", sa.Text(), nullable=True),
        sa.Column("published_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("modified_at", db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_versions_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_versions")),
        sa.UniqueConstraint("article_id", "number", name="uq_article_versions_article_number"),
    )
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_versions_article_id"), ["article_id"], unique=False)

    op.create_table(
        "diffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("from_version_id", sa.Integer(), nullable=False),
        sa.Column("to_version_id", sa.Integer(), nullable=False),
        sa.Column("title_before", sa.Text(), nullable=True),
        sa.Column("title_after", sa.Text(), nullable=True),
        sa.Column("added", sa.JSON(), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=False),
        sa.Column("unified", sa.Text(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("figures_before", sa.JSON(), nullable=False),
        sa.Column("figures_after", sa.JSON(), nullable=False),
        sa.Column("created_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_diffs_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["from_version_id"],
            ["article_versions.id"],
            name=op.f("fk_diffs_from_version_id_article_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_version_id"],
            ["article_versions.id"],
            name=op.f("fk_diffs_to_version_id_article_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diffs")),
        sa.UniqueConstraint("to_version_id", name=op.f("uq_diffs_to_version_id")),
    )
    with op.batch_alter_table("diffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_diffs_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_diffs_created_at"), ["created_at"], unique=False)

    op.create_table(
        "raw_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("compression", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["article_versions.id"],
            name=op.f("fk_raw_responses_version_id_article_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_responses")),
        sa.UniqueConstraint("version_id", name=op.f("uq_raw_responses_version_id")),
    )
    with op.batch_alter_table("raw_responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_raw_responses_fetched_at"), ["fetched_at"], unique=False)



def downgrade() -> None:
    # Reviewed: the initial schema (sources, crawl runs, errors, articles, versions, raw evidence, diffs).
    with op.batch_alter_table("raw_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_responses_fetched_at"))

    op.drop_table("raw_responses")
    with op.batch_alter_table("diffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diffs_created_at"))
        batch_op.drop_index(batch_op.f("ix_diffs_article_id"))

    op.drop_table("diffs")
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_versions_article_id"))

    op.drop_table("article_versions")
    with op.batch_alter_table("article_urls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_urls_article_id"))

    op.drop_table("article_urls")
    with op.batch_alter_table("fetch_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fetch_errors_source_id"))
        batch_op.drop_index(batch_op.f("ix_fetch_errors_crawl_run_id"))
        batch_op.drop_index(batch_op.f("ix_fetch_errors_at"))

    op.drop_table("fetch_errors")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_source_id"))
        batch_op.drop_index(batch_op.f("ix_articles_relevant"))
        batch_op.drop_index(batch_op.f("ix_articles_next_check_at"))
        batch_op.drop_index(batch_op.f("ix_articles_first_seen_at"))

    op.drop_table("articles")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sources_next_poll_at"))

    op.drop_table("sources")
    op.drop_table("http_validators")
    op.drop_table("crawl_runs")
