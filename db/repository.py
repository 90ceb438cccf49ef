"""Write-side queries of the crawl: sources, validators, known URLs, article versions with diffs, crawl runs.

Every function takes an open session; the caller owns the transaction (``Database.write()``), so one
article's version, diff and raw evidence are committed together or not at all.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Executable, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from analysis import positions as pos
from analysis.claims.sentences import SentenceMatch
from analysis.types import ArticleDoc, Relevance, TextPositions, VersionDiff
from analysis.urls import key_substring, politeness_key
from db import offtopic, rawbody
from db.chunks import in_chunks
from db.models import (
    Article,
    ArticleUrl,
    ArticleVersion,
    ClaimMatchRow,
    CrawlRun,
    FetchError,
    HttpValidator,
    RawResponse,
    Source,
    VersionDiffRow,
    utcnow,
)
from db.upsert import dialect_insert

Differ = Callable[[str, str, str, str], VersionDiff]
Action = Literal["new", "new_offtopic", "changed", "unchanged", "duplicate"]
_KEPT_HEADERS = ("content-type", "etag", "last-modified", "date", "content-language", "server")


@dataclass(frozen=True)
class RawCapture:
    """The HTTP response a version was read from."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime


@dataclass(frozen=True)
class Notice:
    """Something about a page worth a recorded row on its source (``sources errors``): a stable code, a
    message and a severity (``warning`` or ``info``)."""

    code: str
    message: str
    severity: str = "warning"


# A page named an article of another site as its canonical URL: it was kept under its own URL.
CANONICAL_OFFSITE = "canonical_offsite"
# A page that is not its site's home page named the home page as its canonical URL (a CMS default that
# would fold every article of the site into one): kept under its own URL.
CANONICAL_HOMEPAGE = "canonical_homepage"
# A page was folded into an article already stored (its canonical URL, or a URL it was reached under).
CANONICAL_FOLDED = "canonical_folded"
# A page's canonical URL is an article of another source: recorded as a URL of it, its text not stored.
CANONICAL_DUPLICATE = "canonical_duplicate"


@dataclass(frozen=True)
class ArticleFetch:
    """One fetched and extracted article page, ready to store."""

    doc: ArticleDoc
    relevance: Relevance
    content_hash: str
    raw: RawCapture
    source_id: str | None
    discovered_url: str
    aliases: tuple[str, ...] = ()
    matches: tuple[SentenceMatch, ...] = ()  # the claim sentences of this text, stored with its version
    claims_digest: str | None = None
    article_id: int | None = None  # a re-check: the article the page was fetched for


@dataclass(frozen=True)
class StoreOutcome:
    """What storing a fetch did."""

    action: Action
    article_id: int
    version_id: int | None = None
    diff_id: int | None = None
    changed: tuple[str, ...] = field(default=())
    version_number: int = 0
    diff: VersionDiff | None = None
    previous_title: str | None = None
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class StoreOptions:
    """Storage policy from the crawl config."""

    revisit: tuple[timedelta, ...]
    keep_raw: bool = True


def next_check_at(checks_done: int, revisit: Sequence[timedelta], now: datetime) -> datetime | None:
    """When to re-check an article after ``checks_done`` checks: the decaying schedule, then never."""
    if checks_done >= len(revisit):
        return None
    return now + revisit[checks_done]


# --- sources -------------------------------------------------------------------------------------

def sync_sources(session: Session, specs: Iterable[Any], *, disable_missing: bool = True) -> None:
    """Make the sources table match the config (id, kind, url, name, enabled); keep their health.

    With ``disable_missing``, sources no longer configured are disabled (kept for their history)."""
    wanted = {spec.id: spec for spec in specs}
    if disable_missing:
        existing = {row.id: row for row in session.scalars(select(Source))}
    else:
        # Only the rows of ``specs``: a cluster's crawl of one host syncs its few sources, not all of them (loading
        # every row took a fifth of a node's CPU at 1,000 sources: bench/cluster_scale_bench.py).
        existing = {row.id: row for chunk in in_chunks(sorted(wanted))
                    for row in session.scalars(select(Source).where(Source.id.in_(chunk)))}
    new = [spec for source_id, spec in wanted.items() if source_id not in existing]
    if new:
        # Two daemons starting with the same new source: the second insert finds the first's row and skips.
        conn = session.connection()
        conn.execute(dialect_insert(conn.dialect.name, Source).on_conflict_do_nothing(index_elements=["id"]), [
            {"id": spec.id, "kind": spec.kind, "url": spec.url, "name": spec.name, "enabled": spec.enabled,
             "consecutive_failures": 0, "items_last_run": 0, "created_at": utcnow()} for spec in new])
        existing |= {row.id: row for row in session.scalars(
            select(Source).where(Source.id.in_([spec.id for spec in new])))}
    for source_id, spec in wanted.items():
        row = existing[source_id]
        row.kind, row.url, row.name, row.enabled = spec.kind, spec.url, spec.name, spec.enabled
    for source_id, row in existing.items():
        if disable_missing and source_id not in wanted:
            row.enabled = False  # removed from config: kept for its history, never polled


def record_source_result(session: Session, source_id: str, *, ok: bool, at: datetime, items: int, new: int,
                         not_modified: bool, error_code: str | None = None, error: str | None = None,
                         follow_urls: Sequence[str] | None = None) -> tuple[int, int] | None:
    """Update a source's health after one poll; returns its consecutive failures before and after (None for
    an unknown source)."""
    row = session.get(Source, source_id)
    if row is None:
        return None
    before = row.consecutive_failures
    row.last_polled_at = at
    row.items_last_run, row.new_last_run, row.not_modified_last_run = items, new, not_modified
    if ok:
        row.last_success_at, row.consecutive_failures = at, 0
    else:
        _fail_source(row, at, error_code, error)
    if follow_urls is not None:
        row.follow_urls = list(follow_urls)
    return before, row.consecutive_failures


def add_found(session: Session, source_id: str, *, items: int, new: int) -> None:
    """Add what documents of a source read outside its poll found (child sitemaps another key's crawl read for it,
    cluster mode) to its last poll's counts."""
    row = session.get(Source, source_id)
    if row is not None and (items or new):
        row.items_last_run = (row.items_last_run or 0) + items
        row.new_last_run = (row.new_last_run or 0) + new


def record_source_failure(session: Session, source_id: str, *, at: datetime, error_code: str,
                          error: str) -> tuple[int, int] | None:
    """A source failed outside a poll of it (its article pages failed systematically in a re-check pass):
    one more consecutive failure and its error; its poll fields stay. Returns its consecutive failures
    before and after (None for an unknown source)."""
    row = session.get(Source, source_id)
    if row is None:
        return None
    before = row.consecutive_failures
    _fail_source(row, at, error_code, error)
    return before, row.consecutive_failures


def _fail_source(row: Source, at: datetime, error_code: str | None, error: str | None) -> None:
    row.consecutive_failures += 1
    row.last_error_at, row.last_error_code, row.last_error = at, error_code, error


# --- conditional GET -----------------------------------------------------------------------------

def validators_for(session: Session, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
    """Stored (ETag, Last-Modified) of the given URLs that have any."""
    wanted = list(set(urls))
    found: dict[str, tuple[str | None, str | None]] = {}
    for chunk in in_chunks(wanted):
        for row in session.scalars(select(HttpValidator).where(HttpValidator.url.in_(chunk))):
            found[row.url] = (row.etag, row.last_modified)
    return found


def save_validators(session: Session, url: str, etag: str | None, last_modified: str | None) -> None:
    """Remember a URL's validators (or forget them when the server sent none): one statement, no read."""
    save_many_validators(session, [(url, etag, last_modified)])


def save_many_validators(session: Session, validators: Sequence[tuple[str, str | None, str | None]]) -> None:
    """``save_validators`` for each (URL, ETag, Last-Modified) in order (of a URL given twice, the last counts): a
    statement for those forgotten and one for those remembered, whatever their number."""
    final = {url: (etag, last_modified) for url, etag, last_modified in validators}
    conn, now = session.connection(), utcnow()
    forget = sorted(url for url, (etag, last_modified) in final.items() if not etag and not last_modified)
    for chunk in in_chunks(forget):
        conn.execute(_FORGET_VALIDATORS, {"urls": list(chunk)})
    keep = [{"url": url, "etag": etag, "last_modified": last_modified, "updated_at": now}
            for url, (etag, last_modified) in sorted(final.items()) if etag or last_modified]
    if keep:
        conn.execute(_upsert_validator(conn.dialect.name), keep)


_FORGET_VALIDATORS = delete(HttpValidator).where(HttpValidator.url.in_(bindparam("urls", expanding=True)))


@functools.cache
def _upsert_validator(dialect: str) -> Executable:
    # INSERT ... ON CONFLICT DO UPDATE has the same shape in both dialects labourwatch supports; built
    # once, with the values passed at execution, so SQLAlchemy reuses its compiled form.
    stmt = dialect_insert(dialect, HttpValidator)
    return stmt.on_conflict_do_update(index_elements=["url"], set_={
        name: stmt.excluded[name] for name in ("etag", "last_modified", "updated_at")})


# --- articles ------------------------------------------------------------------------------------

def known_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Which of ``urls`` already lead to a stored article, or are kept as the key of a pruned off-topic one."""
    wanted = list(set(urls))
    known: set[str] = set()
    for chunk in in_chunks(wanted):
        known.update(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(chunk))))
    return known | offtopic.remembered(session, set(wanted) - known)


def article_ids(session: Session, urls: Iterable[str]) -> dict[str, int]:
    """The stored article each of ``urls`` leads to, by URL (URLs that lead to none are left out)."""
    wanted = sorted(set(urls))
    return dict(session.connection().execute(_OWNERS, {"urls": wanted}).all()) if wanted else {}


def due_rechecks(session: Session, now: datetime, limit: int = 500, source_ids: Sequence[str] | None = None,
                 key: str | None = None) -> list[tuple[int, str, str | None, str | None]]:
    """Relevant articles whose next re-check is due, those whose last re-checks answered first, then oldest
    first: (article id, the URL it was found at, source id, content hash of the stored version). With ``key``,
    only the articles whose URL is under that politeness key (``analysis.urls.politeness_key``)."""
    # Failing articles go last, so they cannot take a pass's whole budget from the working ones. A re-check
    # goes to the URL the source led to, never to the canonical URL a page named: that is the page's claim.
    query = (select(Article.id, Article.url, Article.source_id, Article.content_hash)
             .where(Article.next_check_at.is_not(None), Article.next_check_at <= now)
             .order_by(Article.failed_checks, Article.next_check_at, Article.id))
    if source_ids is not None:
        query = query.where(Article.source_id.in_(list(source_ids)))
    if key is None:
        return [(row[0], row[1], row[2], row[3]) for row in session.execute(query.limit(limit))]
    # The database narrows the due articles to URLs naming the key's host, and its port when that is not a default
    # one (a superset: "a.org" is in "ba.org" too); the exact key is checked here. A cluster's crawl of one host used
    # to read thousands of every host's due re-checks to pick its own.
    narrowed = key_substring(key)
    if narrowed.isascii():  # SQLite's lower() leaves other letters as they are
        query = query.where(Article.url.icontains(narrowed, autoescape=True))
    first = limit * 2 if narrowed.isascii() else limit * 10
    rows = session.execute(query.limit(first)).all()
    own = [(row[0], row[1], row[2], row[3]) for row in rows if politeness_key(row[1]) == key]
    if len(own) < limit and len(rows) == first:
        # Other keys' articles filled the page: read on, or this key's re-checks wait behind theirs for good. In
        # pages (a server-side cursor on PostgreSQL), and only until the key has its ``limit``.
        own = []
        result = session.execute(query.execution_options(yield_per=first))
        try:
            for row in result:
                if politeness_key(row[1]) == key:
                    own.append((row[0], row[1], row[2], row[3]))
                    if len(own) == limit:
                        break
        finally:
            result.close()
    return own[:limit]


def record_not_modified(session: Session, article_id: int, now: datetime, revisit: Sequence[timedelta]) -> None:
    """A re-check answered 304: count it and schedule the next one; nothing was parsed."""
    article = session.get(Article, article_id)
    if article is None:
        return
    article.check_count += 1
    article.last_checked_at, article.last_status, article.failed_checks = now, 304, 0
    article.next_check_at = next_check_at(article.check_count, revisit, now)


def record_failed_check(session: Session, article_id: int, now: datetime, revisit: Sequence[timedelta], *,
                        status: int | None, gone: bool) -> None:
    """A re-check failed. A ``gone`` page (404, 410) is marked so and never re-checked again; any other
    failure counts one more failed check, and the next one waits that many steps further along the revisit
    schedule, so a page that keeps failing is retried ever less often and given up when the schedule ends."""
    article = session.get(Article, article_id)
    if article is None:
        return
    article.last_checked_at, article.last_status = now, status
    if gone:
        article.gone_at, article.next_check_at = now, None
        return
    article.failed_checks += 1
    article.next_check_at = next_check_at(article.check_count + article.failed_checks, revisit, now)


def _remember_urls(session: Session, article_id: int, urls: Iterable[str], source_id: str | None) -> None:
    # One statement, and a URL another writer remembered meanwhile is kept as it is (no read-then-insert).
    conn = session.connection()
    conn.execute(_insert_urls(conn.dialect.name), _url_rows([(article_id, urls, source_id)]))


def _url_rows(owned: Iterable[tuple[int, Iterable[str], str | None]]) -> list[dict[str, Any]]:
    """The ``article_urls`` rows of (article id, its URLs, source id) triples, each article's URLs in order."""
    now = utcnow()
    return [{"url": url, "article_id": article_id, "source_id": source_id, "seen_at": now}
            for article_id, urls, source_id in owned for url in sorted(set(urls))]


@functools.cache
def _insert_urls(dialect: str) -> Executable:
    return dialect_insert(dialect, ArticleUrl).on_conflict_do_nothing(index_elements=["url"])


@functools.cache
def _insert_articles(dialect: str) -> Executable:
    # Two writers (two daemons, or a daemon and a CLI crawl, on PostgreSQL) may find the same new article at
    # once: the second insert waits for the first, then inserts nothing, and the caller takes the stored one.
    # Returns each inserted row's canonical URL with its id: rows left out by a conflict return nothing.
    return (dialect_insert(dialect, Article).on_conflict_do_nothing(index_elements=["canonical_url"])
            .returning(Article.id, Article.canonical_url))


_INSERT_VERSIONS = insert(ArticleVersion).returning(ArticleVersion.id, ArticleVersion.article_id)
_INSERT_RAW = insert(RawResponse)
_INSERT_MATCH = insert(ClaimMatchRow)
_OWNERS = select(ArticleUrl.url, ArticleUrl.article_id).where(ArticleUrl.url.in_(bindparam("urls", expanding=True)))


def _version_values(article_id: int, number: int, fetch: ArticleFetch) -> dict[str, Any]:
    doc, raw = fetch.doc, fetch.raw
    values = dict(
        article_id=article_id, number=number, fetched_at=raw.fetched_at, url=raw.url, title=doc.title,
        byline=doc.byline, published_at=doc.published, modified_at=doc.modified, language=doc.language,
        text=doc.text, content_hash=fetch.content_hash,
    )
    if doc.positions is not None:
        # Named only for a document: a web page's row is written as before migration 0014 (NULL), and the
        # migration tests store pages under older schemas with this code.
        values.update(position_unit=doc.positions.unit, position_starts=list(doc.positions.starts))
    return values


def _raw_values(version_id: int, raw: RawCapture) -> dict[str, Any]:
    headers = {k: v for k, v in raw.headers.items() if k.lower() in _KEPT_HEADERS}
    stored, compression = rawbody.pack(raw.body)
    return dict(version_id=version_id, url=raw.url, status=raw.status, headers=headers, body=stored,
                compression=compression, size=len(raw.body), sha256=hashlib.sha256(raw.body).hexdigest(),
                fetched_at=raw.fetched_at)


def _insert_versions(conn: Connection, versions: Sequence[tuple[int, int, ArticleFetch]],
                     options: StoreOptions) -> list[int]:
    """Insert versions ((article id, number, fetch) triples, one per article) with their raw evidence and claim
    matches; their ids, in order. One statement per table for all of them: this is the crawl's hot path."""
    # Core statements, not ORM objects: the unit of work's bookkeeping cost more than the inserts themselves.
    # Statements are built once and given their values at execution, so SQLAlchemy reuses the compiled form.
    rows = [_version_values(article_id, number, fetch) for article_id, number, fetch in versions]
    ids: dict[int, int] = {}
    # An executemany takes its columns from its first row: rows that name other columns (a document's positions)
    # go in a statement of their own, in order, so every version gets the id it would get inserted alone.
    for _, same in itertools.groupby(rows, key=lambda row: "position_unit" in row):
        ids.update((article_id, version_id) for version_id, article_id in conn.execute(_INSERT_VERSIONS, list(same)))
    version_ids = [ids[article_id] for article_id, _, _ in versions]
    if options.keep_raw:
        conn.execute(_INSERT_RAW, [_raw_values(version_id, fetch.raw)
                                   for version_id, (_, _, fetch) in zip(version_ids, versions, strict=True)])
    matches = [row for version_id, (article_id, _, fetch) in zip(version_ids, versions, strict=True)
               if fetch.matches and fetch.claims_digest
               for row in match_rows(version_id, article_id, fetch.source_id, fetch.raw.url, fetch.matches,
                                     fetch.claims_digest, fetch.raw.fetched_at, fetch.doc.positions)]
    if matches:
        conn.execute(_INSERT_MATCH, matches)
    return version_ids


def insert_matches(conn: Connection, version_id: int, article_id: int, source_id: str | None, url: str,
                   matches: Sequence[SentenceMatch], digest: str, at: datetime,
                   positions: TextPositions | None = None) -> None:
    """Store the claim verdicts on one version's sentences (the caller removed any earlier ones), each with its
    page or paragraph when the version is a document's (``positions``)."""
    conn.execute(_INSERT_MATCH, match_rows(version_id, article_id, source_id, url, matches, digest, at, positions))


def match_rows(version_id: int, article_id: int, source_id: str | None, url: str, matches: Sequence[SentenceMatch],
               digest: str, at: datetime, positions: TextPositions | None = None) -> list[dict[str, Any]]:
    """The ``claim_matches`` rows of one version's sentences."""
    return [
        {"version_id": version_id, "article_id": article_id, "source_id": source_id, "url": url,
         "sentence_index": m.index, "sentence": m.sentence,
         "position": pos.at_line(positions, m.line) if positions and m.line is not None else None,
         "label": m.match.label, "claim_id": m.match.claim_id,
         "confidence": m.match.confidence, "score": m.match.score, "old_values": list(m.match.old_values),
         "new_values": list(m.match.new_values), "reasons": list(m.match.reasons), "on_subject": m.on_subject,
         "claims_digest": digest, "matched_at": at}
        for m in matches
    ]


def _article_values(fetch: ArticleFetch, options: StoreOptions) -> dict[str, Any]:
    # Off-topic pages are remembered (never fetched as new again) but neither versioned nor re-checked.
    doc, now, relevant = fetch.doc, fetch.raw.fetched_at, fetch.relevance.relevant
    return dict(
        source_id=fetch.source_id, url=fetch.discovered_url, canonical_url=doc.canonical_url, title=doc.title,
        language=doc.language, published_at=doc.published, relevant=relevant,
        relevance_score=fetch.relevance.score, matched_terms=list(fetch.relevance.terms), first_seen_at=now,
        last_checked_at=now, check_count=0, version_count=1 if relevant else 0, last_status=fetch.raw.status,
        content_hash=fetch.content_hash, next_check_at=next_check_at(0, options.revisit, now) if relevant else None,
    )


def _new_articles(session: Session, fetches: Sequence[ArticleFetch],
                  options: StoreOptions) -> list[StoreOutcome | None]:
    """Insert new articles (no two of them sharing a URL) with their URLs and first versions: a statement per table
    for all of them. None for a fetch whose canonical URL another writer stored since the caller looked."""
    conn = session.connection()
    inserted = dict((url, article_id) for article_id, url in conn.execute(
        _insert_articles(conn.dialect.name), [_article_values(fetch, options) for fetch in fetches]))
    made = [(fetch, inserted.get(fetch.doc.canonical_url)) for fetch in fetches]
    if inserted:
        # The caller found none of these URLs; another writer may have remembered one meanwhile.
        conn.execute(_insert_urls(conn.dialect.name), _url_rows(
            (article_id, _urls(fetch), fetch.source_id) for fetch, article_id in made if article_id is not None))
    relevant = [(article_id, 1, fetch) for fetch, article_id in made
                if article_id is not None and fetch.relevance.relevant]
    versions = dict(zip((article_id for article_id, _, _ in relevant), _insert_versions(conn, relevant, options),
                        strict=True)) if relevant else {}
    return [None if article_id is None
            else StoreOutcome("new", article_id, versions[article_id], version_number=1) if article_id in versions
            else StoreOutcome("new_offtopic", article_id) for fetch, article_id in made]


def _recheck(session: Session, article: Article, fetch: ArticleFetch, options: StoreOptions,
             differ: Differ) -> StoreOutcome:
    now = fetch.raw.fetched_at
    article.check_count += 1
    article.last_checked_at, article.last_status = now, fetch.raw.status
    article.failed_checks, article.gone_at = 0, None  # it answered: not failing, not gone
    _remember_urls(session, article.id, (fetch.discovered_url, *fetch.aliases), fetch.source_id)
    if fetch.content_hash == article.content_hash or not article.relevant:
        if article.relevant:
            article.next_check_at = next_check_at(article.check_count, options.revisit, now)
        return StoreOutcome("unchanged", article.id)
    previous = session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article.id)
                               .order_by(ArticleVersion.number.desc()).limit(1)).one()
    diff = differ(previous.title, previous.text, fetch.doc.title, fetch.doc.text)
    [version_id] = _insert_versions(session.connection(), [(article.id, article.version_count + 1, fetch)], options)
    article.version_count += 1
    article.content_hash, article.title = fetch.content_hash, fetch.doc.title
    row = VersionDiffRow(
        article_id=article.id, from_version_id=previous.id, to_version_id=version_id,
        title_before=previous.title, title_after=fetch.doc.title, added=list(diff.added),
        removed=list(diff.removed), unified=diff.unified, changed=list(diff.changed_parts),
        figures_before=list(diff.figures_before), figures_after=list(diff.figures_after), created_at=now,
    )
    where = pos.diff_positions(diff, pos.loaded(previous.position_unit, previous.position_starts), fetch.doc.positions)
    if where is not None:  # a web page's diff is written as before migration 0014, as its version is
        row.positions = where
    session.add(row)
    session.flush()
    # A changed article is alive: start the decaying schedule again.
    article.check_count = 0
    article.next_check_at = next_check_at(0, options.revisit, now)
    return StoreOutcome("changed", article.id, version_id, row.id, diff.changed_parts,
                        version_number=article.version_count, diff=diff, previous_title=previous.title)


def store_article(session: Session, fetch: ArticleFetch, options: StoreOptions, differ: Differ) -> StoreOutcome:
    """Store a fetched article: a new article, a new version with its diff, or only a completed check.

    A page that leads to an article of another source (its canonical URL, or a URL it was reached under) never
    changes it: the page's URLs are remembered for that article and a ``canonical_duplicate`` notice says so.
    A page of the same source folded into an article already stored makes a ``canonical_folded`` notice."""
    return next(store_articles(session, [fetch], options, differ))


def store_articles(session: Session, fetches: Sequence[ArticleFetch], options: StoreOptions,
                   differ: Differ) -> Iterator[StoreOutcome]:
    """Store fetched articles as ``store_article`` stores each, one after another: yields their outcomes in order.

    What the caller writes on receiving an outcome comes before the next fetch is stored, with one exception that no
    such write can tell apart: the new articles of consecutive fetches that share no URL with a stored article nor
    with an earlier fetch of the call are inserted together (a statement per table for all of them, not a handful
    each) before the first of them is yielded. One look-up finds the stored articles of every fetch's URLs."""
    urls = [_urls(fetch) for fetch in fetches]
    wanted = sorted({url for fetch, mine in zip(fetches, urls, strict=True) if fetch.article_id is None
                     for url in mine})
    conn = session.connection()
    owners: dict[str, int] = {}
    for chunk in in_chunks(wanted):
        owners.update(conn.execute(_OWNERS, {"urls": list(chunk)}).all())
    seen: set[str] = set()  # the URLs of the fetches before: their owners may have changed since the look-up
    run: list[ArticleFetch] = []
    for fetch, mine in zip(fetches, urls, strict=True):
        untouched = mine.isdisjoint(seen)
        seen |= mine
        if fetch.article_id is None and untouched and mine.isdisjoint(owners):
            run.append(fetch)
            continue
        yield from _store_new(session, run, options, differ)
        run = []
        yield _store_one(session, fetch, options, differ, owners if untouched else None)
    yield from _store_new(session, run, options, differ)


def _urls(fetch: ArticleFetch) -> set[str]:
    """Every URL a fetch leads to: its canonical URL, the URL it was found at and its aliases."""
    return {fetch.doc.canonical_url, fetch.discovered_url, *fetch.aliases}


def _store_new(session: Session, fetches: Sequence[ArticleFetch], options: StoreOptions,
               differ: Differ) -> Iterator[StoreOutcome]:
    """Store fetches that lead to no stored article, as new articles; a fetch whose article another writer stored
    meanwhile is stored as a fetch of that one."""
    if not fetches:
        return
    for fetch, stored in zip(fetches, _new_articles(session, fetches, options), strict=True):
        yield stored if stored is not None else _store_existing(session, fetch, options, differ)


def _store_one(session: Session, fetch: ArticleFetch, options: StoreOptions, differ: Differ,
               owners: dict[str, int] | None) -> StoreOutcome:
    """Store one fetch; ``owners``: the stored article of its URLs, where the caller looked them up already."""
    article = _owner(session, fetch, owners)
    if article is None:
        [stored] = _new_articles(session, [fetch], options)
        if stored is not None:
            return stored
        return _store_existing(session, fetch, options, differ)
    return _update(session, article, fetch, options, differ)


def _store_existing(session: Session, fetch: ArticleFetch, options: StoreOptions, differ: Differ) -> StoreOutcome:
    """Store a fetch whose new article another writer stored just now: continue as a re-check of that one."""
    article = _owner(session, fetch)
    if article is None:
        raise RuntimeError(f"article {fetch.doc.canonical_url} exists but none of its URLs is known")
    return _update(session, article, fetch, options, differ)


def _update(session: Session, article: Article, fetch: ArticleFetch, options: StoreOptions,
            differ: Differ) -> StoreOutcome:
    """Store a fetch of a stored article: a duplicate of another source's, a re-check, or a page folded into it."""
    if article.source_id != fetch.source_id:
        return _duplicate(session, article, fetch)
    outcome = _recheck(session, article, fetch, options, differ)
    if fetch.article_id is not None:  # the re-check of this very article: nothing was folded
        return outcome
    return replace(outcome, notices=(Notice(CANONICAL_FOLDED, (
        f"{fetch.discovered_url} is the same article as {article.canonical_url} (article {article.id}, found at "
        f"{article.url}): kept as one article, this URL remembered with it"), "info"),))


def _duplicate(session: Session, article: Article, fetch: ArticleFetch) -> StoreOutcome:
    """A page that leads to another source's article: its URLs are remembered with that article (so it is
    never fetched as new again and ``articles show`` lists it), its text is not stored."""
    _remember_urls(session, article.id, (fetch.discovered_url, *fetch.aliases), fetch.source_id)
    return StoreOutcome("duplicate", article.id, notices=(Notice(CANONICAL_DUPLICATE, (
        f"{fetch.discovered_url} names {fetch.doc.canonical_url} as its canonical URL, article {article.id} of "
        f"source {article.source_id}: recorded as another URL of that article; its text is not stored, since no "
        "source may change another source's article")),))


def _owner(session: Session, fetch: ArticleFetch, owners: dict[str, int] | None = None) -> Article | None:
    """The article this fetch belongs to, locked for the update: on a re-check the article it was fetched
    for; else by its canonical URL first, else by a URL it was reached under (an alias whose page now names a
    different canonical URL). Every article's canonical URL is one of its remembered URLs, so one look-up
    answers both (``owners``: its answer, where the caller made it already)."""
    if fetch.article_id is not None:
        article = session.get(Article, fetch.article_id, with_for_update=True)
        if article is not None:
            return article
        owners = None  # not looked up for a re-check
    canonical = fetch.doc.canonical_url
    wanted = _urls(fetch)
    if owners is None:
        owners = dict(session.connection().execute(_OWNERS, {"urls": sorted(wanted)}).all())
    else:
        owners = {url: owners[url] for url in wanted if url in owners}
    article_id = owners[canonical] if canonical in owners else min(owners.values()) if owners else None
    # None also when the article was deleted between the two statements.
    return None if article_id is None else session.get(Article, article_id, with_for_update=True)


def classify_article(session: Session, canonical_url: str, content_hash: str) -> str:
    """Read-only verdict for dry runs: ``new``, ``changed`` or ``unchanged``."""
    current = session.scalars(select(Article.content_hash).where(Article.canonical_url == canonical_url)).first()
    if current is None:
        return "new"
    return "unchanged" if current == content_hash else "changed"


# --- crawl runs, errors, retention ---------------------------------------------------------------

def start_run(session: Session, trigger: str, source_ids: Sequence[str], owner: str | None = None) -> int:
    """Open a crawl-run record; returns its id. ``owner`` (kept in its stats until it finishes) names what runs it
    where another process may have to close it (``abort_runs_of``)."""
    run = CrawlRun(trigger=trigger, status="running", sources=list(source_ids),
                   stats={"owner": owner} if owner else {}, error_count=0, started_at=utcnow())
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, status: str, stats: dict[str, Any], error_count: int) -> None:
    """Close a crawl-run record with its stats."""
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(
        status=status, stats=stats, error_count=error_count, finished_at=utcnow()))


def abort_runs_of(session: Session, owner: str, now: datetime) -> int:
    """Close the runs of ``owner`` still ``running`` as ``aborted`` (finished ``now``): its process died, and its
    work is handed to another (cluster mode: a stalled job); returns how many."""
    return _abort_running(session, now, CrawlRun.stats["owner"].as_string() == owner)


def abort_stale_runs(session: Session, now: datetime) -> int:
    """Close every run still ``running`` as ``aborted`` (finished ``now``): left by a process that died
    mid-crawl. Only safe when no crawl can be running, such as at daemon start; returns how many."""
    return _abort_running(session, now)


def _abort_running(session: Session, now: datetime, *where: ColumnElement[bool]) -> int:
    result = session.execute(update(CrawlRun).where(CrawlRun.status == "running", *where)
                             .values(status="aborted", finished_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def record_error(session: Session, *, run_id: int | None, source_id: str | None, url: str, code: str,
                 message: str, severity: str = "error", at: datetime | None = None) -> None:
    """Record a problem on its source, where ``sources list`` and the UI show it."""
    source = source_id if source_id and session.get(Source, source_id) is not None else None
    session.add(FetchError(crawl_run_id=run_id, source_id=source, url=url[:2048], code=code,
                           message=message[:4000], severity=severity, at=at or utcnow()))


def prune_raw(session: Session, older_than: datetime) -> int:
    """Delete raw responses fetched before ``older_than``; returns how many."""
    result = session.execute(delete(RawResponse).where(RawResponse.fetched_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
