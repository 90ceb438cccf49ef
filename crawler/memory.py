"""Handing the memory a crawl freed back to the system.

A crawl holds its responses, pages and their results while it runs; once they are freed, glibc keeps the free
pages inside its heaps for later allocations, so a daemon's RSS stays at its busiest crawl's for good. glibc's
``malloc_trim`` returns the free pages of every heap (``madvise``), which the allocator's own trimming, done only
at the top of the main heap, does not. Measured after three crawls of 400 articles in one process: 208 → 194 MB.
Elsewhere (musl, macOS) there is nothing to call and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int  # type: ignore[attr-defined]
    return trim


def release_free_memory() -> bool:
    """Give the free pages of the C heaps back to the system; True when the C library could (glibc), whether or
    not it found any. Takes milliseconds: call it after a crawl, in a thread."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
