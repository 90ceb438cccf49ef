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
* the writer (``CrawlStore``'s batches, ``MAX_BATCH`` pages per transaction) storing those processed pages into a
  fresh SQLite database, by stage (article and version, copies, background, new-claim grouping, events).

Both are thread CPU time per page (median of the rounds). ``--contended`` also runs the writer beside a busy
Python thread in the same process (as the crawl's event loop is), which shows what sharing the interpreter lock
costs. Writes JSON to ``bench/results/parts.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.claims import matcher as claim_matcher  # noqa: E402
from analysis.claims import semantic  # noqa: E402
from analysis.claims.sentences import KnownClaims  # noqa: E402
from analysis.relevance import DEFAULT_TOPIC  # noqa: E402
from crawler import store as crawl_store  # noqa: E402
from crawler.processing import FetchedPage, ProcessedPage, process_page  # noqa: E402
from crawler.types import CrawlOptions, SourceSpec  # noqa: E402
from db import background, candidates, copies, events, story  # noqa: E402
from db import claims as claim_store  # noqa: E402
from db import repository as repo  # noqa: E402
from db.engine import Database  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from labourwatch.config import read_claims  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# The writer's stages: (module, function, name); each a top-level call of the store's path for one page.
STAGES = ((repo, "store_article", "article, version, raw evidence, matches"), (repo, "save_validators", "validators"),
          (copies, "link_copy", "copies"), (background, "record_sentences", "background"),
          (candidates, "group_new_claims", "new-claim grouping"), (story, "change_events", "story"),
          (events, "record_events", "events and outbox"))


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
                return fn(*args, **kwargs)
            finally:
                totals[label] += time.thread_time() - started
        return wrapper

    for (module, name, label), (_, _, fn) in zip(STAGES, originals, strict=True):
        setattr(module, name, timed(fn, label))
    try:
        yield
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)


def writer(pairs: list[tuple[FetchedPage, ProcessedPage]], claims: list[Any], known: KnownClaims,
           sources: int) -> tuple[float, dict[str, float]]:
    """Thread CPU ms per page of storing ``pairs`` into a fresh SQLite database, and per stage."""
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
                for start in range(0, len(jobs), crawl_store.MAX_BATCH):
                    for outcome in store._store_batch(jobs[start:start + crawl_store.MAX_BATCH]):
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=50)
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--contended", action="store_true", help="also run the writer beside a busy thread")
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
    for _ in range(args.rounds):
        spent, processed = page_work(pages, claims)
        page_ms.append(spent)
        pairs = list(zip(pages, processed, strict=True))
        spent, by_stage = writer(pairs, claims, fresh_claims(claims), args.sites)
        writer_ms.append(spent)
        for label, value in by_stage.items():
            stages[label].append(value)
        if args.contended:
            with busy_thread():
                contended_ms.append(writer(pairs, claims, fresh_claims(claims), args.sites)[0])
    figures: dict[str, Any] = {
        "pages": len(pages), "rounds": args.rounds,
        "page_work_ms": statistics.median(page_ms), "page_work_rounds": page_ms,
        "writer_ms": statistics.median(writer_ms), "writer_rounds": writer_ms,
        "writer_stages_ms": {label: statistics.median(values) for label, values in stages.items()},
    }
    if contended_ms:
        figures["writer_contended_ms"] = statistics.median(contended_ms)
    print(f"{len(pages)} pages, {args.rounds} round(s); thread CPU ms per page, median of the rounds\n")
    print("| part | ms per page | rounds |\n| --- | ---: | --- |")
    print(f"| page work (one thread) | {figures['page_work_ms']:.2f} | {', '.join(f'{v:.2f}' for v in page_ms)} |")
    print(f"| database writer | {figures['writer_ms']:.2f} | {', '.join(f'{v:.2f}' for v in writer_ms)} |")
    for label, value in figures["writer_stages_ms"].items():
        print(f"| writer: {label} | {value:.2f} | |")
    if contended_ms:
        print(f"| database writer beside a busy thread | {figures['writer_contended_ms']:.2f} | "
              f"{', '.join(f'{v:.2f}' for v in contended_ms)} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("parts-quick.json" if args.quick else "parts.json")
    out.write_text(json.dumps(figures, indent=2))
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
