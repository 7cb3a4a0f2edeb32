"""The benchmarks' lean client takes edits and syncs them as the editor model does (both
go through testkit.sync), and the one framer reads back what it writes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.client import LeanClient
from testkit.framing import encode, read_message
from testkit.styles import EGLOT, NEOVIM, NEOVIM_DEBOUNCED, VSCODE, Style
from tests.engine.strategies import examples


class PipelessClient(LeanClient):
    """The lean client with what it writes kept instead of sent."""

    def __init__(self, style: Style) -> None:
        super().__init__(style, {})
        self.written: list[Mapping[str, Any]] = []

    def _write(self, *messages: Mapping[str, Any]) -> None:
        self.written.extend(messages)


def apply_edit(uri: str, version: int | None, text: str) -> dict[str, Any]:
    at = {"line": 0, "character": 1}
    edit = {"range": {"start": at, "end": at}, "newText": text}
    if version is None:
        return {"edit": {"changes": {uri: [edit]}}}
    document = {"uri": uri, "version": version}
    return {"edit": {"documentChanges": [{"textDocument": document, "edits": [edit]}]}}


async def test_an_edit_is_synced_before_it_is_answered() -> None:
    client = PipelessClient(VSCODE)
    document = client.open("file:///a.py", "é\n")
    client._apply_edit(7, apply_edit(document.uri, document.version, "😀"), 0.0)
    assert document.text == "é😀\n"
    change, answer = client.written[-2:]
    assert change["method"] == "textDocument/didChange"
    assert change["params"]["textDocument"]["version"] == document.version
    assert answer == {"id": 7, "result": {"applied": True}}


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (VSCODE, {"result": {"applied": False, "failureReason": "stale"}}),
        (EGLOT, "error"),
    ],
)
async def test_a_stale_edit_is_answered_as_the_style_says(style: Style, expected: Any) -> None:
    client = PipelessClient(style)
    document = client.open("file:///a.py", "a\n")
    client._apply_edit(3, apply_edit(document.uri, document.version + 1, "b"), 0.0)
    answer = dict(client.written[-1])
    assert answer.pop("id") == 3
    assert ("error" in answer) if expected == "error" else answer == expected
    assert document.text == "a\n" and not document.edits


async def test_a_debounced_style_syncs_after_the_edits_stop() -> None:
    client = PipelessClient(NEOVIM_DEBOUNCED)
    document = client.open("file:///a.py", "a\n")
    for _ in range(3):
        client._apply_edit(1, apply_edit(document.uri, None, "b"), 0.0)
    assert [m.get("method") for m in client.written[1:]] == [None] * 3, "answers only"
    await asyncio.sleep(NEOVIM_DEBOUNCED.debounce_s * 1.5)
    (sync,) = client.written[4:]
    assert len(sync["params"]["contentChanges"]) == 3
    assert document.text == "abbb\n"


async def test_an_immediate_neovim_syncs_each_edit() -> None:
    client = PipelessClient(NEOVIM)
    document = client.open("file:///a.py", "ab\n")
    client._apply_edit(1, apply_edit(document.uri, None, "中"), 0.0)
    assert client.written[-2]["method"] == "textDocument/didChange"
    assert document.text == "a中b\n"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@examples(50)
@given(messages=st.lists(JSON, min_size=1, max_size=4))
async def test_the_framer_reads_back_what_it_writes(messages: list[Any]) -> None:
    stream = asyncio.StreamReader()
    stream.feed_data(b"".join(encode(m) for m in messages))
    stream.feed_eof()
    assert [await read_message(stream) for _ in messages] == messages
    assert await read_message(stream) is None
