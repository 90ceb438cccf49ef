"""New claims grouped across outlets: how precise the grouping is on the labelled sentences, how often it finds a
wire copy's rewording, and what it costs per sentence among many candidates.

Run from the repository root:

    .venv/bin/python bench/candidates_bench.py            # full: 1,000 / 10,000 / 50,000 candidates
    .venv/bin/python bench/candidates_bench.py --quick    # 1,000 and 10,000 only

What it does:

* Precision: every distinct sentence of the labelled sets (``tests/analysis/claims/data/*.jsonl`` and
  ``/work/shared/claims/eval_dev.jsonl``) is grouped in turn, as the crawl would group them if each were a new
  claim of another outlet: the first of a claim starts a candidate, a later one joins the candidate
  :class:`ClaimIndex` finds. A sentence joined to a candidate of another known claim (both labelled with a claim
  id, the ids differ), or a labelled sentence joined to a ``new`` one, is a wrong merge; two ``new`` sentences
  joined are printed for a reader to judge (the sets hold rewordings of the same new claim). Run three times:
  all sentences; those labelled ``new``; and of those the ones about North Korean workers (the matcher's
  ``on_subject``), which are what the crawl groups.
* Rewordings: each ``new`` sentence rewritten as a wire copy is (a dateline added; "said" for "says" and an
  attribution added; "North Korean" as "North Korea's"; a figure changed), then looked up among the candidates of
  the originals: how many find their original, and for a changed figure whether its figures differ.
* Cost: distinct made-up claims (a labelled English sentence with three words swapped for others of the sets, a
  tail of reporting words and a number), indexed; then 2,000 sentences looked up, half of them a candidate
  repeated with an attribution added (each should find it), half other made-up claims. Timed: the key of a
  sentence (the matcher's analysis, uncached, then cached as the crawl has it), the index lookup, and the plain
  baseline — rapidfuzz's ``process.extract`` of every candidate key with the same cutoff, then the same checks —
  with their agreement.
* Database: ``group_new_claims`` on SQLite with 10,000 stored candidates, as the crawl calls it (its first call
  reads and keys them all; then 300 articles of three sentences, one a repeat, each in its own transaction),
  beside the baseline of the same 300 articles stored without grouping.
  Wall and CPU seconds, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import insert

from analysis.claims.context import about_dprk_workers
from analysis.claims.grouping import TEXT_SIMILARITY, ClaimIndex, ClaimKey, claim_key, figures_of, same_claim
from analysis.claims.matcher import ClaimMatch, analyse
from analysis.claims.sentences import SentenceMatch
from db.candidates import Grouped, group_new_claims
from db.engine import Database
from db.migrate import upgrade
from db.models import Article, CandidateClaim, Source

ROOT = Path(__file__).resolve().parents[1]
SETS = [*sorted((ROOT / "tests/analysis/claims/data").glob("*.jsonl")), Path("/work/shared/claims/eval_dev.jsonl")]
QUERIES = 2_000
TAIL_WORDS = ("officials", "reported", "on", "Tuesday", "a", "source", "told", "reporters", "in", "the", "capital",
              "according", "documents", "seen", "by", "local", "media", "later", "added", "that", "week")


def load() -> list[dict[str, Any]]:
    """Every distinct sentence of the labelled sets, first seen first."""
    seen: dict[str, dict[str, Any]] = {}
    for path in SETS:
        if path.exists():
            for line in path.read_text("utf-8").splitlines():
                record = json.loads(line)
                seen.setdefault(record["sentence"], record)
    return list(seen.values())


def precision(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Group the records in turn; the merges, judged by their claim ids."""
    index, members = ClaimIndex(), {}
    wrong, right, unlabelled = [], 0, []
    for number, record in enumerate(records):
        key = claim_key(record["sentence"])
        found = index.find(key)
        if not found:
            index.add(number, key)
            members[number] = record
            continue
        first = members[found[0]]
        ids = (first["claim_id"], record["claim_id"])
        if ids[0] and ids[0] == ids[1]:
            right += 1
        elif ids == (None, None):
            unlabelled.append((first["sentence"], record["sentence"]))
        else:
            wrong.append((first["sentence"], ids[0], record["sentence"], ids[1]))
    return {"sentences": len(records), "candidates": len(index), "merged_same_claim": right,
            "merged_new_with_new": unlabelled, "wrong_merges": wrong}


def _rewrites(sentence: str) -> dict[str, str]:
    body = sentence.rstrip(".")
    figure = re.search(r"\d[\d,]*", sentence)
    changed = ""
    if figure:
        value = int(figure.group().replace(",", "") or 0)
        changed = sentence[:figure.start()] + f"{value * 3 // 2 + 7:,}" + sentence[figure.end():]
    return {
        "dateline": f"SEOUL, March 3 (Reuters) - {sentence}",
        "attribution": body.replace(" says", " said") + ", a report said.",
        "possessive": sentence.replace("North Korean", "North Korea's"),
        "figure changed": changed,
    }


def rewordings(records: list[dict[str, Any]]) -> dict[str, Any]:
    """How many wire-copy rewrites of the new sentences find their original among the candidates."""
    news = [record["sentence"] for record in records if record["label"] == "new"]
    index = ClaimIndex()
    for number, sentence in enumerate(news):
        index.add(number, claim_key(sentence))
    found: dict[str, list[int]] = {}
    figures_differ = 0
    for number, sentence in enumerate(news):
        for kind, rewrite in _rewrites(sentence).items():
            if not rewrite or rewrite == sentence:
                continue
            key = claim_key(rewrite)
            hit = number in index.find(key)
            found.setdefault(kind, [0, 0])[0] += hit
            found[kind][1] += 1
            if kind == "figure changed" and hit and key.figures != index.keys[number].figures:
                figures_differ += 1
    return {"found": {kind: f"{hits}/{total}" for kind, (hits, total) in found.items()},
            "figure changed, figures differ": figures_differ}


def _synthetic(records: list[dict[str, Any]], count: int, seed: int) -> list[str]:
    """``count`` distinct made-up claims: a labelled English sentence with three of its words swapped for words of
    the other sentences, a tail of reporting words and a number (no two are one claim by the grouping's rules)."""
    rng = random.Random(seed)
    sentences = [record["sentence"].rstrip(".").split() for record in records if record["sentence"].isascii()]
    vocabulary = sorted({word for words in sentences for word in words if word.isalpha() and len(word) > 3})
    made: list[str] = []
    for _ in range(count):
        words = list(rng.choice(sentences))
        for position in rng.sample(range(len(words)), min(3, len(words))):
            words[position] = rng.choice(vocabulary)
        made.append(f"{' '.join(words)}, {' '.join(rng.sample(TAIL_WORDS, 4))} {rng.randrange(10, 99_999):,}.")
    return made


def _queries(candidates: list[str], count: int, seed: int, records: list[dict[str, Any]]) -> list[str]:
    """Half of them repeats of a candidate as another outlet writes it (an attribution added), half new claims."""
    rng = random.Random(seed)
    repeats = [sentence.rstrip(".") + ", a report said." for sentence in rng.sample(candidates, count // 2)]
    return repeats + _synthetic(records, count - count // 2, seed + 1)


def _timed(step: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _brute(keys: list[ClaimKey], key: ClaimKey) -> set[int]:
    """The baseline: every candidate key scored, then the same checks (near-identical, or the same amounts)."""
    texts = [candidate.text for candidate in keys]
    near = {index for _, _, index in process.extract(key.text, texts, scorer=fuzz.ratio, processor=None,
                                                     score_cutoff=TEXT_SIMILARITY, limit=None)}
    if key.amounts:
        near |= {index for index, candidate in enumerate(keys) if candidate.amounts == key.amounts}
    return {index for index in near if same_claim(key, keys[index])}


def _index_all(index: ClaimIndex, keys: list[ClaimKey]) -> None:
    for number, key in enumerate(keys):
        index.add(number, key)


def cost(records: list[dict[str, Any]], size: int) -> dict[str, Any]:
    """Per-sentence costs among ``size`` candidates."""
    analyse.cache_clear()
    candidates = _synthetic(records, size, seed=1)
    queries = _queries(candidates, QUERIES, 2, records)
    keys, key_wall, key_cpu = _timed(lambda: [claim_key(sentence) for sentence in candidates])
    index = ClaimIndex()
    _, build_wall, _ = _timed(lambda: _index_all(index, keys))
    analyse.cache_clear()
    query_keys, _, _ = _timed(lambda: [claim_key(sentence) for sentence in queries])
    _, cached_wall, _ = _timed(lambda: [claim_key(sentence) for sentence in queries])
    found, find_wall, find_cpu = _timed(lambda: [set(index.find(key)) for key in query_keys])
    # The sample for the baseline: repeats and new claims alike (the queries are half and half).
    sample = query_keys[:100] + query_keys[-100:]
    found_sample = found[:100] + found[-100:]
    brute, brute_wall, _ = _timed(lambda: [_brute(keys, key) for key in sample])
    return {
        "candidates": size,
        "key_us_uncached": round(key_wall / size * 1e6, 1), "key_cpu_us": round(key_cpu / size * 1e6, 1),
        "key_us_cached": round(cached_wall / QUERIES * 1e6, 2),
        "index_build_us_per_candidate": round(build_wall / size * 1e6, 1),
        "find_us": round(find_wall / QUERIES * 1e6, 1), "find_cpu_us": round(find_cpu / QUERIES * 1e6, 1),
        "brute_us": round(brute_wall / len(sample) * 1e6, 1),
        "find_agrees_with_brute": f"{sum(f == b for f, b in zip(found_sample, brute, strict=True))}/{len(sample)}",
        "mean_shortlist": round(sum(len(index.shortlist(key)) for key in sample) / len(sample), 1),
        "repeats_found": f"{sum(bool(f) for f in found[:QUERIES // 2])}/{QUERIES // 2}",
        "new_claims_grouped": f"{sum(bool(f) for f in found[QUERIES // 2:])}/{QUERIES - QUERIES // 2}",
    }


def database_cost(records: list[dict[str, Any]], size: int, articles: int = 300) -> dict[str, Any]:
    """``group_new_claims`` as the crawl calls it, on SQLite with ``size`` candidates stored: the first call (which
    reads every recent candidate and keys it), then ``articles`` articles of three new-claim sentences each (one
    a repeat of a stored candidate, two new), each in its own write transaction."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(db)
        now = datetime(2026, 6, 1, tzinfo=UTC)
        stored = _synthetic(records, size, seed=1)
        with db.write() as session:
            session.add(Source(id="wire", kind="feed", url="http://wire.example/rss.xml"))
            session.execute(insert(CandidateClaim), [
                {"sentence": sentence, "figures": figures_of(sentence), "alerted_figures": figures_of(sentence),
                 "first_seen_at": now, "last_seen_at": now, "sightings": 1} for sentence in stored])
        rng = random.Random(3)
        fresh = iter(_synthetic(records, 2 * articles, seed=4))
        analyse.cache_clear()
        _, first_wall, _ = _timed(lambda: _group_article(db, ["Pyongyang sent 40 cooks to Hanoi in 2026."], now))
        texts = [[rng.choice(stored).rstrip(".") + ", a report said.", next(fresh), next(fresh)]
                 for _ in range(articles)]
        for sentences in texts:  # the crawl's matcher analysed them before: so does the bench, untimed
            for sentence in sentences:
                claim_key(sentence)
        _, plain_wall, plain_cpu = _timed(lambda: [_group_article(db, [], now, group=False) for _ in texts])
        results, wall, cpu = _timed(lambda: [_group_article(db, sentences, now) for sentences in texts])
        db.dispose()
    alerts = [sum(result.alert for result in grouped.values()) for grouped in results]
    return {"candidates": size, "first_call_s": round(first_wall, 2),
            "per_article_ms": round(wall / articles * 1e3, 2), "per_article_cpu_ms": round(cpu / articles * 1e3, 2),
            "baseline_per_article_ms": round(plain_wall / articles * 1e3, 2),
            "baseline_per_article_cpu_ms": round(plain_cpu / articles * 1e3, 2),
            "grouping_per_sentence_us": round((wall - plain_wall) / (3 * articles) * 1e6, 1),
            "alerts_per_article": round(sum(alerts) / articles, 2)}


def _group_article(db: Database, sentences: list[str], now: datetime, group: bool = True) -> dict[int, Grouped]:
    """One article stored in a write transaction, its sentences grouped (``group``: else the article alone, the
    baseline)."""
    with db.write() as session:
        url = f"http://wire.example/{random.random()}"
        article = Article(source_id="wire", url=url, canonical_url=url, relevant=True, first_seen_at=now)
        session.add(article)
        session.flush()
        if not group:
            return {}
        matches = [SentenceMatch(n, text, ClaimMatch("new", None, 0.7, 0.3), True) for n, text in enumerate(sentences)]
        return group_new_claims(session, article_id=article.id, version_id=None,  # type: ignore[arg-type]
                                source_id="wire", sentences=matches, now=now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 candidates only")
    args = parser.parse_args()
    records = load()
    wall, cpu = time.perf_counter(), time.process_time()
    news = [record for record in records if record["label"] == "new"]
    report: dict[str, Any] = {
        "precision_all": precision(records),
        "precision_new": precision(news),
        # What the crawl groups: new claims about North Korean workers (the matcher's on_subject).
        "precision_candidates": precision([r for r in news if about_dprk_workers(analyse(r["sentence"]).subject)]),
        "rewordings": rewordings(records),
        "cost": [cost(records, size) for size in ((1_000, 10_000) if args.quick else (1_000, 10_000, 50_000))],
        "database": database_cost(records, 10_000),
        "wall_s": 0.0, "cpu_s": 0.0, "peak_rss_mib": 0.0,
    }
    report["wall_s"] = round(time.perf_counter() - wall, 2)
    report["cpu_s"] = round(time.process_time() - cpu, 2)
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    for name in ("precision_all", "precision_new", "precision_candidates"):
        result = report[name]
        print(f"## {name}: {result['sentences']} sentences -> {result['candidates']} candidates; "
              f"{result['merged_same_claim']} merged with their own claim, {len(result['wrong_merges'])} wrong "
              f"merges, {len(result['merged_new_with_new'])} new sentences merged with another new one")
        for first, first_id, second, second_id in result["wrong_merges"]:
            print(f"  WRONG [{first_id}] {first}\n        [{second_id}] {second}")
        for first, second in result["merged_new_with_new"]:
            print(f"  judge: {first}\n         {second}")
    print("## rewordings:", json.dumps(report["rewordings"]))
    print("## cost (µs per sentence)")
    columns = list(report["cost"][0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in report["cost"]:
        print("| " + " | ".join(str(row[column]) for column in columns) + " |")
    print("## group_new_claims on SQLite:", json.dumps(report["database"]))
    print(f"wall {report['wall_s']} s, CPU {report['cpu_s']} s, peak RSS {report['peak_rss_mib']} MiB")
    out = ROOT / "bench/results/candidates.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str), "utf-8")


if __name__ == "__main__":
    main()
