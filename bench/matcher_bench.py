"""Claim-matching benchmark: ClaimMatcher.match_many on 10,000 distinct sentences x 500 claims, beside difflib.

Run from the repository root (2-core machine, nothing else busy):

    .venv/bin/python bench/matcher_bench.py          # full: 10,000 sentences, 5 repeats, difflib timed on 200
    .venv/bin/python bench/matcher_bench.py 2000     # CI smoke size: 2,000 sentences, 1 run, difflib on 10

What it does:

* The workload (the same for every step, made from a fixed seed): 500 synthetic claims made by varying the
  test claims (another place, another name for North Korea, a numbered tag) and ``SENTENCES`` distinct
  sentences (a dev-set sentence, a random tail of reporting words and a random number), so that no per-sentence
  cache can help.
* ``match_many``: builds a ``ClaimMatcher`` (timed apart as "build") and matches every sentence, which is the
  whole pipeline: analysis and normalisation, the subject prefilter, one ``rapidfuzz.process.cdist`` shortlist
  for all sentences (``workers=-1``: every core), one ``cpdist`` rerank of all shortlists, the subject gate and
  the slot comparison of the best candidates.
* ``candidates``: only the candidate search, the part difflib can do too: normalise every sentence, then the
  three best claims of each by ``CandidateIndex.top`` (cdist shortlist plus rerank).
* ``difflib``: the same candidate search with the standard library: normalise a sentence the same way, then
  ``difflib.SequenceMatcher.ratio`` against every claim's normalised text (one matcher per claim, prepared
  once and not timed, as ``set_seq2`` caches the claim side) and keep the three best. It is too slow for all
  sentences, so an evenly spaced sample is timed and the time scaled to ``SENTENCES``. Afterwards (not timed)
  it counts for how many sampled sentences difflib and rapidfuzz put the same claim first.
* Every step of every repeat runs in a fresh interpreter (no warm cache carries over between repeats or from
  one step to the next); the steps alternate in order from one repeat to the next. numpy and rapidfuzz are
  imported before the clock starts. Figures are medians over the repeats, with the range; CPU time is user +
  system time of the process (all threads), so CPU above wall time shows the native code using several cores.

Prints a markdown table and writes JSON to ``bench/results/matcher.json`` (``matcher-<SENTENCES>.json`` for
other sizes). ``--profile FILE`` instead runs ``match_many`` once under cProfile, writes the stats to FILE and
prints the 30 most expensive functions.
"""

from __future__ import annotations

import argparse
import cProfile
import difflib
import heapq
import json
import os
import platform
import pstats
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from analysis.claims import Claim, ClaimMatcher, claims_from_yaml_data
from analysis.claims.candidates import TOP_K, CandidateIndex
from analysis.claims.matcher import analyse
from analysis.claims.parallel import default_processes

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "analysis" / "claims" / "data"
RESULTS = ROOT / "bench" / "results"
CLAIMS = 500
TARGET_S = 5.0
STEPS = ("match_many", "semantic", "candidates", "difflib")
PLACES = ["Russia", "China", "Qatar", "Kuwait", "Poland", "Mongolia", "Vladivostok", "Dandong", "Laos", "Belarus"]
TAIL = [
    "officials",
    "said",
    "on",
    "Tuesday",
    "according",
    "to",
    "reports",
    "the",
    "ministry",
    "added",
    "local",
    "media",
    "reported",
    "analysts",
    "say",
]


def synthetic_claims(claims: list[Claim], count: int, rng: random.Random) -> list[Claim]:
    """``count`` claims made by varying the known ones: another place, another name for North Korea, a tag."""
    made = []
    for index in range(count):
        text = claims[index % len(claims)].text
        for place in PLACES:
            if place in text:
                text = text.replace(place, rng.choice(PLACES), 1)
                break
        text = text.replace("North Korean", rng.choice(["North Korean", "DPRK", "Pyongyang's"]), 1)
        made.append(Claim(f"S{index:03d}", f"{text} ({rng.choice(['report', 'survey', 'estimate'])} {index})"))
    return made


def workload(count: int) -> tuple[list[Claim], list[str]]:
    """The claims and the ``count`` sentences, the same on every call."""
    rng = random.Random(1)
    claims = claims_from_yaml_data(yaml.safe_load((DATA / "known_claims.yaml").read_text(encoding="utf-8")))
    lines = (DATA / "eval_dev.jsonl").read_text(encoding="utf-8").splitlines()
    dev = [json.loads(line)["sentence"] for line in lines if line.strip()]
    # Every sentence distinct (a dev sentence, a random tail, a random number), so no cache helps.
    sentences = [
        f"{rng.choice(dev).rstrip('.')}, {' '.join(rng.sample(TAIL, 4))} ({rng.randint(1, 10**6)})."
        for _ in range(count)
    ]
    return synthetic_claims(claims, CLAIMS, rng), sentences


def sample_of(sentences: list[str], size: int) -> list[str]:
    """``size`` evenly spaced sentences."""
    step = max(1, len(sentences) // size)
    return sentences[::step][:size]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def run_match_many(claims: list[Claim], sentences: list[str], semantic: bool = False) -> dict[str, Any]:
    """The whole matcher; ``semantic``: with the semantic signal (its model's load is in ``build_s``)."""
    start = _clock()
    matcher = ClaimMatcher(claims, semantic=semantic)
    if semantic:
        matcher.match_many(sentences[:1])  # loads the model and embeds the claims: the one-off cost, timed apart
    build, _ = _since(start)
    processes = default_processes()
    start, children = _clock(), _children_cpu()
    matches = matcher.match_many(sentences, processes=processes)
    wall, cpu = _since(start)
    cpu += _children_cpu() - children
    labels = Counter(match.label for match in matches)
    return {
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "build_s": build,
        "wall_s": wall,
        "cpu_s": cpu,
        "processes": processes,
        "sentences": len(sentences),
        "labels": dict(labels),
    }


def run_candidates(claims: list[Claim], sentences: list[str]) -> dict[str, Any]:
    index = CandidateIndex([analyse(claim.text).canonical for claim in claims])
    start = _clock()
    tops = index.top([analyse(sentence).canonical for sentence in sentences])
    wall, cpu = _since(start)
    return {"wall_s": wall, "cpu_s": cpu, "sentences": len(sentences), "with_candidates": sum(map(bool, tops))}


def run_difflib(claims: list[Claim], sentences: list[str], sample: int) -> dict[str, Any]:
    texts = [analyse(claim.text).canonical for claim in claims]
    matchers = []
    for text in texts:
        matcher = difflib.SequenceMatcher(None)
        matcher.set_seq2(text)
        matchers.append(matcher)
    timed = sample_of(sentences, sample)
    start = _clock()
    tops = []
    for sentence in timed:
        canonical = analyse(sentence).canonical
        scores = []
        for index, matcher in enumerate(matchers):
            matcher.set_seq1(canonical)
            scores.append((matcher.ratio(), -index))
        tops.append([-index for _, index in heapq.nlargest(TOP_K, scores)])
    wall, cpu = _since(start)
    # Not timed: how often both searches put the same claim first, so that the two times are of comparable work.
    rapidfuzz_tops = CandidateIndex(texts).top([analyse(sentence).canonical for sentence in timed])
    same_best = sum(top[0] == other[0][0] for top, other in zip(tops, rapidfuzz_tops, strict=True))
    scale = len(sentences) / len(timed)
    return {
        "wall_s": wall * scale,
        "cpu_s": cpu * scale,
        "sentences": len(sentences),
        "timed_sentences": len(timed),
        "timed_wall_s": wall,
        "same_best_as_rapidfuzz": same_best,
    }


def child(step: str, count: int, sample: int) -> dict[str, Any]:
    """One step in this (fresh) interpreter; the result is printed as JSON for the parent."""
    import numpy  # noqa: F401  (imported before the clock starts, as in a running crawl)
    import rapidfuzz  # noqa: F401

    claims, sentences = workload(count)
    if step == "match_many":
        return run_match_many(claims, sentences)
    if step == "semantic":
        return run_match_many(claims, sentences, semantic=True)
    if step == "candidates":
        return run_candidates(claims, sentences)
    return run_difflib(claims, sentences, sample)


def spawn(step: str, count: int, sample: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", step, str(count), "--sample", str(sample)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"step {step} failed ({done.returncode}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _fmt(values: list[float]) -> tuple[str, str]:
    median = statistics.median(values)
    return f"{median:.2f}", f"{min(values):.2f}–{max(values):.2f}"


def summarise(runs: dict[str, list[dict[str, Any]]], count: int) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for step, results in runs.items():
        walls = [result["wall_s"] for result in results]
        cpus = [result["cpu_s"] for result in results]
        summary[step] = {
            "median_wall_s": statistics.median(walls),
            "min_wall_s": min(walls),
            "max_wall_s": max(walls),
            "median_cpu_s": statistics.median(cpus),
            "wall_s": walls,
        }
    if "semantic" in runs:
        semantic = runs["semantic"]
        summary["semantic"]["median_build_s"] = statistics.median(result["build_s"] for result in semantic)
        summary["semantic"]["median_peak_rss_mib"] = statistics.median(r["peak_rss_mib"] for r in semantic)
        summary["semantic"]["labels"] = semantic[0]["labels"]
        if "match_many" in runs:
            extra = summary["semantic"]["median_cpu_s"] - summary["match_many"]["median_cpu_s"]
            summary["semantic"]["extra_cpu_ms_per_sentence"] = 1000 * extra / count
            summary["semantic"]["peak_rss_over_lexical_mib"] = summary["semantic"]["median_peak_rss_mib"] - (
                statistics.median(r["peak_rss_mib"] for r in runs["match_many"]))
    if "match_many" in runs:
        match_many = runs["match_many"]
        summary["match_many"]["median_build_s"] = statistics.median(result["build_s"] for result in match_many)
        summary["match_many"]["labels"] = match_many[0]["labels"]
        # The target is set for the full size only.
        summary["meets_target"] = summary["match_many"]["median_wall_s"] <= TARGET_S if count == 10_000 else None
    if "difflib" in runs:
        summary["difflib"]["timed_sentences"] = runs["difflib"][0]["timed_sentences"]
        summary["difflib"]["same_best_as_rapidfuzz"] = runs["difflib"][0]["same_best_as_rapidfuzz"]
        for step in ("candidates", "match_many"):
            if step in runs:
                ratio = summary["difflib"]["median_wall_s"] / summary[step]["median_wall_s"]
                summary[f"difflib_over_{step}"] = ratio
    return summary


def table(summary: dict[str, Any], count: int, repeats: int) -> str:
    rows = [
        ("`match_many`: whole matcher (prefilter, cdist shortlist, cpdist rerank, gate, slots)", "match_many", ""),
        ("`match_many` with the semantic signal (USE v3 embeddings, one BLAS thread)", "semantic", ""),
        ("candidate search, rapidfuzz (normalise, cdist shortlist, cpdist rerank, best 3)", "candidates", ""),
        (
            f"candidate search, difflib (normalise, `SequenceMatcher.ratio` vs all {CLAIMS} claims, best 3)",
            "difflib",
            f" (timed on {summary['difflib']['timed_sentences']}, scaled)" if "difflib" in summary else "",
        ),
    ]
    lines = [
        f"{count:,} sentences x {CLAIMS} claims, median of {repeats} run{'s' if repeats > 1 else ''}"
        " (each in a fresh interpreter)",
        "",
        "| step | wall s (median) | wall s (range) | CPU s (median) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, step, note in rows:
        if step not in summary:
            continue
        walls = summary[step]["wall_s"]
        median, spread = _fmt(walls)
        lines.append(f"| {label}{note} | {median} | {spread} | {summary[step]['median_cpu_s']:.2f} |")
    lines.append("")
    if "difflib_over_candidates" in summary:
        lines.append(
            f"difflib candidate search / rapidfuzz candidate search: {summary['difflib_over_candidates']:.0f}x slower"
        )
    if "difflib_over_match_many" in summary:
        lines.append(f"difflib candidate search / whole matcher: {summary['difflib_over_match_many']:.0f}x slower")
    if "difflib" in summary:
        difflib_run = summary["difflib"]
        lines.append(
            f"difflib and rapidfuzz put the same claim first for {difflib_run['same_best_as_rapidfuzz']} of the "
            f"{difflib_run['timed_sentences']} timed sentences"
        )
    if "semantic" in summary:
        semantic = summary["semantic"]
        lines.append(f"semantic signal: model load and claim vectors {semantic['median_build_s']:.2f} s; peak RSS "
                     f"{semantic['median_peak_rss_mib']:.0f} MiB"
                     + (f" (+{semantic['peak_rss_over_lexical_mib']:.0f} MiB over the lexical matcher), "
                        f"+{semantic['extra_cpu_ms_per_sentence']:.2f} ms CPU per sentence"
                        if "extra_cpu_ms_per_sentence" in semantic else ""))
    if "match_many" not in summary:
        return "\n".join(lines)
    lines.append(
        f"matcher build (analysing {CLAIMS} claims): {summary['match_many']['median_build_s']:.2f} s; "
        f"verdicts: {summary['match_many']['labels']}"
    )
    if count == 10_000:
        verdict = "meets" if summary["meets_target"] else "MISSES"
        lines.append(f"target: <= {TARGET_S:.0f} s for match_many on 10,000 x {CLAIMS}: {verdict} it")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import numpy
    import rapidfuzz

    return {
        "python": platform.python_version(),
        "rapidfuzz": rapidfuzz.__version__,
        "numpy": numpy.__version__,
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def profile(count: int, path: Path) -> None:
    claims, sentences = workload(count)
    matcher = ClaimMatcher(claims)
    matcher.match_many(sentences[:10])  # imports numpy, so that the profile is of the matching itself
    profiler = cProfile.Profile()
    profiler.enable()
    matcher.match_many(sentences)
    profiler.disable()
    profiler.dump_stats(path)
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("sentences", nargs="?", type=int, default=10_000, help="sentences to match (10000)")
    parser.add_argument("--repeats", type=int, help="runs of each step (5; 1 below 10,000 sentences)")
    parser.add_argument("--sample", type=int, help="sentences timed with difflib (200; 10 for 2,000 sentences)")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS), help="steps to time (all)")
    parser.add_argument("--profile", type=Path, metavar="FILE", help="cProfile one match_many run into FILE")
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    count = args.sentences
    sample = args.sample or (200 if count >= 10_000 else max(5, count // 200))
    if args.child:
        print(json.dumps(child(args.child, count, sample)))
        return
    if args.profile:
        profile(count, args.profile)
        return
    repeats = args.repeats or (5 if count >= 10_000 else 1)
    before = machine()
    steps = [step for step in STEPS if step in args.steps]
    runs: dict[str, list[dict[str, Any]]] = {step: [] for step in steps}
    for round_ in range(repeats):
        order = steps if round_ % 2 == 0 else steps[::-1]
        for step in order:
            runs[step].append(spawn(step, count, sample))
    summary = summarise(runs, count)
    after = machine()
    print(table(summary, count, repeats))
    print(f"load average before/after: {before['load_average']} / {after['load_average']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("matcher.json" if count == 10_000 else f"matcher-{count}.json")
    command = " ".join(["bench/matcher_bench.py", *(argv if argv is not None else sys.argv[1:])])
    record = {
        "command": f".venv/bin/python {command}".strip(),
        "sentences": count,
        "claims": CLAIMS,
        "repeats": repeats,
        "difflib_sample": sample,
        "machine": before,
        "load_average_after": after["load_average"],
        "summary": summary,
        "runs": runs,
    }
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
