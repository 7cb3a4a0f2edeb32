"""Fitting a model's answer to its place: fences, echoes, indentation, overlap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gemini_lsp.inline.fit import (
    cut_at_following_line,
    drop_echo,
    fit,
    settle_indent,
    trim_line_overlap,
)


def test_fences_come_off() -> None:
    assert fit("```python\nx = 1\n```\nThis sets x.", "", "\n", 5) == "x = 1"


def test_a_repeated_line_start_is_dropped() -> None:
    assert fit("    return total", "    ret", "\n", 5) == "urn total"
    assert fit("return total", "    ret", "\n", 5) == "urn total"
    # Too short to tell an echo from code that means it.
    assert drop_echo("x = x", "x") == "x = x"


def test_indentation_after_the_cursor_line_indentation() -> None:
    # The model repeated the indentation the cursor is past: it goes from the first line.
    assert settle_indent("    if x:\n        y()", "    ") == "if x:\n        y()"
    # The model wrote relative to the cursor: its other lines move to the cursor's level.
    assert settle_indent("if x:\n    y()", "    ") == "if x:\n        y()"
    # Mid-line and at column 0 the model's lines are the file's own.
    assert settle_indent("(x)\n    y()", "foo") == "(x)\n    y()"
    assert settle_indent("def f():\n    pass", "") == "def f():\n    pass"


def test_closing_characters_already_there_are_trimmed() -> None:
    assert trim_line_overlap("values)", ")") == "values"
    assert trim_line_overlap('hello")', '")') == "hello"
    assert trim_line_overlap("f(x))", ")") == "f(x)"
    assert trim_line_overlap("a, b):", "):  # note") == "a, b"
    # Code is not trimmed for sharing a letter with what follows.
    assert trim_line_overlap("total", "ten") == "total"
    # …unless it is the whole rest of the line.
    assert trim_line_overlap("x + bar", "bar") == "x + "


def test_the_following_line_and_what_comes_after_it_go() -> None:
    lines = ["y = 1", "return y", "more()"]
    assert cut_at_following_line(lines, ["", "    return y", "z"]) == ["y = 1"]
    assert cut_at_following_line(lines, ["other()"]) == lines
    assert fit("y = 1\nreturn y\n", "    ", "\n    return y\n", 5) == "y = 1"


def test_max_lines_and_trailing_blank_lines() -> None:
    assert fit("a\nb\nc\nd\n\n", "", "\n", 2) == "a\nb"
    assert fit("\n\n", "x", "\n", 3) == ""


@given(
    st.text(alphabet="abc ()\"'\n\t", max_size=40),
    st.text(alphabet="ab ()\t", max_size=10),
    st.text(alphabet="ab()\"'\n ", max_size=20),
    st.integers(1, 5),
)
def test_fit_never_grows_past_max_lines_nor_ends_in_blanks(
    raw: str, line_before: str, after: str, max_lines: int
) -> None:
    text = fit(raw, line_before, after, max_lines)
    assert text.count("\n") < max_lines
    assert text == text.rstrip()


@given(st.text(alphabet="ab(", min_size=1, max_size=10), st.text(alphabet=")]}\"'", max_size=4))
def test_a_suggestion_that_ends_with_the_closing_rest_loses_exactly_that(
    code: str, closing: str
) -> None:
    if closing:
        assert trim_line_overlap(code + closing, closing) == code


@given(
    st.lists(st.sampled_from(["a = 1", "  b()", "return x", "}", ""]), min_size=1, max_size=6),
    st.lists(st.sampled_from(["return x", "}", "", "  b()", "c"]), max_size=4),
)
def test_a_suggestion_never_goes_on_into_the_next_line_of_the_file(
    suggested: list[str], following: list[str]
) -> None:
    text = fit("\n".join(suggested), "", "\n" + "\n".join(following), 10)
    target = next((line.strip() for line in following if line.strip()), None)
    if target is not None:
        assert target not in [line.strip() for line in text.split("\n")[1:]]
    # What is kept is the model's own lines, in order, from the first.
    kept = text.split("\n") if text else []
    assert kept == [line.rstrip() for line in suggested[: len(kept)]]
