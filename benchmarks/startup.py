"""Start-up and footprint: process start → `initialize` answered, against the floor of
`python -c "import pygls.lsp.server"`, alternately; the idle server's resident memory; and
the first generation of a fresh server (which pays for importing the SDK) against a later
one on the same server."""

from __future__ import annotations

import asyncio
import math
import resource
import sys
import time

import attrs

from testkit.styles import Style

from .client import LeanClient
from .concurrency import paced_reply
from .cpu import process_cpu_s
from .harness import Harness, server_env
from .report import Figure
from .rss import rss_mb, settled_rss
from .sizes import Sizes
from .stats import median, ms

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


# The smallest language server pygls makes: what any pygls server holds once initialized.
_BARE_PYGLS_SERVER = (
    "from pygls.lsp.server import LanguageServer; LanguageServer('bare', '1').start_io()"
)


async def _bare_server_rss(harness: Harness, style: Style) -> float:
    """A bare pygls server's settled RSS after answering the same `initialize`: on top of its
    imports, it has structured the client's capabilities, which costs a megabyte or more."""
    client = LeanClient(style, harness.settings())
    await client.spawn(server_env(), (sys.executable, "-c", _BARE_PYGLS_SERVER))
    assert client.proc is not None
    try:
        await client.initialize(harness.workspace.as_uri())
        return await settled_rss(client.proc.pid)
    finally:
        await client.shutdown()


@attrs.define
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
        result.rss_idle_mb = await settled_rss(pid)
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
    pygls_rss = sdk_rss = bare_rss = math.nan
    if sizes.rss_floors:
        pygls_rss = await _floor_rss("pygls.lsp.server")
        sdk_rss = await _floor_rss("pygls.lsp.server, google.genai")
        bare_rss = await _bare_server_rss(harness, style)
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
            1.05,
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
            41.0,
            server=f"{measured.rss_at_initialize_mb:.1f} MB at initialize, SDK not yet loaded",
            baseline=(
                f"imports alone: pygls {pygls_rss:.1f} MB, +google.genai {sdk_rss:.1f} MB; "
                f"a bare pygls server, initialized: {bare_rss:.1f} MB"
                if sizes.rss_floors
                else ""
            ),
            details={
                "rss_at_initialize_mb": measured.rss_at_initialize_mb,
                "floor_pygls_mb": pygls_rss,
                "floor_pygls_and_sdk_mb": sdk_rss,
                "bare_pygls_server_mb": bare_rss,
            },
        ),
    ]


_TIME_SDK_IMPORT = (
    "import time, pygls.lsp.server; started = time.perf_counter(); import google.genai; "
    "print(time.perf_counter() - started)"
)


async def _sdk_import_s() -> float:
    """How long importing google-genai takes in a process that has pygls already: the part
    of a first generation that no server which loads the SDK on demand can avoid."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _TIME_SDK_IMPORT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    return float(out)


async def first_generation(harness: Harness, style: Style, sizes: Sizes) -> Figure:
    """A fresh server asked for code as soon as it is initialized, as a user who starts the
    editor to write code does: command → answer, over the same for its next generation.
    Its floor is the later generation plus the SDK's import, timed alone."""
    scripted = paced_reply(sizes)
    client = LeanClient(style, harness.settings())
    await client.spawn(server_env())
    await client.initialize(harness.workspace.as_uri())
    try:
        first = await harness.server_run(client, scripted)
        later = await harness.server_run(client, scripted)
    finally:
        await client.shutdown()
    sdk_import_s = await _sdk_import_s()
    first_s = first.response.received_at - first.sent_at
    later_s = later.response.received_at - later.sent_at
    floor = (later_s + sdk_import_s) / later_s
    # It can be less: the server imports the SDK with the collector paused, the floor does not.
    beyond = first_s - later_s - sdk_import_s
    return Figure(
        "first_generation_ratio",
        "First generation (SDK import) / a later one",
        style.name,
        first_s / later_s,
        "x",
        1.3,
        server=f"{ms(first_s):.0f} vs {ms(later_s):.0f} ms; "
        f"{ms(abs(beyond)):.0f} ms {'more' if beyond >= 0 else 'less'} than the import",
        baseline=f"floor {floor:.2f}x: the SDK's import alone takes {ms(sdk_import_s):.0f} ms",
        details={
            "first_ms": ms(first_s),
            "later_ms": ms(later_s),
            "sdk_import_ms": ms(sdk_import_s),
            "floor_ratio": floor,
        },
    )
