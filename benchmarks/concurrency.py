"""Concurrency: many generations at once, each in its own document, against one alone.

Each stream is paced like a real model (about a second long), so the figure shows what
the server adds by juggling them. The raw SDK doing the same is measured alongside: its
own parsing is a floor the server cannot go below. CPU time per chunk, server process
against the SDK's, says where the cost is when a busy machine blurs the wall times; the
server's resident memory, sampled while the batch runs, says what each generation holds.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import attrs

from testkit.styles import Style

from .client import LeanClient
from .cpu import own_cpu_s, process_cpu_s
from .harness import (
    DOCUMENT,
    MAX_CONCURRENT,
    OPEN_SETTLE_S,
    PROMPT,
    Harness,
    chunk_texts,
    reply,
    server_env,
)
from .report import Figure
from .rss import rss_mb, settled_rss
from .sizes import Sizes
from .stats import ms


@attrs.define
class Batch:
    seconds: float  # first command (or call) to the last answer (or chunk)
    cpu_seconds: float  # of the server process, or of the baseline's
    wrong: int = 0  # documents whose final text is not the stream's
    idle_rss_mb: float = math.nan  # the server's, settled, before the batch
    peak_rss_mb: float = math.nan  # the most it held while the batch ran


async def _sample_peak(pid: int, done: asyncio.Event) -> float:
    peak = 0.0
    while not done.is_set():
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.02)
    return peak


async def server_batch(
    harness: Harness,
    client: LeanClient,
    count: int,
    scripted: dict[str, Any],
    idle_rss: bool = False,
) -> Batch:
    """`count` generations at once, one per document, on the running server `client`;
    with `idle_rss`, first wait (a second or more) for its memory to settle and read it."""
    assert client.proc is not None
    pid = client.proc.pid
    idle = await settled_rss(pid) if idle_rss else math.nan
    await harness.emulator.script(*([scripted] * count))
    documents = [client.open(harness.new_uri(), DOCUMENT) for _ in range(count)]
    await asyncio.sleep(OPEN_SETTLE_S)
    done = asyncio.Event()
    sampler = asyncio.create_task(_sample_peak(pid, done))
    cpu = process_cpu_s(pid)
    started = time.monotonic()
    answers = [client.generate(document, 1, PROMPT) for document in documents]
    responses = await asyncio.gather(*answers)
    elapsed = max(r.received_at for r in responses) - started
    cpu = process_cpu_s(pid) - cpu
    done.set()
    peak = await sampler
    expected = DOCUMENT.replace("\n\n", "\n" + "".join(scripted["chunks"])[:-1] + "\n")
    wrong = sum(
        d.text != expected or r.error is not None for d, r in zip(documents, responses, strict=True)
    )
    for document in documents:
        client.close(document)
    return Batch(elapsed, cpu, wrong, idle, peak)


async def _baseline_batch(harness: Harness, count: int, scripted: dict[str, Any]) -> Batch:
    assert harness.sdk is not None
    await harness.emulator.script(*([scripted] * count))
    cpu = own_cpu_s()
    started = time.monotonic()
    streams = await asyncio.gather(*(harness.sdk.stream(PROMPT) for _ in range(count)))
    return Batch(max(s.ended_at for s in streams) - started, own_cpu_s() - cpu)


def paced_reply(sizes: Sizes) -> dict[str, Any]:
    """A stream like a real model's: about a second long, 1,600 chars/s."""
    chunks = chunk_texts(sizes.concurrent_chunks, sizes.concurrent_chunk_chars)
    return reply(chunks, sizes.concurrent_pace_ms)


async def sdk_alone(harness: Harness, sizes: Sizes) -> Batch:
    """The SDK reading one paced stream: what both batches' SDK figures are relative to."""
    return await _baseline_batch(harness, 1, paced_reply(sizes))


async def concurrency(harness: Harness, style: Style, sizes: Sizes, sdk_one: Batch) -> list[Figure]:
    """`sizes.concurrent` at once over one: wall time, and CPU per chunk against the SDK's."""
    scripted = paced_reply(sizes)
    client = await harness.server(style)
    count = sizes.concurrent
    one = await server_batch(harness, client, 1, scripted)
    many = await server_batch(harness, client, count, scripted)
    sdk_many = await _baseline_batch(harness, count, scripted)
    chunk_count = count * sizes.concurrent_chunks
    cpu = (ms(many.cpu_seconds) / chunk_count, ms(sdk_many.cpu_seconds) / chunk_count)
    details = {
        "generations": count,
        "chunks_each": sizes.concurrent_chunks,
        "one_ms": ms(one.seconds),
        "many_ms": ms(many.seconds),
        "sdk_one_ms": ms(sdk_one.seconds),
        "sdk_many_ms": ms(sdk_many.seconds),
        "server_cpu_ms_per_chunk": cpu[0],
        "sdk_cpu_ms_per_chunk": cpu[1],
        "documents_wrong": one.wrong + many.wrong,
    }
    return [
        Figure(
            "concurrency_ratio",
            f"{count} generations at once / one",
            style.name,
            many.seconds / one.seconds,
            "x",
            1.3,
            server=f"{ms(many.seconds):.0f} vs {ms(one.seconds):.0f} ms",
            baseline=f"SDK {sdk_many.seconds / sdk_one.seconds:.2f}x",
            details=details,
        ),
        Figure(
            "cpu_per_chunk_ratio_concurrent",
            f"CPU per chunk / SDK's, {count} at once",
            style.name,
            cpu[0] / cpu[1],
            "x",
            1.15,
            server=f"{cpu[0]:.3f} ms/chunk",
            baseline=f"SDK {cpu[1]:.3f} ms/chunk",
            details=details,
        ),
    ]


async def hundred(harness: Harness, style: Style, sizes: Sizes, sdk_one: Batch) -> list[Figure]:
    """`sizes.many_at_once` at once over one (wall time), and the RSS each one holds.

    On a fresh server: one that already ran batches has freed memory to reuse, which would
    hide what the batch itself needs."""
    scripted = paced_reply(sizes)
    client = LeanClient(style, harness.settings())
    await client.spawn(server_env())
    await client.initialize(harness.workspace.as_uri())
    count = sizes.many_at_once
    try:
        # Pays for importing the SDK: no need to pace it.
        await server_batch(harness, client, 1, reply(chunk_texts(2), 0, 0))
        one = await server_batch(harness, client, 1, scripted)
        many = await server_batch(harness, client, count, scripted, idle_rss=True)
    finally:
        await client.shutdown()
    # The SDK alone doing the same: at this many streams, its own parsing can fill the CPUs.
    sdk_many = await _baseline_batch(harness, count, scripted)
    sdk_ratio = sdk_many.seconds / sdk_one.seconds
    per_generation_kb = (many.peak_rss_mb - many.idle_rss_mb) * 1024 / count
    details = {
        "generations": count,
        "max_concurrent": MAX_CONCURRENT,
        "one_ms": ms(one.seconds),
        "many_ms": ms(many.seconds),
        "sdk_one_ms": ms(sdk_one.seconds),
        "sdk_many_ms": ms(sdk_many.seconds),
        "server_cpu_ms_per_chunk": ms(many.cpu_seconds) / (count * sizes.concurrent_chunks),
        "sdk_cpu_ms_per_chunk": ms(sdk_many.cpu_seconds) / (count * sizes.concurrent_chunks),
        "idle_rss_mb": many.idle_rss_mb,
        "peak_rss_mb": many.peak_rss_mb,
        "documents_wrong": one.wrong + many.wrong,
    }
    queued = f"; {count - MAX_CONCURRENT} queued" if count > MAX_CONCURRENT else ""
    return [
        Figure(
            "many_at_once_ratio",
            f"{count} generations at once / one",
            style.name,
            many.seconds / one.seconds,
            "x",
            1.5,
            server=f"{ms(many.seconds):.0f} vs {ms(one.seconds):.0f} ms"
            f" (maxConcurrent {MAX_CONCURRENT}{queued})",
            baseline=f"SDK {sdk_ratio:.2f}x",
            details=details,
        ),
        Figure(
            "rss_per_running_generation_kb",
            f"RSS per running generation, {count} at once",
            style.name,
            per_generation_kb,
            "KB",
            200.0,
            server=f"peak {many.peak_rss_mb:.1f} MB, idle {many.idle_rss_mb:.1f} MB",
            baseline="",
            details=details,
        ),
    ]
