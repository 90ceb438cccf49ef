"""The cluster scale and fault bench in CI: its ``--quick`` workload, two nodes through every fault once.

Two cluster nodes poll a small changing fixture web while the bench SIGKILLs a random node, SIGTERMs one, SIGKILLs
the dispatcher's node, restarts PostgreSQL (a server of the bench's own) and SIGKILLs a node again, each stopped
node started again 5 s later. Nothing may be lost or doubled: every change the web made has its event, once;
every alert arrived, none with a key the outbox does not have; no host got more requests at once than one node
allows, or its next crawl's first request sooner than the delay after the last request; a due poll run twice is
at most the killed nodes' in-flight work. Times (detection, re-run, lag) are reported, not asserted.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bench.cluster_scale_bench import QUICK, bench
from bench.db_outage_bench import PG_BIN


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(not (PG_BIN / "pg_ctl").exists() or (os.geteuid() == 0 and not shutil.which("runuser")),
                    reason="needs PostgreSQL's server binaries to run a server of its own")
def test_two_nodes_through_kills_a_stop_and_a_database_restart_lose_and_double_nothing(tmp_path: Path) -> None:
    work = replace(QUICK, fault_every=6.0)
    result = bench(work, [], tmp_path, faults="2")
    run = result["faults-2"]
    report = {key: run[key] for key in ("faults", "events", "alerts", "duplicates", "hosts", "lag", "drained")}

    assert [fault["fault"] for fault in run["faults"]] == [
        "SIGKILL a random node", "SIGTERM a node", "SIGKILL the dispatcher's node", "PostgreSQL restart",
        "SIGKILL a random node"], report
    assert run["drained"], report
    assert run["events"]["missing"] == 0 and run["events"]["doubled"] == 0 and run["events"]["extra"] == 0, report
    assert run["events"]["changes"] > 0, report
    alerts = run["alerts"]
    assert alerts["deliveries"] > 0 and alerts["lost"] == 0 and alerts["duplicates_with_unknown_key"] == 0, report
    # The delay holds at hand-overs (a crawl's robots.txt after the key's last request, on any node). Gaps inside a
    # crawl are reported, not asserted: the fixture server's times are when a handler thread read the request,
    # which on a loaded machine is late by up to a tenth of a second now and then.
    hosts = run["hosts"]
    assert hosts["most_in_flight"] <= work.per_domain and hosts["handovers"] > 0, report
    assert hosts["handover_gaps_under_delay"] == 0, hosts
    # At most the killed nodes' in-flight work again (each crawl job holds its key's feeds). A feed fetched twice
    # within half a period is mostly a late poll and the next one on schedule (reported, not asserted).
    in_flight = work.feeds * sum(fault["in_flight_jobs"] for fault in run["faults"])
    assert run["duplicates"]["polls_run_twice"] <= in_flight, report
    # The stopped node exited cleanly, the killed ones by SIGKILL, the rest cleanly at the end.
    assert set(run["node_exit_codes"]) <= {0, -9} and run["node_exit_codes"].count(-9) == 3, report
    assert next(f for f in run["faults"] if f["fault"] == "SIGTERM a node")["exit_code"] == 0, report
