"""Freed memory goes back to the system after a crawl (glibc's malloc_trim), not kept in the C heaps for good."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from db.engine import Database

ROOT = Path(__file__).resolve().parents[2]
# A fresh process: memory that survivors pin in the heap, freed around them, the way a crawl's pages are.
SCRIPT = """
import json
from crawler.memory import release_free_memory

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

blocks = [bytearray(20_000) for _ in range(6_000)]  # 120 MB of heap blocks (below glibc's mmap threshold)
for block in blocks:
    block[::4096] = b"x" * len(block[::4096])  # touched: resident
survivors = blocks[::50]  # a few stay, so the heap cannot shrink from its top alone
del blocks
before = rss_kib()
done = release_free_memory()
print(json.dumps({"before": before, "after": rss_kib(), "done": done, "kept": len(survivors)}))
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_release_free_memory_returns_freed_heap_pages() -> None:
    import json

    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["done"] is True
    # About 117 MB were freed around the survivors; at least half of it goes back.
    assert figures["before"] - figures["after"] > 50_000, figures


# The daemon's imports, Scrapy's preload and a real crawl, in a fresh process on a database migrated beforehand.
CRAWL_SCRIPT = """
import gc, json, sys
from dataclasses import replace
import labourwatch.commands.run, scheduler.daemon, web.app
from crawler.runner import preload
from db.engine import Database
from tests.crawler.helpers import FAST, crawl, specs
from tests.crawler.newssite import news_site

preload()
preloaded, frozen = sorted(sys.modules), gc.get_freeze_count()
with news_site(3) as site:
    report = crawl(Database(sys.argv[1]), specs([{"id": "site", "kind": "feed", "url": site.feed}]),
                   replace(FAST, workers=0))
print(json.dumps({"status": report.status, "stored": report.stats.get("articles_new", 0),
                  "preloaded": preloaded, "frozen": frozen, "modules": sorted(sys.modules)}))
"""
# What the daemon's process does not need while it crawls: Alembic (with Mako and Pygments) migrates, from the
# commands that do; the cookies middleware (tldextract) and the remote control (aiohttp) are Scrapy components
# labourwatch switches off; the Snowball stemmers serve searches.
UNUSED = ("alembic", "mako", "pygments", "tldextract", "aiohttp", "snowballstemmer")


def test_the_daemon_and_its_crawls_do_not_import_what_they_switch_off(sqlite_database: Database) -> None:
    import json

    done = subprocess.run([sys.executable, "-c", CRAWL_SCRIPT, str(sqlite_database.engine.url)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["status"] == "ok" and figures["stored"] == 3, figures["status"]
    assert [name for name in UNUSED if name in figures["modules"]] == []
    # The preload imported the HTTP download handler the crawl uses, and not those of schemes it refuses.
    assert "scrapy.core.downloader.handlers.http11" in figures["preloaded"]
    assert "scrapy.core.downloader.handlers.s3" not in figures["modules"]
    # The preload left what the daemon imported out of later garbage collections (crawler.runner.freeze_imports),
    # and a crawl runs as before on top of it.
    assert figures["frozen"] > 100_000, figures["frozen"]


# A real crawl with the extraction workers, as the daemon crawls, with the shipped claims and the semantic signal on:
# a first crawl of a web of outlets, then one after other outlets published copies of their articles, with the cache
# of stored texts' shingles emptied between (as after a restart), so that the daemon's process hashes stored texts
# itself and links the copies.
POOL_SCRIPT = """
import json, sys
from dataclasses import replace
from sqlalchemy import func, select

def main():
    import labourwatch.commands.run, scheduler.daemon, web.app
    import yaml
    from analysis.claims import semantic
    from analysis.claims.model import claims_from_yaml_data
    from crawler.runner import preload
    from crawler.types import SourceSpec
    from db import claims, copies
    from db.engine import Database
    from db.models import ArticleCopy
    from labourwatch.fixtureweb.copies import CopiesWeb
    from tests.crawler.helpers import FAST, crawl

    preload()
    db = Database(sys.argv[1])
    with db.write() as session:  # the shipped claims: each crawl builds their matcher here, the pages are matched there
        claims.import_claims(session, claims_from_yaml_data(yaml.safe_load(open("known_claims.yaml").read())))
    assert semantic.enabled()  # asked by the daemon before it starts the workers (with the model, then)
    with CopiesWeb(3, 4, seed=1, pairs=6) as web:
        sources = [SourceSpec(id=s["id"], kind=s["kind"], url=s["url"]) for s in web.sources()]
        first = crawl(db, sources, replace(FAST, workers=1))
        copies._SHINGLES.clear()
        web.advance()
        second = crawl(db, sources, replace(FAST, workers=1))
    with db.read() as session:
        linked = session.scalar(select(func.count()).select_from(ArticleCopy))
    print(json.dumps({"status": [first.status, second.status], "linked": linked, "modules": sorted(sys.modules)}))

if __name__ == "__main__":  # the worker pool's fork server imports this script's main module
    main()
"""
# numpy (about 12 MiB) serves the workers only: the sketches cross to the daemon's process as bytes.
WORKERS_ONLY = ("numpy", "trafilatura")


def test_the_daemons_process_crawls_with_its_workers_without_numpy(sqlite_database: Database, tmp_path: Path) -> None:
    import json

    script = tmp_path / "pool_crawl.py"
    script.write_text(POOL_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(sqlite_database.engine.url)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])
    assert figures["status"] == ["ok", "ok"] and figures["linked"] > 0, figures["status"]
    assert [name for name in WORKERS_ONLY if name in figures["modules"]] == []


# Two preloads in one process (a daemon started twice in-process, two crawl commands in a test process), with an
# object cycle alive between them and dropped after.
FREEZE_ONCE_SCRIPT = """
import gc, json, weakref
from crawler.runner import preload

class Node:
    pass

preload()
first = gc.get_freeze_count()
node = Node()
node.self = node
alive = weakref.ref(node)
preload()
again = gc.get_freeze_count()
del node
gc.collect()
print(json.dumps({"first": first, "again": again, "freed": alive() is None}))
"""


def test_the_preload_freezes_the_processs_objects_once() -> None:
    import json

    done = subprocess.run([sys.executable, "-c", FREEZE_ONCE_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])
    # The second preload froze nothing more (frozen objects may have died since): the cycle made after the first
    # is collected once dropped.
    assert figures["first"] > 0 and figures["again"] <= figures["first"], figures
    assert figures["freed"] is True, figures
