"""Anchors against a string model: offsets moved by hand, and a generation's region that
must hold exactly the generated text while the user edits around it. Examples: 300 each.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from lsprotocol import types

from gemini_lsp.engine.anchor import Change, Gravity, Region, map_loc
from gemini_lsp.engine.documents import Document
from gemini_lsp.engine.text import Loc, TextBuffer
from tests.engine.strategies import any_text, documents, examples, offsets

EXAMPLES = examples(300)


def loc_at(text: str, offset: int) -> Loc:
    line = text.count("\n", 0, offset)  # LF-only texts here: one break, one line
    return Loc(line, offset - (text.rfind("\n", 0, offset) + 1))


def model_map(offset: int, start: int, end: int, length: int, gravity: Gravity) -> int:
    """Where `offset` goes when [start, end) becomes `length` characters."""
    shift = length - (end - start)
    if offset < start:
        return offset
    if start == end:  # an insertion
        if offset == start:
            return offset + length if gravity is Gravity.RIGHT else offset
        return offset + shift
    if offset == start:
        return offset
    return start + length if offset <= end else offset + shift


def lf_text() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(["a", "é", "😀", "\n"]), max_size=12).map("".join)


@EXAMPLES
@given(st.data(), st.sampled_from(Gravity))
def test_map_loc_matches_offsets(data: st.DataObject, gravity: Gravity) -> None:
    text = data.draw(lf_text())
    offset = data.draw(st.integers(0, len(text)))
    start, end = sorted(data.draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=2)))
    new = data.draw(lf_text())
    change = Change(loc_at(text, start), loc_at(text, end), new)
    after = text[:start] + new + text[end:]
    moved = model_map(offset, start, end, len(new), gravity)
    assert map_loc(loc_at(text, offset), change, gravity) == loc_at(after, moved)


@EXAMPLES
@given(st.data())
def test_a_region_holds_exactly_the_generated_text(data: st.DataObject) -> None:
    """Text goes in at the region's end; the user edits anywhere but inside it."""
    text = data.draw(documents())
    buffer = TextBuffer(text)
    loc = _loc(buffer, data.draw(offsets(text)))
    region = Region(loc, loc)
    generated = ""
    for _ in range(data.draw(st.integers(1, 8))):
        if data.draw(st.booleans()):
            piece = data.draw(st.sampled_from(["x", "y\n", "\r\n", "z"]))
            change = Change(region.end, region.end, piece)
            region.map(change)  # the region's own end stays: text goes after it
            buffer.replace(change.start, change.end, piece)
            region.end = change.new_end
            generated += piece
            continue
        full = buffer.text
        start_offset = _offset(buffer, region.start)
        end_offset = _offset(buffer, region.end)
        # Before or at the start, or at or after the end; never strictly inside.
        outside = [
            i
            for i in range(len(full) + 1)
            if (i <= start_offset or i >= end_offset) and not _in_crlf(full, i)
        ]
        a = data.draw(st.sampled_from(outside))
        b_choices = [
            i
            for i in outside
            if i >= a and (a >= end_offset or i <= start_offset) and not _in_crlf(full, i)
        ]
        b = data.draw(st.sampled_from(b_choices))
        typed = data.draw(st.sampled_from(["", "u", "v\n", "\n"]))
        change = Change(_loc(buffer, a), _loc(buffer, b), typed)
        region.map(change)
        buffer.replace(change.start, change.end, typed)
    assert buffer.slice(region.start, region.end) == generated


@EXAMPLES
@given(any_text(), st.booleans(), st.sampled_from(["u", "\n", "v\r\n", "\r", ""]))
@example("a\r", True, "\n")  # a CR before the region and an LF typed at it join
@example("\r", False, "\n")
@example("b\n", False, "\r")
def test_typing_at_the_edges_stays_outside(text: str, at_start: bool, typed: str) -> None:
    """Also where a CR and an LF that the typing brings together become one line break."""
    around = text + "GEN" + text[::-1]
    document = Document("file:///a", "python", 0, around, "utf-16")
    buffer = document.buffer
    region = Region(_loc(buffer, len(text)), _loc(buffer, len(text) + 3))
    document.observer = region.map
    edge = region.start if at_start else region.end
    span = types.Range(buffer.position(edge), buffer.position(edge))
    document.apply(types.TextDocumentContentChangePartial(range=span, text=typed))
    assert buffer.slice(region.start, region.end) == "GEN"


def test_an_empty_region_stays_before_text_typed_at_it() -> None:
    region = Region(Loc(1, 0), Loc(1, 0))
    region.map(Change(Loc(1, 0), Loc(1, 0), "typed"))
    assert (region.start, region.end) == (Loc(1, 0), Loc(1, 0))


def _loc(buffer: TextBuffer, offset: int) -> Loc:
    for number, line in enumerate(buffer.lines):
        if offset < len(line) or number == len(buffer.lines) - 1:
            return Loc(number, offset)
        offset -= len(line)
    raise AssertionError("past the end")


def _offset(buffer: TextBuffer, loc: Loc) -> int:
    return sum(len(line) for line in buffer.lines[: loc.line]) + loc.col


def _in_crlf(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and text[offset - 1 : offset + 1] == "\r\n"
