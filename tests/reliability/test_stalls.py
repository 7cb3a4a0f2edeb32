"""Stall detection is a per-read limit: silence for `timeoutSeconds` fails a generation with a
clear message, while a slow stream whose total far exceeds it completes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gemini_lsp.emulator import Chunk, Emulator, Reply
from tests.reliability.harness import REQUEST_FAILED, generate_args, session


async def test_a_stall_fails_and_keeps_what_arrived(tmp_path: Path, emulator: Emulator) -> None:
    # Two lines, then silence until the client gives up.
    emulator.script(Reply(["stalled_a = 1\n", "stalled_b = 2\n"], stall_after=2))
    async with session(tmp_path, emulator, timeoutSeconds=1, retries=0) as s:
        doc = s.open("stall.py", "\n")
        started = asyncio.get_running_loop().time()
        # Without a per-read limit this would wait for ever.
        error = await asyncio.wait_for(s.fails("gemini.generate", generate_args(doc, 0)), 10)
        elapsed = asyncio.get_running_loop().time() - started
        assert error.code == REQUEST_FAILED
        assert "sent nothing for 1 s" in error.message
        assert "timeoutSeconds" in error.message
        assert "2 lines that arrived were kept" in error.message
        assert elapsed < 6
        # The stream was closed, what arrived stays, and the user was told.
        (stalled,) = emulator.requests
        await emulator.wait_for_disconnect(stalled, timeout=2)
        assert doc.text.startswith("stalled_a = 1\nstalled_b = 2\n")
        assert any("sent nothing" in m.message for m in s.lsp.messages)


async def test_a_slow_stream_longer_than_the_limit_completes(
    tmp_path: Path, emulator: Emulator
) -> None:
    # 2.4 s in all, never more than 0.6 s without a byte.
    emulator.script(Reply([Chunk(f"slow_{i} = {i}\n", delay_ms=600) for i in range(4)]))
    async with session(tmp_path, emulator, timeoutSeconds=1, retries=0) as s:
        doc = s.open("slow.py", "\n")
        result = await s.execute("gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        assert result["timings"]["totalMs"] > 2000  # longer than timeoutSeconds, in total
        assert result["text"].rstrip() == "".join(f"slow_{i} = {i}\n" for i in range(4)).rstrip()
        (request,) = emulator.requests
        assert request.outcome == "completed"
