from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gemini_lsp.engine.text import split_lines
from gemini_lsp.gemini.prompts import (
    CURSOR,
    SELECTION_END,
    SELECTION_START,
    build_prompt,
    context_from_lines,
)


@settings(max_examples=300)
@given(st.text(max_size=300), st.data())
def test_small_file_goes_whole_around_the_marker(text: str, data: st.DataObject) -> None:
    lines = split_lines(text)
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))

    def loc(offset: int) -> tuple[int, int]:
        for index, line in enumerate(lines):
            if offset <= len(line) and (offset < len(line) or index == len(lines) - 1):
                return index, offset
            offset -= len(line)
        raise AssertionError

    start, end = loc(a), loc(b)
    context = context_from_lines(lines, start, end, 5, "python", "x.py")
    assert context.before + (context.selection or "") + context.after == text
    assert not context.truncated_before and not context.truncated_after
    prompt = build_prompt(context, "do it").text
    assert ("Instruction: do it") in prompt
    assert (CURSOR in prompt) == (a == b)
    assert (SELECTION_START in prompt and SELECTION_END in prompt) == (a != b)


def test_large_file_is_windowed_and_budgeted() -> None:
    lines = split_lines("".join(f"line {i}\n" for i in range(2000)))
    context = context_from_lines(lines, (1000, 0), (1000, 0), 10, "python", "x.py")
    assert context.before.splitlines()[0] == "line 990"
    assert context.after.splitlines()[-1] == "line 1010"
    assert context.truncated_before and context.truncated_after
    tight = context_from_lines(lines, (1000, 0), (1000, 0), 500, "python", "x.py", max_chars=300)
    assert len(tight.before) + len(tight.after) <= 300
    assert tight.before.endswith("line 999\n") and tight.after.startswith("line 1000")
    prompt = build_prompt(tight, "x").text
    assert "(earlier lines of the file are not shown)" in prompt


def test_system_instruction_is_extended_not_replaced() -> None:
    context = context_from_lines(split_lines("a\n"), (0, 0), (0, 0), 5, "go", "a.go")
    prompt = build_prompt(context, "x", "Use tabs.")
    assert prompt.system_instruction.endswith("Use tabs.")
    assert "no markdown fences" in prompt.system_instruction
    assert "Language: go" in prompt.text and "File: a.go" in prompt.text
