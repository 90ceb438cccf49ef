"""Kill test of the alert outbox: SIGKILL a dispatcher at random moments while deliveries flow.

    .venv/bin/python bench/alerts_kill_bench.py                    # 200 kills, 100 events x 2 destinations
    .venv/bin/python bench/alerts_kill_bench.py --kills 12 --events 30 --json   # the short version the tests run

A fresh SQLite database gets ``--events`` events routed to two HTTP receivers on 127.0.0.1 that answer
slowly (``--delay`` seconds per request, so kills land mid-send). A dispatcher subprocess (the real
``Dispatcher``, looping until the outbox is empty) is started and killed with SIGKILL after a random
0–``--window`` seconds, ``--kills`` times; then one last dispatcher runs to the end. Afterwards every
(event, destination) must have arrived, and every duplicate must carry the key of the delivery it repeats.
Prints the counts (and JSON with ``--json``); exits 1 when anything was lost or a duplicate had a new key.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEASE_SECONDS = 1.0

CHILD = """
import asyncio, sys
from alerts.dispatch import Dispatcher
from alerts.types import AlertOptions, RouteSpec
from db.engine import Database
from db import outbox

db = Database(sys.argv[1])
routes = [RouteSpec("newsroom", tuple(sys.argv[2:]))]
dispatcher = Dispatcher(db, routes, AlertOptions(timeout=5.0, backoff=0.2, max_backoff=0.5, lease={lease}))

async def main() -> None:
    while True:
        await dispatcher.dispatch()
        with db.read() as session:
            waiting = [r for r in outbox.delivery_rows(session) if r["status"] in ("pending", "failed")]
        if not waiting:
            return
        await asyncio.sleep(0.05)

asyncio.run(main())
"""


def run(kills: int, events: int, delay: float, window: float, seed: int) -> dict[str, Any]:
    """One kill run; returns the counts."""
    from alerts.dispatch import KEY_HEADER
    from alerts.routes import Router
    from alerts.types import RouteSpec
    from db import events as event_store
    from db import outbox
    from db.engine import Database
    from db.migrate import upgrade
    from tests.receivers import HttpReceiver

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp, HttpReceiver("hang", hang_seconds=delay) as first, \
            HttpReceiver("hang", hang_seconds=delay) as second:
        url = f"sqlite:///{tmp}/kill.db"
        db = Database(url)
        upgrade(db)
        urls = (first.url(timeout=5.0), second.url(timeout=5.0))
        routes = [RouteSpec("newsroom", urls)]
        drafts = [event_store.EventDraft("new_claim", f"new_claim:kill:{n}", f"Story {n}", f"claim {n}",
                                         details={"sentence": f"Sentence {n}.", "figures": [str(n)]})
                  for n in range(events)]
        with db.write() as session:
            event_store.record_events(session, drafts, Router(routes), datetime.now(UTC))
        with db.read() as session:
            expected = {row["idempotency_key"] for row in outbox.delivery_rows(session)}
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        code = CHILD.format(lease=LEASE_SECONDS)
        started = time.perf_counter()
        for _ in range(kills):
            child = subprocess.Popen([sys.executable, "-c", code, url, *urls], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, window))
            child.send_signal(signal.SIGKILL)
            child.wait()
            time.sleep(LEASE_SECONDS * rng.random())  # sometimes before the lease ran out, sometimes after
        final = subprocess.run([sys.executable, "-c", code, url, *urls], env=env, capture_output=True, text=True,
                               timeout=600, check=False)
        seconds = time.perf_counter() - started
        received = [r.header(KEY_HEADER) for r in (*first.records, *second.records)]
        counts = Counter(received)
        with db.read() as session:
            statuses = Counter(row["status"] for row in outbox.delivery_rows(session))
        db.dispose()
    lost = sorted(expected - set(counts))
    unknown = sorted(key or "" for key in counts if key not in expected)
    return {
        "kills": kills, "events": events, "destinations": 2, "deliveries": len(expected),
        "received": len(received), "distinct_received": len(counts), "lost": len(lost),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1), "duplicates_with_unknown_key": len(unknown),
        "statuses": dict(statuses), "final_exit": final.returncode, "seconds": round(seconds, 1),
        "ok": not lost and not unknown and final.returncode == 0 and statuses.get("sent", 0) == len(expected),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds each receiver takes to answer")
    parser.add_argument("--window", type=float, default=2.0, help="kill after 0..WINDOW seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.kills, args.events, args.delay, args.window, args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28s} {value}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
