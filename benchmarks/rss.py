"""Resident memory of a process, from /proc."""

from __future__ import annotations

import asyncio
import time


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def settled_rss(pid: int, limit_s: float = 5.0) -> float:
    """RSS once it stops moving (a second at least): a server just started or just done
    with work is still finishing it (answering, closing documents and connections)."""
    deadline = time.monotonic() + limit_s
    readings: list[float] = []
    while time.monotonic() < deadline:
        readings.append(rss_mb(pid))
        if len(readings) >= 10 and max(readings[-6:]) - min(readings[-6:]) < 0.25:
            break
        await asyncio.sleep(0.1)
    return readings[-1]
