"""CPU time spent, per process: unlike wall time, it barely moves when the machine is busy,
so it says where the cost is even when the ratios are blurred by other work."""

from __future__ import annotations

import os
import time

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (10 ms resolution)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces: count fields from the closing parenthesis.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def own_cpu_s() -> float:
    return time.process_time()
