"""Cancellation: `$/cancelRequest` sent → the emulator sees the stream closed, and → the
request answered, while text is streaming in (a user pressing Escape mid-generation)."""

from __future__ import annotations

import asyncio
import random
import time

from testkit.styles import Style

from .harness import DOCUMENT, OPEN_SETTLE_S, PROMPT, Harness, chunk_texts, reply
from .report import Figure
from .sizes import Sizes
from .stats import median, ms, percentile

REQUEST_CANCELLED = -32800


async def cancellation(harness: Harness, style: Style, sizes: Sizes) -> list[Figure]:
    client = await harness.server(style)
    # Long enough that it is always still streaming when the cancel arrives.
    scripted = reply(chunk_texts(400), sizes.cancel_pace_ms)
    pace_s = sizes.cancel_pace_ms / 1000
    chooser = random.Random(8)
    to_disconnect: list[float] = []
    to_answer: list[float] = []
    late_edits = 0
    wrong_answers: list[str] = []
    for _ in range(sizes.cancel_runs):
        await harness.emulator.script(scripted)
        index = await harness.emulator.count()
        document = client.open(harness.new_uri(), DOCUMENT)
        await asyncio.sleep(OPEN_SETTLE_S)
        msg_id = client.next_id()
        answer = client.generate(document, 1, PROMPT, msg_id)
        await document.edited.wait()
        # Anywhere between two chunks: sometimes an edit is in flight, sometimes not.
        await asyncio.sleep(chooser.uniform(0, 2 * pace_s))
        cancelled_at = time.monotonic()
        client.notify("$/cancelRequest", {"id": msg_id})
        response = await answer
        record = await harness.emulator.wait_done(index)
        client.close(document)
        if response.error is None or response.error.get("code") != REQUEST_CANCELLED:
            wrong_answers.append(str(response.error or response.result))
        late_edits += sum(edit.received_at > response.received_at for edit in document.edits)
        to_answer.append(ms(response.received_at - cancelled_at))
        if record["disconnectedAt"] is not None:
            to_disconnect.append(ms(record["disconnectedAt"] - cancelled_at))
    details = {
        "runs": sizes.cancel_runs,
        "streams_not_closed": sizes.cancel_runs - len(to_disconnect),
        "edits_after_answer": late_edits,
        "answers_not_request_cancelled": wrong_answers[:3],
    }
    return [
        Figure(
            "cancel_to_disconnect_p99_ms",
            "Cancel → emulator sees disconnect, p99",
            style.name,
            percentile(to_disconnect, 99)
            if len(to_disconnect) == sizes.cancel_runs
            else float("inf"),
            "ms",
            20.0,
            server=f"p50 {median(to_disconnect):.2f} ms",
            details={**details, "samples_ms": to_disconnect},
        ),
        Figure(
            "cancel_to_answer_p99_ms",
            "Cancel → request answered, p99",
            style.name,
            percentile(to_answer, 99),
            "ms",
            20.0,
            server=f"p50 {median(to_answer):.2f} ms",
            details={**details, "samples_ms": to_answer},
        ),
    ]
