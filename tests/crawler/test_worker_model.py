"""The workers' fork server loads the semantic model only for crawls that use it (claims to match, the signal on)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A fresh process each time: the fork server, and so its preload, is decided once per process.
SCRIPT = """
import sys
from crawler import workers
from tests.crawler.test_worker_model import loaded

pool = workers._started(1, sys.argv[1] == "model")
print(pool.submit(loaded, 0).result(timeout=60))
workers.shutdown()
"""


def loaded(_: int) -> int:
    """In a worker: whether the model is loaded (the fork server's state, inherited by the fork)."""
    from analysis.claims import semantic

    return semantic._model.cache_info().currsize


@pytest.mark.parametrize(("model", "loaded"), [("model", "1"), ("none", "0")])
def test_the_model_is_in_the_workers_only_when_the_crawl_uses_it(model: str, loaded: str) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, model], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == loaded
