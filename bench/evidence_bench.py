"""What an evidence export costs (issue 16): seconds and bytes per 100 articles of ``labourwatch evidence export``.

1. crawls the fixture web twice (an edit in between) into a fresh migrated database, so there are real raw
   responses (the fixture outlets' HTML, as the crawl stores them);
2. grows it to ``--articles`` on-topic articles of one version each, by bulk INSERTs that copy those raw responses
   (each body made unique by a trailing comment, so every SHA-256 differs, and stored with ``db.rawbody.pack``);
3. times the export of everything (gzip per record, then plain WARC) and of one source through ``db.warc``'s
   ``warc_chunks``, the code path of the CLI and the web route, writing to a file; and runs ``warcio check`` on
   the gzip file once, to show the export is valid at that size.

Reports wall and CPU seconds, peak RSS and file bytes, each also per 100 articles (versions), on SQLite and on
PostgreSQL (a scratch database on ``LABOURWATCH_TEST_PG_URL``'s server, dropped afterwards).

Run: ``.venv/bin/python bench/evidence_bench.py`` (2,000 articles), ``--articles N``, ``--backends sqlite``.
Prints a markdown table and writes JSON to ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.history_bench import _fix_sequences, _insert, _peak_rss_mib, _reset_peak_rss, crawl_fixture_web  # noqa: E402
from db import evidence, rawbody  # noqa: E402
from db.engine import Database  # noqa: E402
from db.models import Article, ArticleVersion, RawResponse, Source  # noqa: E402
from db.warc import warc_chunks  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def grow(db: Database, articles: int) -> int:
    """Add ``articles`` one-version articles whose raw responses copy the crawled ones; the versions stored."""
    with db.read() as session:
        samples = list(session.execute(select(RawResponse, ArticleVersion).join(
            ArticleVersion, ArticleVersion.id == RawResponse.version_id).order_by(RawResponse.id)))
        sources = list(session.scalars(select(Source.id).order_by(Source.id)))
        a0 = session.scalar(select(func.max(Article.id))) or 0
        v0 = session.scalar(select(func.max(ArticleVersion.id))) or 0
        r0 = session.scalar(select(func.max(RawResponse.id))) or 0
    bodies = [(raw, version, rawbody.unpack(raw.body, raw.compression)) for raw, version in samples]
    now = datetime.now(UTC)

    def article_rows() -> Iterator[dict[str, Any]]:
        for i in range(articles):
            _, version, _ = bodies[i % len(bodies)]
            url = f"https://synthetic{i % 40}.example/news/{i}.html"
            yield {"id": a0 + 1 + i, "source_id": sources[i % len(sources)], "url": url, "canonical_url": url,
                   "title": version.title, "language": version.language, "relevant": True,
                   "relevance_score": 0.7, "matched_terms": [], "first_seen_at": now, "last_checked_at": now,
                   "check_count": 0, "version_count": 1, "content_hash": version.content_hash,
                   "last_status": 200, "failed_checks": 0}

    def version_rows() -> Iterator[dict[str, Any]]:
        for i in range(articles):
            _, version, _ = bodies[i % len(bodies)]
            yield {"id": v0 + 1 + i, "article_id": a0 + 1 + i, "number": 1,
                   "fetched_at": now - timedelta(seconds=articles - i),
                   "url": f"https://synthetic{i % 40}.example/news/{i}.html", "title": version.title,
                   "byline": version.byline, "published_at": version.published_at, "modified_at": None,
                   "language": version.language, "text": version.text, "content_hash": version.content_hash}

    def raw_rows() -> Iterator[dict[str, Any]]:
        for i in range(articles):
            raw, _, body = bodies[i % len(bodies)]
            body = body + f"\n<!-- synthetic copy {i} -->\n".encode()
            stored, compression = rawbody.pack(body)
            yield {"id": r0 + 1 + i, "version_id": v0 + 1 + i,
                   "url": f"https://synthetic{i % 40}.example/news/{i}.html", "status": raw.status,
                   "headers": raw.headers, "body": stored, "compression": compression,
                   "size": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                   "fetched_at": now - timedelta(seconds=articles - i)}

    _insert(db, Article.__table__, article_rows())  # type: ignore[arg-type]
    _insert(db, ArticleVersion.__table__, version_rows())  # type: ignore[arg-type]
    _insert(db, RawResponse.__table__, raw_rows())  # type: ignore[arg-type]
    _fix_sequences(db)
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(RawResponse)) or 0


def time_export(db: Database, selection: evidence.EvidenceSelection, path: Path, gzip: bool) -> dict[str, Any]:
    """One export to ``path``: wall and CPU seconds, peak RSS, bytes and versions."""
    _reset_peak_rss()
    wall, cpu = time.perf_counter(), time.process_time()
    with db.read() as session:
        count = evidence.count_captures(session, selection)
        up_to = evidence.last_version_id(session, selection)
    size = 0
    with path.open("wb") as out:
        for chunk in warc_chunks(db, selection, up_to, filename=path.name, gzip=gzip):
            out.write(chunk)
            size += len(chunk)
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    per = 100 / max(1, count)
    return {"what": selection.describe() + (" (gzip)" if gzip else " (plain)"), "versions": count,
            "seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3), "bytes": size,
            "seconds_per_100": round(seconds * per, 3), "kib_per_100": round(size * per / 1024, 1),
            "peak_rss_mib": round(_peak_rss_mib(), 1)}


def run_backend(url: str, articles: int) -> dict[str, Any]:
    from db.migrate import upgrade

    db = Database(url)
    try:
        upgrade(db)
        crawl_fixture_web(db)
        versions = grow(db, articles)
        with db.read() as session:
            stored_bytes = session.scalar(select(func.sum(func.length(RawResponse.body)))) or 0
            body_bytes = session.scalar(select(func.sum(RawResponse.size))) or 0
            source = session.scalar(select(Article.source_id).where(Article.source_id.is_not(None)).limit(1))
        rows = []
        with tempfile.TemporaryDirectory(prefix="lw-evidence-") as folder:
            gz = Path(folder) / "all.warc.gz"
            rows.append(time_export(db, evidence.EvidenceSelection(), gz, gzip=True))
            started = time.perf_counter()
            check = subprocess.run([str(Path(sys.executable).with_name("warcio")), "check", str(gz)],
                                   capture_output=True, text=True)
            check_seconds = time.perf_counter() - started
            rows.append(time_export(db, evidence.EvidenceSelection(), Path(folder) / "all.warc", gzip=False))
            rows.append(time_export(db, evidence.EvidenceSelection(source_id=source), Path(folder) / "one.warc.gz",
                                    gzip=True))
        return {"backend": db.engine.dialect.name, "versions": versions, "stored_body_bytes": stored_bytes,
                "body_bytes": body_bytes, "warcio_check_ok": check.returncode == 0,
                "warcio_check_seconds": round(check_seconds, 2), "exports": rows}
    finally:
        db.dispose()


def table(result: dict[str, Any]) -> str:
    lines = [f"{result['backend']}: {result['versions']} versions, bodies {result['body_bytes'] / 2**20:.1f} MiB "
             f"({result['stored_body_bytes'] / 2**20:.1f} MiB stored); warcio check "
             f"{'passes' if result['warcio_check_ok'] else 'FAILS'} in {result['warcio_check_seconds']} s", "",
             "| export | versions | s | CPU s | MiB | s / 100 | KiB / 100 | peak RSS MiB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['what']} | {r['versions']} | {r['seconds']} | {r['cpu_seconds']} | {r['bytes'] / 2**20:.1f} | "
              f"{r['seconds_per_100']} | {r['kib_per_100']} | {r['peak_rss_mib']} |" for r in result["exports"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"articles": args.articles, "started": datetime.now(UTC).isoformat(),
                               "python": platform.python_version(),
                               "machine": f"{platform.machine()} {os.cpu_count()} cpus", "backends": []}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="lw-evidence-db-") as folder:
                result = run_backend(f"sqlite:///{folder}/evidence.db", args.articles)
        else:
            from tests.databases import PG_ADMIN_URL, throwaway_database

            with throwaway_database(PG_ADMIN_URL, "labourwatch_evidence") as url:
                result = run_backend(url, args.articles)
        results["backends"].append(result)
        print(table(result), flush=True)
        print(flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"evidence-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
