"""Extraction workers end with the process that made them: a daemon or crawl killed with SIGKILL leaves no
worker, fork server or resource tracker behind (each kill used to leave all three, about 150 MB, for good)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from bench.killing import alive
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
# A process that starts the crawl's worker pool as a crawl does, says which processes it made, then waits.
OWNER = """
import json, sys, time
from multiprocessing import forkserver, resource_tracker
from crawler import workers
workers._started(2, False)
print(json.dumps({"workers": workers.worker_pids(), "fork_server": forkserver._forkserver._forkserver_pid,
                  "resource_tracker": resource_tracker._resource_tracker._pid}), flush=True)
time.sleep(600)
"""


def test_workers_fork_server_and_resource_tracker_end_when_their_owner_is_sigkilled() -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    try:
        made = json.loads(owner.stdout.readline())
    finally:
        owner.kill()
        owner.wait()
        owner.stdout.close()
    pids = [*made["workers"], made["fork_server"], made["resource_tracker"]]
    assert len(made["workers"]) == 2 and all(isinstance(pid, int) for pid in pids), made
    try:
        wait_until(lambda: not any(alive(pid) for pid in pids), 30,
                   f"the pool's processes {pids} to end after their owner was killed")
    finally:
        for pid in filter(alive, pids):  # a failed run leaves nothing behind either
            os.kill(pid, signal.SIGKILL)
