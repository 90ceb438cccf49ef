"""Does the cost of a page, an API call or a daemon job grow with history? (issue 15)

Builds a database the way a long-running monitor would have it, then times what the web UI and the daemon do on
it, on SQLite and on PostgreSQL:

1. crawls the fixture web (``labourwatch.fixtureweb``, twice, with an edit in between) into a fresh migrated
   database with the shipped known claims, so there are real sources, articles, versions, diffs, claim matches,
   events, deliveries and off-topic articles to copy the shape of;
2. grows it with synthetic rows by bulk INSERTs: ``--events`` events spread over ``--days`` days (newest last,
   with the type mix of a real monitor), ``--articles`` on-topic articles with their versions (every third
   edited once, with its diff), claim matches (``--match-every``: one per that many versions), ``--deliveries``
   outbox rows for the newest events (all sent but the last few), and ``--offtopic`` off-topic links stored as
   the crawl stores them (``db.repository``: an ``articles`` row and its ``article_urls``);
3. measures the database bytes each off-topic link costs (SQLite: the pages of every table and index, from
   ``dbstat``; PostgreSQL: ``pg_total_relation_size`` of every table), before and after the prune job
   compacts them (``db.offtopic``; skipped where that module does not exist, as on older checkouts);
4. serves the real app (``web.app.create_app``) with uvicorn on 127.0.0.1 in this process and times every page
   and API route of ``web/app.py`` with a plain HTTP client (median of ``--repeat``), then the daemon's queries
   (due sources, re-check selection, outbox claim, status) and the prune job.

For each it reports wall time (median), CPU seconds of the process (median; server and client share it), and
peak RSS (the process's high-water mark, reset before each measurement through ``/proc/self/clear_refs``). An
export is also reported with its time to first byte, size and rows per second.

Run: ``.venv/bin/python bench/history_bench.py`` (1,000,000 events, 100,000 articles, 1,000,000 off-topic links:
about half an hour per database), ``--quick`` (small sizes, one database each, under two minutes: for CI), or
``--events N --articles N --offtopic N --backends sqlite``. Prints a markdown table and writes JSON to
``bench/results/`` (git-ignored). PostgreSQL runs in a scratch database on ``LABOURWATCH_TEST_PG_URL``'s
server (``tests/databases.py``), dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Table, func, select, text  # noqa: E402

from db.engine import Database  # noqa: E402
from db.models import (  # noqa: E402
    Article,
    ArticleUrl,
    ArticleVersion,
    ClaimMatchRow,
    Delivery,
    Event,
    KnownClaim,
    Source,
    VersionDiffRow,
)

RESULTS = ROOT / "bench" / "results"
BATCH = 5_000
# The event mix of a monitor (story events carry the news; claim- and article-level ones are stored beside them).
EVENT_MIX = (("story", 34), ("new_article", 22), ("article_edited", 9), ("claim_corroborated", 16),
             ("claim_updated", 5), ("new_claim", 8), ("baseline", 1), ("source_failing", 2),
             ("source_recovered", 2), ("delivery_dead", 1))
BUDGET_MS = 300.0


@dataclass
class Sizes:
    """How much synthetic history to add."""

    events: int = 1_000_000
    articles: int = 100_000
    offtopic: int = 1_000_000
    deliveries: int | None = None  # None: a quarter of ``events``
    days: int = 365
    match_every: int = 4
    repeat: int = 5


@dataclass
class Timing:
    """One measured operation: medians of wall and CPU time, the peak RSS, and what else was learnt."""

    name: str
    wall_ms: float
    cpu_ms: float
    peak_rss_mib: float
    rss_growth_mib: float
    samples: int
    extra: dict[str, Any] = field(default_factory=dict)


# --- measuring -----------------------------------------------------------------------------------------

def _reset_peak_rss() -> None:
    # Linux: writing 5 resets VmHWM (the peak resident set) to the current RSS.
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_mib() -> float:
    return _status_mib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, fn: Callable[[], dict[str, Any] | None], repeat: int, warm: bool = True) -> Timing:
    """``fn`` run ``repeat`` times (after one unmeasured run when ``warm``): medians, peak RSS, its last extras."""
    if warm:
        fn()
    walls, cpus, extra = [], [], {}
    _reset_peak_rss()
    rss = _status_mib("VmRSS") or 0.0
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        extra = fn() or {}
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return Timing(name, round(statistics.median(walls), 1), round(statistics.median(cpus), 1),
                  round(_peak_rss_mib(), 1), round(_peak_rss_mib() - rss, 1), repeat, extra)


# --- building the database -----------------------------------------------------------------------------

def crawl_fixture_web(db: Database) -> dict[str, Any]:
    """Two crawls of the fixture web (an edit in between) into ``db``, with the shipped known claims."""
    from db import claims as claim_store
    from labourwatch.config import read_claims
    from labourwatch.fixtureweb import FixtureWeb
    from tests.crawler.helpers import crawl, specs

    with db.write() as session:
        claim_store.import_claims(session, read_claims(ROOT / "known_claims.yaml"))
    with FixtureWeb() as web:
        sources = specs(web.sources())
        first = crawl(db, sources)
        web.advance()
        second = crawl(db, sources)
    return {"crawls": [first.stats, second.stats]}


def _sample(db: Database) -> dict[str, Any]:
    """What the synthetic rows copy: the crawled sources, texts, titles, claims and off-topic URL shapes."""
    with db.read() as session:
        sources = list(session.scalars(select(Source.id).order_by(Source.id)))
        texts = [(t, x) for t, x in session.execute(
            select(ArticleVersion.title, ArticleVersion.text).join(Article, Article.id == ArticleVersion.article_id)
            .where(Article.relevant.is_(True)).order_by(ArticleVersion.id))]
        offtopic = list(session.scalars(select(Article).where(Article.relevant.is_(False)).order_by(Article.id)))
        urls_per_offtopic = (session.scalar(
            select(func.count()).select_from(ArticleUrl).join(Article, Article.id == ArticleUrl.article_id)
            .where(Article.relevant.is_(False))) or 0) / max(1, len(offtopic))
        sentences = [s for s, in session.execute(select(ClaimMatchRow.sentence).limit(200))]
        claims = list(session.scalars(select(KnownClaim.id).order_by(KnownClaim.id)))
        maxima = {model.__tablename__: int(session.scalar(select(func.max(model.id))) or 0)
                  for model in (Article, ArticleVersion, Event, Delivery, VersionDiffRow, ClaimMatchRow)}
        return {"sources": sources, "texts": texts or [("North Korean workers", "North Korean workers abroad.")],
                "offtopic": [(a.title or "", a.matched_terms, a.relevance_score, a.language) for a in offtopic]
                or [("Weather", [], 0.0, "en")], "urls_per_offtopic": urls_per_offtopic,
                "sentences": sentences or ["More than 10,000 North Korean workers were sent to Russia."],
                "claims": claims, "max": maxima}


def _insert(db: Database, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            with db.engine.begin() as conn:
                conn.execute(table.insert(), batch)
            count, batch = count + len(batch), []
    if batch:
        with db.engine.begin() as conn:
            conn.execute(table.insert(), batch)
        count += len(batch)
    return count


def _spread(i: int, n: int, start: datetime, end: datetime) -> datetime:
    """The ``i``-th of ``n`` times spread evenly from ``start`` to ``end``."""
    return start + (end - start) * (i / max(1, n - 1))


def grow(db: Database, sizes: Sizes, now: datetime, sample: dict[str, Any]) -> dict[str, Any]:
    """Add the synthetic on-topic history: articles with versions, diffs and matches, events, deliveries."""
    rng = random.Random(15)
    start = now - timedelta(days=sizes.days)
    sources, texts, claims = sample["sources"], sample["texts"], sample["claims"] or [None]
    base = sample["max"]
    a0, v0, d0, m0 = (base["articles"], base["article_versions"], base["diffs"], base["claim_matches"])
    versions_of: dict[int, list[int]] = {}
    version_rows: list[dict[str, Any]] = []
    diff_rows: list[dict[str, Any]] = []
    match_rows: list[dict[str, Any]] = []
    vid = v0

    def articles() -> Iterator[dict[str, Any]]:
        nonlocal vid
        for i in range(sizes.articles):
            aid, seen = a0 + 1 + i, _spread(i, sizes.articles, start, now)
            edited = i % 3 == 0
            title, body = texts[i % len(texts)]
            ids = []
            for number in (1, 2) if edited else (1,):
                vid += 1
                ids.append(vid)
                at = seen + timedelta(hours=6 * (number - 1))
                version_rows.append({
                    "id": vid, "article_id": aid, "number": number, "fetched_at": at,
                    "url": f"https://synthetic{i % 40}.example/news/{i}.html", "title": title,
                    "byline": "By Staff", "published_at": seen, "modified_at": None, "language": "en",
                    "text": f"{body}\n\nSynthetic article {i}, version {number}.",
                    "content_hash": hashlib.sha256(f"{i}:{number}".encode()).hexdigest()})
            if edited:
                diff_rows.append({
                    "id": d0 + len(diff_rows) + 1, "article_id": aid, "from_version_id": ids[0],
                    "to_version_id": ids[1], "title_before": title, "title_after": title,
                    "added": [f"Synthetic article {i}, version 2."], "removed": [f"Synthetic article {i}, version 1."],
                    "unified": "", "changed": ["text"], "figures_before": [], "figures_after": [],
                    "created_at": seen + timedelta(hours=6)})
            for version_id in ids:
                if (version_id - v0) % sizes.match_every == 0:
                    label = ("corroborates", "updates", "new")[version_id % 3]
                    match_rows.append({
                        "id": m0 + len(match_rows) + 1, "version_id": version_id, "article_id": aid,
                        "source_id": sources[i % len(sources)] if sources else None,
                        "url": f"https://synthetic{i % 40}.example/news/{i}.html", "sentence_index": 0,
                        "sentence": sample["sentences"][i % len(sample["sentences"])], "label": label,
                        "claim_id": None if label == "new" else claims[i % len(claims)], "confidence": 0.8,
                        "score": 0.8, "old_values": [], "new_values": [], "reasons": [], "on_subject": True,
                        "claims_digest": "synthetic", "matched_at": seen})
            versions_of[aid] = ids
            # Re-checks are due for recent articles only: the revisit schedule of older ones has ended.
            recent = now - seen < timedelta(days=7)
            yield {"id": aid, "source_id": sources[i % len(sources)] if sources else None,
                   "url": f"https://synthetic{i % 40}.example/news/{i}.html",
                   "canonical_url": f"https://synthetic{i % 40}.example/news/{i}.html", "title": title,
                   "language": "en", "published_at": seen, "relevant": True, "relevance_score": 3.0,
                   "matched_terms": ["north korean", "workers"], "first_seen_at": seen, "last_checked_at": seen,
                   "next_check_at": seen + timedelta(days=1) if recent else None, "check_count": 2,
                   "version_count": len(ids), "content_hash": hashlib.sha256(f"{i}".encode()).hexdigest(),
                   "last_status": 200, "failed_checks": 0, "gone_at": None}

    counts = {"articles": _insert(db, Article.__table__, articles())}  # type: ignore[arg-type]
    counts["article_urls"] = _insert(db, ArticleUrl.__table__, (  # type: ignore[arg-type]
        {"url": f"https://synthetic{i % 40}.example/news/{i}.html", "article_id": a0 + 1 + i,
         "source_id": sources[i % len(sources)] if sources else None, "seen_at": now}
        for i in range(sizes.articles)))
    counts["versions"] = _insert(db, ArticleVersion.__table__, iter(version_rows))  # type: ignore[arg-type]
    counts["diffs"] = _insert(db, VersionDiffRow.__table__, iter(diff_rows))  # type: ignore[arg-type]
    counts["matches"] = _insert(db, ClaimMatchRow.__table__, iter(match_rows))  # type: ignore[arg-type]
    article_ids = list(versions_of)
    weights = [w for _, w in EVENT_MIX]
    types = [t for t, _ in EVENT_MIX]
    e0 = base["events"]

    def events() -> Iterator[dict[str, Any]]:
        for i in range(sizes.events):
            kind = rng.choices(types, weights)[0]
            at = _spread(i, sizes.events, start, now)
            # Events point at the articles of their time (articles and events share the time line).
            aid = article_ids[min(len(article_ids) - 1, i * len(article_ids) // max(1, sizes.events))] \
                if article_ids and kind not in ("source_failing", "source_recovered", "delivery_dead") else None
            claim = claims[i % len(claims)] if kind.startswith("claim_") else None
            yield {"id": e0 + 1 + i, "type": kind, "key": f"synthetic:{i}", "created_at": at,
                   "source_id": sources[i % len(sources)] if sources else None, "article_id": aid,
                   "version_id": versions_of[aid][-1] if aid else None, "claim_id": claim,
                   "url": f"https://synthetic{i % 40}.example/news/{i}.html" if aid else None,
                   "title": texts[i % len(texts)][0], "summary": f"Synthetic {kind.replace('_', ' ')} {i}",
                   "details": {"sentence": sample["sentences"][i % len(sample["sentences"])]} if claim else {},
                   "importance": 30}

    counts["events"] = _insert(db, Event.__table__, events())  # type: ignore[arg-type]
    first_delivered = e0 + 1 + max(0, sizes.events - (sizes.deliveries or 0))

    def deliveries() -> Iterator[dict[str, Any]]:
        for n, event_id in enumerate(range(first_delivered, e0 + 1 + sizes.events)):
            at = _spread(event_id - e0 - 1, sizes.events, start, now)
            waiting = event_id > e0 + sizes.events - 20
            yield {"event_id": event_id, "route": "newsroom", "destination": "d" * 16,
                   "destination_label": "newsroom", "mode": "immediate", "status": "pending" if waiting else "sent",
                   "attempts": 0 if waiting else 1, "next_attempt_at": at, "lease_until": None, "lease_owner": None,
                   "last_error": None, "idempotency_key": f"synthetic:{n}", "sent_at": None if waiting else at,
                   "sent_in": None, "created_at": at}

    counts["deliveries"] = _insert(db, Delivery.__table__, deliveries())  # type: ignore[arg-type]
    _fix_sequences(db)
    return counts


def grow_offtopic(db: Database, sizes: Sizes, now: datetime, sample: dict[str, Any]) -> dict[str, Any]:
    """Off-topic links as the crawl stores them (``repository._new_articles``): an article row, not versioned,
    and its URLs (the discovered one, the canonical one when it differs)."""
    start = now - timedelta(days=sizes.days)
    with db.read() as session:
        a0 = int(session.scalar(select(func.max(Article.id))) or 0)
    shapes, sources = sample["offtopic"], sample["sources"]
    extra_every = max(1, round(1 / max(0.01, sample["urls_per_offtopic"] - 1))) if sample["urls_per_offtopic"] > 1 \
        else 0

    def url(i: int) -> str:
        return f"https://outlet{i % 40}.example/{2025 + i % 2}/{i % 12 + 1:02d}/story-{i}-local-sport-weather.html"

    def articles() -> Iterator[dict[str, Any]]:
        for i in range(sizes.offtopic):
            title, terms, score, language = shapes[i % len(shapes)]
            seen = _spread(i, sizes.offtopic, start, now)
            yield {"id": a0 + 1 + i, "source_id": sources[i % len(sources)] if sources else None, "url": url(i),
                   "canonical_url": url(i), "title": title, "language": language, "published_at": seen,
                   "relevant": False, "relevance_score": score, "matched_terms": terms, "first_seen_at": seen,
                   "last_checked_at": seen, "next_check_at": None, "check_count": 0, "version_count": 0,
                   "content_hash": hashlib.sha256(url(i).encode()).hexdigest(), "last_status": 200,
                   "failed_checks": 0, "gone_at": None}

    def urls() -> Iterator[dict[str, Any]]:
        for i in range(sizes.offtopic):
            source = sources[i % len(sources)] if sources else None
            seen = _spread(i, sizes.offtopic, start, now)
            yield {"url": url(i), "article_id": a0 + 1 + i, "source_id": source, "seen_at": seen}
            if extra_every and i % extra_every == 0:
                yield {"url": url(i) + "?utm_source=rss", "article_id": a0 + 1 + i, "source_id": source,
                       "seen_at": seen}

    counts = {"offtopic_articles": _insert(db, Article.__table__, articles())}  # type: ignore[arg-type]
    counts["offtopic_urls"] = _insert(db, ArticleUrl.__table__, urls())  # type: ignore[arg-type]
    _fix_sequences(db)
    return counts


def _fix_sequences(db: Database) -> None:
    # Explicit ids leave PostgreSQL's sequences behind: move them past the rows inserted.
    if db.is_sqlite:
        return
    with db.engine.begin() as conn:
        for table in ("articles", "article_versions", "events", "deliveries", "diffs", "claim_matches"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def analyse(db: Database) -> None:
    """Planner statistics, as a running database has them (PostgreSQL's autovacuum; SQLite's optimize)."""
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def used_bytes(db: Database, *, full: bool = False) -> dict[str, int]:
    """Bytes used by each table (with its indexes and, on PostgreSQL, TOAST). ``full`` first rewrites the
    PostgreSQL tables (``VACUUM FULL``), so deleted rows no longer count."""
    if db.is_sqlite:
        with db.engine.connect() as conn:
            tables: dict[str, str] = dict(conn.execute(text(
                "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")).all())
            sizes: dict[str, int] = {}
            for name, size in conn.execute(text("SELECT name, SUM(pgsize - unused) FROM dbstat GROUP BY name")):
                owner = tables.get(name, name)
                sizes[owner] = sizes.get(owner, 0) + int(size)
            return sizes
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if full:
            conn.execute(text("VACUUM FULL"))
        return {name: int(size) for name, size in conn.execute(text(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"))}


# --- the web UI ----------------------------------------------------------------------------------------

@contextmanager
def serving(db: Database) -> Iterator[int]:
    """The real app under uvicorn on 127.0.0.1 (a thread of this process); yields its port."""
    import uvicorn

    from web.app import create_app

    config = uvicorn.Config(create_app(db), host="127.0.0.1", port=0, log_config=None, access_log=False,
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def fetch(port: int, path: str) -> dict[str, Any]:
    """GET ``path``, reading the body as it streams: status, bytes, time to the first byte (ms)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    first = response.read(1)
    ttfb = (time.perf_counter() - started) * 1000
    size = len(first)
    while chunk := response.read(1 << 16):
        size += len(chunk)
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}")
    return {"status": response.status, "bytes": size, "ttfb_ms": round(ttfb, 1)}


def route_paths(db: Database) -> list[tuple[str, str]]:
    """(name, path) of every page and API route of ``web/app.py``, with ids of the synthetic history."""
    with db.read() as session:
        max_event = int(session.scalar(select(func.max(Event.id))) or 1)
        article = session.scalar(select(func.max(Article.id)).where(Article.relevant.is_(True))) or 1
        old_article = session.scalar(select(func.min(Article.id)).where(Article.relevant.is_(True))) or 1
        claim = session.scalar(select(ClaimMatchRow.claim_id).where(ClaimMatchRow.claim_id.is_not(None))
                               .group_by(ClaimMatchRow.claim_id).order_by(func.count().desc()).limit(1)) or "K01"
        source = session.scalar(select(Source.id).order_by(Source.id).limit(1)) or ""
    middle = max_event // 2
    return [
        ("dashboard", "/"),
        ("events", "/events"),
        ("events, one type", "/events?type=claim_updated"),
        ("events, one source", f"/events?source={source}"),
        ("events, one claim", f"/events?claim={claim}"),
        ("events, a deep page", f"/events?before={middle}"),
        ("events, a date range", "/events?from=2020-01-01&to=2020-01-31"),
        ("event", f"/events/{middle}"),
        ("article", f"/articles/{article}"),
        ("article, old", f"/articles/{old_article}"),
        ("claims", "/claims"),
        ("claim (most matched)", f"/claims/{claim}"),
        ("search", "/search?q=workers"),
        ("search, phrase", '/search?q=%22north+korean+workers%22'),
        ("search, a prefix", "/search?q=labour*"),
        ("search, cross-language", "/search?q=workers&xlang=1"),
        ("api search", "/api/search?q=workers"),
        ("review queue", "/review"),
        ("review decisions", "/review?state=done"),
        ("login page", "/login"),
        ("api page", "/api"),
        ("api openapi", "/api/openapi.json"),
        ("api events", "/api/events"),
        ("api events, deep cursor", f"/api/events?cursor={middle}"),
        ("api events, one type", "/api/events?type=new_claim"),
        ("api event", f"/api/events/{middle}"),
        ("api articles", "/api/articles"),
        ("api articles, off-topic", "/api/articles?relevant=false"),
        ("api article", f"/api/articles/{article}"),
        ("api claims", "/api/claims"),
        ("api claim", f"/api/claims/{claim}"),
        ("api matches", "/api/matches"),
        ("api matches, one claim", f"/api/matches?claim={claim}"),
        ("feed", "/feeds/events.atom"),
        ("feed, one type", "/feeds/events.atom?type=claim_updated"),
        ("export claims csv", "/export/claims.csv"),
        ("export events csv, one claim", f"/export/events.csv?claim={claim}"),
    ]


EXPORTS = (("export events csv (all)", "/export/events.csv"), ("export events json (all)", "/export/events.json"),
           ("export matches csv (all)", "/export/matches.csv"))


def time_web(db: Database, repeat: int) -> list[Timing]:
    """Every route, then the full exports (one run each: they are downloads)."""
    results = []
    with serving(db) as port:
        for name, path in route_paths(db):
            timing = measure(name, lambda p=path: fetch(port, p), repeat)  # type: ignore[misc]
            timing.extra["path"] = path
            results.append(timing)
        with db.read() as session:
            events = int(session.scalar(select(func.count()).select_from(Event)) or 0)
            matches = int(session.scalar(select(func.count()).select_from(ClaimMatchRow)) or 0)
        for name, path in EXPORTS:
            timing = measure(name, lambda p=path: fetch(port, p), 1, warm=False)  # type: ignore[misc]
            rows = matches if "matches" in path else events
            timing.extra |= {"path": path, "rows": rows,
                             "rows_per_s": round(rows / max(0.001, timing.wall_ms / 1000)),
                             "mib_per_s": round(timing.extra["bytes"] / 2**20 / max(0.001, timing.wall_ms / 1000), 1)}
            results.append(timing)
    return results


# --- the daemon ----------------------------------------------------------------------------------------

def _rolled_back(db: Database, fn: Callable[[Any], Any]) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        with db.engine.connect() as conn:
            from sqlalchemy.orm import Session

            with Session(bind=conn) as session:
                result = fn(session)
                session.rollback()
        return {"result": len(result) if hasattr(result, "__len__") else result}
    return run


def time_jobs(db: Database, now: datetime, repeat: int) -> list[Timing]:
    """The daemon's queries on the grown database (each in a transaction rolled back, so every run sees the
    same rows) and ``labourwatch status``."""
    from db import outbox, polls
    from db import repository as repo
    from db.status import status_report

    with db.read() as session:
        ids = list(session.scalars(select(Source.id)))
        urls = list(session.scalars(select(ArticleUrl.url).order_by(ArticleUrl.url).limit(250)))
    urls += [f"https://outlet{i}.example/unseen/{i}.html" for i in range(250)]
    jobs: list[tuple[str, Callable[[Any], Any]]] = [
        ("job: due sources", lambda s: polls.due_sources(s, now, ids)),
        ("job: next due", lambda s: [polls.next_due(s, ids)]),
        ("job: re-checks due", lambda s: repo.due_rechecks(s, now, 500)),
        ("job: known urls (500 links)", lambda s: repo.known_urls(s, urls)),
        ("job: outbox claim", lambda s: outbox.claim_immediate(s, now, timedelta(minutes=5), "bench")),
        ("job: outbox digests waiting", lambda s: outbox.waiting_digests(s, now)),
        ("job: outbox rate limit",
         lambda s: [outbox.sent_recently(s, "newsroom", ["d" * 16], now - timedelta(hours=1))]),
        ("status report", lambda s: [status_report(s, now)]),
    ]
    return [measure(name, _rolled_back(db, fn), repeat) for name, fn in jobs]


def _prune(db: Database, now: datetime) -> Callable[[], dict[str, Any]]:
    """The daemon's prune job, as ``scheduler.jobs.Jobs.prune`` runs it with the default retention."""
    from labourwatch.commands.run import settings_of
    from labourwatch.config import parse_config
    from scheduler.jobs import Jobs
    from scheduler.metrics import Metrics

    def run() -> dict[str, Any]:
        import asyncio

        jobs = Jobs(db, settings_of(parse_config("", environ={})), Metrics(), clock=lambda: now)
        asyncio.run(jobs.prune())
        return {}
    return run


# --- the run -------------------------------------------------------------------------------------------

def offtopic_bytes(before: dict[str, int], after: dict[str, int], links: int) -> float:
    """Database bytes added per off-topic link between two ``used_bytes`` snapshots."""
    return round((sum(after.values()) - sum(before.values())) / max(1, links), 1)


def run_backend(url: str, sizes: Sizes) -> dict[str, Any]:
    """Build, grow and measure one database."""
    from db.migrate import upgrade

    db = Database(url)
    upgrade(db)
    now = datetime.now(UTC)
    out: dict[str, Any] = {"backend": "sqlite" if db.is_sqlite else "postgresql"}
    started = time.perf_counter()
    out["crawl"] = crawl_fixture_web(db)
    sample = _sample(db)
    out["rows"] = grow(db, sizes, now, sample)
    analyse(db)
    before = used_bytes(db, full=True)
    out["rows"] |= grow_offtopic(db, sizes, now, sample)
    analyse(db)
    after = used_bytes(db, full=True)
    out["build_s"] = round(time.perf_counter() - started, 1)
    out["offtopic_bytes_per_link"] = offtopic_bytes(before, after, sizes.offtopic)
    out["bytes_by_table"] = after
    print(f"[{out['backend']}] built in {out['build_s']} s: {out['rows']}; "
          f"{out['offtopic_bytes_per_link']} bytes per off-topic link", file=sys.stderr, flush=True)
    out["web"] = [asdict(t) for t in time_web(db, sizes.repeat)]
    out["jobs"] = [asdict(t) for t in time_jobs(db, now, sizes.repeat)]
    # Checked by file: the editable install would find db.offtopic in another checkout.
    compacted = (ROOT / "db" / "offtopic.py").exists()
    prune = measure("job: prune (first run, the whole backlog)", _prune(db, now), 1, warm=False)
    analyse(db)
    out["jobs"].append(asdict(prune))
    out["jobs"].append(asdict(measure("job: prune (steady state)", _prune(db, now), sizes.repeat, warm=False)))
    if compacted:
        final = used_bytes(db, full=True)
        out["offtopic_bytes_per_link_after_prune"] = offtopic_bytes(before, final, sizes.offtopic)
        out["bytes_by_table_after_prune"] = final
        out["jobs"].append(asdict(measure("job: known urls after prune (500 links)", _rolled_back(
            db, lambda s: __import__("db.repository", fromlist=["known_urls"]).known_urls(
                s, [f"https://outlet{i % 40}.example/{2025 + i % 2}/{i % 12 + 1:02d}/story-{i}-local-sport-"
                    "weather.html" for i in range(0, sizes.offtopic, max(1, sizes.offtopic // 500))])),
            sizes.repeat)))
    db.dispose()
    return out


def table(result: dict[str, Any]) -> str:
    """The markdown table of one backend's timings."""
    lines = [f"### {result['backend']}: {result['rows'].get('events', 0):,} events, "
             f"{result['rows'].get('articles', 0):,} articles, {result['rows'].get('offtopic_articles', 0):,} "
             f"off-topic links; {result['offtopic_bytes_per_link']} bytes per off-topic link"
             + (f" (after prune: {result['offtopic_bytes_per_link_after_prune']})"
                if "offtopic_bytes_per_link_after_prune" in result else ""),
             "", "| what | wall ms (median) | CPU ms | peak RSS MiB (growth) | notes |", "|---|---:|---:|---:|---|"]
    for row in result["web"] + result["jobs"]:
        notes = {k: v for k, v in row["extra"].items() if k not in ("status", "path")}
        # The budget is a request's or a dispatch pass's; full exports are downloads, the prune a daily job.
        flag = " **over 300 ms**" if row["wall_ms"] > BUDGET_MS and not row["name"].startswith(
            ("export events csv (", "export events json (", "export matches csv (", "job: prune")) else ""
        lines.append(f"| {row['name']} | {row['wall_ms']}{flag} | {row['cpu_ms']} | {row['peak_rss_mib']} "
                     f"(+{row['rss_growth_mib']}) | "
                     f"{', '.join(f'{k}={v}' for k, v in notes.items())} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=Sizes.events)
    parser.add_argument("--articles", type=int, default=Sizes.articles)
    parser.add_argument("--offtopic", type=int, default=Sizes.offtopic)
    parser.add_argument("--deliveries", type=int, default=None, help="default: a quarter of --events")
    parser.add_argument("--days", type=int, default=Sizes.days, help="the history's time span")
    parser.add_argument("--match-every", type=int, default=Sizes.match_every)
    parser.add_argument("--repeat", type=int, default=Sizes.repeat)
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI (under two minutes)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--label", default="", help="added to the results file's name")
    parser.add_argument("--keep", type=Path, metavar="FILE",
                        help="build the SQLite database in FILE (which must not exist) and keep it, to look into")
    args = parser.parse_args(argv)
    sizes = Sizes(args.events, args.articles, args.offtopic, args.deliveries, args.days, args.match_every,
                  args.repeat)
    if args.quick:
        sizes = Sizes(events=20_000, articles=2_000, offtopic=20_000, days=args.days, match_every=args.match_every,
                      repeat=3)
    if sizes.deliveries is None:
        sizes.deliveries = sizes.events // 4
    results: dict[str, Any] = {
        "sizes": asdict(sizes), "started": datetime.now(UTC).isoformat(), "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus", "backends": []}
    for backend in args.backends.split(","):
        if backend == "sqlite" and args.keep:
            if args.keep.exists():
                parser.error(f"--keep: {args.keep} exists")
            result = run_backend(f"sqlite:///{args.keep.resolve()}", sizes)
        elif backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="lw-history-") as folder:
                result = run_backend(f"sqlite:///{folder}/history.db", sizes)
        else:
            from tests.databases import PG_ADMIN_URL, throwaway_database

            with throwaway_database(PG_ADMIN_URL, "labourwatch_history") as url:
                result = run_backend(url, sizes)
        results["backends"].append(result)
        print(table(result), flush=True)
        print(flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"history-{stamp}{'-' + args.label if args.label else ''}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
