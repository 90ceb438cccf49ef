"""Pages and paragraphs of documents: which one a line or sentence of a document's text is on, how a position is
stored with claim sentences and sentence diffs, and how it is shown ("p. 3", "¶ 12")."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from analysis.types import TextPositions, VersionDiff

PAGE, PARAGRAPH = "page", "paragraph"
UNITS = (PAGE, PARAGRAPH)
_PREFIX = {PAGE: "p.", PARAGRAPH: "¶"}


def of_lines(unit: str, line_counts: Sequence[int]) -> TextPositions:
    """The positions of a text made of units (pages, paragraphs) of ``line_counts`` lines each, in order."""
    if unit not in UNITS:
        raise ValueError(f"unknown position unit {unit!r}")
    starts: list[int] = []
    line = 0
    for count in line_counts:
        starts.append(line)
        line += count
    return TextPositions(unit, tuple(starts))


def at_line(positions: TextPositions, line: int) -> int:
    """The unit (numbered from 1) that line ``line`` of the text is on."""
    return max(1, bisect_right(positions.starts, line))


def loaded(unit: str | None, starts: Sequence[Any] | None) -> TextPositions | None:
    """A version row's stored positions back, None when it has none (a web page, a version stored before them)."""
    if unit is None or starts is None:
        return None
    return TextPositions(unit, tuple(int(start) for start in starts))


def diff_positions(diff: VersionDiff, before: TextPositions | None,
                   after: TextPositions | None) -> dict[str, Any] | None:
    """Where the removed sentences of a diff were in the old document and the added ones are in the new, as the
    diff row stores it (``removed`` and ``added`` parallel to the diff's sentences), None when neither text is a
    document's."""
    if before is None and after is None:
        return None
    return {
        "unit_before": before.unit if before else None,
        "removed": [at_line(before, line) for line in diff.removed_lines] if before else [],
        "unit_after": after.unit if after else None,
        "added": [at_line(after, line) for line in diff.added_lines] if after else [],
    }


def diff_labels(positions: dict[str, Any] | None, side: str, count: int) -> list[str | None]:
    """The labels of a stored diff's ``removed`` or ``added`` sentences (``side``), ``count`` of them: None for a
    sentence without a position."""
    if not positions:
        return [None] * count
    unit = positions.get("unit_before" if side == "removed" else "unit_after")
    numbers = list(positions.get(side) or [])
    numbers += [None] * (count - len(numbers))
    return [label(unit, number) for number in numbers[:count]]


def label(unit: str | None, number: int | None) -> str | None:
    """How a position is shown: ``p. 3`` for a page, ``¶ 12`` for a paragraph, None without one."""
    if unit is None or number is None or unit not in _PREFIX:
        return None
    return f"{_PREFIX[unit]} {number}"
