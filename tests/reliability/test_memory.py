"""Large attachments cost memory only while their generation runs: cancelling a batch of them
brings the server back near where it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gemini_lsp.emulator import Emulator, Reply
from testkit.emulators import API_KEY
from tests.reliability.harness import generate_args, session

MB = 1024 * 1024
BATCH = 6  # 54 MB of attachments at once: under the 64 MB the server holds at most
ROUNDS = 2
# The stated bound: after each cancelled batch, resident memory is back within this of the
# baseline (it peaks at about 100 MB over it meanwhile; before issue 14 it stayed ~230 MB up).
SLACK = 25 * MB


async def test_rss_returns_near_the_baseline_after_cancelling_large_attachments(
    tmp_path: Path,
) -> None:
    for index in range(BATCH):
        (tmp_path / f"big{index}.txt").write_bytes(bytes([97 + index]) * (9 * MB))
    stalled = [Reply(["x = 1\n"], stall_after=1) for _ in range(BATCH * ROUNDS)]
    async with Emulator(api_key=API_KEY, first_token_ms=0, chars_per_second=0) as emulator:
        emulator.script(Reply(["warm = 1\n"]), *stalled)
        async with session(tmp_path, emulator) as s:

            def with_attachment(name: str, index: int) -> dict[str, object]:
                argument = generate_args(s.open(name, "\n"), 0)
                argument["attachments"] = [(tmp_path / f"big{index}.txt").as_uri()]
                return argument

            # The SDK imported and one large request sent and answered: the baseline.
            await asyncio.wait_for(s.execute("gemini.generate", with_attachment("w.py", 0)), 30)
            baseline = (await s.stats())["rssBytes"]
            for round_ in range(ROUNDS):
                requests = [
                    asyncio.ensure_future(
                        s.execute("gemini.generate", with_attachment(f"r{round_}_{i}.py", i))
                    )
                    for i in range(BATCH)
                ]
                # Four talk to Gemini (maxConcurrent), two wait: all hold their files.
                deadline = asyncio.get_running_loop().time() + 30
                while (
                    len(emulator.requests) < 1 + (round_ + 1) * min(BATCH, 4)
                    or (await s.stats())["attachmentBytes"] < BATCH * 9 * MB
                ):
                    assert asyncio.get_running_loop().time() < deadline, "requests not sent"
                    await asyncio.sleep(0.05)
                assert (await s.stats())["attachmentBytes"] == BATCH * 9 * MB
                await asyncio.wait_for(s.execute("gemini.cancel", {}), 30)
                answers = await asyncio.wait_for(asyncio.gather(*requests), 30)
                assert {answer["status"] for answer in answers} == {"cancelled"}
                stats = await s.stats()
                assert stats["attachmentBytes"] == 0 and stats["running"] == 0
                assert stats["rssBytes"] <= baseline + SLACK, (
                    f"round {round_}: {stats['rssBytes'] / MB:.0f} MB after cancelling, "
                    f"baseline {baseline / MB:.0f} MB"
                )
