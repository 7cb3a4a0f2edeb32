from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from gemini_lsp.emulator import Emulator, Reply
from tests.clients import start_editor, stop_editor
from tests.conftest import API_KEY


@pytest.mark.parametrize("style", ["visual-studio-code", "neovim"])
async def test_generate_smoke(style: str, tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["```python\n", "def f():\n", "    return 1\n", "```\n"]))
    client = await start_editor(
        style, tmp_path, {"baseUrl": emulator.base_url}, env={"GEMINI_API_KEY": API_KEY}
    )
    try:
        doc = client.open(tmp_path / "a.py", "x = 1\n\n")
        result = await client.lsp.workspace_execute_command_async(
            types.ExecuteCommandParams(
                "gemini.generate",
                [{"textDocument": {"uri": doc.uri}, "position": {"line": 1, "character": 0},
                  "prompt": "write f"}],
            )
        )
        print(result)
        assert doc.text == "x = 1\ndef f():\n    return 1\n"
    finally:
        await stop_editor(client)
