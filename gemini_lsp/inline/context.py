"""The text around the cursor, and the fill-in-the-middle prompt built from it (pure)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

# Marks the start of the file in a window of text before the cursor, so that a window that
# reaches the start of the file can only match another one that does (see `cache`).
START = "\x00"

FILL = "<<<FILL>>>"
TASK_LINE = "Task: fill in the middle"

SYSTEM_INSTRUCTION = (
    "You are a code completion engine inside a code editor. The user's file is shown with "
    f"the marker {FILL} at the cursor. Reply with only the text to insert at the marker: no "
    "explanations, no markdown fences, no marker. Do not repeat any code that is before or "
    "after the marker. Write lines after the first with the file's own indentation. Stop "
    "at a natural end: the end of the statement, expression or block being written."
)


@attrs.frozen
class Around:
    """Text before and after a place, each limited to a number of characters."""

    before: str  # starts with START when it reaches the start of the file
    after: str

    @property
    def line_before(self) -> str:
        """The cursor's line up to the cursor."""
        head = self.before.rsplit("\n", 1)[-1]
        return head.removeprefix(START)

    @property
    def line_after(self) -> str:
        """The cursor's line from the cursor on, without its line break."""
        return self.after.split("\n", 1)[0].removesuffix("\r")


def around(
    lines: Sequence[str], line: int, col: int, before_chars: int, after_chars: int
) -> Around:
    """The text of `lines` (each with its terminator) around `(line, col)`: at most
    `before_chars` before (with START in front when that reaches the file's start) and
    `after_chars` after."""
    parts = [lines[line][:col]]
    size = col
    first = line
    while size < before_chars and first > 0:
        first -= 1
        parts.append(lines[first])
        size += len(lines[first])
    before = "".join(reversed(parts))
    if len(before) > before_chars:
        before = before[len(before) - before_chars :]
    elif first == 0:
        before = START + before
    parts = [lines[line][col:]]
    size = len(parts[0])
    last = line
    while size < after_chars and last + 1 < len(lines):
        last += 1
        parts.append(lines[last])
        size += len(lines[last])
    return Around(before, "".join(parts)[:after_chars])


def budget(total: int, before: str, after: str) -> tuple[int, int]:
    """Characters for each side out of `total`: a quarter after the cursor, the rest before
    it; what one side does not use goes to the other."""
    after_room = min(len(after), total // 4)
    before_room = min(len(before), total - after_room)
    after_room = min(len(after), total - before_room)
    return before_room, after_room


def prompt_text(path: str, language_id: str, context: Around, max_lines: int) -> str:
    """The user turn of a fill-in-the-middle request."""
    before = context.before.removeprefix(START).replace("\r\n", "\n")
    after = context.after.replace("\r\n", "\n")
    lines = [TASK_LINE, f"File: {path}", f"Language: {language_id}"]
    if not context.before.startswith(START):
        lines.append("(earlier lines of the file are not shown)")
    lines += ["<code>", before + FILL + after, "</code>"]
    lines.append(f"Write the text that belongs at {FILL}: at most {max_lines} lines.")
    return "\n".join(lines)
