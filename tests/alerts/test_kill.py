"""Crash safety: a dispatcher killed with SIGKILL at random moments loses nothing (the short kill run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "alerts_kill_bench.py"
pytestmark = pytest.mark.slow


def test_sigkilled_dispatchers_lose_nothing_and_duplicates_keep_their_key() -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--kills", "8", "--events", "20", "--window", "1.5",
                             "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode in (0, 1), result.stderr
    counts = json.loads(result.stdout)
    assert counts["lost"] == 0 and counts["duplicates_with_unknown_key"] == 0
    assert counts["statuses"] == {"sent": 40} and counts["distinct_received"] == 40
    assert counts["received"] == 40 + counts["duplicates"]
    assert result.returncode == 0
