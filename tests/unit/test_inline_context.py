"""The text around the cursor, the prompt built from it, and the emulator reading it back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gemini_lsp.emulator.fim import parse_fim
from gemini_lsp.engine.text import split_lines
from gemini_lsp.inline.context import START, Around, around, budget, prompt_text
from gemini_lsp.inline.pace import MAX_WAIT_S, TypingPace


def test_windows_stop_at_their_size_and_mark_the_start_of_the_file() -> None:
    lines = split_lines("one\ntwo\nthree\n")
    assert around(lines, 1, 2, 100, 100) == Around(START + "one\ntw", "o\nthree\n")
    assert around(lines, 1, 2, 4, 3) == Around("e\ntw", "o\nt")
    assert around(lines, 1, 2, 4, 3).line_before == "tw"
    assert around(lines, 1, 2, 4, 3).line_after == "o"


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(100, 20_000))
def test_the_budget_is_kept_and_shared(before: int, after: int, total: int) -> None:
    b, a = budget(total, "x" * before, "y" * after)
    assert b + a <= total and b <= before and a <= after
    # Room one side leaves goes to the other.
    assert b + a == min(total, before + after)
    if before >= total and after >= total:
        assert a == total // 4


@given(
    st.text(alphabet="ab\n <>`()\t", max_size=60),
    st.text(alphabet="ab\n <>`()\t", max_size=60),
    st.booleans(),
)
def test_the_emulator_reads_back_what_the_prompt_holds(
    before: str, after: str, whole: bool
) -> None:
    context = Around((START if whole else "") + before, after)
    text = prompt_text("src/a.py", "python", context, 4)
    parsed = parse_fim({"contents": [{"role": "user", "parts": [{"text": text}]}]})
    assert parsed is not None
    assert (parsed.path, parsed.language, parsed.max_lines) == ("src/a.py", "python", 4)
    assert (parsed.before, parsed.after) == (before, after)
    assert ("earlier lines of the file are not shown" in text) is not whole


def test_other_requests_are_not_fill_in_the_middle() -> None:
    assert parse_fim({"contents": [{"role": "user", "parts": [{"text": "Write code"}]}]}) is None
    assert parse_fim(None) is None


def test_the_wait_stretches_to_the_typing_pace_within_a_cap() -> None:
    pace = TypingPace()
    assert pace.wait(0.1) == 0.1
    for i in range(6):
        pace.keystroke("a", i * 0.2)
    assert abs(pace.wait(0.1) - 0.4) < 1e-9
    assert pace.wait(0.45) == 0.45
    slow = TypingPace()
    for i in range(6):
        slow.keystroke("a", i * 0.9)
    assert slow.wait(0.1) == MAX_WAIT_S
    # A pause is not a keystroke gap, nor are two documents' keys one after the other.
    paused = TypingPace()
    for t in (0, 5, 10, 15, 20):
        paused.keystroke("a", t)
        paused.keystroke("b", t + 0.01)
    assert paused.wait(0.1) == 0.1


@given(st.lists(st.floats(0, 3), max_size=30), st.floats(0, 1))
def test_the_wait_is_never_below_the_debounce_nor_above_the_cap(
    gaps: list[float], debounce: float
) -> None:
    pace = TypingPace()
    now = 0.0
    for gap in gaps:
        now += gap
        pace.keystroke("doc", now)
    assert debounce <= pace.wait(debounce) <= max(debounce, MAX_WAIT_S)
