"""How generated text should sit at its insertion point: pure functions of the document."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from gemini_lsp.engine.text import Loc, content


@attrs.frozen
class Layout:
    indent: str  # the indentation every generated line gets
    at_line_start: bool  # False when the insertion line already has its indentation
    drop_final_newline: bool  # True when a line break already follows the insertion
    single_final_newline: bool  # True when whole lines, line break included, are replaced


def _leading_whitespace(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def _nearest_indent(lines: Sequence[str], line: int) -> str:
    """The indentation of the closest non-blank line, looking down first, then up."""
    # Lazily: a list of every line's index would cost 50 ms on the event loop in a
    # million-line document.
    for index in itertools.chain(range(line + 1, len(lines)), range(line - 1, -1, -1)):
        text = content(lines[index])
        if text.strip():
            return _leading_whitespace(text)
    return ""


def insertion_layout(lines: Sequence[str], start: Loc, end: Loc) -> Layout:
    """The layout for text replacing `[start, end)` (empty for an insertion).

    - Cursor after the indentation of its line: that indentation, already in place.
    - Cursor at column 0 of a blank line: the indentation of the nearest code around it, so
      code generated inside a block lands inside it.
    - Cursor mid-line: the line's indentation for the lines after the first.
    - Cursor at column 0 of a line with code, or a rewrite from column 0: the indentation
      of that line.
    """
    line = content(lines[start.line])
    before = line[: start.col]
    if before.strip():
        indent, at_line_start = _leading_whitespace(line), False
    elif before:
        indent, at_line_start = before, False
    elif start != end or line.strip():
        # A rewrite from column 0, or an insertion before a line: that line's level.
        indent, at_line_start = _leading_whitespace(line), True
    else:
        indent, at_line_start = _nearest_indent(lines, start.line), True
    rest = content(lines[end.line])[end.col :]
    # A rewrite of whole lines (ending at column 0) replaced their line break too.
    whole_lines = start != end and end.col == 0
    return Layout(
        indent,
        at_line_start,
        drop_final_newline=not whole_lines and not rest.strip(),
        single_final_newline=whole_lines,
    )
