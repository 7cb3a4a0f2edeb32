"""Failures a person can act on, bad arguments answered with InvalidParams, and a server that
keeps serving afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import Emulator, ErrorSpec, Reply
from tests.clients import start_editor, stop_editor
from tests.e2e.helpers import INVALID_PARAMS, REQUEST_FAILED, editor, execute, generate_args


async def test_quota_error_is_explained_and_server_keeps_serving(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(
        Reply(error=ErrorSpec(code=429, message="Quota exceeded", retry_delay="7s")),
        Reply(error=ErrorSpec(code=429, message="Quota exceeded", retry_delay="7s")),
        Reply(["ok = True\n"]),
    )
    async with editor("visual-studio-code", tmp_path, emulator, retries=0) as client:
        doc = client.open(tmp_path / "q.py", "\n")
        with pytest.raises(JsonRpcException) as raised:
            await execute(client, "gemini.generate", generate_args(doc, 0))
        assert raised.value.code == REQUEST_FAILED
        assert "quota" in raised.value.message.lower()
        assert "7 s" in raised.value.message
        assert any("quota" in m.message.lower() for m in client.lsp.messages)
        assert client.lsp.messages[-1].type == types.MessageType.Error
        assert doc.text == "\n"
        # Still serving: the next generation works (the second 429 is retried away).
        with pytest.raises(JsonRpcException):
            await execute(client, "gemini.generate", generate_args(doc, 0))
        result = await execute(client, "gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        assert doc.text == "ok = True\n"


async def test_bad_key_is_explained_without_leaking_it(tmp_path: Path, emulator: Emulator) -> None:
    client = await start_editor(
        "neovim",
        tmp_path,
        {"baseUrl": emulator.base_url},
        env={"GEMINI_API_KEY": "wrong-key-123456"},
    )
    try:
        doc = client.open(tmp_path / "k.py", "\n")
        with pytest.raises(JsonRpcException) as raised:
            await execute(client, "gemini.generate", generate_args(doc, 0))
        assert raised.value.code == REQUEST_FAILED
        assert "GEMINI_API_KEY" in raised.value.message
        assert "not valid" in raised.value.message
        assert "wrong-key-123456" not in raised.value.message
        assert all("wrong-key-123456" not in m.message for m in client.lsp.messages)
    finally:
        await stop_editor(client)


async def test_retry_honours_server_delay(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(
        Reply(error=ErrorSpec(code=503, message="busy", retry_delay="0.3s")),
        Reply(["x = 1\n"]),
    )
    async with editor("visual-studio-code", tmp_path, emulator, retries=2) as client:
        doc = client.open(tmp_path / "r.py", "\n")
        result = await execute(client, "gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        first, second = emulator.requests
        assert second.received_at - first.received_at >= 0.3
        (reports,) = client.lsp.progress_reports.values()
        assert any("retrying in 0.3 s" in (r.message or "") for r in reports)


@pytest.mark.parametrize(
    ("command", "argument", "names"),
    [
        ("gemini.generate", {}, "textDocument"),
        ("gemini.generate", {"textDocument": {"uri": "file:///x"}, "prompt": "p"}, "position"),
        (
            "gemini.generate",
            {
                "textDocument": {"uri": "file:///x"},
                "position": {"line": "a", "character": 0},
                "prompt": "p",
            },
            "position.line",
        ),
        (
            "gemini.generate",
            {
                "textDocument": {"uri": "file:///x"},
                "position": {"line": 0, "character": 0},
                "prompt": "p",
                "bogus": 1,
            },
            "bogus",
        ),
        (
            "gemini.generate",
            {
                "textDocument": {"uri": "file:///x"},
                "position": {"line": 0, "character": 0},
                "prompt": 7,
            },
            "prompt",
        ),
        (
            "gemini.generate",
            {
                "textDocument": {"uri": "file:///x"},
                "position": {"line": 0, "character": 0},
                "prompt": "  ",
            },
            "prompt",
        ),
        (
            "gemini.generate",
            {
                "textDocument": {"uri": "file:///not-open.py"},
                "position": {"line": 0, "character": 0},
                "prompt": "p",
            },
            "not open",
        ),
        (
            "gemini.edit",
            {
                "textDocument": {"uri": "file:///x"},
                "prompt": "p",
                "range": {"start": {"line": 2, "character": 0}, "end": {"line": 1, "character": 0}},
            },
            "range end comes before",
        ),
        ("gemini.refine", {"prompt": "p"}, "id"),
        ("gemini.cancel", {"id": 3}, "id"),
        ("gemini.unknown", {}, "Unknown command"),
    ],
)
async def test_bad_arguments_name_the_field(
    command: str, argument: dict[str, object], names: str, tmp_path: Path, emulator: Emulator
) -> None:
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        with pytest.raises(JsonRpcException) as raised:
            await execute(client, command, argument)
        assert raised.value.code == INVALID_PARAMS
        assert names in raised.value.message
        # The server keeps serving.
        assert await execute(client, "gemini.cancel", {}) == {"cancelled": []}
