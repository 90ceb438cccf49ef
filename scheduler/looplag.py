"""Event-loop lag: how late the loop wakes a task that asked to sleep, a direct measure of a blocked loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from scheduler.metrics import Metrics

logger = logging.getLogger(__name__)


async def watch_loop_lag(metrics: Metrics, interval: float = 0.25,
                         on_lag: Callable[[float], None] | None = None) -> None:
    """Sleep ``interval`` seconds, over and over, and report each overshoot to ``metrics.loop_lag`` (and to
    ``on_lag``, with every measurement: the caller decides what is worth a warning). Runs until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + interval
        await asyncio.sleep(interval)
        # The loop may run a timer up to its clock resolution early: that is no lag.
        lag = max(0.0, loop.time() - expected)
        metrics.loop_lag(lag)
        if on_lag is not None:
            try:
                on_lag(lag)
            except Exception:
                logger.exception("loop lag callback failed")
