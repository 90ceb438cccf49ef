"""Kill test of the alert outbox: SIGKILL dispatchers at random moments while events flow to real receivers.

    .venv/bin/python bench/alerts_kill_bench.py                    # 200 kills, 100 events x 2 destinations
    .venv/bin/python bench/alerts_kill_bench.py --kills 8 --events 20 --json     # the short version the tests run
    .venv/bin/python bench/alerts_kill_bench.py --database postgresql --dispatchers 2 --kills 50

A fresh database (SQLite in a temporary folder, or a throw-away PostgreSQL database on the server of
``--pg-url``, by default ``LABOURWATCH_TEST_PG_URL`` or the local one the tests use) gets ``--events`` events,
recorded in batches while the dispatchers run, routed to two HTTP receivers on 127.0.0.1 that answer slowly
(``--delay`` seconds per request, so kills land mid-send). ``--dispatchers`` dispatcher subprocesses (the real
``Dispatcher``, each looping until the outbox is empty and claiming ``--batch`` deliveries a pass, so that they
share the work) run at once; ``--kills`` times one of them, chosen at random, is killed with SIGKILL a random
0–``--window`` seconds after it is ready to send, and replaced. Then the dispatchers run to the end. Afterwards
every (event, destination) must have arrived, and every duplicate must carry the key of the delivery it
repeats (so none is left after de-duplicating by idempotency key). Prints the counts (and JSON with
``--json``); exits 1 when anything was lost or a duplicate had a new key.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.killing import PG_URL, key_tally, print_result, scratch_database  # noqa: E402

LEASE_SECONDS = 1.0

CHILD = """
import asyncio, sys
from alerts.dispatch import Dispatcher
from alerts.types import AlertOptions, RouteSpec
from db.engine import Database
from db import outbox

db = Database(sys.argv[1])
routes = [RouteSpec("newsroom", tuple(sys.argv[3:]), events=("new_claim",))]
options = AlertOptions(timeout=5.0, backoff=0.2, max_backoff=0.5, lease={lease}, batch=int(sys.argv[2]))
dispatcher = Dispatcher(db, routes, options)
print("ready", flush=True)

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


@dataclass(frozen=True)
class Plan:
    """What one kill run does."""

    kills: int
    events: int
    delay: float = 0.02
    window: float = 2.0
    seed: int = 1
    database: str = "sqlite"
    dispatchers: int = 1
    batch: int = 5
    pg_url: str = PG_URL


def batches(events: int, parts: int) -> list[range]:
    """``range(events)`` cut into ``parts`` consecutive batches of nearly equal size (some may be empty)."""
    bounds = [events * n // parts for n in range(parts + 1)]
    return [range(low, high) for low, high in pairwise(bounds)]


class Dispatchers:
    """The dispatcher subprocesses of one run."""

    def __init__(self, url: str, batch: int, urls: Sequence[str]) -> None:
        self.argv = [sys.executable, "-c", CHILD.format(lease=LEASE_SECONDS), url, str(batch), *urls]
        self.env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.running: list[subprocess.Popen[bytes]] = []

    def top_up(self, count: int) -> None:
        """Start dispatchers until ``count`` run (one that found the outbox empty has exited)."""
        self.running = [child for child in self.running if child.poll() is None]
        while len(self.running) < count:
            self.running.append(subprocess.Popen(self.argv, env=self.env, stdout=subprocess.PIPE,
                                                 stderr=subprocess.DEVNULL))

    def kill_one(self, rng: random.Random, window: float) -> None:
        """SIGKILL one running dispatcher, chosen at random, 0..``window`` seconds after it is ready to send
        (its imports take about a second: a kill before then would test nothing)."""
        victim = self.running.pop(rng.randrange(len(self.running)))
        assert victim.stdout is not None
        victim.stdout.readline()  # "ready", or nothing if it has exited already
        time.sleep(rng.uniform(0, window))
        victim.kill()
        victim.wait()
        victim.stdout.close()

    def finish(self, count: int) -> int:
        """Run ``count`` dispatchers to the end (with those still running); the worst exit code."""
        self.top_up(count)
        codes = [child.wait(timeout=600) for child in self.running]
        for child in self.running:
            if child.stdout is not None:
                child.stdout.close()
        return max(codes)


def record(db: Any, routes: Sequence[Any], numbers: range) -> None:
    """Store the events numbered ``numbers`` with their deliveries, as a crawl would."""
    from alerts.routes import Router
    from db import events as event_store

    drafts = [event_store.EventDraft("new_claim", f"new_claim:kill:{n}", f"Story {n}", f"claim {n}",
                                     details={"sentence": f"Sentence {n}.", "figures": [str(n)]})
              for n in numbers]
    with db.write() as session:
        event_store.record_events(session, drafts, Router(list(routes)), datetime.now(UTC))


def tally(db: Any, records: Sequence[Any]) -> dict[str, Any]:
    """What arrived against what the outbox holds: lost, duplicates, and duplicates under an unknown key."""
    from alerts.send import KEY_HEADER
    from db import outbox

    with db.read() as session:
        rows = outbox.delivery_rows(session)
    statuses = Counter(row["status"] for row in rows)
    counts = key_tally((row["idempotency_key"] for row in rows), (r.header(KEY_HEADER) for r in records))
    return {**counts, "statuses": dict(statuses),
            "ok": not counts["lost"] and not counts["duplicates_with_unknown_key"]
            and statuses.get("sent", 0) == counts["deliveries"]}


def run(plan: Plan) -> dict[str, Any]:
    """One kill run; returns the counts."""
    from alerts.types import RouteSpec
    from db.engine import Database
    from db.migrate import upgrade
    from tests.receivers import HttpReceiver

    rng = random.Random(plan.seed)
    with tempfile.TemporaryDirectory() as tmp, scratch_database(plan.database, tmp, plan.pg_url) as url, \
            HttpReceiver("hang", hang_seconds=plan.delay) as first, \
            HttpReceiver("hang", hang_seconds=plan.delay) as second:
        db = Database(url)
        upgrade(db)
        urls = (first.url(timeout=5.0), second.url(timeout=5.0))
        routes = [RouteSpec("newsroom", urls, events=("new_claim",))]
        children = Dispatchers(url, plan.batch, urls)
        arriving = batches(plan.events, max(plan.kills, 1))
        started = time.perf_counter()
        for numbers in arriving[:plan.kills]:
            record(db, routes, numbers)  # events keep arriving while dispatchers run and die
            children.top_up(plan.dispatchers)
            children.kill_one(rng, plan.window)
            time.sleep(LEASE_SECONDS * rng.random())  # sometimes before the lease ran out, sometimes after
        for numbers in arriving[plan.kills:]:
            record(db, routes, numbers)
        final_exit = children.finish(plan.dispatchers)
        seconds = time.perf_counter() - started
        result = tally(db, (*first.records, *second.records))
        db.dispose()
    return {"database": plan.database, "dispatchers": plan.dispatchers, "kills": plan.kills, "events": plan.events,
            "destinations": 2, **result, "final_exit": final_exit, "seconds": round(seconds, 1),
            "ok": result["ok"] and final_exit == 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds each receiver takes to answer")
    parser.add_argument("--window", type=float, default=2.0, help="kill after 0..WINDOW seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--dispatchers", type=int, default=1, help="dispatchers running at once")
    parser.add_argument("--batch", type=int, default=5, help="deliveries one dispatch pass claims")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server for --database postgresql")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(Plan(args.kills, args.events, args.delay, args.window, args.seed, args.database,
                      max(1, args.dispatchers), args.batch, args.pg_url))
    return print_result(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
