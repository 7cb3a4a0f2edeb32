"""gemini.revert puts back exactly what was there; gemini.refine continues the conversation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import Emulator, Reply
from tests.e2e.helpers import STYLES, edit_args, editor, execute, generate_args


@pytest.mark.parametrize("style", STYLES)
async def test_revert_after_user_edited_elsewhere(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(["def f():\n", "    return 1\n"]))
    original = "# top\n\n# bottom\n"
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "r.py", original)
        result = await execute(client, "gemini.generate", generate_args(doc, 6))
        assert doc.text == "# top\ndef f():\n    return 1\n# bottom\n"
        client.type(doc, 0, "import os\n")  # above the generation
        client.type(doc, len(doc.text), "# end\n")  # below it
        reverted = await execute(client, "gemini.revert", {"textDocument": {"uri": doc.uri}})
        assert reverted["id"] == result["id"]
        assert doc.text == "import os\n# top\n\n# bottom\n# end\n"
        # One edit did it.
        assert client.applied[-1].label == f"Gemini revert {result['id']}"
        with pytest.raises(JsonRpcException) as raised:
            await execute(client, "gemini.revert", {"id": result["id"]})
        assert "no generation" in raised.value.message


async def test_revert_edit_restores_the_original(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["x = 2\n"]))
    original = "a\nx = 1\nb\n"
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "e.py", original)
        result = await execute(client, "gemini.edit", edit_args(doc, 2, 8))
        assert doc.text == "a\nx = 2\nb\n"
        await execute(client, "gemini.revert", {"id": result["id"]})
        assert doc.text == original


@pytest.mark.parametrize("style", STYLES)
async def test_refine_twice_replaces_in_place(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(
        Reply(["def f():\n    return 1\n"]),
        Reply(["def f() -> int:\n    return 1\n"]),
        Reply(["def f() -> int:\n    ", "return 2\n"]),
    )
    original = "# a\n\n# b\n"
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "f.py", original)
        first = await execute(client, "gemini.generate", generate_args(doc, 4, "write f"))
        second = await execute(client, "gemini.refine", {"id": first["id"], "prompt": "typed"})
        assert doc.text == "# a\ndef f() -> int:\n    return 1\n# b\n"
        third = await execute(client, "gemini.refine", {"id": second["id"], "prompt": "two"})
        assert doc.text == "# a\ndef f() -> int:\n    return 2\n# b\n"
        assert third["status"] == "completed"
        assert third["text"] == "def f() -> int:\n    return 2"

        # The conversation grows: each refinement sends the history as a chat.
        turns = [request.body["contents"] for request in emulator.requests]
        assert [len(contents) for contents in turns] == [1, 3, 5]
        roles = [content["role"] for content in turns[2]]
        assert roles == ["user", "model", "user", "model", "user"]
        assert "typed" in turns[1][2]["parts"][0]["text"]
        assert turns[2][3]["parts"][0]["text"] == "def f() -> int:\n    return 1\n"

        # Reverting the last refinement brings back the previous version.
        await execute(client, "gemini.revert", {"id": third["id"]})
        assert doc.text == "# a\ndef f() -> int:\n    return 1\n# b\n"
