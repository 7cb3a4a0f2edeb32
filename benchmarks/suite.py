"""The suite: which figure is measured with which editor behaviour, in what order."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable
from pathlib import Path

from . import cancellation, concurrency, inline, large, startup, streaming
from .emulator_proc import API_KEY
from .harness import Harness
from .report import Figure, table, write_json
from .sizes import FULL, QUICK
from .styles import EGLOT, NEOVIM, NEOVIM_DEBOUNCED, VSCODE

GROUPS = (
    "startup",
    "streaming",
    "throughput",
    "cancellation",
    "concurrency",
    "inline",
    "large",
)


async def run(quick: bool, out: Path, groups: list[str]) -> tuple[list[Figure], str]:
    sizes = QUICK if quick else FULL
    figures: list[Figure] = []
    timings: dict[str, float] = {}
    load_before = os.getloadavg()
    async with Harness() as harness:

        async def phase(name: str, *measured: Awaitable[Figure | list[Figure]]) -> None:
            started = time.monotonic()
            for item in measured:
                result = await item
                figures.extend(result if isinstance(result, list) else [result])
            timings[name] = round(time.monotonic() - started, 2)
            await harness.settle()

        # Start-up first, before the warm servers of the other figures exist.
        if "startup" in groups:
            await phase("startup", startup.startup(harness, VSCODE, sizes))
        if "streaming" in groups:
            styles = [VSCODE, NEOVIM] if quick else [VSCODE, NEOVIM, NEOVIM_DEBOUNCED]
            await phase(
                "streaming",
                *(streaming.first_edit(harness, s, sizes) for s in styles),
                *(streaming.per_chunk(harness, s, sizes) for s in styles),
            )
            await harness.stop_server(NEOVIM_DEBOUNCED)
        if "throughput" in groups:
            clients = (VSCODE, NEOVIM) if quick else (VSCODE, NEOVIM, EGLOT)
            await phase("throughput", *(streaming.throughput(harness, s, sizes) for s in clients))
            await harness.stop_server(EGLOT)
        if "cancellation" in groups:
            await phase(
                "cancellation",
                *(cancellation.cancellation(harness, s, sizes) for s in (VSCODE, NEOVIM)),
            )
        if "concurrency" in groups:
            await phase("concurrency", concurrency.concurrency(harness, VSCODE, sizes))
        if "inline" in groups:
            await phase("inline", inline.inline(harness, VSCODE, sizes))
        if "large" in groups and sizes.large_document:
            await phase("large", large.large_documents(quick, harness.emulator.base_url, API_KEY))
    write_json(
        out,
        figures,
        {
            "quick": quick,
            "sizes": sizes.__dict__,
            "load_average": {"before": load_before, "after": os.getloadavg()},
            "phase_seconds": timings,
        },
    )
    return figures, table(figures)
