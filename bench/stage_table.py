"""Where a cold crawl's CPU goes, by stage: a table made from ``bench/crawl_bench.py`` profiles.

Run from the repository root, after a profiled crawl bench (``--workers 0`` puts the page work, which otherwise
runs in worker processes that cProfile does not see, in the profiled executor threads of the same process)::

    .venv/bin/python bench/crawl_bench.py --repeats 1 --repoll-sites 10 --workers 0 --profile /tmp/lwprof \\
        --out /tmp/crawl-profile.json
    .venv/bin/python bench/stage_table.py /tmp/lwprof /tmp/crawl-profile.json --scale bench/results/crawl.json

A stage's share is the cumulative CPU time (per-thread clock) of the functions that do it, out of the profiled
crawl's CPU (its threads' profiled totals); cProfile's own overhead weighs on many small calls, so the shares, not
the profiled seconds, are what the table takes from the profile. ``--scale`` names an unprofiled crawl bench run
(the default configuration, worker processes): each share of its labourwatch cold-crawl CPU (median), divided by
the articles crawled, is the "ms per article" column. Stages nest in the code (extraction parses the HTML), so
each row says what it includes, and the rows add up to the whole with the two "rest" rows.
"""

from __future__ import annotations

import argparse
import json
import pstats
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Stage:
    """A stage: the functions (``file:function`` suffixes) whose cumulative time it is, in one thread."""

    name: str
    thread: str  # "main" (the event loop and its executor threads) or "writer"
    functions: tuple[str, ...]
    note: str = ""


# Outermost functions first within a thread; a stage's functions must not call each other's (no double count).
STAGES = (
    Stage("feed parsing", "main", ("crawler/kinds/feed.py:parse", "crawler/kinds/sitemap.py:parse"),
          "labourwatch's XML reader, in the event loop"),
    Stage("HTML parse", "main", ("trafilatura/utils.py:load_html",), "lxml, inside extraction"),
    Stage("extraction (rest)", "main", ("crawler/extract.py:extract_article",),
          "trafilatura, metadata, canonical URL; HTML parse apart"),
    Stage("relevance", "main", ("analysis/relevance.py:score",), "topic terms in five languages"),
    Stage("hashing and normalisation", "main", ("analysis/text.py:content_hash",), "the version's content hash"),
    Stage("copy sketch", "main", ("analysis/minhash.py:sketch",), "shingles, MinHash, bands"),
    Stage("claim matching: semantic signal", "main", ("analysis/claims/semantic.py:encode",
                                                      "analysis/claims/semantic.py:similarities"),
          "sentence vectors"),
    Stage("claim matching (rest)", "main", ("analysis/claims/sentences.py:match_article",
                                            "analysis/claims/grouping.py:claim_key"),
          "sentences, fuzzy search, subject gate, slots, figures; semantic apart"),
    Stage("store: article, version, raw evidence, matches", "writer", ("db/repository.py:store_articles",),
          "SQL through SQLAlchemy; FTS5 triggers run inside the version insert"),
    Stage("raw-evidence compression", "writer", ("zlib.compress",), "inside the store row above"),
    Stage("copies", "writer", ("db/copies.py:link_copy",), "sketch rows, candidate query, containment"),
    Stage("background sentences", "writer", ("db/background.py:record_sentences",)),
    Stage("new-claim grouping", "writer", ("db/candidates.py:group", "db/candidates.py:finish")),
    Stage("events and outbox", "writer", ("db/story.py:change_events", "db/events.py:record_changes"),
          "story, claim and article events, delivery rows"),
    Stage("HTTP validators", "writer", ("db/repository.py:save_many_validators",)),
)


def _key(func: tuple[str, int, str]) -> str:
    filename, _, name = func
    if filename == "~":  # a built-in: "<built-in method zlib.compress>"
        return name.removeprefix("<built-in method ").removesuffix(">")
    return f"{filename}:{name}"


def _matching(stats: pstats.Stats, suffixes: Sequence[str]) -> list[float]:
    """The cumulative seconds of each profiled function whose ``file:function`` ends with one of ``suffixes``."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    return [cumtime for func, (_, _, _, cumtime, _) in table.items()
            if any(_key(func).endswith(suffix) for suffix in suffixes)]


def cumulative(stats: pstats.Stats, suffixes: Sequence[str]) -> float:
    """The cumulative seconds of the functions whose ``file:function`` ends with one of ``suffixes``."""
    return sum(_matching(stats, suffixes))


def total_time(stats: pstats.Stats) -> float:
    return float(stats.total_tt)  # type: ignore[attr-defined]


def rows(profile_dir: Path, result: dict[str, Any],
         scale: dict[str, Any]) -> list[tuple[str, str, float, float, str]]:
    """(stage, thread, share of the crawl's CPU, ms per article at ``scale``'s CPU, note) rows."""
    profiles = {"main": pstats.Stats(str(profile_dir / "labourwatch-cold.prof")),
                "writer": pstats.Stats(str(profile_dir / "labourwatch-cold-writer.prof"))}
    # A stage whose functions were renamed or moved would read as 0 % and its time as the thread's rest: refuse.
    # (One of several may be absent: a feeds-only crawl never parses a sitemap.)
    stale = [f"{stage.name}: {', '.join(stage.functions)}" for stage in STAGES
             if not _matching(profiles[stage.thread], stage.functions)]
    if stale:
        raise SystemExit("stage functions not in the profile (renamed or moved? update STAGES):\n  "
                         + "\n  ".join(stale))
    whole = sum(total_time(stats) for stats in profiles.values())
    per_article = 1000 * scale["cold"]["labourwatch"]["cpu_s_median"] / scale["main_web"]["articles"]
    out: list[tuple[str, str, float, float, str]] = []
    for thread in ("main", "writer"):
        used = 0.0
        for stage in (s for s in STAGES if s.thread == thread):
            share = cumulative(profiles[thread], stage.functions) / whole
            if stage.name == "extraction (rest)":  # the HTML parse row is inside extraction
                share -= cumulative(profiles[thread], ("trafilatura/utils.py:load_html",)) / whole
            if stage.name == "claim matching (rest)":
                share -= cumulative(profiles[thread], ("analysis/claims/semantic.py:encode",
                                                       "analysis/claims/semantic.py:similarities")) / whole
            if stage.name != "raw-evidence compression":  # nested in the store row: not added twice
                used += share
            out.append((stage.name, thread, share, share * per_article, stage.note))
        rest = max(0.0, total_time(profiles[thread]) / whole - used)
        label = ("fetch, Scrapy, Twisted and asyncio (the event loop's rest)" if thread == "main"
                 else "transaction, commit, the writer's rest")
        out.append((label, thread, rest, rest * per_article, ""))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile_dir", type=Path)
    parser.add_argument("result", type=Path, help="the crawl bench's JSON of the profiled run")
    parser.add_argument("--scale", type=Path, help="the JSON of an unprofiled run (default: the profiled one)")
    args = parser.parse_args(argv)
    result = json.loads(args.result.read_text())
    scale = json.loads(args.scale.read_text()) if args.scale else result
    print("| stage | thread | share of CPU | ms per article | what it includes |")
    print("| --- | --- | ---: | ---: | --- |")
    for name, thread, share, per_article, note in rows(args.profile_dir, result, scale):
        print(f"| {name} | {thread} | {100 * share:.1f} % | {per_article:.2f} | {note} |")
    lw, plain = scale["cold"]["labourwatch"]["cpu_s_median"], scale["cold"]["plain"]["cpu_s_median"]
    articles = scale["main_web"]["articles"]
    print(f"\nlabourwatch, whole cold crawl: {lw:.2f} CPU s ({1000 * lw / articles:.2f} ms per article); plain "
          f"Scrapy + trafilatura: {plain:.2f} CPU s ({1000 * plain / articles:.2f} ms per article)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
