"""The suite: which figure is measured with which editor behaviour, in what order, how often."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import attrs

from testkit.styles import EGLOT, NEOVIM, NEOVIM_DEBOUNCED, VSCODE

from . import cancellation, concurrency, inline, large, memory, startup, streaming
from .harness import Harness
from .pipe_floor import pipe_floor_ms
from .report import Figure, merge, table, write_json
from .sizes import Sizes

# One run of a group: the harness, the sizes, which repeat (from 0) → that run's figures.
Group = Callable[[Harness, Sizes, int], Awaitable[list[Figure]]]


async def _startup(harness: Harness, sizes: Sizes, repeat: int) -> list[Figure]:
    if repeat > 0:  # the files are in the page cache now, and the floors are known
        sizes = attrs.evolve(sizes, startup_warmups=0, rss_floors=False)
    figures = await startup.startup(harness, VSCODE, sizes)
    return [*figures, await startup.first_generation(harness, VSCODE, sizes)]


async def _streaming(harness: Harness, sizes: Sizes, repeat: int) -> list[Figure]:
    styles = [VSCODE, NEOVIM, NEOVIM_DEBOUNCED]
    figures = [await streaming.first_edit(harness, s, sizes) for s in styles]
    floor = await pipe_floor_ms(sizes.paced_chunks, sizes.pace_ms)  # the same for every style
    return figures + [await streaming.per_chunk(harness, s, sizes, floor) for s in styles]


async def _throughput(harness: Harness, sizes: Sizes, repeat: int) -> list[Figure]:
    figures = []
    for style in (VSCODE, NEOVIM, EGLOT):
        figures += await streaming.throughput(harness, style, sizes)
    return figures


async def _cancellation(harness: Harness, sizes: Sizes, repeat: int) -> list[Figure]:
    figures = []
    for style in (VSCODE, NEOVIM):
        figures += await cancellation.cancellation(harness, style, sizes)
    return figures


async def _concurrency(harness: Harness, sizes: Sizes, repeat: int) -> list[Figure]:
    sdk_one = await concurrency.sdk_alone(harness, sizes)
    figures = await concurrency.concurrency(harness, VSCODE, sizes, sdk_one)
    return figures + await concurrency.hundred(harness, VSCODE, sizes, sdk_one)


async def _memory(harness: Harness, sizes: Sizes, repeat: int) -> list[Figure]:
    return [await memory.growth(harness, VSCODE, sizes)]


async def _inline(harness: Harness, sizes: Sizes, repeat: int) -> list[Figure]:
    return await inline.inline(harness, VSCODE, sizes)


async def _large(harness: Harness, sizes: Sizes, repeat: int) -> list[Figure]:
    return [await large.large_documents(sizes, repeat)]


# In the order they run: start-up first, before the warm servers of the others exist.
GROUPS: dict[str, Group] = {
    "startup": _startup,
    "streaming": _streaming,
    "throughput": _throughput,
    "cancellation": _cancellation,
    "concurrency": _concurrency,
    "memory": _memory,
    "inline": _inline,
    "large": _large,
}
# Warm servers a group alone uses, stopped once it is done.
_ONLY_IN = {"streaming": NEOVIM_DEBOUNCED, "throughput": EGLOT}


@attrs.frozen
class Options:
    sizes: Sizes
    mode: str  # "quick", "default" or "full"
    repeats: int
    groups: list[str]
    out: Path


async def run(options: Options) -> tuple[list[Figure], str]:
    runs: list[Figure] = []
    timings: dict[str, float] = {}
    load_before = os.getloadavg()
    async with Harness() as harness:
        for name in options.groups:
            started = time.monotonic()
            for repeat in range(options.repeats):
                runs += await GROUPS[name](harness, options.sizes, repeat)
                await harness.settle()
            timings[name] = round(time.monotonic() - started, 2)
            if name in _ONLY_IN:
                await harness.stop_server(_ONLY_IN[name])
    load_after = os.getloadavg()
    figures = merge(runs)
    write_json(
        options.out,
        figures,
        {
            "mode": options.mode,
            "repeats": options.repeats,
            "sizes": attrs.asdict(options.sizes),
            "load_average": {"before": load_before, "after": load_after},
            "phase_seconds": timings,
        },
    )
    return figures, table(figures, (list(load_before), list(load_after)), options.repeats)
