"""Making a model's answer fit the place it goes (pure).

In order: fences come off; an echo of the cursor's line is dropped; indentation is settled;
the answer is cut to `max_lines`; and whatever would repeat the text after the cursor goes
(the following line and anything after it, a closing bracket or quote already there).
"""

from __future__ import annotations

import re

from gemini_lsp.engine.postprocess import reindent, strip_fences
from gemini_lsp.inline.context import FILL

_IDENTIFIER = re.compile(r"\w")
# An echo of the cursor's line is only trusted from this many characters: shorter code
# repeated may well be meant ("x = x").
MIN_ECHO = 3


def fit(raw: str, line_before: str, after: str, max_lines: int) -> str:
    """The text to suggest at a cursor with `line_before` on its line before it and `after`
    after it (the rest of its line, then the following lines); "" when nothing is left."""
    text = strip_fences(raw).replace(FILL, "")
    text = drop_echo(text, line_before)
    text = settle_indent(text, line_before)
    lines = text.split("\n")[:max_lines]
    after_lines = after.replace("\r\n", "\n").split("\n")
    lines = cut_at_following_line(lines, after_lines[1:])
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return ""
    lines[-1] = trim_line_overlap(lines[-1].rstrip(), after_lines[0])
    return "\n".join(lines).rstrip()


def drop_echo(text: str, line_before: str) -> str:
    """`text` without a copy of the cursor's line it starts with."""
    code = line_before.lstrip(" \t")
    if len(code) < MIN_ECHO:
        return text
    if text.startswith(line_before):
        return text[len(line_before) :]
    stripped = text.lstrip(" \t")
    if len(code) >= MIN_ECHO and stripped.startswith(code):
        return stripped[len(code) :]
    return text


def settle_indent(text: str, line_before: str) -> str:
    """Indentation for text inserted after `line_before`.

    After the indentation of a line (only blanks before the cursor), the model may or may
    not repeat that indentation on its first line; its other lines are re-based on the first
    one's level, which is the cursor's. Mid-line or at column 0 the model's lines already
    carry the file's own indentation and stay as they are.
    """
    if not line_before or line_before.strip(" \t"):
        return text
    based = reindent(text, line_before, at_line_start=True)
    return based[len(line_before) :] if based.startswith(line_before) else based.lstrip(" \t")


def cut_at_following_line(lines: list[str], following: list[str]) -> list[str]:
    """`lines` up to (not including) the first one after the first that repeats the next
    non-blank line of the document."""
    target = next((line.strip() for line in following if line.strip()), None)
    if target is None:
        return lines
    for index in range(1, len(lines)):
        if lines[index].strip() == target:
            return lines[:index]
    return lines


def trim_line_overlap(last: str, rest: str) -> str:
    """`last` (the suggestion's last line) without an ending that the rest of the cursor's
    line already has: all of it, or closing brackets, quotes and punctuation."""
    rest = rest.rstrip()
    if not rest:
        return last
    if last.endswith(rest) and len(last) > len(rest):
        return last[: len(last) - len(rest)]
    for length in range(min(len(rest), len(last) - 1), 0, -1):
        piece = rest[:length]
        if last.endswith(piece) and not _IDENTIFIER.search(piece):
            return last[: len(last) - length]
    return last
