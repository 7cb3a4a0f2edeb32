"""Start-up and footprint: process start → `initialize` answered, against the floor of
`python -c "import pygls.lsp.server"`, alternately; and the idle server's resident memory."""

from __future__ import annotations

import asyncio
import sys
import time

from .client import LeanClient
from .harness import Harness, server_env
from .report import Figure
from .sizes import Sizes
from .stats import median, ms
from .styles import Style


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _settled_rss(pid: int, limit_s: float = 5.0) -> float:
    """RSS once it stops growing: the server imports the SDK in the background after
    `initialized`, and that is part of what it holds while idle."""
    deadline = time.monotonic() + limit_s
    readings: list[float] = []
    while time.monotonic() < deadline:
        readings.append(rss_mb(pid))
        if len(readings) >= 10 and max(readings[-6:]) - min(readings[-6:]) < 0.25:
            break
        await asyncio.sleep(0.1)
    return readings[-1]


async def _floor() -> float:
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "import pygls.lsp.server")
    await proc.wait()
    return time.monotonic() - started


async def _server(harness: Harness, style: Style, measure_rss: bool) -> tuple[float, float, float]:
    client = LeanClient(style, harness.settings())
    started = time.monotonic()
    pid = await client.spawn(server_env())
    response = await client.initialize(harness.workspace.as_uri())
    elapsed = response.received_at - started
    at_initialize = idle = float("nan")
    if measure_rss:
        at_initialize = rss_mb(pid)
        idle = await _settled_rss(pid)
    await client.shutdown()
    return elapsed, at_initialize, idle


async def startup(harness: Harness, style: Style, sizes: Sizes) -> list[Figure]:
    server_s: list[float] = []
    floor_s: list[float] = []
    at_initialize = idle = float("nan")
    first = sizes.startup_warmups
    for k in range(first + sizes.startup_reps):
        elapsed, rss_init, rss_idle = await _server(harness, style, measure_rss=k == first)
        floor = await _floor()
        if k < first:
            continue
        if k == first:
            at_initialize, idle = rss_init, rss_idle
        server_s.append(elapsed)
        floor_s.append(floor)
    return [
        Figure(
            "startup_ratio",
            "Start → initialize answered / import pygls",
            style.name,
            median(server_s) / median(floor_s),
            "x",
            1.2,
            server=f"{ms(median(server_s)):.0f} ms",
            baseline=f"{ms(median(floor_s)):.0f} ms",
            details={"server_ms": [ms(v) for v in server_s], "floor_ms": [ms(v) for v in floor_s]},
        ),
        Figure(
            "idle_rss_mb",
            "Idle RSS before the first generation",
            style.name,
            idle,
            "MB",
            50.0,
            server=f"{at_initialize:.1f} MB at initialize",
            details={"rss_at_initialize_mb": at_initialize},
        ),
    ]
