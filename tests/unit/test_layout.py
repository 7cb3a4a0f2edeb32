from __future__ import annotations

import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from gemini_lsp.engine.layout import insertion_layout
from gemini_lsp.engine.text import Loc, split_lines

BODY = split_lines("class A:\n    def f(self):\n        \n        return 1\n\n\nx = 1")


def test_after_indentation_the_indentation_is_in_place() -> None:
    layout = insertion_layout(BODY, Loc(2, 8), Loc(2, 8))
    assert (layout.indent, layout.at_line_start, layout.drop_final_newline) == (
        "        ",
        False,
        True,
    )


def test_column_zero_of_a_blank_line_takes_the_code_around_it() -> None:
    layout = insertion_layout(BODY, Loc(2, 0), Loc(2, 0))
    assert layout.indent == "        " and layout.at_line_start


def test_column_zero_before_code_takes_its_level() -> None:
    layout = insertion_layout(BODY, Loc(3, 0), Loc(3, 0))
    assert layout.indent == "        " and layout.at_line_start
    assert not layout.drop_final_newline


def test_mid_line_keeps_line_indentation_for_later_lines() -> None:
    layout = insertion_layout(BODY, Loc(1, 9), Loc(1, 9))
    assert layout.indent == "    " and not layout.at_line_start


def test_whole_line_rewrite_ends_with_one_line_break() -> None:
    layout = insertion_layout(BODY, Loc(1, 0), Loc(4, 0))
    assert layout.indent == "    " and layout.at_line_start
    assert layout.single_final_newline and not layout.drop_final_newline


@settings(max_examples=300)
@given(st.text(alphabet=" \tab:\n", max_size=60), st.data())
def test_layout_is_total_and_consistent(text: str, data: st.DataObject) -> None:
    lines = split_lines(text)
    line = data.draw(st.integers(0, len(lines) - 1))
    col = data.draw(st.integers(0, len(lines[line].rstrip("\r\n"))))
    layout = insertion_layout(lines, Loc(line, col), Loc(line, col))
    assert layout.indent.strip(" \t") == ""
    assert not layout.single_final_newline  # an insertion replaces no line break
    rest = lines[line].rstrip("\r\n")[col:]
    assert layout.drop_final_newline == (not rest.strip())


@given(st.lists(st.sampled_from(["\n", "  \n", "x\n", "  y\n", "\tz\n"]), min_size=1), st.data())
def test_a_blank_line_takes_the_indentation_below_it_else_above(
    lines: list[str], data: st.DataObject
) -> None:
    line = data.draw(st.integers(0, len(lines) - 1))
    lines[line] = "\n"
    below = [text for text in lines[line + 1 :] if text.strip()]
    above = [text for text in reversed(lines[:line]) if text.strip()]
    nearest = (below or above or [""])[0]
    expected = nearest[: len(nearest) - len(nearest.lstrip(" \t"))]
    assert insertion_layout(lines, Loc(line, 0), Loc(line, 0)).indent == expected


def test_the_nearest_code_is_found_without_a_structure_the_size_of_the_document() -> None:
    lines = ["    code\n"] * 100_000 + ["\n"] + ["    code\n"] * 100_000
    tracemalloc.start()
    try:
        layout = insertion_layout(lines, Loc(100_000, 0), Loc(100_000, 0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert layout.indent == "    "
    assert peak < 10_000  # bytes: a list of every line's index would take 800,000
