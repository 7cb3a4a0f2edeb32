"""Failures mid-stream keep what arrived and say why; errors a person can act on."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import Emulator, ErrorSpec, Reply
from testkit.emulators import API_KEY
from tests.reliability.harness import (
    REQUEST_FAILED,
    Session,
    edit_args,
    generate_args,
    session,
    wait_for,
)

TWO_LINES = ["kept_a = 1\n", "kept_b = 2\n", "lost = 3\n"]


async def failure(s: Session, command: str, argument: dict[str, Any]) -> str:
    """The RequestFailed message, also shown to the user and ending the progress."""
    error = await s.fails(command, argument)
    assert error.code == REQUEST_FAILED
    shown = s.lsp.messages[-1]
    assert shown.type == types.MessageType.Error
    assert shown.message == error.message
    last_progress = list(s.lsp.progress_reports.values())[-1][-1]
    assert last_progress.kind == "end"
    assert last_progress.message.startswith("Failed: ")
    return error.message


@pytest.mark.parametrize(
    ("fault", "reply", "expected"),
    [
        ("disconnect", Reply(TWO_LINES, disconnect_after=2), "The connection to Gemini broke"),
        ("error-event", Reply(TWO_LINES, error_event_after=2), "Gemini service error (500"),
        ("malformed", Reply(TWO_LINES, malformed_after=2), "Gemini sent a response that could"),
    ],
)
async def test_a_failure_mid_stream_keeps_what_arrived(
    fault: str, reply: Reply, expected: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(reply)
    async with session(tmp_path, emulator, retries=2) as s:
        doc = s.open(f"{fault}.py", "before = 0\n")
        message = await failure(s, "gemini.generate", generate_args(doc, len(doc.text)))
        assert message.startswith(expected), message
        assert "the 2 lines that arrived were kept" in message
        assert doc.text.rstrip() == "before = 0\nkept_a = 1\nkept_b = 2"
        (request,) = emulator.requests  # no retry once text has arrived
        await emulator.wait_until_done(request, timeout=2)  # not left open


async def test_a_broken_rewrite_restores_the_original(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(TWO_LINES, disconnect_after=2))
    async with session(tmp_path, emulator, retries=2) as s:
        original = "a = 1\nb = 2\nc = 3\n"
        doc = s.open("edit.py", original)
        message = await failure(s, "gemini.edit", edit_args(doc, 6, 12))
        assert "(the original text is unchanged)" in message
        assert doc.text == original


async def test_on_cancel_discard_rolls_a_broken_insertion_back(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(TWO_LINES, disconnect_after=2))
    async with session(tmp_path, emulator, onCancel="discard", retries=2) as s:
        doc = s.open("discard.py", "before = 0\n")
        message = await failure(s, "gemini.generate", generate_args(doc, len(doc.text)))
        assert "what arrived was not kept" in message
        assert doc.text == "before = 0\n"


async def test_a_cancel_while_a_failure_lands_its_text_ends_it(
    tmp_path: Path, emulator: Emulator
) -> None:
    """The editor is slow to apply edits: a cancel while a failure is still landing its
    text is answered at once, nothing left waiting, and the server stays healthy."""
    async with session(tmp_path, emulator, retries=2) as s:
        apply_edit = s.lsp.protocol.fm.features[types.WORKSPACE_APPLY_EDIT]
        slow_edits: list[bool] = []  # one per slow edit, True once it has been answered

        async def slow_apply_edit(params: types.ApplyWorkspaceEditParams) -> object:
            slow_edits.append(False)
            await asyncio.sleep(0.3)  # the slow editor itself, not a wait
            slow_edits[slow_edits.index(False)] = True
            return s.editor.apply_edit(params)

        s.lsp.protocol.fm.features[types.WORKSPACE_APPLY_EDIT] = slow_apply_edit
        emulator.script(Reply(TWO_LINES, disconnect_after=2))
        doc = s.open("slow.py", "before = 0\n")
        failing = asyncio.ensure_future(s.execute("gemini.generate", generate_args(doc, 11)))
        # The stream has broken and an edit is still with the editor.
        await wait_for(lambda: bool(emulator.requests) and emulator.requests[0].done)
        await wait_for(lambda: False in slow_edits)
        cancelled = await asyncio.wait_for(s.execute("gemini.cancel", {}), 3)
        assert cancelled["cancelled"] == ["g1"]
        with contextlib.suppress(JsonRpcException):
            await asyncio.wait_for(failing, 3)
        s.lsp.protocol.fm.features[types.WORKSPACE_APPLY_EDIT] = apply_edit
        # The client is still applying: pygls' client cannot stop with a handler running.
        await wait_for(lambda: all(slow_edits))

        # The server is healthy: the next generation works.
        emulator.script(Reply(["fine = True\n"]))
        doc = s.open("fine.py", "before = 0\n")
        result = await s.execute("gemini.generate", generate_args(doc, len(doc.text)))
        assert result["status"] == "completed"
        assert doc.text.rstrip() == "before = 0\nfine = True"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_errors_a_person_can_act_on(tmp_path: Path, emulator: Emulator) -> None:
    # The key comes from the settings only, so that the test can take it away.
    async with session(tmp_path, emulator, env={}, apiKey=API_KEY, retries=0) as s:
        doc = s.open("errors.py", "\n")
        at = generate_args(doc, 0)

        s.configure(apiKey="wrong-key-4d5e6f")
        message = await failure(s, "gemini.generate", at)
        assert "API key is not valid" in message and "GEMINI_API_KEY" in message
        assert "wrong-key-4d5e6f" not in message

        s.configure(apiKey=None)
        assert "No Gemini API key" in await failure(s, "gemini.generate", at)

        s.configure(baseUrl=f"http://127.0.0.1:{closed_port()}")
        message = await failure(s, "gemini.generate", at)
        assert message.startswith("Cannot reach Gemini at http://127.0.0.1:")
        assert "baseUrl" in message

        s.configure()  # back to the emulator, with the right key
        emulator.script(
            Reply(error=ErrorSpec(code=429, message="Quota exceeded", retry_delay="9s"))
        )
        message = await failure(s, "gemini.generate", at)
        assert "quota exceeded" in message.lower() and "retry in 9 s" in message

        message = await failure(s, "gemini.generate", {**at, "model": "palm-2"})
        assert message.startswith("Model 'palm-2' not found") and "geminiLsp.model" in message

        emulator.script(Reply(["unsafe = 1\n"], finish_reason="SAFETY"))
        message = await failure(s, "gemini.generate", at)
        assert "Gemini stopped the answer (SAFETY)" in message and "nothing was kept" in message
        assert doc.text == "\n"

        emulator.script(Reply(["cut = 1\n", "off = 2\n"], finish_reason="MAX_TOKENS"))
        result = await s.execute("gemini.generate", at)
        assert result["status"] == "completed"
        assert "maxOutputTokens" in result["notice"]
        assert "MAX_TOKENS" in list(s.lsp.progress_reports.values())[-1][-1].message
        assert doc.text.startswith("cut = 1\noff = 2")
