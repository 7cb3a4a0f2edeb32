"""A writer's text kept in pieces, and edits that go out with no event-loop turn to wait for."""

from __future__ import annotations

import asyncio
import random

from lsprotocol import types

from gemini_lsp.engine.anchor import Region
from gemini_lsp.engine.documents import DocumentStore
from gemini_lsp.engine.pump import EditPump
from gemini_lsp.engine.text import Loc
from gemini_lsp.engine.writer import Writer

Answer = asyncio.Future[types.ApplyWorkspaceEditResult]


def _lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


async def test_placed_text_and_its_counts_agree_however_it_grows_and_shrinks() -> None:
    writer = Writer(Region(Loc(0, 0), Loc(0, 0)), "g1")
    rng = random.Random(7)
    expected = ""
    for _ in range(500):
        roll = rng.random()
        if roll < 0.7:
            piece = rng.choice(["", "a", "\n", "ab\n", "x\ny", "\r\n"])
            writer.add_placed(piece)
            expected += piece
        elif roll < 0.85:
            expected = expected[: max(len(expected) - rng.randint(0, 5), 0)]
            writer.placed = writer.placed[: len(expected)]
        assert writer.placed_length == len(expected)
        assert writer.placed_lines == _lines(expected)
        assert writer.placed == expected


async def test_pending_text_goes_in_one_piece_and_requeued_text_goes_first() -> None:
    writer = Writer(Region(Loc(0, 0), Loc(0, 0)), "g1")
    writer.pending.extend(["b", "c"])
    writer.requeue("a")
    writer.requeue("")
    assert writer.take_pending() == "abc"
    assert writer.pending == []


async def test_an_answer_sends_the_next_edit_itself() -> None:
    """The first edit leaves with the chunk that makes it, and the next one with the
    answer to it: neither waits for a task to be woken."""
    store = DocumentStore()
    uri = "file:///w/doc.py"
    document = store.open(types.TextDocumentItem(uri, "python", 1, "a\n"))
    sent: list[tuple[str, Answer]] = []

    def send(
        params: types.ApplyWorkspaceEditParams,
    ) -> asyncio.Future[types.ApplyWorkspaceEditResult]:
        answer: asyncio.Future[types.ApplyWorkspaceEditResult] = (
            asyncio.get_running_loop().create_future()
        )
        assert params.edit.changes is not None
        sent.append((params.edit.changes[uri][0].new_text, answer))
        return answer

    pump = EditPump(document, send, versioned=False)
    writer = Writer(Region(Loc(1, 0), Loc(1, 0)), "g1")
    pump.add_writer(writer)
    pump.append(writer, "one")
    assert [text for text, _ in sent] == ["one"]
    pump.append(writer, "two")
    pump.append(writer, "three")
    assert len(sent) == 1, "one edit in flight at a time"
    sent[0][1].set_result(types.ApplyWorkspaceEditResult(applied=True))
    await asyncio.sleep(0)  # the answer's callback runs
    assert [text for text, _ in sent] == ["one", "twothree"]
    assert writer.placed == "one"
    pump.stop()
