"""The soak bench in CI: 75 s of ``labourwatch run`` on a changing web of 40 feeds (the bench's ``--quick``, shorter).

The daemon must stay healthy the whole time, poll every feed on time, deliver the alerts of changes the web
makes while it runs (each once), and stop cleanly on SIGTERM. Memory, FDs and threads are reported, not
asserted: a minute on a shared CI machine are too noisy for them (the hour-long bench judges them).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import asdict, replace
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "soak_bench.py"


def load_bench() -> ModuleType:
    """bench/soak_bench.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("soak_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_short_soak_stays_healthy_polls_on_time_alerts_and_stops_cleanly(tmp_path: Path) -> None:
    soak = load_bench()
    # 75 s, the web advancing every 20 s: three advances, as in the bench's two-minute --quick run, for 45 s less of
    # the suite's time.
    quick = replace(soak.QUICK, minutes=1.25, advance_every=20)
    options = {k: v for k, v in asdict(quick).items() if k not in ("minutes", "sources")}
    result = soak.run_soak(quick.minutes, quick.sources, workdir=tmp_path, **options)
    report = soak.table(result)
    print(report)  # RSS, FDs, threads and CPU are in the report (pytest -s, or on failure)
    log = (tmp_path / "daemon.log").read_text(errors="replace")[-4000:]
    figures = result.figures

    # Up the whole time: a sample every 5 s from start to end, every one of them /healthz 200.
    health = figures["health"]
    assert health["samples"] >= quick.duration / quick.sample_every, (report, log)
    assert health["non_200"] == 0, (health["bad"], log)

    # On time. Every feed is due every 20 s (jitter 0); the daemon wakes the poll job at the next due time and
    # its 5 s tick (poll_every) is the fallback, so a poll starts late only by waiting behind another crawl
    # (a revisit of the ~280 on-topic articles takes 3-7 s here). A poll missed altogether is a gap of 40 s or
    # more; the request log counts a gap over 20 + 5 + 10 s as missed.
    polls = figures["polls"]
    assert polls["feeds_polled"] == quick.sources and polls["missed_log"] == 0, (polls["missed_detail"], log)
    assert polls["lag_p95_s"] is not None and polls["lag_p95_s"] <= quick.poll_every + 5, (report, log)
    assert polls["missed_daemon"] == 0

    # Alerts: the web changed three times while the daemon ran; those changes were alerted, every sent
    # delivery arrived with its key, and no key arrived twice.
    alerts = figures["alerts"]
    assert len(result.advances) == 3
    assert alerts["about_changes"] >= 1, alerts
    assert alerts["sent"] >= 1 and alerts["lost"] == 0, alerts
    assert alerts["duplicates"] == 0 and alerts["unknown_keys"] == 0, alerts

    # Clean stop: exit 0 within daemon.shutdown_timeout plus a margin, nothing went wrong on the way.
    shutdown = figures["shutdown"]
    assert shutdown["exit_code"] == 0, log
    assert shutdown["seconds"] <= quick.shutdown_timeout + soak.SHUTDOWN_MARGIN, shutdown
    assert figures["log"]["errors"] == 0 and figures["log"]["tracebacks"] == 0, result.log_problems
    assert "daemon stopped" in log
