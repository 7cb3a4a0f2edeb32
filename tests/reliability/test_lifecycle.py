"""Lifecycle: a document closed mid-stream, `shutdown`/`exit` with generations in flight, and
a client that disappears mid-stream."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import Emulator, Reply
from tests.reliability.harness import (
    REQUEST_FAILED,
    Session,
    edit_args,
    generate_args,
    session,
    wait_for,
)

SLOW = Reply([f"line_{i} = {i}\n" for i in range(300)], chunk_delay_ms=20)


async def streaming(s: Session, command: str, argument: dict[str, object]) -> asyncio.Task[Any]:
    """Start a generation and return once its text is arriving."""
    edits = len(s.editor.applied)
    task = asyncio.ensure_future(s.execute(command, argument))
    await wait_for(lambda: len(s.editor.applied) >= edits + 2)
    return task


async def test_close_mid_stream(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(SLOW)
    async with session(tmp_path, emulator) as s:
        doc = s.open("closing.py", "\n")
        task = await streaming(s, "gemini.generate", generate_args(doc, 0))
        s.editor.close(doc)
        closed_at = asyncio.get_running_loop().time()
        with pytest.raises(JsonRpcException) as raised:
            await task
        assert raised.value.code == REQUEST_FAILED
        assert "document was closed" in raised.value.message
        assert "reopen it" in raised.value.message
        assert any("document was closed" in m.message for m in s.lsp.messages)
        (request,) = emulator.requests
        await emulator.wait_for_disconnect(request, timeout=2)
        # The server's state, whose answer comes after any edit it had ready, is also the
        # barrier for late edits.
        assert (await s.stats())["generations"] == 0  # a closed document keeps nothing
        assert all(edit.time <= closed_at for edit in s.editor.applied)


async def test_shutdown_mid_stream(tmp_path: Path, emulator: Emulator) -> None:
    """`shutdown` with a generation and a rewrite streaming: both are stopped and answered
    before `shutdown` is, the rewrite's original is back, the streams are closed."""
    emulator.script(SLOW, SLOW)
    async with session(tmp_path, emulator) as s:
        original = "a = 1\nb = 2\nc = 3\n"
        doc = s.open("inflight.py", original)
        other = s.open("other.py", "\n")
        rewrite = await streaming(s, "gemini.edit", edit_args(doc, 6, 12))
        insert = await streaming(s, "gemini.generate", generate_args(other, 0))
        # And a request of the server's that the client never answers (pygls' shutdown
        # cancels it while iterating the dict that its cancellation changes).
        asked, release = asyncio.Event(), asyncio.Event()

        async def configuration(params: types.ConfigurationParams) -> list[object]:
            asked.set()
            await release.wait()
            return [{}]

        s.lsp.protocol.fm.features[types.WORKSPACE_CONFIGURATION] = configuration
        s.lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(None))
        await asyncio.wait_for(asked.wait(), 10)
        await asyncio.wait_for(s.lsp.shutdown_async(None), 10)
        # In the order the server sent them (the client's own callbacks may run out of it).
        results = [m["result"] for m in map(json.loads, s.received) if "result" in m]
        ends = [r for r in results if r is None or (isinstance(r, dict) and "status" in r)]
        assert [None if r is None else r["status"] for r in ends] == ["cancelled"] * 2 + [None]
        for task in (rewrite, insert):
            assert (await task)["status"] == "cancelled"
        assert doc.text == original
        for request in emulator.requests:
            await emulator.wait_for_disconnect(request, timeout=2)
        release.set()  # a late answer, to a request the server has given up on
        # The server drops it without a word: only time lets it arrive before `exit`.
        await asyncio.sleep(0.1)
        s.lsp.exit(None)
        assert await asyncio.wait_for(s.lsp._server.wait(), 10) == 0
    for trouble in ("Traceback", "dictionary changed size", "Task was destroyed"):
        assert trouble not in s.everything()


@pytest.mark.parametrize("how", ["stdin-closed", "killed", "exit-without-shutdown"])
async def test_client_disappears_mid_stream(how: str, tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(SLOW)
    async with session(tmp_path, emulator) as s:
        doc = s.open("gone.py", "\n")
        task = await streaming(s, "gemini.generate", generate_args(doc, 0))
        server = s.lsp._server
        if how == "exit-without-shutdown":
            s.lsp.exit(None)
        else:
            server.stdin.close()
            if how == "killed":  # the client's end of stdout goes with it too
                server._transport.get_pipe_transport(1).close()
        assert await asyncio.wait_for(server.wait(), 10) == 1  # no `shutdown` came first
        (request,) = emulator.requests
        await emulator.wait_for_disconnect(request, timeout=2)
        task.cancel()
    log = s.log_file.read_text()
    assert "Traceback" not in log and "Traceback" not in s.stderr.decode()
    assert "The editor disconnected during the generation" in log
