"""Copy detection benchmark: precision and recall on the fixture web's copies, the choices behind the method, and
its cost per article (pure sketching, and ``db.copies.link_copy`` on a real database).

Run from the repository root:

    .venv/bin/python bench/copies_bench.py                 # 3 seeds x 96 pairs, SQLite in a temporary folder
    .venv/bin/python bench/copies_bench.py --seeds 1       # quicker
    .venv/bin/python bench/copies_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

What it does, per seed:

* Starts a ``CopiesWeb`` (6 outlets x 16 varied articles, 96 planned pairs: wire copies, syndicated copies, light
  rewrites and sibling stories in turn) on 127.0.0.1 and publishes the pairs (``advance()``).
* **Truth**: a link from a pair's second article to its first is right for the three copy kinds; every other link
  between two of the web's articles is wrong: a sibling story, or two independent articles of the same story (the
  generator writes them from small pools of sentences, so many share several sentences word for word).
* **Detection** (``link_copy`` itself): every article is stored (its text as the crawler keeps it, one paragraph
  a line) and linked in publication order into a fresh, migrated database (SQLite by default, or the server of
  ``--database-url``, in a database of its own). Precision = right links / links; recall = copy pairs linked
  (second to first) / copy pairs. Per kind: the share of pairs linked.
* **Choices**: for the pairs of every kind and a sample of same-story pairs, the distribution of the candidate
  similarity measures (containment and Jaccard of 3-word shingles, rapidfuzz ``token_sort_ratio`` on the normalised
  texts) and, for several bands x rows, the share of pairs LSH makes candidates (from 256-value signatures).
* **Cost**: median microseconds per article of ``minhash.sketch`` and, as the plain baseline every stored article
  already pays, of ``analysis.text.content_hash``; ``link_copy`` per article (sketch, band rows, candidate query,
  verification, link) as a median over the articles stored; CPU seconds and peak RSS (VmHWM) of the process.

Prints a markdown report and writes JSON to ``bench/results/copies.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from analysis import minhash, nearcopy
from analysis.diff import diff_versions
from analysis.text import content_hash, normalise_text
from analysis.types import ArticleDoc, Relevance
from db import copies
from db import repository as repo
from db.engine import Database
from db.migrate import upgrade
from db.models import Source
from labourwatch.fixtureweb.copies import COPY_KINDS, PAIR_KINDS, CopiesWeb, article_text
from labourwatch.fixtureweb.varied import VariedArticle

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "copies.json"
LSH_CHOICES = ((16, 2), (32, 2), (24, 3), (32, 3), (48, 3), (64, 3), (32, 4), (64, 4))
OPTIONS = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=False)


def peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


@contextmanager
def database(url: str | None) -> Iterator[Database]:
    """A fresh migrated database: SQLite in a temporary folder, or a throw-away one on ``url``'s server."""
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{folder}/copies.db")
            upgrade(db)
            yield db
            db.dispose()
        return
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # tests.databases, as the other benches on PostgreSQL do
    from tests.databases import throwaway_database

    with throwaway_database(url, "labourwatch_bench_copies") as own:
        db = Database(own)
        upgrade(db)
        yield db
        db.dispose()


def _fetch(article: VariedArticle, url: str, text: str) -> repo.ArticleFetch:
    doc = ArticleDoc(url=url, canonical_url=url, title=article.title, text=text, language="en")
    at = article.published
    raw = repo.RawCapture(url=url, status=200, headers={}, body=b"", fetched_at=at)
    return repo.ArticleFetch(doc=doc, relevance=Relevance(True, 0.9, ("worker*",)),
                             content_hash=content_hash(article.title, text), raw=raw, source_id=article.site_id,
                             discovered_url=url)


def detect(web: CopiesWeb, db: Database) -> tuple[dict[str, str], dict[str, str], list[float]]:
    """Store and link every article of ``web`` in publication order: (links second URL -> original URL, texts by
    URL, seconds per ``link_copy`` call)."""
    articles = sorted(web.varied_articles(), key=lambda item: (item[1].published, item[1].site_id, item[1].index))
    with db.write() as session:
        session.add_all(Source(id=spec.id, kind="feed", url=f"https://{spec.id}.example/rss", name=spec.name)
                        for spec in web.specs)
    links: dict[str, str] = {}
    texts: dict[str, str] = {}
    costs: list[float] = []
    for url, article in articles:
        text = texts[url] = article_text(article)
        with db.write() as session:
            stored = repo.store_article(session, _fetch(article, url, text), OPTIONS, diff_versions)
            started = time.perf_counter()
            found = copies.link_copy(session, stored.article_id, article.site_id, text, article.published)
            costs.append(time.perf_counter() - started)
        if found is not None:
            links[url] = found.url
    return links, texts, costs


def score(pairs: Sequence[tuple[str, str, str]], links: dict[str, str]) -> dict[str, Any]:
    """Precision, recall and per-kind link rates of ``links`` against the web's pairs."""
    kinds = {(second, first): kind for kind, first, second in pairs}
    right = sum(kinds.get((second, first)) in COPY_KINDS for second, first in links.items())
    copy_pairs = [(second, first) for (second, first), kind in kinds.items() if kind in COPY_KINDS]
    found = sum(links.get(second) == first for second, first in copy_pairs)
    by_kind = {kind: [links.get(second) == first for (second, first), k in kinds.items() if k == kind]
               for kind in PAIR_KINDS}
    wrong = [(second, first, kinds.get((second, first), "unrelated")) for second, first in links.items()
             if kinds.get((second, first)) not in COPY_KINDS]
    return {"links": len(links), "right": right, "copy_pairs": len(copy_pairs), "found": found,
            "precision": right / len(links) if links else 1.0, "recall": found / len(copy_pairs),
            "linked_by_kind": {kind: f"{sum(v)}/{len(v)}" for kind, v in by_kind.items()},
            "wrong": [{"second": s, "first": f, "kind": k} for s, f, k in wrong]}


def _signature(hashes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray((hashes[:, None] * a[None, :] + b[None, :]).min(axis=0))


def choices(labelled: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Similarity distributions by kind, and the share of pairs each bands x rows choice makes candidates."""
    rng = np.random.Generator(np.random.PCG64(7))
    a = rng.integers(0, 2**64 - 1, size=256, dtype=np.uint64, endpoint=True) | np.uint64(1)
    b = rng.integers(0, 2**64 - 1, size=256, dtype=np.uint64, endpoint=True)
    measures: dict[str, dict[str, list[float]]] = {}
    lsh: dict[str, dict[str, list[bool]]] = {}
    for kind, first, second in labelled:
        packed = nearcopy.shingles(first), nearcopy.shingles(second)
        x, y = (np.frombuffer(hashes, dtype=np.uint64) for hashes in packed)
        shared = len(np.intersect1d(x, y, assume_unique=True))
        values = {"containment": nearcopy.similarity(*packed), "jaccard": shared / (len(x) + len(y) - shared),
                  "token_sort_ratio": fuzz.token_sort_ratio(normalise_text(first), normalise_text(second)) / 100}
        for name, value in values.items():
            measures.setdefault(name, {}).setdefault(kind, []).append(value)
        sx, sy = _signature(x, a, b), _signature(y, a, b)
        for bands, rows in LSH_CHOICES:
            hit = bool((sx[:bands * rows].reshape(bands, rows) == sy[:bands * rows].reshape(bands, rows))
                       .all(axis=1).any())
            lsh.setdefault(f"{bands}x{rows}", {}).setdefault(kind, []).append(hit)
    summary = {name: {kind: {"min": round(min(v), 3), "p5": round(float(np.percentile(v, 5)), 3),
                             "median": round(statistics.median(v), 3), "p95": round(float(np.percentile(v, 95)), 3),
                             "max": round(max(v), 3), "n": len(v)} for kind, v in by_kind.items()}
               for name, by_kind in measures.items()}
    return {"similarity": summary,
            "lsh_candidate_share": {choice: {kind: round(sum(v) / len(v), 3) for kind, v in by_kind.items()}
                                    for choice, by_kind in lsh.items()}}


def same_story_pairs(web: CopiesWeb, texts: dict[str, str], limit: int, seed: int) -> list[tuple[str, str, str]]:
    """Pairs of first articles of the same story (scenario) from different outlets: independent articles."""
    firsts = {first for _, first, _ in web.pairs()}
    groups: dict[str, list[tuple[str, VariedArticle]]] = {}
    for url, article in web.varied_articles():
        if url not in firsts and article.index < 100:
            groups.setdefault(article.slug.rsplit("-", 1)[0], []).append((url, article))
    found = [("same_story", texts[u], texts[v]) for group in groups.values()
             for (u, a), (v, b) in itertools.combinations(group, 2) if a.site_id != b.site_id]
    random.Random(seed).shuffle(found)
    return found[:limit]


def micro_costs(texts: Sequence[str], repeats: int = 5) -> dict[str, float]:
    """Median microseconds per article of sketching and of the content hash (the baseline)."""
    def per_article(func: Any) -> float:
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            for text in texts:
                func(text)
            runs.append((time.perf_counter() - started) / len(texts))
        return statistics.median(runs) * 1e6
    sketch_us, hash_us = per_article(minhash.sketch), per_article(lambda t: content_hash("", t))
    return {"sketch_us": round(sketch_us, 1), "content_hash_us": round(hash_us, 1),
            "ratio": round(sketch_us / hash_us, 2)}


def run(seeds: int, database_url: str | None) -> dict[str, Any]:
    """Every seed's measurements, and their totals."""
    cpu, wall = time.process_time(), time.perf_counter()
    per_seed, labelled, all_texts, link_costs = [], [], [], []
    for seed in range(seeds):
        with CopiesWeb(outlets=6, articles=16, seed=seed, pairs=96) as web:
            web.advance()
            pairs = web.pairs()
            with database(database_url) as db:
                links, texts, costs = detect(web, db)
            per_seed.append(score(pairs, links) | {"seed": seed, "articles": len(texts)})
            labelled += [(kind, texts[first], texts[second]) for kind, first, second in pairs]
            labelled += same_story_pairs(web, texts, 100, seed)
            all_texts += list(texts.values())
            link_costs += costs
    found = sum(s["found"] for s in per_seed)
    right, links = sum(s["right"] for s in per_seed), sum(s["links"] for s in per_seed)
    copy_pairs = sum(s["copy_pairs"] for s in per_seed)
    return {
        "method": {"shingle_words": nearcopy.SHINGLE, "bands": nearcopy.BANDS, "rows": nearcopy.ROWS,
                   "threshold": nearcopy.THRESHOLD, "similarity": "containment of 3-word shingle sets",
                   "min_shingles": nearcopy.MIN_SHINGLES},
        "database": "sqlite" if database_url is None else "postgresql",
        "total": {"precision": round(right / links, 4) if links else 1.0, "recall": round(found / copy_pairs, 4),
                  "links": links, "right": right, "copy_pairs": copy_pairs, "found": found,
                  "sibling_pairs": sum(int(s["linked_by_kind"]["sibling"].split("/")[1]) for s in per_seed)},
        "seeds": per_seed,
        "choices": choices(labelled),
        "cost": micro_costs(all_texts) | {
            "link_copy_ms_median": round(statistics.median(link_costs) * 1e3, 3),
            "link_copy_ms_p95": round(float(np.percentile(link_costs, 95)) * 1e3, 3),
            "articles": len(all_texts), "mean_words": round(statistics.mean(len(t.split()) for t in all_texts), 1)},
        "process": {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
                    "peak_rss_mib": round(peak_rss_kib() / 1024, 1)},
    }


def report(result: dict[str, Any]) -> str:
    """The result as markdown."""
    total, cost, process = result["total"], result["cost"], result["process"]
    lines = [f"## Copy detection ({result['database']}; {total['copy_pairs']} copy pairs, "
             f"{total['sibling_pairs']} sibling pairs, {cost['articles']} articles)", "",
             f"method: {result['method']}", "",
             f"precision **{total['precision']:.3f}** ({total['right']}/{total['links']} links right), "
             f"recall **{total['recall']:.3f}** ({total['found']}/{total['copy_pairs']} copy pairs linked)", "",
             "| seed | links | right | precision | recall | linked by kind |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {s['seed']} | {s['links']} | {s['right']} | {s['precision']:.3f} | {s['recall']:.3f} | "
              f"{s['linked_by_kind']} |" for s in result["seeds"]]
    lines += ["", "### Similarity by kind (min / p5 / median / p95 / max)", "",
              "| measure | " + " | ".join((*PAIR_KINDS, "same_story")) + " |",
              "| --- |" + " --- |" * (len(PAIR_KINDS) + 1)]
    for name, by_kind in result["choices"]["similarity"].items():
        cells = [by_kind.get(kind) for kind in (*PAIR_KINDS, "same_story")]
        lines.append(f"| {name} | " + " | ".join(
            f"{c['min']:.2f} / {c['p5']:.2f} / {c['median']:.2f} / {c['p95']:.2f} / {c['max']:.2f}" if c else "—"
            for c in cells) + " |")
    lines += ["", "### Share of pairs LSH makes candidates", "",
              "| bands x rows | " + " | ".join((*PAIR_KINDS, "same_story")) + " |",
              "| --- |" + " --- |" * (len(PAIR_KINDS) + 1)]
    for choice, by_kind in result["choices"]["lsh_candidate_share"].items():
        chosen = " (chosen)" if choice == f"{nearcopy.BANDS}x{nearcopy.ROWS}" else ""
        lines.append(f"| {choice}{chosen} | " + " | ".join(str(by_kind.get(k, "—"))
                                                           for k in (*PAIR_KINDS, "same_story")) + " |")
    lines += ["", f"cost per article ({cost['mean_words']} words on average): sketch {cost['sketch_us']} µs vs "
              f"content hash {cost['content_hash_us']} µs ({cost['ratio']}x); link_copy in the store transaction "
              f"{cost['link_copy_ms_median']} ms median, {cost['link_copy_ms_p95']} ms p95", "",
              f"process: wall {process['wall_s']} s, CPU {process['cpu_s']} s, peak RSS {process['peak_rss_mib']} MiB"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="fixture webs to measure (seeds 0..N-1)")
    parser.add_argument("--database-url", help="a PostgreSQL admin URL to measure link_copy on (default: SQLite)")
    args = parser.parse_args()
    result = run(args.seeds, args.database_url)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))


if __name__ == "__main__":
    main()
