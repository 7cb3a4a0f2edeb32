"""Emacs 28 + Eglot 1.9 against the real server and the Gemini emulator.

Each test runs one scenario of driver.el in `emacs --batch -Q` and checks the buffer the
way a person would: every generated character exactly once and in place, typing kept
where it was typed, the answer at streaming speed. Eglot's own habits are kept: it syncs
only after 0.5 s without a keystroke and never while a blocking request waits, and it
refuses an edit made for an older version of the buffer.
"""

from __future__ import annotations

import difflib
from typing import Any

import pytest
from emacs_harness import Emacs, Run

from gemini_lsp.emulator import ErrorSpec, Reply
from testkit.emulators import EmulatorInThread as Emulator

pytestmark = pytest.mark.editor

SOURCE = "import sys\n\n\ndef main():\n    return 0\n"
INSERT_LINE = 1  # the first blank line
CHUNKS = [
    "def helper(items):\n",
    "    total = 0\n",
    "    for item in items:\n",
    "        total += item\n",
    "    return total\n",
]
# Long enough (10 chunks, 200 ms apart) for the user to type three things while it streams.
SLOW_CHUNKS = [
    "def mean(items):\n",
    "    total = 0\n",
    "    for item in items:\n",
    "        total += item\n",
    "    count = len(items)\n",
    "    if count == 0:\n",
    "        return 0\n",
    "    result = total / count\n",
    "    print(result)\n",
    "    return result\n",
]
SLOW_DELAY_MS = 200
TYPED_INSIDE = "  # running sum"


def generated(chunks: list[str]) -> str:
    """The text a generation leaves at a blank line: its final line break is dropped."""
    return "".join(chunks).removesuffix("\n")


def insert(text: str, line: int, piece: str) -> str:
    """`text` with `piece` inserted at the start of `line` (0-based)."""
    lines = text.splitlines(keepends=True)
    at = sum(len(lines[i]) for i in range(line))
    return text[:at] + piece + text[at:]


def assert_text(actual: str, expected: str) -> None:
    """Equal buffers, or a failure that shows the whole difference."""
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), actual.splitlines(), "expected", "buffer", lineterm=""
        )
        pytest.fail("the buffer differs:\n" + "\n".join(diff))


def stream_ms(result: dict[str, Any]) -> float:
    """From the first token to the answer, on the server's clock."""
    timings = result["timings"]
    return float(timings["totalMs"]) - float(timings["firstTokenMs"])


def syncs_between(run: Run, start: float, end: float) -> int:
    return sum(1 for s in run.get("syncs", []) if start < s["at"] < end)


def test_blocking_command_completes_at_streaming_speed(emacs: Emacs, gemini: Emulator) -> None:
    """Plain Eglot, `eglot-execute-command`: Emacs waits for the answer and sends no
    didChange until then, so every edit after the first is made for a version Eglot has
    moved past. The text must still arrive, once, at streaming speed."""
    gemini.script(Reply(CHUNKS, chunk_delay_ms=30))
    run = emacs.run(
        "blocking", SOURCE, package=False, line=INSERT_LINE, character=0, prompt="sum items"
    )

    answer = run.answer("gemini.generate")
    assert answer["result"]["status"] == "completed"
    assert_text(run.text, insert(SOURCE, INSERT_LINE, generated(CHUNKS)))
    # Streaming speed: 5 chunks 30 ms apart, not a wait for a sync that never comes.
    assert stream_ms(answer["result"]) < 1000, answer["result"]["timings"]
    assert answer["at"] - answer["sent"] < 4000
    # The habit under test: no didChange while the request waited.
    assert syncs_between(run, answer["sent"], answer["at"]) == 0


def test_async_generation_streams_with_progress_and_cancel_key(
    emacs: Emacs, gemini: Emulator
) -> None:
    """`gemini-lsp-generate` returns at once; the mode line shows the progress and C-g
    cancels while the text streams; both go away when it ends."""
    gemini.script(Reply(CHUNKS, chunk_delay_ms=30))
    run = emacs.run("async", SOURCE, line=INSERT_LINE, character=0, prompt="sum items")

    result = run.result("gemini.generate")
    assert result["status"] == "completed"
    assert_text(run.text, insert(SOURCE, INSERT_LINE, generated(CHUNKS)))
    assert run["returned"] - run["sent"] < 100  # the command did not wait for the answer
    assert stream_ms(result) < 1000, result["timings"]
    mode_line = run["mode-line"]
    assert any(m.startswith(" Gemini: ") and "line" in m for m in mode_line), mode_line
    assert mode_line[-1] == ""  # gone once it ended
    assert run["c-g"] == ["gemini-lsp-cancel", "keyboard-quit"]
    assert "sum items" in str(gemini.requests[-1].body)


def test_typing_above_inside_and_below_while_it_streams(emacs: Emacs, gemini: Emulator) -> None:
    """Keystrokes 30 ms apart above, inside and below the streaming text, with Eglot's
    idle sync: every generated character lands once, in place, and so does the typing."""
    gemini.script(Reply(SLOW_CHUNKS, chunk_delay_ms=SLOW_DELAY_MS))
    run = emacs.run(
        "typing",
        SOURCE,
        line=INSERT_LINE,
        character=0,
        prompt="mean of items",
        first="def mean",
        above="# top\n",
        inside_after="total = 0",
        inside_when="for item",
        inside=TYPED_INSIDE,
        below="# end\n",
    )

    result = run.result("gemini.generate")
    assert result["status"] == "completed"
    body = generated(SLOW_CHUNKS).replace("total = 0", "total = 0" + TYPED_INSIDE, 1)
    assert_text(run.text, "# top\n" + insert(SOURCE, INSERT_LINE, body) + "# end\n")
    # The typing overlapped the stream, and Eglot synced lazily in between.
    assert run["typing-done"] < run.answer("gemini.generate")["at"]
    assert syncs_between(run, run["sent"], run.answer("gemini.generate")["at"]) >= 1
    assert stream_ms(result) < len(SLOW_CHUNKS) * SLOW_DELAY_MS + 1500, result["timings"]


def test_c_g_cancels_and_closes_the_stream(emacs: Emacs, gemini: Emulator) -> None:
    """C-g while it streams: the cancel answers quickly, the generation answers
    `cancelled`, nothing is edited afterwards and the HTTP stream to Gemini is closed."""
    chunks = [f"    value_{i} = {i}\n" for i in range(60)]
    gemini.script(Reply(["def values():\n", *chunks], chunk_delay_ms=100))
    run = emacs.run(
        "cancel", SOURCE, line=INSERT_LINE, character=0, prompt="values", first="value_1 "
    )

    cancelled = run.result("gemini.cancel")
    generation = run.result("gemini.generate")
    assert generation["status"] == "cancelled"
    assert cancelled["cancelled"] == [generation["id"]]
    assert run.answer("gemini.cancel")["at"] - run["cancel-sent"] < 500
    assert run["edited-after-cancel"] is False
    # What was written stays (onCancel "keep"): a prefix of the answer, each line once.
    before, after = SOURCE[: len("import sys\n")], SOURCE[len("import sys\n") :]
    assert run.text.startswith(before) and run.text.endswith(after), run.text
    kept = run.text[len(before) : len(run.text) - len(after)]
    assert kept and ("def values():\n" + "".join(chunks)).startswith(kept), kept
    request = gemini.requests[-1]
    gemini.thread.wait_for_disconnect(request, timeout=2)
    assert request.outcome == "disconnected"
    assert request.chunks_sent < len(chunks)


def test_revert_keeps_what_was_typed_inside(emacs: Emacs, gemini: Emulator) -> None:
    """Type inside the generation while it streams, then `gemini-lsp-revert`: the
    generated characters go, the typed ones stay."""
    gemini.script(Reply(SLOW_CHUNKS, chunk_delay_ms=SLOW_DELAY_MS))
    run = emacs.run(
        "revert",
        SOURCE,
        line=INSERT_LINE,
        character=0,
        prompt="mean of items",
        inside_after="total = 0",
        inside_when="for item",
        inside=TYPED_INSIDE,
    )

    body = generated(SLOW_CHUNKS).replace("total = 0", "total = 0" + TYPED_INSIDE, 1)
    assert_text(run["generated-text"], insert(SOURCE, INSERT_LINE, body))
    run.result("gemini.revert")
    assert_text(run.text, insert(SOURCE, INSERT_LINE, TYPED_INSIDE))


def test_refine_replaces_the_generation(emacs: Emacs, gemini: Emulator) -> None:
    """`gemini-lsp-refine` continues the conversation and streams the revised code in
    place of the first."""
    revised = ["def helper(items):\n", "    return sum(items)\n"]
    gemini.script(Reply(CHUNKS, chunk_delay_ms=20), Reply(revised, chunk_delay_ms=20))
    run = emacs.run(
        "refine", SOURCE, line=INSERT_LINE, character=0, prompt="sum items", refine="shorter"
    )

    assert_text(run["generated-text"], insert(SOURCE, INSERT_LINE, generated(CHUNKS)))
    assert run.result("gemini.refine")["status"] == "completed"
    assert_text(run.text, insert(SOURCE, INSERT_LINE, generated(revised)))
    turns = gemini.requests[-1].body["contents"]
    assert len(turns) == 3 and "shorter" in str(turns[-1])


def test_code_action_asks_for_its_instruction(emacs: Emacs, gemini: Emulator) -> None:
    """`eglot-code-actions`, "Generate here…": the package asks the server's question in
    the minibuffer and runs the action with the answer, without blocking Emacs."""
    gemini.script(Reply(CHUNKS, chunk_delay_ms=30))
    run = emacs.run(
        "code-action",
        SOURCE,
        line=INSERT_LINE,
        character=0,
        action="Gemini: Generate here…",
        prompt="sum the items",
    )

    assert run["questions"][1] == "What should Gemini write here? "
    assert run.result("gemini.generate")["status"] == "completed"
    assert_text(run.text, insert(SOURCE, INSERT_LINE, generated(CHUNKS)))
    assert "sum the items" in str(gemini.requests[-1].body)


def test_code_action_in_plain_eglot(emacs: Emacs, gemini: Emulator) -> None:
    """Without the package, Eglot runs "Implement TODO" as a blocking command."""
    source = "import sys\n# TODO: print the arguments\n\n\ndef main():\n    return 0\n"
    gemini.script(Reply(["for arg in sys.argv:\n", "    print(arg)\n"], chunk_delay_ms=30))
    run = emacs.run(
        "code-action-blocking",
        source,
        package=False,
        line=1,
        character=3,
        action="Gemini: Implement TODO: print the arguments",
    )

    expected = "import sys\nfor arg in sys.argv:\n    print(arg)\n\n\ndef main():\n    return 0\n"
    assert_text(run.text, expected)
    answer = run.answer("code action")
    assert answer["at"] - answer["sent"] < 4000


def test_rewrite_region(emacs: Emacs, gemini: Emulator) -> None:
    """`gemini-lsp-rewrite-region` on whole lines: the new text replaces them once it is
    complete, ending with one line break."""
    gemini.script(Reply(["def main():\n", "    return 1"], chunk_delay_ms=30))
    run = emacs.run("rewrite", SOURCE, start=3, end=5, prompt="return 1")

    assert run.result("gemini.edit")["status"] == "completed"
    assert_text(run.text, "import sys\n\n\ndef main():\n    return 1\n")
    assert "return 1" in str(gemini.requests[-1].body)


def test_a_failure_says_why(emacs: Emacs, gemini: Emulator) -> None:
    """Gemini refuses the request: the generation ends with the server's message, shown
    in the echo area, and the mode line and C-g go back to normal."""
    gemini.script(Reply(error=ErrorSpec(code=403, message="The caller does not have permission")))
    run = emacs.run("async", SOURCE, line=INSERT_LINE, character=0, prompt="sum items")

    error = run.answer("gemini.generate")["error"]
    assert error is not None and "permission" in error["message"], error
    assert f"Gemini: {error['message']}" in run.stderr
    assert run["mode-line"][-1] == "" and run["c-g"][-1] == "keyboard-quit"
    assert_text(run.text, SOURCE)
