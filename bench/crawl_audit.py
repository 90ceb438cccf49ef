"""The crawl's tables checked as a whole, directly in the database (SQLite or PostgreSQL), after any number of
kills: every article whole or absent, nothing pointing at a missing row, no change with two events, every
event with its deliveries.

An article is whole when it has versions 1..n (n = ``version_count``; none for an off-topic page), its URLs,
each version its raw response, each version after the first its diff against the one before (as
``diff_versions`` makes it now), each version the claim matches ``match_article`` makes now against the
stored claims, and exactly the events ``article_events`` makes for it; and each event exactly the deliveries
the routes give it. ``audit`` returns the figures, with up to 20 examples of what was wrong.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, text

from alerts.routes import Router
from alerts.types import RouteSpec
from analysis.claims.sentences import KnownClaims, SentenceMatch, match_article
from analysis.diff import diff_versions
from analysis.relevance import matcher_for
from analysis.types import Topic
from db import claims as claim_store
from db import events as event_store
from db import story
from db.engine import Database
from db.models import (
    Article,
    ArticleUrl,
    ArticleVersion,
    Base,
    ClaimMatchRow,
    Delivery,
    Event,
    RawResponse,
    VersionDiffRow,
)

ARTICLE_EVENTS = (event_store.STORY, event_store.NEW_ARTICLE, event_store.ARTICLE_EDITED,
                  event_store.CLAIM_CORROBORATED, event_store.CLAIM_UPDATED, event_store.NEW_CLAIM)


@dataclass
class Findings:
    """Problems found, counted by kind, with the first few described."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    partial: set[int] = field(default_factory=set)  # ids of articles that are not whole

    def add(self, kind: str, what: str, article_id: int | None = None) -> None:
        self.counts[kind] += 1
        if article_id is not None:
            self.partial.add(article_id)
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {what}")


# --- whole-database checks -----------------------------------------------------------------------------

def integrity(conn: Connection) -> tuple[str, int]:
    """SQLite's ``PRAGMA integrity_check`` and the number of ``PRAGMA foreign_key_check`` rows; on PostgreSQL,
    which checks both on every write, ("enforced", 0) (the orphan queries below still look)."""
    if conn.dialect.name != "sqlite":
        return "enforced", 0
    result = "; ".join(row[0] for row in conn.execute(text("PRAGMA integrity_check")))
    return result, len(conn.execute(text("PRAGMA foreign_key_check")).all())


def orphans(conn: Connection) -> dict[str, int]:
    """For every foreign key of the schema, the rows whose parent row is missing (``table.column`` → count)."""
    found = {}
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            column, parent = key.parent, key.column
            count = conn.execute(text(
                f"SELECT count(*) FROM {table.name} c WHERE c.{column.name} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {parent.table.name} p WHERE p.{parent.name} = c.{column.name})")).scalar_one()
            if count:
                found[f"{table.name}.{column.name}"] = int(count)
    return found


# --- loading -------------------------------------------------------------------------------------------

@dataclass
class Tables:
    """The rows the audit needs, grouped by their parent."""

    articles: list[Any]
    versions: dict[int, list[Any]]  # article id → versions by number
    urls: dict[int, set[str]]
    raw: set[int]  # version ids with a raw response
    diffs: dict[int, list[Any]]  # to_version_id → diff rows
    matches: dict[int, list[Any]]  # version id → match rows
    events: list[Any]
    deliveries: dict[int, list[Any]]  # event id → deliveries


def _grouped(rows: Sequence[Any], key: str) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


def load(conn: Connection) -> Tables:
    """Every article, version (with its text), URL, diff, match, event and delivery."""
    versions = _grouped(conn.execute(select(ArticleVersion).order_by(ArticleVersion.number)).all(), "article_id")
    urls: dict[int, set[str]] = defaultdict(set)
    for url, article_id in conn.execute(select(ArticleUrl.url, ArticleUrl.article_id)):
        urls[article_id].add(url)
    return Tables(
        articles=list(conn.execute(select(Article).order_by(Article.id))),
        versions=versions, urls=urls,
        raw=set(conn.execute(select(RawResponse.version_id)).scalars()),
        diffs=_grouped(conn.execute(select(VersionDiffRow)).all(), "to_version_id"),
        matches=_grouped(conn.execute(select(ClaimMatchRow).order_by(ClaimMatchRow.sentence_index)).all(),
                         "version_id"),
        events=list(conn.execute(select(Event).order_by(Event.id))),
        deliveries=_grouped(conn.execute(select(Delivery)).all(), "event_id"),
    )


# --- articles ------------------------------------------------------------------------------------------

def _match_tuple(index: int, sentence: str, label: str, claim_id: str | None, confidence: float, score: float,
                 old: Sequence[str], new: Sequence[str], on_subject: bool) -> tuple[Any, ...]:
    return (index, sentence, label, claim_id, round(confidence, 9), round(score, 9), list(old), list(new),
            bool(on_subject))


def _expected_matches(found: Sequence[SentenceMatch]) -> list[tuple[Any, ...]]:
    return [_match_tuple(m.index, m.sentence, m.match.label, m.match.claim_id, m.match.confidence, m.match.score,
                         m.match.old_values, m.match.new_values, m.on_subject) for m in found]


def _stored_matches(rows: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [_match_tuple(r.sentence_index, r.sentence, r.label, r.claim_id, r.confidence, r.score, r.old_values,
                         r.new_values, r.on_subject) for r in rows]


class ArticleAuditor:
    """Checks one article at a time against what the crawl would have written for its versions."""

    def __init__(self, tables: Tables, claims: KnownClaims, topic: Topic, keep_raw: bool,
                 findings: Findings) -> None:
        self.tables, self.claims, self.keep_raw, self.findings = tables, claims, keep_raw, findings
        self.topic = matcher_for(topic)
        self.claims_by_id = {claim.id: claim for claim in claims.matcher.claims}
        self.events_by_version: dict[int, dict[str, str]] = defaultdict(dict)
        for event in tables.events:
            if event.version_id is not None:
                self.events_by_version[event.version_id][event.key] = event.type

    def check(self, article: Any) -> None:
        versions = self.tables.versions.get(article.id, [])
        add = self.findings.add
        numbers = [v.number for v in versions]
        if numbers != list(range(1, len(versions) + 1)) or len(versions) != article.version_count:
            add("version_numbers", f"article {article.id}: versions {numbers}, version_count "
                                   f"{article.version_count}", article.id)
        if bool(versions) != bool(article.relevant):
            add("versions_vs_relevance", f"article {article.id} relevant={article.relevant} has "
                                         f"{len(versions)} versions", article.id)
        if not {article.url, article.canonical_url} <= self.tables.urls.get(article.id, set()):
            add("article_urls", f"article {article.id}: its URL or canonical URL is not remembered", article.id)
        if versions and (versions[-1].content_hash, versions[-1].title) != (article.content_hash, article.title):
            add("latest_version", f"article {article.id}: hash/title differ from version {versions[-1].number}",
                article.id)
        previous = None
        for version in versions:
            self._version(article, version, previous)
            previous = version

    def _version(self, article: Any, version: Any, previous: Any | None) -> None:
        add, where = self.findings.add, f"article {article.id} v{version.number} (id {version.id})"
        if self.keep_raw and version.id not in self.tables.raw:
            add("raw_missing", where, article.id)
        if previous is not None and previous.content_hash == version.content_hash:
            add("duplicate_version", f"{where} repeats v{previous.number}", article.id)
        diff = self._diff(article, version, previous, where)
        found = match_article(version.text, self.topic, self.claims.matcher, title=version.title)  # as the crawl
        stored = self.tables.matches.get(version.id, [])
        kept, made = _stored_matches(stored), _expected_matches(found)
        if kept != made:
            first = next((pair for pair in zip(kept, made, strict=False) if pair[0] != pair[1]), None)
            add("matches", f"{where}: {len(kept)} stored claim matches, {len(made)} made now; first that differs: "
                           f"{first}", article.id)
        if any(row.claims_digest != self.claims.digest for row in stored):
            add("matches_digest", f"{where}: matched against other claims", article.id)
        drafts = story.change_events(event_store.StoredArticle(
            action="new" if previous is None else "changed", article_id=article.id, version_id=version.id,
            version_number=version.number, source_id=article.source_id, url=article.canonical_url,
            title=version.title, relevance=article.relevance_score, diff=diff,
            previous_title=previous.title if previous is not None else None), found, self.claims_by_id)
        expected = {draft.key: draft.type for draft in drafts}
        stored_events = self.events_by_version.get(version.id, {})
        if stored_events != expected:
            missing, extra = sorted(set(expected) - set(stored_events)), sorted(set(stored_events) - set(expected))
            add("events", f"{where}: events missing {missing[:3]}, unexpected {extra[:3]}", article.id)

    def _diff(self, article: Any, version: Any, previous: Any | None, where: str) -> Any:
        rows = self.tables.diffs.get(version.id, [])
        if previous is None:
            if rows:
                self.findings.add("diff_on_first_version", where, article.id)
            return None
        diff = diff_versions(previous.title, previous.text, version.title, version.text)
        if len(rows) != 1:
            self.findings.add("diff_missing", f"{where}: {len(rows)} diff rows", article.id)
            return diff
        row = rows[0]
        stored = (row.from_version_id, row.article_id, row.title_before, row.title_after, list(row.added),
                  list(row.removed), row.unified, list(row.changed), list(row.figures_before),
                  list(row.figures_after))
        made = (previous.id, article.id, previous.title, version.title, list(diff.added), list(diff.removed),
                diff.unified, list(diff.changed_parts), list(diff.figures_before), list(diff.figures_after))
        if stored != made:
            self.findings.add("diff_differs", f"{where}: the stored diff is not the one made now", article.id)
        return diff


# --- events and deliveries -----------------------------------------------------------------------------

def natural_key(event: Any) -> tuple[Any, ...] | None:
    """What makes two events the same change, read from their columns (not from ``key``): the article for
    ``new_article``, the version for ``article_edited`` and ``story``, the version and sentence for claim events."""
    if event.type == event_store.NEW_ARTICLE:
        return (event.type, event.article_id)
    if event.type in (event_store.ARTICLE_EDITED, event_store.STORY):
        return (event.type, event.version_id)
    if event.type in ARTICLE_EVENTS:
        return (event.type, event.version_id, (event.details or {}).get("sentence_index"))
    return None


def check_events(tables: Tables, routes: Sequence[RouteSpec], findings: Findings) -> int:
    """Duplicate events (by natural key), article events that lost their version, and events whose deliveries
    are not exactly the routes' targets; returns the number of duplicate events."""
    router = Router(list(routes))
    seen: Counter[tuple[Any, ...]] = Counter()
    for event in tables.events:
        key = natural_key(event)
        if key is not None:
            seen[key] += 1
        if event.type in ARTICLE_EVENTS and (event.version_id is None or event.article_id is None):
            findings.add("event_without_version", f"event {event.id} {event.key}")
        details = event.details or {}
        draft = event_store.EventDraft(event.type, event.key, event.title, event.summary, source_id=event.source_id,
                                       details=details, quiet=bool(details.get("quiet")))
        wanted = Counter((t.route, t.destination) for t in (router(draft) if not draft.quiet else ()))
        stored = Counter((d.route, d.destination) for d in tables.deliveries.get(event.id, []))
        if stored != wanted:
            findings.add("deliveries", f"event {event.id} {event.key}: deliveries {dict(stored)}, routes want "
                                       f"{dict(wanted)}")
    duplicates = sum(n - 1 for n in seen.values() if n > 1)
    if duplicates:
        findings.add("duplicate_events", f"{[k for k, n in seen.items() if n > 1][:3]}")
    return duplicates


# --- the whole audit -----------------------------------------------------------------------------------

def audit(url: str, routes: Sequence[RouteSpec], topic: Topic, keep_raw: bool = True) -> dict[str, Any]:
    """Audit the database at ``url``; the figures (``problems`` counts every kind of fault found)."""
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            integrity_result, fk_violations = integrity(conn)
            missing_parents = orphans(conn)
            tables = load(conn)
        with db.read() as session:
            claims = KnownClaims.of(claim_store.matching_claims(session))  # as the crawl builds its matcher
    finally:
        db.dispose()
    findings = Findings()
    auditor = ArticleAuditor(tables, claims, topic, keep_raw, findings)
    for article in tables.articles:
        auditor.check(article)
    duplicates = check_events(tables, routes, findings)
    deliveries = [d for rows in tables.deliveries.values() for d in rows]
    return {
        "articles": len(tables.articles), "relevant_articles": sum(1 for a in tables.articles if a.relevant),
        "versions": sum(len(v) for v in tables.versions.values()),
        "diffs": sum(len(v) for v in tables.diffs.values()),
        "claim_matches": sum(len(v) for v in tables.matches.values()), "claims": claims.count,
        "events": len(tables.events), "events_by_type": dict(Counter(e.type for e in tables.events)),
        "deliveries": len(deliveries), "deliveries_by_status": dict(Counter(d.status for d in deliveries)),
        "integrity_check": integrity_result, "foreign_key_violations": fk_violations,
        "orphans": sum(missing_parents.values()), "orphans_by_column": missing_parents,
        "partial_articles": len(findings.partial), "duplicate_events": duplicates,
        "problems": dict(findings.counts), "examples": findings.examples,
        "delivery_keys": sorted(d.idempotency_key for d in deliveries),
    }
