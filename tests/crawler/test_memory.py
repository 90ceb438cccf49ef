"""Freed memory goes back to the system after a crawl (glibc's malloc_trim), not kept in the C heaps for good."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

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
