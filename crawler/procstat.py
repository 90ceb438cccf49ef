"""CPU seconds of a process or thread, read from Linux's ``/proc`` (for logs and benchmarks)."""

from __future__ import annotations

import os
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat: Path) -> float:
    """User + system CPU seconds from a ``/proc/<pid>/stat`` or ``/proc/<pid>/task/<tid>/stat`` file; raises
    OSError when the process or thread is gone. The name field can hold spaces and parentheses, so the fields
    are counted from its closing parenthesis."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
