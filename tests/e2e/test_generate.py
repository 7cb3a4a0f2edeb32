"""gemini.generate and gemini.edit end to end: real server over stdio, real SDK, emulator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities

from gemini_lsp.emulator import Emulator, Reply
from testkit.emulators import API_KEY
from tests.clients import start_editor, stop_editor
from tests.e2e.helpers import STYLES, edit_args, editor, execute, generate_args, progress_kinds

# Chunk boundaries split lines, a fence, multi-byte characters and a CJK string.
FENCED_CHUNKS = [
    "``",
    "`pyt",
    "hon\ndef gre",
    'et():\n    return "h',
    "é😀",
    '你好"\n',
    "``",
    "`\n",
]
GENERATED = 'def greet():\n    return "hé😀你好"'


@pytest.mark.parametrize("style", STYLES)
async def test_generate_inserts_exact_text_in_place(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(FENCED_CHUNKS, chunk_delay_ms=40))
    original = "s = 'é😀'\n\nprint(greet())\n"
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "greet.py", original)
        at = original.index("\n\n") + 1
        result = await execute(client, "gemini.generate", generate_args(doc, at, "greet"))

        assert doc.text == "s = 'é😀'\n" + GENERATED + "\nprint(greet())\n"
        assert result["status"] == "completed"
        assert result["text"] == GENERATED
        assert result["id"].startswith("g")
        assert result["model"] == "gemini-2.5-flash"
        start, end = doc.position(at), doc.position(at + len(GENERATED))
        assert result["range"] == {
            "start": {"line": start.line, "character": start.character},
            "end": {"line": end.line, "character": end.character},
        }
        assert set(result["usage"]) == {"promptTokens", "outputTokens", "totalTokens"}
        assert result["usage"]["outputTokens"] > 0
        assert result["timings"]["totalMs"] >= result["timings"]["firstTokenMs"] > 0
        # Streamed, not dumped: several edits, each labelled with the generation.
        assert len(client.applied) >= 2
        assert {edit.label for edit in client.applied} == {f"Gemini generation {result['id']}"}
        # Versioned where the editor takes versions (past the first edit, which an editor
        # that opens documents at version 0 gets unversioned).
        takes_versions = style in ("vscode", "eglot", "batching")
        assert all(edit.versioned == takes_versions for edit in client.applied[1:])

        (request,) = emulator.requests
        assert request.action == "streamGenerateContent"
        prompt = request.body["contents"][0]["parts"][0]["text"]
        assert "Language: python" in prompt and "greet" in prompt
        assert "s = 'é😀'" in prompt
        assert "no markdown fences" in str(request.body["systemInstruction"])

        kinds = progress_kinds(client)
        assert len(kinds) == 1
        (reports,) = kinds.values()
        assert reports[0] == "begin" and reports[-1] == "end"
        assert "report" in reports
        (token,) = client.lsp.progress_reports
        begin = client.lsp.progress_reports[token][0]
        assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable
        assert "lines in" in (client.lsp.progress_reports[token][-1].message or "")


@pytest.mark.parametrize("style", STYLES)
async def test_generate_mid_line_after_wide_characters(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    # The position after 😀 differs between utf-16 (2 units) and utf-8 (4 bytes).
    emulator.script(Reply(["+ 1", "2"]))
    original = "x = len('😀é') \nend\n"
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "wide.py", original)
        at = original.index(" \n") + 1
        await execute(client, "gemini.generate", generate_args(doc, at))
        assert doc.text == "x = len('😀é') + 12\nend\n"


@pytest.mark.parametrize("style", STYLES)
async def test_generate_follows_indentation_of_insertion_point(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(["```python\nif x:\n", "    y = 1\n", "z = 2\n```"]))
    original = "def f(x):\n    \n    return x\n"
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "indent.py", original)
        at = original.index("    \n") + 4
        await execute(client, "gemini.generate", generate_args(doc, at))
        assert doc.text == "def f(x):\n    if x:\n        y = 1\n    z = 2\n    return x\n"


@pytest.mark.parametrize("style", STYLES)
async def test_edit_keeps_original_until_complete(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(["def add(a, b):\n", "    return a + b\n", "\n"], chunk_delay_ms=10))
    original = "import os\ndef add(a,b): return a+b\nprint(add(1, 2))\n"
    old = "def add(a,b): return a+b\n"
    snapshots: list[str] = []
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "add.py", original)
        client.on_edit.append(lambda _: snapshots.append(doc.text))
        start = original.index(old)
        result = await execute(client, "gemini.edit", edit_args(doc, start, start + len(old)))
        assert doc.text == "import os\ndef add(a, b):\n    return a + b\nprint(add(1, 2))\n"
        assert result["status"] == "completed"
        assert result["text"] == "def add(a, b):\n    return a + b\n"
        # Every state before the last edit still holds the original, untouched.
        assert len(snapshots) >= 2
        assert all(old in text for text in snapshots[:-1])
        assert old not in snapshots[-1]
        (record,) = emulator.requests
        prompt = record.body["contents"][0]["parts"][0]["text"]
        assert "<<<SELECTION>>>def add(a,b): return a+b" in prompt


async def test_progress_uses_the_clients_token(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["a = 1\n", "b = 2\n"]))
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "t.py", "\n")
        client.lsp.progress_reports["client-token"] = []
        await execute(
            client, "gemini.generate", generate_args(doc, 0), work_done_token="client-token"
        )
        kinds = progress_kinds(client)
        assert list(kinds) == ["client-token"]
        assert kinds["client-token"][0] == "begin" and kinds["client-token"][-1] == "end"


async def test_no_progress_token_created_for_client_without_support(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(["a = 1\n"]))
    caps = client_capabilities("visual-studio-code")
    assert caps.window is not None
    caps.window.work_done_progress = False
    client = await start_editor(
        "visual-studio-code",
        tmp_path,
        {"baseUrl": emulator.base_url},
        env={"GEMINI_API_KEY": API_KEY},
        capabilities=caps,
    )
    try:
        doc = client.open(tmp_path / "t.py", "\n")
        result = await execute(client, "gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        assert client.lsp.progress_reports == {}
    finally:
        await stop_editor(client)


async def test_typing_right_after_the_command_does_not_move_the_generation(
    tmp_path: Path, emulator: Emulator
) -> None:
    # The user asks for code and types on at once, above it: the change follows the command
    # down the pipe, and may be read before the command has looked at the document. The
    # generation still goes where the user asked, and the typing stays where it was made.
    emulator.script(Reply(["x = 1\n", "y = 2"], chunk_delay_ms=40))
    original = "# head\n\n# tail\n"
    async with editor("vscode", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "typed.py", original)
        command = asyncio.ensure_future(
            execute(client, "gemini.generate", generate_args(doc, original.index("\n\n") + 1))
        )
        for _ in range(5):  # until the command is written (`execute` starts it in a task)
            await asyncio.sleep(0)
        for _ in range(3):
            client.type(doc, 0, "# typed\n")
        result = await command

        assert result["status"] == "completed"
        assert doc.text == "# typed\n" * 3 + "# head\nx = 1\ny = 2\n# tail\n"
