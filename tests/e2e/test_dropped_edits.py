"""Editors that drop an edit yet answer `applied: true` (Neovim skips a stale versioned edit
and says so): the server believes the synced document, not the answer, in every client's
habits, and the text still lands exactly once."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from gemini_lsp.emulator import Emulator, Reply
from tests.e2e.helpers import STYLES, editor, execute, generate_args, wait_for

LINES = [f"value_{n} = {n}\n" for n in range(24)]


@pytest.mark.parametrize("style", STYLES)
async def test_dropped_edits_are_sent_again(style: str, tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(LINES, chunk_delay_ms=15))
    original = "# head\n\n# tail\n"
    async with editor(style, tmp_path, emulator) as client:
        doc = client.open(tmp_path / "drops.py", original)
        every_third = itertools.cycle([False, False, True])
        client.drops = lambda: next(every_third)
        result = await execute(client, "gemini.generate", generate_args(doc, len("# head\n")))
        assert result["status"] == "completed"
        assert client.dropped >= 1, "the editor dropped nothing: the test proves nothing"
        client.drops = None
        # Only a sync shows the server what was dropped: the user goes on typing.
        client.type(doc, len(doc.text), "# more\n")
        generated = "".join(LINES)[:-1]
        await wait_for(lambda: doc.text == f"# head\n{generated}\n# tail\n# more\n", timeout=10)
        await client.quiet(0.3)
        assert doc.text == f"# head\n{generated}\n# tail\n# more\n"
