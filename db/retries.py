"""Transactions PostgreSQL rolls back because of a race with another one (a deadlock, 40P01, or a serialization
failure, 40001) are run again, and counted.

Two nodes of a cluster (or two writers of one daemon) storing the same canonical URL, or events with the same
key, in batches of rows locked in different orders can deadlock; PostgreSQL then aborts one of the two
transactions. Every write goes through ``Database.in_write``, whose function is re-runnable by contract (it does
its work on the session it is given), so the aborted one is run again from the start and finds the other's rows
(``INSERT … ON CONFLICT``, unique keys): one row in the end, and the retry counted here for ``/metrics``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)
T = TypeVar("T")
# SQLSTATE → reason: PostgreSQL aborted the transaction for a race, and the same work run again can succeed.
RACES = {"40P01": "deadlock", "40001": "serialization_failure"}
ATTEMPTS = 5  # runs of one transaction at most (four retries)
BACKOFF = 0.02  # seconds; the n-th retry waits up to n times this (random, so the two racers part ways)


class RetryCounts:
    """Retried transactions by reason, for this process; thread-safe (the writer thread and the loop's threads
    retry)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(RACES.values(), 0)

    def add(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + 1

    def snapshot(self) -> dict[str, int]:
        """Retries so far by reason (every reason present, 0 when none)."""
        with self._lock:
            return dict(self._counts)


COUNTS = RetryCounts()


def race_reason(exc: BaseException) -> str | None:
    """``deadlock`` or ``serialization_failure`` when ``exc`` is PostgreSQL aborting the transaction for a race
    with another one; None for anything else."""
    if isinstance(exc, DBAPIError):
        return RACES.get(getattr(exc.orig, "sqlstate", None) or "")
    return None


def retrying(transaction: Callable[[], T], *, counts: RetryCounts = COUNTS) -> T:
    """``transaction()``, run again (up to ``ATTEMPTS`` runs in all) while PostgreSQL aborts it for a race;
    each retry counted in ``counts`` and logged. Any other error, or the last race, is raised."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return transaction()
        except DBAPIError as exc:
            reason = race_reason(exc)
            if reason is None or attempt == ATTEMPTS:
                raise
            counts.add(reason)
            logger.warning("transaction aborted by PostgreSQL (%s, attempt %d of %d): running it again", reason,
                           attempt, ATTEMPTS)
            time.sleep(random.uniform(0, BACKOFF * attempt))
    raise AssertionError("unreachable")  # the loop returns or raises
