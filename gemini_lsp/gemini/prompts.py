"""Building what Gemini is asked: pure functions from the code around the cursor to a request."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

SYSTEM_INSTRUCTION = (
    "You are a code generator running inside a code editor. The user's code is shown with a "
    "marker where your text will be inserted. Reply with only the code to insert at the "
    "marker (or, for a rewrite, only the replacement for the marked code): no explanations, "
    "no surrounding text, no markdown fences. Match the file's language, style and "
    "indentation, and do not repeat the code before or after the marker."
)

# About 15,000 tokens of code at most: past that, time to first token suffers more than the
# answer gains. Code before the cursor gets two thirds, being the more telling.
MAX_CONTEXT_CHARS = 60_000
# A file this short goes whole, however far its ends are from the cursor.
SMALL_FILE_LINES = 400

CURSOR = "<<<CURSOR>>>"
SELECTION_START = "<<<SELECTION>>>"
SELECTION_END = "<<<END SELECTION>>>"


@attrs.frozen
class Context:
    """The code around the place Gemini writes to."""

    before: str  # the text just before the insertion point (or the selection)
    selection: str | None  # the text being rewritten, if any
    after: str  # the text just after
    language_id: str
    path: str  # relative to the workspace when known
    truncated_before: bool = False
    truncated_after: bool = False


@attrs.frozen
class Prompt:
    """What goes to the model: the user turn and the system instruction."""

    text: str
    system_instruction: str


def context_from_lines(
    lines: Sequence[str],
    start: tuple[int, int],
    end: tuple[int, int],
    context_lines: int,
    language_id: str,
    path: str,
    max_chars: int = MAX_CONTEXT_CHARS,
) -> Context:
    """The code around `[start, end)` (each a `(line, col)`): the whole file when it is small,
    else `context_lines` lines either side, trimmed from the far ends to `max_chars`.

    `lines` keep their terminators, as in `TextBuffer.lines`.
    """
    (start_line, start_col), (end_line, end_col) = start, end
    if len(lines) <= SMALL_FILE_LINES:
        first, last = 0, len(lines) - 1
    else:
        first = max(start_line - context_lines, 0)
        last = min(end_line + context_lines, len(lines) - 1)
    before = "".join(lines[first:start_line]) + lines[start_line][:start_col]
    if (start_line, start_col) == (end_line, end_col):
        selection = None
    elif start_line == end_line:
        selection = lines[start_line][start_col:end_col]
    else:
        selection = (
            lines[start_line][start_col:]
            + "".join(lines[start_line + 1 : end_line])
            + lines[end_line][:end_col]
        )
    after = lines[end_line][end_col:] + "".join(lines[end_line + 1 : last + 1])
    room = max(max_chars - len(selection or ""), 0)
    before_room = max(room * 2 // 3, room - len(after))
    after_room = max(room - min(len(before), before_room), 0)
    return Context(
        before=before[len(before) - min(len(before), before_room) :],
        selection=selection,
        after=after[:after_room],
        language_id=language_id,
        path=path,
        truncated_before=first > 0 or len(before) > before_room,
        truncated_after=last < len(lines) - 1 or len(after) > after_room,
    )


def build_prompt(context: Context, instruction: str, extra_system: str | None = None) -> Prompt:
    """The request for one generation: the code with a marker, then the instruction."""
    lines = [f"File: {context.path}", f"Language: {context.language_id}", ""]
    code = context.before.replace("\r\n", "\n")
    if context.selection is None:
        code += CURSOR
        task = "Write the code to insert at " + CURSOR + "."
    else:
        code += SELECTION_START + context.selection.replace("\r\n", "\n") + SELECTION_END
        task = (
            f"Rewrite the code between {SELECTION_START} and {SELECTION_END}; reply with "
            "the complete replacement for it."
        )
    code += context.after.replace("\r\n", "\n")
    if context.truncated_before:
        lines.append("(earlier lines of the file are not shown)")
    lines += ["```" + context.language_id, code, "```"]
    if context.truncated_after:
        lines.append("(later lines of the file are not shown)")
    lines += ["", task, f"Instruction: {instruction}"]
    system = SYSTEM_INSTRUCTION if not extra_system else f"{SYSTEM_INSTRUCTION}\n\n{extra_system}"
    return Prompt("\n".join(lines), system)


def refinement(instruction: str) -> str:
    """The follow-up turn of a conversation that refines the previous answer."""
    return (
        f"Revise the code you just wrote. Instruction: {instruction}\n"
        "Reply with the complete revised code only, no explanations, no markdown fences."
    )
