"""Lines in blocks against a plain list, and what the collector sees of a large document."""

from __future__ import annotations

import gc

from hypothesis import given
from hypothesis import strategies as st

from gemini_lsp.engine.lines import BLOCKS_FROM, Lines
from gemini_lsp.engine.text import Loc, TextBuffer
from tests.engine.strategies import examples

LINES = st.lists(st.sampled_from(["a\n", "b\n", "\n", "cd"]), max_size=40)


@st.composite
def splices(draw: st.DrawFn, length: int) -> tuple[int, int, list[str]]:
    start = draw(st.integers(0, length))
    stop = draw(st.integers(start, length))
    return start, stop, draw(st.lists(st.sampled_from(["x\n", "y\n", "z"]), max_size=12))


def check_reads(lines: Lines, model: list[str], data: st.DataObject) -> None:
    assert len(lines) == len(model)
    assert list(lines) == model
    for index in range(-len(model), len(model)):
        assert lines[index] == model[index]
    bounds = st.integers(-len(model) - 2, len(model) + 2)
    start, stop = data.draw(bounds), data.draw(bounds)
    assert lines[start:stop] == model[start:stop]
    assert lines[::2] == model[::2]


@examples(300)
@given(LINES, st.integers(1, 5), st.data())
def test_splices_match_a_list(initial: list[str], block_size: int, data: st.DataObject) -> None:
    lines, model = Lines(initial, block_size), list(initial)
    for _ in range(data.draw(st.integers(1, 8))):
        start, stop, new = data.draw(splices(len(model)))
        lines.splice(start, stop, new)
        model[start:stop] = new
        check_reads(lines, model, data)


@examples(100)
@given(LINES, st.integers(1, 4), st.data())
def test_a_copy_and_its_original_change_apart(
    initial: list[str], block_size: int, data: st.DataObject
) -> None:
    original, model = Lines(initial, block_size), list(initial)
    twin, twin_model = original.copy(), list(initial)
    for lines, edited in ((original, model), (twin, twin_model), (original, model)):
        start, stop, new = data.draw(splices(len(edited)))
        lines.splice(start, stop, new)
        edited[start:stop] = new
    check_reads(original, model, data)
    check_reads(twin, twin_model, data)


def test_reading_past_the_end_is_an_index_error() -> None:
    lines = Lines(["a\n", "b\n", "c"], block_size=2)
    for index in (3, -4):
        try:
            lines[index]
        except IndexError:
            continue
        raise AssertionError(f"line {index} of three was read")


def references_the_collector_follows(root: object) -> int:
    """How many references a full collection follows from `root`, through every object
    below it that the collector tracks (classes and what they lead to are the program's)."""
    seen: set[int] = set()
    stack, total = [root], 0
    while stack:
        item = stack.pop()
        if id(item) in seen or not gc.is_tracked(item) or isinstance(item, type):
            continue
        seen.add(id(item))
        referents = gc.get_referents(item)
        total += len(referents)
        stack.extend(referents)
    return total


def test_a_large_document_is_a_few_thousand_references_to_the_collector() -> None:
    count = 2 * BLOCKS_FROM
    buffer = TextBuffer("value = 1\n" * count)
    middle = Loc(count // 2, 0)
    for _ in range(100):  # streamed lines, inserted in the middle
        buffer.replace(middle, middle, "streamed = 2\n")
    gc.collect()  # which stops tracking the blocks: tuples of strings
    assert references_the_collector_follows(buffer.lines) < count // 50
    assert len(buffer.lines) == count + 101
    assert buffer.lines[count // 2 + 99 : count // 2 + 101] == ["streamed = 2\n", "value = 1\n"]


def test_a_small_document_stays_a_plain_list() -> None:
    # Quicker to edit below BLOCKS_FROM lines than blocks.
    assert type(TextBuffer("value = 1\n" * 1000).lines) is list
