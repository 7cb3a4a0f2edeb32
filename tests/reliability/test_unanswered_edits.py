"""An editor that stops answering `workspace/applyEdit` for one document holds up nothing else:
other documents keep streaming (the stuck one holds no concurrency slot), a cancel answers at
once, and the stuck generation fails after `editTimeoutSeconds` saying why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import Emulator, Reply
from tests.reliability.harness import REQUEST_FAILED, generate_args, session, wait_for

CODE = Reply(["a = 1\n", "b = 2\n", "c = 3\n"], chunk_delay_ms=5)


async def test_an_editor_that_never_answers_holds_up_nothing_else(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(CODE, CODE, CODE)
    async with session(tmp_path, emulator, maxConcurrent=1, editTimeoutSeconds=1.5) as s:
        stuck = s.open("stuck.py", "\n")
        other = s.open("other.py", "# other\n\n")
        s.editor.unanswered.add(stuck.uri)
        failing = asyncio.ensure_future(s.execute("gemini.generate", generate_args(stuck, 0)))
        await wait_for(lambda: len(emulator.requests) == 1)
        started = asyncio.get_running_loop().time()

        # The one slot went back once Gemini's answer was read: another document streams.
        result = await asyncio.wait_for(
            s.execute("gemini.generate", generate_args(other, len("# other\n"))), 10
        )
        assert result["status"] == "completed"
        assert other.text == "# other\na = 1\nb = 2\nc = 3\n"

        # The stuck generation fails on its own, in bounded time, naming the cause.
        with pytest.raises(JsonRpcException) as failed:
            await asyncio.wait_for(failing, 10)
        assert failed.value.code == REQUEST_FAILED
        assert "has not answered an edit" in failed.value.message
        assert "editTimeoutSeconds" in failed.value.message
        assert asyncio.get_running_loop().time() - started < 1.5 + 2.0
        assert stuck.text == "\n"  # nothing was applied there
        s.editor.answer_again()


async def test_a_cancel_answers_at_once_whatever_the_editor_does(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply([f"x{i} = {i}\n" for i in range(100)], chunk_delay_ms=20), CODE)
    async with session(tmp_path, emulator, editTimeoutSeconds=30) as s:
        stuck = s.open("stuck.py", "\n")
        s.editor.unanswered.add(stuck.uri)
        running = asyncio.ensure_future(s.execute("gemini.generate", generate_args(stuck, 0)))
        await wait_for(lambda: any('"workspace/applyEdit"' in m for m in s.received))
        loop = asyncio.get_running_loop()
        asked = loop.time()
        cancelled = await s.execute("gemini.cancel", {})
        answered = loop.time() - asked
        assert cancelled == {"cancelled": ["g1"]}
        # 100 ms is the promise; the bound here leaves room for a loaded machine.
        assert answered < 0.5, answered
        result = await asyncio.wait_for(running, 5)
        assert result["status"] == "cancelled"
        (request,) = emulator.requests
        await emulator.wait_for_disconnect(request, timeout=2)
        s.editor.answer_again()
