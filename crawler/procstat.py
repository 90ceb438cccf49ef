"""CPU seconds, resident memory and descendants of processes, read from Linux's ``/proc`` (logs, limits, benches)."""

from __future__ import annotations

import os
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(stat: Path) -> float:
    """User + system CPU seconds from a ``/proc/<pid>/stat`` or ``/proc/<pid>/task/<tid>/stat`` file; raises
    OSError when the process or thread is gone. The name field can hold spaces and parentheses, so the fields
    are counted from its closing parenthesis."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of a process in bytes (0 when it is gone), from ``/proc/<pid>/statm``."""
    try:
        resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return resident * _PAGE_SIZE


def pss_bytes(pid: int | str) -> int:
    """A process's proportional set size in bytes (0 when it is gone): what it holds, pages shared with other
    processes counted once across them, so a tree's sum is its real footprint (summed RSS counts Chromium's
    shared pages once per process, about twice the truth)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return 1024 * next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


def parents() -> dict[int, int]:
    """Every process's parent, by process id (read from each ``/proc/<pid>/stat``; gone ones left out)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, …)."""
    below: dict[int, list[int]] = {}
    for child, parent in parents().items():
        below.setdefault(parent, []).append(child)
    found: list[int] = []
    pending = list(below.get(pid, ()))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(below.get(child, ()))
    return found


def command_line(pid: int) -> str:
    """A process's command line, arguments joined by spaces ("" when it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""
