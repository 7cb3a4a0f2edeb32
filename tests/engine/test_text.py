"""TextBuffer and whole-text changes against a plain-string model, in every encoding, with
the lines in a plain list (as below `BLOCKS_FROM` lines) and in blocks (two lines each here,
so that every edit crosses some).

The model here knows nothing of the buffer: lines come from a regular expression, positions
from encoding the line's prefix. Examples: 300 per property.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from lsprotocol import types

from gemini_lsp.engine.documents import whole_text_change
from gemini_lsp.engine.lines import Lines
from gemini_lsp.engine.text import Loc, TextBuffer, end_of_insert, split_lines
from tests.engine.strategies import any_text, examples, offsets

ENCODINGS = {"utf-8": ("utf-8", 1), "utf-16": ("utf-16-le", 2), "utf-32": ("utf-32-le", 4)}
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
EXAMPLES = examples(300)


def model_lines(text: str) -> list[str]:
    found = _LINES.findall(text)
    if not found or found[-1].endswith(("\r", "\n")):
        found.append("")
    return found


def buffer_of(text: str, encoding: str = "utf-16", blocks: bool = False) -> TextBuffer:
    buffer = TextBuffer(text, encoding)
    if blocks:
        buffer.lines = Lines(list(buffer.lines), block_size=2)
    return buffer


def model_loc(text: str, offset: int) -> Loc:
    lines = model_lines(text)
    for number, line in enumerate(lines):
        if offset < len(line) or number == len(lines) - 1:
            return Loc(number, offset)
        offset -= len(line)
    raise AssertionError("offset past the end")


def units(text: str, encoding: str) -> int:
    codec, width = ENCODINGS[encoding]
    return len(text.encode(codec, "surrogatepass")) // width


@EXAMPLES
@given(any_text())
def test_lines_match_the_model(text: str) -> None:
    assert split_lines(text) == model_lines(text)
    assert TextBuffer(text).text == text


@EXAMPLES
@given(st.text(alphabet="ab\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029", max_size=16))
def test_only_cr_and_lf_break_lines(text: str) -> None:
    # str.splitlines also breaks at these; LSP does not.
    assert split_lines(text) == model_lines(text)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@EXAMPLES
@given(st.data())
def test_positions_round_trip(encoding: str, data: st.DataObject) -> None:
    text = data.draw(any_text())
    offset = data.draw(offsets(text))
    buffer = TextBuffer(text, encoding)
    loc = model_loc(text, offset)
    line = model_lines(text)[loc.line]
    position = buffer.position(loc)
    assert position == types.Position(loc.line, units(line[: loc.col], encoding))
    assert buffer.loc(position) == loc


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_position_inside_a_character_rounds_down(encoding: str) -> None:
    buffer = TextBuffer("a😀b", encoding)
    inside = 2 if encoding == "utf-16" else 3  # past the first unit of 😀, before its last
    assert buffer.loc(types.Position(0, inside)) == Loc(0, 1)


def test_positions_past_the_end_clamp() -> None:
    buffer = TextBuffer("ab\r\ncd")
    assert buffer.loc(types.Position(0, 99)) == Loc(0, 2)  # never inside the CRLF
    assert buffer.loc(types.Position(7, 0)) == Loc(1, 2)
    assert TextBuffer("").loc(types.Position(3, 3)) == Loc(0, 0)


@pytest.mark.parametrize("blocks", [False, True], ids=["list", "blocks"])
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@EXAMPLES
@given(st.data())
def test_replacements_match_the_model(encoding: str, blocks: bool, data: st.DataObject) -> None:
    text = data.draw(any_text())
    buffer = buffer_of(text, encoding, blocks)
    for _ in range(data.draw(st.integers(1, 4))):
        a, b = sorted(data.draw(st.lists(offsets(text), min_size=2, max_size=2)))
        new = data.draw(any_text())
        start, end = model_loc(text, a), model_loc(text, b)
        assert buffer.slice(start, end) == text[a:b]
        buffer.replace(start, end, new)
        text = text[:a] + new + text[b:]
        assert list(buffer.lines) == model_lines(text)  # a CR and an LF that meet become one CRLF
        assert buffer.end == model_loc(text, len(text))


@EXAMPLES
@given(any_text(), any_text())
def test_end_of_insert(before: str, inserted: str) -> None:
    assume(not (before.endswith("\r") and inserted.startswith("\n")))  # they would merge
    start = model_loc(before, len(before))
    after = before + inserted
    assert end_of_insert(start, inserted) == model_loc(after, len(after))


@pytest.mark.parametrize("blocks", [False, True], ids=["list", "blocks"])
@EXAMPLES
@given(any_text(), any_text())
def test_whole_text_change_turns_one_text_into_the_other(blocks: bool, old: str, new: str) -> None:
    buffer = buffer_of(old, blocks=blocks)
    change = whole_text_change(buffer, new)
    for loc in (change.start, change.end):
        line = buffer.lines[loc.line]
        assert not (line.endswith("\r\n") and loc.col == len(line) - 1), "split a CRLF"
    buffer.replace(change.start, change.end, change.text)
    assert buffer.text == new
    assert list(buffer.lines) == model_lines(new)


def test_whole_text_change_is_minimal() -> None:
    buffer = TextBuffer("ab\ncd\nef\n")
    change = whole_text_change(buffer, "ab\ncXd\nef\n")
    assert (change.start, change.end, change.text) == (Loc(1, 1), Loc(1, 1), "X")


@pytest.mark.parametrize(
    ("text", "eol"), [("a\r\nb", "\r\n"), ("a\nb\r\n", "\n"), ("a\rb", "\r"), ("", "\n")]
)
def test_eol_follows_the_first_line(text: str, eol: str) -> None:
    assert TextBuffer(text).eol == eol
