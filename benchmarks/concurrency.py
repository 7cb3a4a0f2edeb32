"""Concurrency: many generations at once, each in its own document, against one alone.

Each stream is paced like a real model (about a second long), so the figure shows what
the server adds by juggling them. The raw SDK doing the same is measured alongside: its
own parsing is a floor the server cannot go below. CPU time per chunk, server process
against the SDK's, says where the cost is when a busy machine blurs the wall times.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from .cpu import own_cpu_s, process_cpu_s
from .harness import DOCUMENT, OPEN_SETTLE_S, PROMPT, Harness, chunk_texts, reply
from .report import Figure
from .sizes import Sizes
from .stats import median, ms
from .styles import Style


@dataclass
class Batch:
    seconds: float  # first command (or call) to the last answer (or chunk)
    cpu_seconds: float  # of the server process, or of the baseline's
    wrong: int = 0  # documents whose final text is not the stream's


async def _server_batch(
    harness: Harness, style: Style, count: int, scripted: dict[str, Any]
) -> Batch:
    client = await harness.server(style)
    assert client.proc is not None
    await harness.emulator.script(*([scripted] * count))
    documents = [client.open(harness.new_uri(), DOCUMENT) for _ in range(count)]
    await asyncio.sleep(OPEN_SETTLE_S)
    cpu = process_cpu_s(client.proc.pid)
    started = time.monotonic()
    answers = [client.generate(document, 1, PROMPT) for document in documents]
    responses = await asyncio.gather(*answers)
    elapsed = max(r.received_at for r in responses) - started
    cpu = process_cpu_s(client.proc.pid) - cpu
    expected = DOCUMENT.replace("\n\n", "\n" + "".join(scripted["chunks"])[:-1] + "\n")
    wrong = sum(
        d.text != expected or r.error is not None for d, r in zip(documents, responses, strict=True)
    )
    for document in documents:
        client.close(document)
    return Batch(elapsed, cpu, wrong)


async def _baseline_batch(harness: Harness, count: int, scripted: dict[str, Any]) -> Batch:
    assert harness.sdk is not None
    await harness.emulator.script(*([scripted] * count))
    cpu = own_cpu_s()
    started = time.monotonic()
    streams = await asyncio.gather(*(harness.sdk.stream(PROMPT) for _ in range(count)))
    return Batch(max(s.ended_at for s in streams) - started, own_cpu_s() - cpu)


async def concurrency(harness: Harness, style: Style, sizes: Sizes) -> Figure:
    chunks = chunk_texts(sizes.concurrent_chunks, sizes.concurrent_chunk_chars)
    scripted = reply(chunks, sizes.concurrent_pace_ms)
    runs: dict[str, list[Batch]] = {"one": [], "many": [], "sdk_one": [], "sdk_many": []}
    for _ in range(sizes.concurrent_reps):
        runs["one"].append(await _server_batch(harness, style, 1, scripted))
        runs["many"].append(await _server_batch(harness, style, sizes.concurrent, scripted))
        runs["sdk_one"].append(await _baseline_batch(harness, 1, scripted))
        runs["sdk_many"].append(await _baseline_batch(harness, sizes.concurrent, scripted))
        await harness.settle()
    wall = {name: median([b.seconds for b in batches]) for name, batches in runs.items()}
    # CPU per chunk of the 32-at-once batches: the server's process against the SDK's.
    chunk_count = sizes.concurrent * len(chunks)
    cpu = {
        name: ms(median([b.cpu_seconds for b in runs[name]])) / chunk_count
        for name in ("many", "sdk_many")
    }
    # Paired by repetition, as measured one after the other.
    ratios = [m.seconds / o.seconds for m, o in zip(runs["many"], runs["one"], strict=True)]
    return Figure(
        "concurrency_ratio",
        f"{sizes.concurrent} generations at once / one",
        style.name,
        median(ratios),
        "x",
        1.3,
        server=f"{ms(wall['many']):.0f} vs {ms(wall['one']):.0f} ms; "
        f"CPU {cpu['many']:.2f} ms/chunk",
        baseline=f"SDK {wall['sdk_many'] / wall['sdk_one']:.2f}x; "
        f"CPU {cpu['sdk_many']:.2f} ms/chunk",
        details={
            "generations": sizes.concurrent,
            "chunks_each": len(chunks),
            **{f"{name}_ms": [ms(b.seconds) for b in batches] for name, batches in runs.items()},
            "server_cpu_ms_per_chunk": cpu["many"],
            "sdk_cpu_ms_per_chunk": cpu["sdk_many"],
            "documents_wrong": sum(b.wrong for b in runs["one"] + runs["many"]),
        },
    )
