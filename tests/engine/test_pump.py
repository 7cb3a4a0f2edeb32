"""The edit pump in named situations, each message moved by hand (see sim.py)."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from gemini_lsp.engine.anchor import Region
from gemini_lsp.engine.pump import RETRY_QUIET_SECONDS
from gemini_lsp.engine.text import Loc, TextBuffer
from testkit.styles import NEOVIM_DEBOUNCED as NEOVIM
from testkit.styles import NEOVIM_VERSIONED, VSCODE, VSCODE_UNVERSIONED, Style
from tests.engine.oracle import check_generation
from tests.engine.sim import Simulation


async def step(sim: Simulation, *moves: str) -> None:
    """Move messages: "client" (one edit to the editor), "server" (one message back),
    "sync" (a debouncing editor's timer fires)."""
    for move in moves:
        await sim.run_loop()
        {"client": sim.deliver_to_client, "server": sim.deliver_to_server, "sync": sim.sync}[move]()
    await sim.run_loop()


def edits_received(sim: Simulation) -> list[str]:
    return [e.new_text for record in sim.editor.applied for _, e in record.edits]


async def test_a_skipped_versioned_edit_answered_applied_goes_again() -> None:
    sim = Simulation(NEOVIM_VERSIONED, "a\n\nb\n")
    sim.editor.type(sim.doc, 0, "Q")  # version 1, not synced yet
    sim.sync()
    await step(sim, "server")  # the server is on version 1 too
    writer, origin = sim.writer(3)
    sim.pump.append(writer, "gen")
    await sim.run_loop()
    sim.editor.type(sim.doc, 0, "W")  # the editor moves on: the edit is stale
    await step(sim, "client")  # skipped, yet answered applied:true
    assert sim.editor.skipped == 1
    await step(sim, "server", "sync", "server")  # the answer, then the typing
    await sim.drain()
    check_generation(sim.doc, origin, "gen", 2)
    assert edits_received(sim) == ["gen", "gen"]


async def test_a_change_first_after_a_versioned_edit_proves_it_never_applied() -> None:
    sim = Simulation(NEOVIM_VERSIONED, "a\n\nb\n")
    sim.editor.type(sim.doc, 0, "Q")
    await step(sim, "sync", "server")
    writer, origin = sim.writer(3)
    sim.pump.append(writer, "gen")
    await sim.run_loop()
    sim.editor.type(sim.doc, 0, "W")
    await step(sim, "sync", "client")  # the typing is synced, then the edit is skipped
    await step(sim, "server")  # the typing arrives; the answer has not yet
    await asyncio.sleep(RETRY_QUIET_SECONDS * 2)  # a retry waits for a quiet moment
    assert sim.to_client, "the text should go again without waiting for the answer"
    await sim.drain()
    check_generation(sim.doc, origin, "gen", 2)


async def test_an_edit_answered_applied_and_missing_from_the_next_sync_goes_again() -> None:
    sim = Simulation(NEOVIM, "a\n\nb\n")
    writer, origin = sim.writer(2)
    sim.pump.append(writer, "gen")
    await sim.run_loop()
    _, answer = sim.to_client.popleft()  # a client that drops it and says it applied it
    answer.set_result(types.ApplyWorkspaceEditResult(applied=True))
    await sim.run_loop()
    sim.editor.type(sim.doc, 0, "Q")
    await step(sim, "sync", "server")  # the first sync after the answer: no edit in it
    await sim.drain()
    check_generation(sim.doc, origin, "gen", 2)


async def test_a_stale_unversioned_edit_is_moved_to_its_anchor() -> None:
    sim = Simulation(NEOVIM, "a\n\nb\n")
    writer, origin = sim.writer(2)
    sim.pump.append(writer, "gen")
    await sim.run_loop()
    sim.editor.type(sim.doc, 0, "Q\n")  # a line above, not synced: the position is stale
    await step(sim, "client")
    assert sim.doc.text == "Q\ngena\n\nb\n"  # applied where the position now points
    await sim.drain()
    check_generation(sim.doc, origin, "gen", 2)
    assert sim.doc.text == "Q\na\ngen\nb\n"
    # The repair (removing the stray copy) is part of the generation's undo step.
    assert len(sim.editor.applied) == 3
    assert {record.label for record in sim.editor.applied} == {writer.label}


async def test_a_refused_edit_goes_again_on_the_new_version() -> None:
    sim = Simulation(VSCODE, "a\n\nb\n")
    writer, origin = sim.writer(2)
    sim.pump.append(writer, "gen")
    await sim.run_loop()
    sim.editor.type(sim.doc, 5, "Q")
    await step(sim, "client")
    assert sim.editor.rejected == 1
    await sim.drain()
    check_generation(sim.doc, origin, "gen", 2)


async def test_an_unversioned_edit_racing_the_typist_goes_again() -> None:
    sim = Simulation(VSCODE_UNVERSIONED, "a\n\nb\n")
    writer, origin = sim.writer(2)
    sim.pump.append(writer, "gen")
    await sim.run_loop()
    sim.editor.type(sim.doc, 0, "Q")
    await step(sim, "client")
    assert sim.editor.rejected == 1
    await sim.drain()
    check_generation(sim.doc, origin, "gen", 2)


async def test_typing_inside_stray_text_keeps_the_typing_and_removes_the_rest() -> None:
    sim = Simulation(NEOVIM, "a\n\nb\n")
    writer, origin = sim.writer(2)
    sim.pump.append(writer, "gen")
    await sim.run_loop()
    sim.editor.type(sim.doc, 0, "Q\n")
    await step(sim, "client")  # "gen" lands on the first line
    sim.editor.type(sim.doc, 3, "W")  # and the user types in the middle of it: "gWen"
    await sim.drain()
    check_generation(sim.doc, origin, "gen", 2)
    assert sim.doc.text == "Q\nWa\ngen\nb\n"


async def test_version_zero_goes_unversioned() -> None:
    style = Style("zero", "neovim", document_changes=True, check_version_zero=False)
    sim = Simulation(style, "a\n")
    writer, _ = sim.writer(0)
    sim.pump.append(writer, "x")
    await sim.run_loop()
    params, _ = sim.to_client[0]
    assert params.edit.document_changes is None and params.edit.changes


async def test_two_regions_at_one_place_are_two_anchors() -> None:
    sim = Simulation(VSCODE, "ab")
    first, second = Region(Loc(0, 1), Loc(0, 1)), Region(Loc(0, 1), Loc(0, 1))
    sim.pump.track(first)
    sim.pump.track(second)
    sim.pump.untrack(second)
    assert any(region is first for region in sim.pump.regions)
    assert not any(region is second for region in sim.pump.regions)


@pytest.mark.parametrize(
    ("given", "encoding"),
    [
        ("utf-8", "utf-8"),
        ("PositionEncodingKind.Utf8", "utf-8"),  # what str() of the enum gives on 3.11
        (types.PositionEncodingKind.Utf32, "utf-32"),
        ("PositionEncodingKind.Utf16", "utf-16"),
    ],
)
def test_encodings_are_read_whatever_their_spelling(given: str, encoding: str) -> None:
    buffer = TextBuffer("é😀x", given)
    units = {"utf-8": 6, "utf-16": 3, "utf-32": 2}[encoding]
    assert buffer.position(Loc(0, 2)) == types.Position(0, units)
    assert buffer.loc(types.Position(0, units)) == Loc(0, 2)


def test_the_line_ending_stays_when_every_line_break_is_gone() -> None:
    buffer = TextBuffer("a\r\n")
    buffer.replace(Loc(0, 1), Loc(1, 0), "")
    assert buffer.text == "a" and buffer.eol == "\r\n"
    assert TextBuffer("").eol == "\n"
