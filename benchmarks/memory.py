"""Memory growth: whether the server holds on to anything from the generations it has run.

A fresh server runs generations ten at a time, each in a document opened for it and closed
after, each the size of a real model's answer (20 lines of 80 characters) but sent flat out,
to keep the run short. Its RSS once settled after the first 10 is the reference; after
`sizes.memory_generations` it may have grown by 2 MB at most, which caches that fill once
fit in and a leak of 2 KB a generation does not.
"""

from __future__ import annotations

import time

from testkit.styles import Style

from .client import LeanClient
from .concurrency import server_batch
from .harness import Harness, chunk_texts, reply, server_env
from .report import Figure
from .rss import settled_rss
from .sizes import Sizes

BATCH = 10


async def growth(harness: Harness, style: Style, sizes: Sizes) -> Figure:
    total = sizes.memory_generations
    scripted = reply(chunk_texts(20, 80), 0, 0)  # a model's answer, flat out
    client = LeanClient(style, harness.settings())
    pid = await client.spawn(server_env())
    await client.initialize(harness.workspace.as_uri())
    wrong = 0
    try:
        wrong += (await server_batch(harness, client, BATCH, scripted)).wrong
        after_first = await settled_rss(pid)
        started = time.monotonic()
        for _ in range(total // BATCH - 1):
            wrong += (await server_batch(harness, client, BATCH, scripted)).wrong
        seconds = time.monotonic() - started
        after_all = await settled_rss(pid)
    finally:
        await client.shutdown()
    return Figure(
        "rss_growth_mb",
        f"RSS after {total} generations - after {BATCH}",
        style.name,
        after_all - after_first,
        "MB",
        2.0,
        server=f"{after_first:.1f} → {after_all:.1f} MB; {seconds / (total - BATCH) * 1000:.1f} "
        "ms/generation",
        baseline="",
        details={
            "generations": total,
            "rss_after_first_mb": after_first,
            "rss_after_all_mb": after_all,
            "documents_wrong": wrong,
        },
    )
