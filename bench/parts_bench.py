"""The crawl's two labourwatch-only parts measured alone: the page work of the workers and the database writer.

Run from the repository root (no network; about a minute)::

    .venv/bin/python bench/parts_bench.py              # 50 sites x 30 articles (the crawl bench's web), 3 rounds
    .venv/bin/python bench/parts_bench.py --quick      # 10 x 10, 1 round

A whole crawl's CPU seconds drift by a fifth between runs on a shared machine (the crawl bench compares ratios for
that reason), which hides a change of a few per cent in one part. Here each part runs alone, in this process, on
the same pages every round:

* the page work (``crawler.processing.process_page``: extraction, topic, sketch, claim matching against the shipped
  claims with the semantic signal), serially, in one thread, with a fresh matcher and cold caches each round, as a
  cold crawl's worker starts;
* the writer (``CrawlStore``'s batches, ``MAX_BATCH`` pages per transaction or ``--batch``) storing those pages into a
  fresh SQLite database, by stage (article and version, copies, background, new-claim grouping, events).

Both are thread CPU time per page (median of the rounds). ``--contended`` also runs the writer beside a busy
Python thread in the same process (as the crawl's event loop is), which shows what sharing the interpreter lock
costs. ``--floor`` measures, on the same pages, the least that the work the plain crawl does not do can cost:
each required piece alone at its cheapest (see ``floor``), beside the plain crawl's own extraction call. Writes
JSON to ``bench/results/parts.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis import minhash  # noqa: E402
from analysis.claims import context as claim_context  # noqa: E402
from analysis.claims import matcher as claim_matcher  # noqa: E402
from analysis.claims import semantic  # noqa: E402
from analysis.claims.sentences import KnownClaims, match_article  # noqa: E402
from analysis.relevance import DEFAULT_TOPIC, matcher_for  # noqa: E402
from crawler import store as crawl_store  # noqa: E402
from crawler.processing import FetchedPage, ProcessedPage, process_page  # noqa: E402
from crawler.types import CrawlOptions, SourceSpec  # noqa: E402
from db import background, candidates, copies, events, story  # noqa: E402
from db import claims as claim_store  # noqa: E402
from db import repository as repo  # noqa: E402
from db.engine import Database  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.rawbody import pack  # noqa: E402
from labourwatch.config import read_claims  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# The writer's stages: (module or class, function, name); each a top-level call of the store's path.
STAGES = ((repo, "store_articles", "article, version, raw evidence, matches"),
          (repo, "save_many_validators", "validators"), (copies, "link_copy", "copies"),
          (background, "record_sentences", "background"), (candidates.Grouping, "group", "new-claim grouping"),
          (candidates.Grouping, "finish", "new-claim grouping"),
          (story, "change_events", "story"), (events, "record_changes", "events and outbox"))


def fetch_pages(sites: int, articles: int) -> list[FetchedPage]:
    """Every article page of the crawl bench's fixture web (one feed per site), fetched once."""
    sys.path.insert(0, str(ROOT / "bench"))
    from crawl_bench import start_web

    web = start_web(sites, articles)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only
    now = datetime.now(UTC)
    pages = []
    try:
        for number, info in enumerate(web.articles()):
            with opener.open(info.url, timeout=30) as response:
                body = response.read()
            pages.append(FetchedPage(source_id=f"feed{number // articles:03d}", url=info.url,
                                     discovered_url=info.url, status=200, headers={"content-type": "text/html"},
                                     body=body, text=body.decode("utf-8", "replace"), fetched_at=now))
    finally:
        web.stop()
    return pages


def fresh_claims(claims: list[Any]) -> KnownClaims:
    """A new matcher with empty caches, as a cold crawl's worker has."""
    claim_matcher.analyse.cache_clear()
    claim_context.read_in_context.cache_clear()
    return KnownClaims.of(claims)


def page_work(pages: list[FetchedPage], claims: list[Any]) -> tuple[float, list[ProcessedPage]]:
    """Thread CPU ms per page of the page work, and what it made."""
    known = fresh_claims(claims)
    started = time.thread_time()
    processed = [process_page(page, DEFAULT_TOPIC, known) for page in pages]
    return (time.thread_time() - started) / len(pages) * 1000, processed


@contextmanager
def timed_stages(totals: dict[str, float]) -> Iterator[None]:
    """Thread CPU time of each writer stage added to ``totals`` while the block runs."""
    originals = [(module, name, getattr(module, name)) for module, name, _ in STAGES]

    def timed(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                result = fn(*args, **kwargs)
            finally:
                totals[label] += time.thread_time() - started
            return timed_steps(result, label) if inspect.isgenerator(result) else result
        return wrapper

    def timed_steps(steps: Iterator[Any], label: str) -> Iterator[Any]:
        # A generator's work is done as it is iterated: each step is timed, not what its consumer does between.
        while True:
            started = time.thread_time()
            try:
                step = next(steps)
            except StopIteration:
                return
            finally:
                totals[label] += time.thread_time() - started
            yield step

    for (module, name, label), (_, _, fn) in zip(STAGES, originals, strict=True):
        setattr(module, name, timed(fn, label))
    try:
        yield
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)


def writer(pairs: list[tuple[FetchedPage, ProcessedPage]], claims: list[Any], known: KnownClaims,
           sources: int, batch: int = crawl_store.MAX_BATCH) -> tuple[float, dict[str, float]]:
    """Thread CPU ms per page of storing ``pairs`` into a fresh SQLite database, ``batch`` pages per transaction,
    and per stage."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/parts.db")
        upgrade(db)
        with db.write() as session:
            claim_store.import_claims(session, claims)
            repo.sync_sources(session, [SourceSpec(id=f"feed{i:03d}", kind="feed", url=f"http://127.0.0.1:9/{i}/rss")
                                        for i in range(sources)])
        totals: dict[str, float] = defaultdict(float)

        async def store_all() -> float:
            store = crawl_store.CrawlStore(db, CrawlOptions(revisit=(timedelta(0),), workers=0), DEFAULT_TOPIC,
                                           claims=known)
            jobs = [crawl_store._Job(page, processed, asyncio.get_running_loop().create_future())
                    for page, processed in pairs]
            started = time.thread_time()
            with timed_stages(totals):
                for start in range(0, len(jobs), batch):
                    for outcome in store._store_batch(jobs[start:start + batch]):
                        if isinstance(outcome, Exception):
                            raise outcome
            spent = time.thread_time() - started
            store.close()
            return spent

        spent = asyncio.run(store_all())
        db.engine.dispose()
    count = len(pairs)
    return spent / count * 1000, {label: seconds / count * 1000 for label, seconds in totals.items()}


@contextmanager
def recorded_encodes(batches: list[list[str]]) -> Iterator[None]:
    """Every batch of sentences the semantic signal encodes while the block runs, appended to ``batches``."""
    original = semantic.encode

    def recording(texts: Any) -> Any:
        batches.append(list(texts))
        return original(texts)

    semantic.encode = recording
    try:
        yield
    finally:
        semantic.encode = original


# The least storage a stored article needs: its row, its version with the text, the raw body compressed as the
# writer keeps it, the full-text index with the same tokenizer, its claim matches; plain sqlite3 statements, one
# executemany per table and one transaction per writer batch, no ORM, no copies, grouping, background or events.
FLOOR_SCHEMA = (
    "CREATE TABLE articles (id INTEGER PRIMARY KEY, url TEXT UNIQUE, source TEXT, title TEXT, hash TEXT)",
    "CREATE TABLE versions (id INTEGER PRIMARY KEY, article_id INTEGER, title TEXT, text TEXT, raw BLOB)",
    "CREATE VIRTUAL TABLE search USING fts5(title, text, content='versions', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_insert AFTER INSERT ON versions BEGIN "
    "INSERT INTO search(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TABLE matches (version_id INTEGER, sentence INTEGER, claim TEXT, label TEXT, score REAL)",
)


def floor_storage(pairs: list[tuple[FetchedPage, ProcessedPage]]) -> float:
    """Thread CPU ms per page of the least storage (``FLOOR_SCHEMA``) of the relevant pages, per page crawled."""
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(f"{folder}/floor.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        for statement in FLOOR_SCHEMA:
            connection.execute(statement)
        relevant = [(page, done) for page, done in pairs if done.relevance.relevant]
        started = time.thread_time()
        for first in range(0, len(relevant), crawl_store.MAX_BATCH):
            batch = relevant[first:first + crawl_store.MAX_BATCH]
            connection.execute("BEGIN")
            ids = [connection.execute("INSERT INTO articles (url, source, title, hash) VALUES (?, ?, ?, ?)",
                                      (page.url, page.source_id, done.doc.title, done.content_hash)).lastrowid
                   for page, done in batch]
            versions = [connection.execute("INSERT INTO versions (article_id, title, text, raw) VALUES (?, ?, ?, ?)",
                                           (article, done.doc.title, done.doc.text, pack(page.body)[0])).lastrowid
                        for article, (page, done) in zip(ids, batch, strict=True)]
            connection.executemany(
                "INSERT INTO matches VALUES (?, ?, ?, ?, ?)",
                [(version, match.index, match.match.claim_id, match.match.label, match.match.score)
                 for version, (_, done) in zip(versions, batch, strict=True) for match in done.matches])
            connection.execute("COMMIT")
        spent = time.thread_time() - started
        connection.close()
    return spent / len(pairs) * 1000


def floor(pages: list[FetchedPage], processed: list[ProcessedPage], encoded: list[list[str]],
          claims: list[Any]) -> dict[str, float]:
    """Thread CPU ms per page crawled of each piece of labourwatch's own work at its cheapest, and of the plain
    crawl's extraction call on the same pages (``bench/crawl_bench.py``'s, what its worker thread pays).

    The pieces are what the issue asks to keep on: the topic filter, the copy sketch (copies), the semantic
    signal's encoding of the very sentences the matcher encoded (no sentence fewer; the model's own cost), and
    the least storage (``floor_storage``). Claim matching's rules, the copies' and stories' queries, background,
    grouping, events and the outbox are left out: the floor is below what any implementation of them costs.
    ``matching_as_built`` (not part of the floor) is today's claim matching of the relevant pages, semantic
    signal included, with a fresh matcher."""
    import trafilatura

    count = len(pages)
    topic = matcher_for(DEFAULT_TOPIC)

    def per_page(work: Callable[[], object]) -> float:
        started = time.thread_time()
        work()
        return (time.thread_time() - started) / count * 1000

    known = fresh_claims(claims)
    matching = per_page(lambda: [list(match_article(done.doc.text, topic, known.matcher, done.doc.title))
                                 for done in processed if done.relevance.relevant])
    return {
        "matching_as_built": matching,
        "plain_extraction": per_page(lambda: [trafilatura.bare_extraction(
            page.text, url=page.url, with_metadata=False, include_comments=False, include_tables=False)
            for page in pages]),
        "topic": per_page(lambda: [topic.score(done.doc.title, done.doc.text) for done in processed]),
        "sketch": per_page(lambda: [minhash.sketch(done.doc.text) for done in processed if done.relevance.relevant]),
        "semantic": per_page(lambda: [semantic.encode(batch) for batch in encoded]),
        "storage": floor_storage(list(zip(pages, processed, strict=True))),
        "raw_compression": per_page(lambda: [zlib.compress(page.body, 6)
                                             for page, done in zip(pages, processed, strict=True)
                                             if done.relevance.relevant]),
    }


@contextmanager
def busy_thread() -> Iterator[None]:
    """A Python thread that mostly runs and sometimes waits, as an event loop does, beside the block."""
    stop = threading.Event()

    def spin() -> None:
        count = 0
        while not stop.is_set():
            count += 1
            if count % 1000 == 0:
                time.sleep(0.0002)

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def print_tables(figures: dict[str, Any], page_ms: list[float], writer_ms: list[float],
                 contended_ms: list[float]) -> None:
    """The figures as Markdown tables."""
    pages, rounds = figures["pages"], figures["rounds"]
    print(f"{pages} pages, {rounds} round(s); thread CPU ms per page, median of the rounds\n")
    print("| part | ms per page | rounds |\n| --- | ---: | --- |")
    print(f"| page work (one thread) | {figures['page_work_ms']:.2f} | {', '.join(f'{v:.2f}' for v in page_ms)} |")
    print(f"| database writer | {figures['writer_ms']:.2f} | {', '.join(f'{v:.2f}' for v in writer_ms)} |")
    for label, value in figures["writer_stages_ms"].items():
        print(f"| writer: {label} | {value:.2f} | |")
    if contended_ms:
        print(f"| database writer beside a busy thread | {figures['writer_contended_ms']:.2f} | "
              f"{', '.join(f'{v:.2f}' for v in contended_ms)} |")
    if "floor_ms" in figures:
        print("\n| the least each piece of labourwatch's own work costs | ms per page |\n| --- | ---: |")
        for label, value in figures["floor_ms"].items():
            print(f"| {label} | {value:.2f} |")
        print(f"| **labourwatch's own work at its least (topic, sketch, semantic, storage)** | "
              f"**{figures['floor_own_ms']:.2f}** |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--contended", action="store_true", help="also run the writer beside a busy thread")
    parser.add_argument("--floor", action="store_true",
                        help="also the least labourwatch's own work can cost, beside the plain crawl's extraction")
    parser.add_argument("--batch", type=int, default=crawl_store.MAX_BATCH,
                        help="pages per writer transaction (a crawl's batches are what queued while the writer was "
                             f"busy, often fewer than the most, {crawl_store.MAX_BATCH})")
    parser.add_argument("--quick", action="store_true", help="10 sites x 10 articles, 1 round")
    args = parser.parse_args(argv)
    if args.quick:
        args.sites, args.articles, args.rounds = 10, 10, 1
    semantic.configure(True)
    claims = read_claims(ROOT / "known_claims.yaml")
    pages = fetch_pages(args.sites, args.articles)
    semantic.warm()
    page_ms, writer_ms, contended_ms = [], [], []
    stages: dict[str, list[float]] = defaultdict(list)
    floors: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        encoded: list[list[str]] = []
        with recorded_encodes(encoded):
            spent, processed = page_work(pages, claims)
        page_ms.append(spent)
        pairs = list(zip(pages, processed, strict=True))
        spent, by_stage = writer(pairs, claims, fresh_claims(claims), args.sites, args.batch)
        writer_ms.append(spent)
        for label, value in by_stage.items():
            stages[label].append(value)
        if args.floor:
            for label, value in floor(pages, processed, encoded, claims).items():
                floors[label].append(value)
        if args.contended:
            with busy_thread():
                contended_ms.append(writer(pairs, claims, fresh_claims(claims), args.sites, args.batch)[0])
    figures: dict[str, Any] = {
        "pages": len(pages), "rounds": args.rounds, "batch": args.batch,
        "page_work_ms": statistics.median(page_ms), "page_work_rounds": page_ms,
        "writer_ms": statistics.median(writer_ms), "writer_rounds": writer_ms,
        "writer_stages_ms": {label: statistics.median(values) for label, values in stages.items()},
    }
    if contended_ms:
        figures["writer_contended_ms"] = statistics.median(contended_ms)
    if floors:
        figures["floor_ms"] = {label: statistics.median(values) for label, values in floors.items()}
        own = sum(value for label, value in figures["floor_ms"].items()
                  if label not in ("plain_extraction", "raw_compression", "matching_as_built"))
        # (compression is inside storage; matching as built is today's, not a least cost)
        figures["floor_own_ms"] = own
    print_tables(figures, page_ms, writer_ms, contended_ms)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("parts-quick.json" if args.quick else "parts.json")
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
