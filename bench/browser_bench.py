"""Browser bench: a listing source and its article pages crawled without a browser, and rendered in headless
Chromium (``render: browser``) with 1 and with 4 browser pages; and a crawl whose config has a ``render: browser``
source that the crawl does not poll (the cost of the feature when no source of a crawl uses it); and the two
browser variants without the guard-checking proxy every browser connection goes through (its cost).

Run from the repository root (needs /usr/bin/chromium; no network, all traffic is 127.0.0.1):

    .venv/bin/python bench/browser_bench.py              # 60 articles, 2 rounds
    .venv/bin/python bench/browser_bench.py --quick      # 12 articles, 1 round

Every variant runs in a fresh subprocess with a fresh migrated SQLite database, extraction in a thread
(``crawl.workers: 0``) and no claim matching, so the figures are about fetching and rendering. The parent serves
the pages (each with a small script, an image and a stylesheet, which the browser does not fetch) and samples
the child's process tree (the child, Playwright's driver and every Chromium process) every 50 ms: peak summed RSS
(shared pages counted once per process, as ``ps`` adds them up) and peak summed PSS (each shared page counted
once: what the tree really holds). Pages per second = pages fetched (listing + articles) / crawl wall time.

Prints a markdown table and writes JSON to ``bench/results/browser.json`` (``browser-quick.json`` with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.procstat import descendants, pss_bytes, rss_bytes  # noqa: E402

STORY = ("More than 50,000 North Korean workers may be sent to Russia to work on construction sites, officials in "
         "Seoul said on Tuesday, citing intelligence reports about site {n}. ")
PAGE_EXTRAS = ('<img src="/pixel.png"><link rel="stylesheet" href="/style.css">'
               '<script>document.body.dataset.rendered = "yes";</script>')
# In this order each round; each variant starts 2 s after the last one's processes are gone.
VARIANTS: dict[str, dict[str, Any]] = {
    "no browser": {"render": False, "pages": 2, "others": []},
    "no browser, a render source elsewhere in the config": {"render": False, "pages": 2, "others": ["elsewhere"]},
    "browser, 1 page": {"render": True, "pages": 1, "others": []},
    "browser, 4 pages": {"render": True, "pages": 4, "others": []},
    # The guard-checking proxy (crawler/browser_proxy.py) left out: what it costs.
    "browser, 1 page, no proxy": {"render": True, "pages": 1, "others": [], "proxy": False},
    "browser, 4 pages, no proxy": {"render": True, "pages": 4, "others": [], "proxy": False},
}
SETTLE = 2.0


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        pages: dict[str, bytes] = self.server.pages  # type: ignore[attr-defined]
        body = pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:
        pass


def site_pages(articles: int) -> dict[str, bytes]:
    """A listing page linking ``articles`` on-topic article pages (links in the HTML, so both variants find them)."""
    pages = {}
    links = []
    for n in range(articles):
        path = f"/a/story-{n}.html"
        links.append(f'<a class="story" href="{path}">Story {n}</a>')
        text = "".join(f"<p>{STORY.format(n=n)}Paragraph {i}.</p>" for i in range(6))
        pages[path] = (f"<html><head><title>Workers abroad {n}</title></head><body><article><h1>Workers abroad {n}"
                       f"</h1>{text}</article>{PAGE_EXTRAS}</body></html>").encode()
    pages["/"] = f"<html><body><h1>Latest</h1>{''.join(links)}{PAGE_EXTRAS}</body></html>".encode()
    pages["/robots.txt"] = b"User-agent: *\nAllow: /\n"
    return pages


def child(config: dict[str, Any]) -> dict[str, Any]:
    """One variant: a cold crawl of the listing source into a fresh database."""
    from analysis.relevance import DEFAULT_TOPIC
    from crawler import reactor
    from crawler.runner import preload, run_crawl
    from crawler.types import CrawlOptions, SourceSpec
    from db.engine import Database
    from db.migrate import upgrade

    db = Database(f"sqlite:///{config['db']}")
    upgrade(db)
    rendered = {"site"} if config["render"] else set()
    options = CrawlOptions(
        allow_private_networks=True, autothrottle=False, delay=0.0, per_domain_concurrency=8, concurrency=8,
        retries=0, timeout=30.0, max_feed_age=None, workers=0,
        browser_sources=frozenset(rendered | set(config["others"])), browser_pages=int(config["pages"]),
    )
    source = SourceSpec(id="site", kind="listing", url=config["url"], options={"link_selector": "a.story"})
    if not config.get("proxy", True):
        from crawler.browser_handler import BrowserDownloadHandler

        BrowserDownloadHandler.proxied = False
    preload()
    started = time.perf_counter()
    report = reactor.run(run_crawl(db, [source], replace(options), DEFAULT_TOPIC, trigger="bench",
                                   match_claims=False))
    seconds = time.perf_counter() - started
    counts = dict(report.ledger.counts)
    db.dispose()
    reactor.shutdown()
    pages = counts.get("documents", 0) + counts.get("articles_fetched", 0)
    return {"status": report.status, "errors": len(report.ledger.errors), "seconds": round(seconds, 3),
            "pages": pages, "pages_per_s": round(pages / seconds, 2), "counts": counts,
            "playwright_imported": "scrapy_playwright" in sys.modules}


class TreeSampler:
    """Peak summed RSS and PSS of a process and all its descendants, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = self.peak_pss = 0
        self.processes: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            tree = [self.pid, *descendants(self.pid)]
            self.peak_rss = max(self.peak_rss, sum(rss_bytes(pid) for pid in tree))
            self.peak_pss = max(self.peak_pss, sum(pss_bytes(pid) for pid in tree))
            for pid in tree[1:]:
                try:
                    self.processes.add(Path(f"/proc/{pid}/comm").read_text().strip())
                except OSError:
                    continue
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_variant(name: str, url: str, workdir: Path) -> dict[str, Any]:
    config = {**VARIANTS[name], "url": url, "db": str(workdir / f"{abs(hash((name, time.time())))}.db")}
    process = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(config)], stdout=subprocess.PIPE,
                               cwd=ROOT, text=True)
    sampler = TreeSampler(process.pid)
    out, _ = process.communicate(timeout=900)
    sampler.stop()
    if process.returncode != 0:
        raise SystemExit(f"variant {name!r} failed with exit code {process.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result.update(peak_rss_mib=round(sampler.peak_rss / 2**20, 1), peak_pss_mib=round(sampler.peak_pss / 2**20, 1),
                  child_processes=sorted(sampler.processes))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="12 articles, 1 round")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    articles, repeats = (12, 1) if args.quick else (args.articles, args.repeats)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    server.daemon_threads = True
    server.pages = site_pages(articles)  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            for name in VARIANTS:
                runs[name].append(run_variant(name, url, Path(tmp)))
                time.sleep(SETTLE)  # Chromium's last processes exit after the child: not in the next variant's time
    server.shutdown()
    rows = []
    for name, results in runs.items():
        best = max(results, key=lambda r: r["pages_per_s"])
        rows.append({"variant": name, "pages": best["pages"], "status": best["status"], "errors": best["errors"],
                     "pages_per_s": [r["pages_per_s"] for r in results], "seconds": [r["seconds"] for r in results],
                     "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
                     "peak_pss_mib": max(r["peak_pss_mib"] for r in results),
                     "playwright_imported": any(r["playwright_imported"] for r in results),
                     "chromium_processes": any("chrom" in p for r in results for p in r["child_processes"])})
    print(f"{articles} articles + 1 listing page, {repeats} round(s), {platform.node()}, {os.cpu_count()} cores\n")
    print("| variant | pages | pages/s (each round) | peak tree RSS MiB | peak tree PSS MiB | Playwright loaded | "
          "Chromium started |")
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for row in rows:
        rates = " / ".join(f"{rate:.1f}" for rate in row["pages_per_s"])
        print(f"| {row['variant']} | {row['pages']} | {rates} | {row['peak_rss_mib']:.0f} | {row['peak_pss_mib']:.0f} "
              f"| {'yes' if row['playwright_imported'] else 'no'} | {'yes' if row['chromium_processes'] else 'no'} |")
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    target = results_dir / ("browser-quick.json" if args.quick else "browser.json")
    target.write_text(json.dumps({"articles": articles, "repeats": repeats, "rows": rows, "runs": runs}, indent=2))
    print(f"\nwritten to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
