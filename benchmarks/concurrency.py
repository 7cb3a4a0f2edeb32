"""Concurrency: many generations at once, each in its own document, against one alone.

Each stream is paced like a real model (about a second long), so the figure shows what
the server adds by juggling them, not how fast one CPU can parse SSE. The raw SDK doing
the same is measured alongside as the floor.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .harness import DOCUMENT, PROMPT, Harness, chunk_texts, reply
from .report import Figure
from .sizes import Sizes
from .stats import median, ms
from .styles import Style


async def _server_batch(
    harness: Harness, style: Style, count: int, scripted: dict[str, Any]
) -> tuple[float, int]:
    """Seconds from the first command to the last answer, and how many documents came out wrong."""
    client = await harness.server(style)
    await harness.emulator.script(*([scripted] * count))
    documents = [client.open(harness.new_uri(), DOCUMENT) for _ in range(count)]
    started = time.monotonic()
    answers = [client.generate(document, 1, PROMPT) for document in documents]
    responses = await asyncio.gather(*answers)
    elapsed = max(r.received_at for r in responses) - started
    expected = DOCUMENT.replace("\n\n", "\n" + "".join(scripted["chunks"])[:-1] + "\n")
    wrong = sum(
        d.text != expected or r.error is not None for d, r in zip(documents, responses, strict=True)
    )
    for document in documents:
        client.close(document)
    return elapsed, wrong


async def _baseline_batch(harness: Harness, count: int, scripted: dict[str, Any]) -> float:
    assert harness.sdk is not None
    await harness.emulator.script(*([scripted] * count))
    started = time.monotonic()
    streams = await asyncio.gather(*(harness.sdk.stream(PROMPT) for _ in range(count)))
    return max(s.ended_at for s in streams) - started


async def concurrency(harness: Harness, style: Style, sizes: Sizes) -> Figure:
    scripted = reply(chunk_texts(sizes.concurrent_chunks), sizes.concurrent_pace_ms)
    one: list[float] = []
    many: list[float] = []
    sdk_one: list[float] = []
    sdk_many: list[float] = []
    wrong = 0
    for _ in range(sizes.concurrent_reps):
        elapsed, bad = await _server_batch(harness, style, 1, scripted)
        one.append(elapsed)
        elapsed, bad_many = await _server_batch(harness, style, sizes.concurrent, scripted)
        many.append(elapsed)
        wrong += bad + bad_many
        sdk_one.append(await _baseline_batch(harness, 1, scripted))
        sdk_many.append(await _baseline_batch(harness, sizes.concurrent, scripted))
        await harness.settle()
    return Figure(
        "concurrency_ratio",
        f"{sizes.concurrent} generations at once / one",
        style.name,
        median(many) / median(one),
        "x",
        1.3,
        server=f"{ms(median(many)):.0f} ms vs {ms(median(one)):.0f} ms",
        baseline=f"SDK {median(sdk_many) / median(sdk_one):.2f}x ({ms(median(sdk_many)):.0f} ms)",
        details={
            "generations": sizes.concurrent,
            "one_ms": [ms(v) for v in one],
            "many_ms": [ms(v) for v in many],
            "sdk_one_ms": [ms(v) for v in sdk_one],
            "sdk_many_ms": [ms(v) for v in sdk_many],
            "documents_wrong": wrong,
        },
    )
