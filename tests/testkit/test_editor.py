"""The editor model (testkit) on its own: the tests and the benchmarks trust it to do what an
editor does, so each behaviour of a style is checked here against plain expectations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from testkit.document import ClientDocument
from testkit.editor import Editor, StaleEditError
from testkit.styles import (
    BATCHING,
    EGLOT,
    FULL_SYNC,
    NEOVIM,
    NEOVIM_VERSIONED,
    SYNC_AFTER_ANSWER,
    VSCODE,
    VSCODE_UNVERSIONED,
    Style,
)
from tests.engine.strategies import examples

CODECS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}
# Characters of every width in every encoding.
CHARACTERS = ("a", "é", "中", "😀", "e\u0301", "\t")


class RecordingEditor(Editor):
    """An editor whose notifications are kept for the test to read."""

    def __init__(self, encoding: str, style: Style) -> None:
        super().__init__(encoding, style)
        self.changes: list[types.DidChangeTextDocumentParams] = []

    def _send_open(self, item: types.TextDocumentItem) -> None:
        pass

    def _send_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self.changes.append(params)

    def _send_close(self, uri: str) -> None:
        pass


def units(text: str, encoding: str) -> int:
    codec, size = CODECS[encoding]
    return len(text.encode(codec, "surrogatepass")) // size


def insert(
    doc: ClientDocument, line: int, column: int, text: str, version: int | None = None
) -> types.ApplyWorkspaceEditParams:
    """An edit inserting `text` at (line, column), versioned if `version` is given."""
    at = types.Position(line, column)
    edit = types.TextEdit(types.Range(at, at), text)
    if version is None:
        return types.ApplyWorkspaceEditParams(types.WorkspaceEdit(changes={doc.uri: [edit]}))
    document = types.OptionalVersionedTextDocumentIdentifier(doc.uri, version)
    change = types.TextDocumentEdit(document, [edit])
    return types.ApplyWorkspaceEditParams(types.WorkspaceEdit(document_changes=[change]))


def opened(
    style: Style, text: str, encoding: str = "utf-16"
) -> tuple[RecordingEditor, ClientDocument]:
    editor = RecordingEditor(encoding, style)
    return editor, editor.open(Path("/doc.py"), text)


@pytest.mark.parametrize("encoding", sorted(CODECS))
@examples(40)
@given(
    lines=st.lists(st.lists(st.sampled_from(CHARACTERS), max_size=6).map("".join), min_size=1),
    data=st.data(),
)
async def test_an_edit_lands_where_its_position_says_in_each_encoding(
    encoding: str, lines: list[str], data: st.DataObject
) -> None:
    editor, doc = opened(VSCODE_UNVERSIONED, "\n".join(lines), encoding)
    line = data.draw(st.integers(0, len(lines) - 1), label="line")
    cut = data.draw(st.integers(0, len(lines[line])), label="cut")
    column = units(lines[line][:cut], encoding)
    assert editor.apply_edit(insert(doc, line, column, "XY")).applied
    lines[line] = lines[line][:cut] + "XY" + lines[line][cut:]
    assert doc.text == "\n".join(lines)
    # What it syncs back names the same place, counted the same way.
    (change,) = editor.changes[-1].content_changes
    assert isinstance(change, types.TextDocumentContentChangePartial)
    assert change.range.start == types.Position(line, column)


async def test_an_edit_for_the_current_version_is_applied() -> None:
    editor, doc = opened(VSCODE, "a\n")
    assert editor.apply_edit(insert(doc, 0, 1, "b", version=doc.version)).applied
    assert doc.text == "ab\n"
    assert editor.changes[-1].text_document.version == doc.version == VSCODE.first_version + 1


async def test_a_stale_edit_is_refused_skipped_or_an_error_as_the_style_says() -> None:
    editor, doc = opened(VSCODE, "a\n")
    result = editor.apply_edit(insert(doc, 0, 0, "b", version=doc.version - 1))
    assert not result.applied and editor.rejected == 1 and doc.text == "a\n"

    editor, doc = opened(NEOVIM_VERSIONED, "a\n")
    result = editor.apply_edit(insert(doc, 0, 0, "b", version=doc.version + 3))
    assert result.applied and editor.skipped == 1 and doc.text == "a\n"
    assert editor.owes_sync

    editor, doc = opened(EGLOT, "a\n")
    with pytest.raises(StaleEditError):
        editor.apply_edit(insert(doc, 0, 0, "b", version=doc.version + 1))
    assert doc.text == "a\n"


async def test_neovim_applies_a_version_zero_edit_unchecked() -> None:
    for style, applied in ((NEOVIM_VERSIONED, "ba\n"), (VSCODE, "a\n")):
        editor, doc = opened(style, "a\n")
        editor.type(doc, 2, "c")
        editor.flush()
        editor.apply_edit(insert(doc, 0, 0, "b", version=0))
        assert doc.text == applied + "c", style.name


async def test_an_unversioned_edit_racing_the_users_typing_is_refused() -> None:
    editor, doc = opened(VSCODE_UNVERSIONED, "a\n")
    editor.type(doc, 0, "q")
    assert not editor.apply_edit(insert(doc, 0, 0, "b")).applied
    await asyncio.sleep(VSCODE.race_s * 2)
    assert editor.apply_edit(insert(doc, 0, 0, "b")).applied
    assert doc.text == "bqa\n"


async def test_an_immediate_style_syncs_every_change_at_once() -> None:
    editor, doc = opened(NEOVIM, "a\n")
    editor.type(doc, 0, "x")
    editor.type(doc, 0, "y")
    assert [len(c.content_changes) for c in editor.changes] == [1, 1]
    assert [c.text_document.version for c in editor.changes] == [1, 2]


async def test_a_debounce_batches_changes_and_restarts_with_each() -> None:
    style = BATCHING
    editor, doc = opened(style, "a\n")
    editor.type(doc, 0, "x")
    await asyncio.sleep(style.debounce_s * 0.6)
    editor.type(doc, 0, "y")
    await asyncio.sleep(style.debounce_s * 0.6)
    assert editor.changes == [], "the second change restarted the timer"
    assert editor.holding
    await asyncio.sleep(style.debounce_s)
    (sync,) = editor.changes
    assert len(sync.content_changes) == 2
    assert sync.text_document.version == doc.version
    assert not editor.holding


async def test_full_sync_sends_the_whole_text() -> None:
    editor, doc = opened(FULL_SYNC, "a\n")
    editor.type(doc, 1, "b")
    (change,) = editor.changes[-1].content_changes
    assert isinstance(change, types.TextDocumentContentChangeWholeDocument)
    assert change.text == doc.text == "ab\n"


@pytest.mark.parametrize("style", [SYNC_AFTER_ANSWER, attrs.evolve(EGLOT, debounce_s=0.05)])
async def test_nothing_is_synced_while_a_request_is_pending(style: Style) -> None:
    editor, doc = opened(style, "a\n")
    editor.request_sent()
    editor.type(doc, 0, "x")
    assert editor.apply_edit(insert(doc, 0, 0, "g")).applied
    await asyncio.sleep(style.debounce_s * 2 + 0.02)
    assert editor.changes == [] and editor.held_back
    editor.request_answered()
    await asyncio.sleep(style.debounce_s * 2 + 0.02)
    (sync,) = editor.changes
    assert len(sync.content_changes) == 2 and sync.text_document.version == doc.version


async def test_a_dropped_edit_is_answered_applied_and_only_the_next_change_shows_it() -> None:
    editor, doc = opened(NEOVIM, "a\n")
    editor.drops = lambda: True
    assert editor.apply_edit(insert(doc, 0, 0, "b")).applied
    assert doc.text == "a\n" and editor.dropped == 1 and editor.owes_sync
    assert editor.changes == []
    editor.drops = None
    editor.type(doc, 0, "q")
    assert not editor.owes_sync and len(editor.changes) == 1
