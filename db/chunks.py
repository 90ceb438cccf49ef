"""Long lists of values cut into the pieces that one ``IN (...)`` clause takes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
# Values per IN clause: well under SQLite's oldest limit on bound parameters (999), few round trips otherwise.
IN_CHUNK = 500


def in_chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in consecutive pieces of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start:start + size]
