"""Waiting on a condition instead of sleeping a fixed time: a busy 2-core machine may take longer, never less."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str = "the condition", interval: float = 0.1) -> T:
    """Poll ``predicate()`` until it returns something truthy and return that; AssertionError naming ``what``
    when ``timeout`` seconds pass first (the deadline is generous: it bounds a hang, it is not a timing assert)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
