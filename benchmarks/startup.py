"""Start-up and footprint: process start → `initialize` answered, against the floor of
`python -c "import pygls.lsp.server"`, alternately; and the idle server's resident memory."""

from __future__ import annotations

import asyncio
import math
import resource
import sys
import time
from dataclasses import dataclass

from .client import LeanClient
from .cpu import process_cpu_s
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


_PRINT_RSS = (
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS:')))"
)


async def _floor_rss(modules: str) -> float:
    """What a bare interpreter holds after importing `modules`: the footprint's floor."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", f"import {modules}; {_PRINT_RSS}", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return int(out) / 1024


@dataclass
class Start:
    seconds: float
    cpu_seconds: float  # what the process burnt to get there: steadier than wall time
    rss_at_initialize_mb: float = math.nan
    rss_idle_mb: float = math.nan


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _floor() -> Start:
    cpu = _children_cpu_s()
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "import pygls.lsp.server")
    await proc.wait()
    # Counted once the child is reaped; no other child of ours ends meanwhile.
    return Start(time.monotonic() - started, _children_cpu_s() - cpu)


async def _server(harness: Harness, style: Style, measure_rss: bool) -> Start:
    client = LeanClient(style, harness.settings())
    started = time.monotonic()
    pid = await client.spawn(server_env())
    response = await client.initialize(harness.workspace.as_uri())
    result = Start(response.received_at - started, process_cpu_s(pid))
    if measure_rss:
        result.rss_at_initialize_mb = rss_mb(pid)
        result.rss_idle_mb = await _settled_rss(pid)
    await client.shutdown()
    return result


async def startup(harness: Harness, style: Style, sizes: Sizes) -> list[Figure]:
    servers: list[Start] = []
    floors: list[Start] = []
    first = sizes.startup_warmups
    for k in range(first + sizes.startup_reps):
        server = await _server(harness, style, measure_rss=k == first)
        floor = await _floor()
        if k >= first:  # the first rounds only bring the files into the page cache
            servers.append(server)
            floors.append(floor)
    measured = servers[0]
    pygls_rss = sdk_rss = math.nan
    if sizes.rss_floors:
        pygls_rss = await _floor_rss("pygls.lsp.server")
        sdk_rss = await _floor_rss("pygls.lsp.server, google.genai")
    wall = (median([s.seconds for s in servers]), median([f.seconds for f in floors]))
    # Each start is paired with the floor measured right after it: the median of the pairs'
    # ratios shrugs off a moment when the machine was busy, a ratio of medians does not.
    ratios = [s.seconds / f.seconds for s, f in zip(servers, floors, strict=True)]
    cpu = (median([s.cpu_seconds for s in servers]), median([f.cpu_seconds for f in floors]))
    return [
        Figure(
            "startup_ratio",
            "Start → initialize answered / import pygls",
            style.name,
            median(ratios),
            "x",
            1.2,
            server=f"{ms(wall[0]):.0f} ms; CPU {ms(cpu[0]):.0f} ms ({cpu[0] / cpu[1]:.2f}x)",
            baseline=f"{ms(wall[1]):.0f} ms; CPU {ms(cpu[1]):.0f} ms",
            details={
                "server_ms": [ms(s.seconds) for s in servers],
                "floor_ms": [ms(f.seconds) for f in floors],
                "server_cpu_ms": [ms(s.cpu_seconds) for s in servers],
                "floor_cpu_ms": [ms(f.cpu_seconds) for f in floors],
                "cpu_ratio": cpu[0] / cpu[1],
            },
        ),
        Figure(
            "idle_rss_mb",
            "Idle RSS before the first generation",
            style.name,
            measured.rss_idle_mb,
            "MB",
            50.0,
            server=f"{measured.rss_at_initialize_mb:.1f} MB at initialize, SDK not yet loaded",
            baseline=(
                f"imports alone: pygls {pygls_rss:.1f} MB, +google.genai {sdk_rss:.1f} MB"
                if sizes.rss_floors
                else ""
            ),
            details={
                "rss_at_initialize_mb": measured.rss_at_initialize_mb,
                "floor_pygls_mb": pygls_rss,
                "floor_pygls_and_sdk_mb": sdk_rss,
            },
        ),
    ]
