"""Cancellation, three ways: each closes the stream to Gemini, sends no edit after the
answer, ends progress and answers the request."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import Emulator, Reply
from testkit.document import ClientDocument
from tests.clients import EditorClient
from tests.e2e.helpers import STYLES, edit_args, editor, execute, generate_args, wait_for

# A long, slow answer: cancelled long before its end.
SLOW = Reply([f"line_{i} = {i}\n" for i in range(200)], chunk_delay_ms=20)


async def start_generation(
    client: EditorClient, argument: dict[str, Any], command: str = "gemini.generate"
) -> tuple[asyncio.Task[Any], str]:
    msg_id = f"req-{command}-{len(client.applied)}"
    task = asyncio.ensure_future(
        client.lsp.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command, [argument]),
            msg_id=msg_id,
        )
    )
    await wait_for(lambda: len(client.applied) >= 3)
    return task, msg_id


async def assert_stopped(
    client: EditorClient, doc: ClientDocument, emulator: Emulator, answered_at: float
) -> None:
    """The stream was closed, nothing was edited after the answer, progress ended."""
    (request,) = emulator.requests
    await emulator.wait_for_disconnect(request, timeout=2)
    # The server says nothing runs there any more; and its answer, read after any edit it
    # had ready to send, is the barrier for late edits.
    nothing = await execute(client, "gemini.cancel", {"textDocument": {"uri": doc.uri}})
    assert nothing == {"cancelled": []}
    assert all(edit.time <= answered_at for edit in client.applied)
    for reports in client.lsp.progress_reports.values():
        assert reports[-1].kind == "end"


@pytest.mark.parametrize("style", STYLES)
async def test_cancel_request(style: str, tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(SLOW)
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "c.py", "\n")
        task, msg_id = await start_generation(client, generate_args(doc, 0))
        client.lsp.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        with pytest.raises(JsonRpcException) as raised:
            await task
        answered_at = asyncio.get_running_loop().time()
        assert raised.value.code == types.LSPErrorCodes.RequestCancelled
        await assert_stopped(client, doc, emulator, answered_at)
        # onCancel=keep (the default): what arrived stays, whole lines of the answer.
        assert doc.text.startswith("line_0 = 0\n")
        (reports,) = client.lsp.progress_reports.values()
        assert reports[-1].message == "Cancelled"


@pytest.mark.parametrize("style", STYLES)
async def test_cancel_through_progress(style: str, tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(SLOW)
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "c.py", "\n")
        task, _ = await start_generation(client, generate_args(doc, 0))
        (token,) = client.lsp.progress_reports
        client.lsp.protocol.notify(
            types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token)
        )
        result = await task
        answered_at = asyncio.get_running_loop().time()
        assert result["status"] == "cancelled"
        await assert_stopped(client, doc, emulator, answered_at)
        assert doc.text.startswith(result["text"])


@pytest.mark.parametrize("style", STYLES)
async def test_cancel_command(style: str, tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(SLOW)
    async with editor(style, tmp_path, emulator, onCancel="discard") as client:
        doc = client.open(tmp_path / "c.py", "keep = 1\n")
        task, _ = await start_generation(client, generate_args(doc, len("keep = 1\n")))
        cancelled = await execute(client, "gemini.cancel", {"textDocument": {"uri": doc.uri}})
        answered_at = asyncio.get_running_loop().time()
        assert cancelled == {"cancelled": ["g1"]}
        result = await task
        assert result["status"] == "cancelled"
        await assert_stopped(client, doc, emulator, answered_at)
        # onCancel=discard: the partial text is gone, the document is as it was.
        assert doc.text == "keep = 1\n"


async def test_cancelled_edit_restores_original(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(SLOW)
    original = "a = 1\nb = 2\nc = 3\n"
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "e.py", original)
        task, _ = await start_generation(client, edit_args(doc, 6, 12), "gemini.edit")
        assert doc.text != original
        assert (await execute(client, "gemini.cancel", {}))["cancelled"] == ["g1"]
        assert (await task)["status"] == "cancelled"
        assert doc.text == original


async def test_cancel_with_nothing_running(tmp_path: Path, emulator: Emulator) -> None:
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        assert await execute(client, "gemini.cancel", {"id": "g42"}) == {"cancelled": []}
