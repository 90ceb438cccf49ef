"""SQLAlchemy 2 typed models: sources and their health, crawl runs, articles, versions, raw evidence, diffs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
URL = Annotated[str, mapped_column(String(2048))]


class Base(DeclarativeBase):
    """Declarative base with the naming convention that keeps constraint names stable in migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Source(Base):
    """A configured source and its fetch state and health."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[URL]
    name: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error_code: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    items_last_run: Mapped[int] = mapped_column(Integer, default=0)
    new_last_run: Mapped[int] = mapped_column(Integer, default=0)
    not_modified_last_run: Mapped[bool] = mapped_column(Boolean, default=False)
    # Child documents found last time (sitemap index children), re-visited when the parent answers 304.
    follow_urls: Mapped[list[Any]] = mapped_column(default=list)
    # Cluster mode: the crawl run that took this source's baseline, until the cluster's one summary of the baselines
    # taken together (``db.polls.unreported_baselines``) reports it.
    baseline_run_id: Mapped[int | None] = mapped_column(Integer)


class HttpValidator(Base):
    """ETag and Last-Modified of a URL we fetched, for conditional GET next time."""

    __tablename__ = "http_validators"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)


class PolitenessKey(Base):
    """When a crawl of a politeness key (host and port) last ended, as cluster nodes see it: the next crawl of the
    key, on whichever node, starts no sooner than the crawl's request delay after it (``db.politeness``)."""

    __tablename__ = "politeness_keys"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_crawl_at: Mapped[Timestamp]


class PendingArticle(Base):
    """An article page (or a source's child document: a sitemap an index lists) a cluster crawl found on another
    politeness key (host and port) than its own: what the spider carried for it, kept until a crawl of its own key
    stores (or reads) it (``db.pending``)."""

    __tablename__ = "pending_articles"
    __table_args__ = (Index("ix_pending_articles_key_not_before", "key", "not_before"),)

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)  # canonical, as the spider requests it
    key: Mapped[str] = mapped_column(String(300))
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    language: Mapped[str | None] = mapped_column(String(16))  # the feed entry's language, else its source's
    title: Mapped[str | None] = mapped_column(Text)  # the feed entry's title
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)  # found by its source's baseline poll
    discovered_at: Mapped[Timestamp]
    not_before: Mapped[Timestamp]  # due from then: its discovery, or the end of a crawl's lease on it
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # crawls that took it
    # "article", or "document": a source's own document below its first (a child sitemap), read as the source's
    kind: Mapped[str] = mapped_column(String(16), default="article", server_default="article")
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # a document's depth below the source


class CrawlRun(Base):
    """One crawl pass: which sources, what it found, and what went wrong."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(32), default="cli")
    status: Mapped[str] = mapped_column(String(16), default="running")
    sources: Mapped[list[Any]] = mapped_column(default=list)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error_count: Mapped[int] = mapped_column(Integer, default=0)


class FetchError(Base):
    """A problem with one source, feed, page or article, recorded where users will see it."""

    __tablename__ = "fetch_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[URL]
    code: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16), default="error")
    at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)


class Article(Base):
    """One article, however many URLs and feeds it was reached from."""

    __tablename__ = "articles"
    # Newest first within on-topic or off-topic (the API, ``db.export.newest_articles``): PostgreSQL needs ``id`` in
    # the index to read them in order (migration 0018); SQLite's one-column index ended with the rowid anyway.
    __table_args__ = (Index("ix_articles_relevant_id", "relevant", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    url: Mapped[URL]
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    relevant: Mapped[bool] = mapped_column(Boolean, default=False)
    relevance_score: Mapped[float] = mapped_column(Float, default=0.0)
    matched_terms: Mapped[list[Any]] = mapped_column(default=list)
    first_seen_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    check_count: Mapped[int] = mapped_column(Integer, default=0)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None] = mapped_column(Integer)
    # Re-checks that failed in a row (reset by any answer): they push next_check_at back along the revisit
    # schedule. A page that answers 404/410 is ``gone``: never re-checked again, kept with its versions.
    failed_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.number", cascade="all, delete-orphan"
    )


class ArticleUrl(Base):
    """Every URL an article was reached by, so a link seen again is never fetched as new."""

    __tablename__ = "article_urls"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    seen_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class OfftopicLink(Base):
    """A URL of an off-topic article whose row was pruned (``db.offtopic``): its key alone, so the link is never
    fetched as new again while it is kept. ``key`` is the first 8 bytes of the URL's BLAKE2b digest, as a signed
    integer; ``seen_at`` is when the article was first seen (the link's retention counts from it)."""

    __tablename__ = "offtopic_links"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Not indexed: an index would cost as much as the table, and only the daily prune reads by it.
    seen_at: Mapped[Timestamp]


class ArticleVersion(Base):
    """One distinct state of an article's title and main text."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_article_versions_article_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    url: Mapped[URL]
    title: Mapped[str] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Indexed for the cross-language search, which reads the Chinese and Japanese versions by substring.
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # A document's pages (PDF) or paragraphs (DOCX): the unit, and the first line of ``text`` of each
    # (analysis.positions); None for a web page and for versions stored before migration 0014.
    position_unit: Mapped[str | None] = mapped_column(String(16))
    position_starts: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))

    article: Mapped[Article] = relationship(back_populates="versions")


class RawResponse(Base):
    """The raw HTTP response a version was extracted from, compressed, kept as evidence."""

    __tablename__ = "raw_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id", ondelete="CASCADE"), unique=True)
    url: Mapped[URL]
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    compression: Mapped[str] = mapped_column(String(16), default="zlib")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)


class VersionDiffRow(Base):
    """How a version differs from the one before it."""

    __tablename__ = "diffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    from_version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id", ondelete="CASCADE"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id", ondelete="CASCADE"), unique=True)
    title_before: Mapped[str | None] = mapped_column(Text)
    title_after: Mapped[str | None] = mapped_column(Text)
    added: Mapped[list[Any]] = mapped_column(default=list)
    removed: Mapped[list[Any]] = mapped_column(default=list)
    unified: Mapped[str] = mapped_column(Text, default="")
    changed: Mapped[list[Any]] = mapped_column(default=list)
    figures_before: Mapped[list[Any]] = mapped_column(default=list)
    figures_after: Mapped[list[Any]] = mapped_column(default=list)
    # Where the removed and added sentences were in a document (analysis.positions.diff_positions): the units
    # and the numbers, parallel to ``removed`` and ``added``; None when neither version is a document's.
    positions: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)


class KnownClaim(Base):
    """A known claim: one sentence in our own words, its typed figures and where it was reported."""

    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[Any]] = mapped_column(default=list)
    approx: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    # Other wordings of the claim, from the claims file (reviewers' linked sentences are read from `reviews`).
    paraphrases: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)


class ClaimMatchRow(Base):
    """One claim sentence of one stored article version, as the matcher labelled it, with its provenance.

    ``claims_digest`` fingerprints the set of active claims the match was made against, so that
    ``claims rematch`` can tell stale matches from current ones."""

    __tablename__ = "claim_matches"
    __table_args__ = (UniqueConstraint("version_id", "sentence_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    url: Mapped[URL]
    sentence_index: Mapped[int] = mapped_column(Integer)
    sentence: Mapped[str] = mapped_column(Text)
    # The page or paragraph of a document the sentence is on (its unit is the version's position_unit).
    position: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(16), index=True)
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    old_values: Mapped[list[Any]] = mapped_column(default=list)
    new_values: Mapped[list[Any]] = mapped_column(default=list)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    on_subject: Mapped[bool] = mapped_column(Boolean, default=False)
    claims_digest: Mapped[str] = mapped_column(String(64))
    matched_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)


class Event(Base):
    """Something a monitor may want to hear about: a new or edited article, a claim verdict, a source's health.

    ``key`` names the underlying change (for example ``article_edited:v42``), so the same change can never
    make two events; an event is written in the transaction that stores the change it describes."""

    __tablename__ = "events"
    # The dashboard's counts by type over its last 24 hours and 7 days: one short range of the index per type.
    __table_args__ = (Index("ix_events_type_created_at", "type", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("article_versions.id", ondelete="SET NULL"))
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"), index=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    importance: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(Base):
    """The outbox: one row per (event, route, destination), written with the event, sent by the dispatcher.

    ``destination`` is a fingerprint of the destination URL (never the URL: it may hold a secret); the
    dispatcher finds the URL in the current config. ``idempotency_key`` travels with the message where the
    channel allows, so a receiver can drop the duplicate that at-least-once delivery may produce."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event_id", "route", "destination"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    route: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(32))
    destination_label: Mapped[str] = mapped_column(String(200), default="")
    mode: Mapped[str] = mapped_column(String(16), default="immediate")
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Which dispatcher pass holds the lease: an outcome is recorded only by the holder, so a pass whose
    # lease ran out (and was claimed again elsewhere) cannot complete a delivery it no longer owns.
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_in: Mapped[str | None] = mapped_column(String(64))  # the key of the message (digest) it went out in
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Review(Base):
    """A researcher's decision on a claim sentence of the review queue: promoted, linked or dismissed.

    Keyed by the article and the sentence's text (``sentence_hash``), not by the ``claim_matches`` row:
    ``claims rematch`` deletes and re-inserts those rows, and the same sentence recurs in every version of an
    edited article; a decision holds for all of them. The matcher's verdict at the time is kept alongside."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("article_id", "sentence_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("article_versions.id", ondelete="SET NULL"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("claim_matches.id", ondelete="SET NULL"))
    sentence_index: Mapped[int] = mapped_column(Integer)
    sentence: Mapped[str] = mapped_column(Text)
    sentence_hash: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    label_before: Mapped[str] = mapped_column(String(16))
    claim_before: Mapped[str | None] = mapped_column(String(32))
    confidence_before: Mapped[float] = mapped_column(Float)
    claim_id: Mapped[str | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"), index=True)
    label_after: Mapped[str | None] = mapped_column(String(16))
    reviewer: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)


class ArticleCopy(Base):
    """An article whose text is a near-duplicate of one stored earlier from another outlet (a wire copy, a
    syndicated or lightly rewritten story): linked to that first article, its ``original``."""

    __tablename__ = "article_copies"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    original_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    similarity: Mapped[float] = mapped_column(Float)
    detected_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class ArticleSketch(Base):
    """One band of an article's text sketch (locality-sensitive hashing): articles sharing a band value are the
    candidates a copy is looked for among."""

    __tablename__ = "article_sketches"
    __table_args__ = (Index("ix_article_sketches_band_value", "band", "value"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class SourceSentence(Base):
    """A sentence an outlet printed, once per article that carries it: a sentence found in several of one outlet's
    articles is its background (boilerplate, standard context), not news."""

    __tablename__ = "source_sentences"

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    sentence_hash: Mapped[str] = mapped_column(String(32), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    seen_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class CandidateClaim(Base):
    """A claim no known claim states, as first reported (its sentence and figures), with how often and by how many
    outlets it was reported since: several outlets' reports of the same new claim make one candidate."""

    __tablename__ = "candidate_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence: Mapped[str] = mapped_column(Text)
    figures: Mapped[list[Any]] = mapped_column(default=list)
    # The figures it was last alerted with: a repeat alerts again only when its figures differ from these.
    alerted_figures: Mapped[list[Any]] = mapped_column(default=list)
    # Indexed so deleting an article (the off-topic prune deletes many) finds the candidates naming it at once.
    first_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)
    first_source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    first_seen_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    last_seen_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    sightings: Mapped[int] = mapped_column(Integer, default=1)


class CandidateSighting(Base):
    """One report of a candidate claim: the article and the sentence (by hash, as reviews key sentences)."""

    __tablename__ = "candidate_sightings"
    __table_args__ = (Index("ix_candidate_sightings_article_sentence", "article_id", "sentence_hash"),)

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate_claims.id", ondelete="CASCADE"),
                                              primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    sentence_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("article_versions.id", ondelete="SET NULL"))
    seen_at: Mapped[Timestamp] = mapped_column(default=utcnow)
