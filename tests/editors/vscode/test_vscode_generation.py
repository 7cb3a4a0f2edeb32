"""Gemini in real VS Code (code-server + Chromium), against the emulator.

Each test does what a person does — palette, keyboard, Escape, Ctrl+Z — and checks what a
person would see: the screen while it streams, and the file on disk once saved.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from vscode_harness import OpenVSCode

from gemini_lsp.emulator import EmulatorThread, ErrorSpec, Reply

pytestmark = pytest.mark.editor

ORIGINAL = "import math\n\n\ndef area(r):\n    return math.pi * r * r\n"

# Streamed one line at a time, slowly enough (≈ 4 s in all) to watch and to type over.
CIRCUMFERENCE = [
    "def circumference(r):\n",
    '    """The length of the circle of radius r."""\n',
    "    if r < 0:\n",
    '        raise ValueError("r must not be negative")\n',
    "    return 2 * math.pi * r\n",
    "\n",
    "\n",
    "def diameter(r):\n",
    '    """Twice the radius."""\n',
    "    return 2 * r\n",
]
GENERATED = "".join(CIRCUMFERENCE)
CHUNK_DELAY_MS = 350

GENERATE = "Gemini: Generate at Cursor…"
REWRITE = "Gemini: Rewrite Selection…"


def slow_reply(
    chunks: list[str] = CIRCUMFERENCE,
    delay_ms: float = CHUNK_DELAY_MS,
    hold_after: int | None = None,
) -> Reply:
    """`hold_after`: the stream waits after that many lines until the test releases it, so
    what the test checks mid-stream is still mid-stream however slow the machine."""
    return Reply(
        chunks, chunk_delay_ms=delay_ms, first_chunk_delay_ms=delay_ms, hold_after=hold_after
    )


@pytest.mark.timeout(420)
def test_generate_at_cursor_streams_with_progress(
    open_vscode: OpenVSCode, emulator: EmulatorThread
) -> None:
    emulator.script(slow_reply(hold_after=2))
    vscode = open_vscode({"geometry.py": ORIGINAL})
    path = vscode.workspace / "geometry.py"
    vscode.open("geometry.py")
    vscode.goto(3, 1)  # the second blank line, above `def area`

    vscode.command(GENERATE, answer="Write circumference and diameter")

    # Mid-stream: the first lines are on screen, the last are not, the status bar says so.
    screen = vscode.wait_editor_text(CIRCUMFERENCE[1].strip())
    status = vscode.wait_status(r"^\[generating\] Gemini")
    screenshot = vscode.screenshot("mid-stream")
    assert "def diameter" not in screen, "the whole answer arrived at once: no streaming seen"
    assert screenshot.exists()

    request = emulator.emulator.requests[-1]
    emulator.release(request)
    final_status = vscode.wait_idle()
    vscode.save()
    # The block takes the place of the blank line it was asked on.
    assert (
        path.read_text()
        == "import math\n\n" + GENERATED + "def area(r):\n    return math.pi * r * r\n"
    )
    assert status.startswith("[generating] Gemini")
    assert "Gemini" in final_status
    assert request.outcome == "completed"
    assert "Write circumference and diameter" in str(request.body)


@pytest.mark.timeout(420)
def test_typing_while_it_streams_loses_and_misplaces_nothing(
    open_vscode: OpenVSCode, emulator: EmulatorThread
) -> None:
    # The lines before the hold arrive while it is typed.
    emulator.script(slow_reply(delay_ms=600, hold_after=4))
    vscode = open_vscode({"geometry.py": ORIGINAL})
    vscode.open("geometry.py")
    vscode.goto(3, 1)
    vscode.command(GENERATE, answer="Write circumference and diameter")
    vscode.wait_editor_text(CIRCUMFERENCE[0].strip())

    # A person keeps working above and below while the text streams in between.
    vscode.press("Control+Home")
    vscode.type("# typed above while Gemini writes\n", delay_ms=25)
    vscode.press("Control+End")
    vscode.type("# typed below, also while it writes", delay_ms=25)
    # (The extension's README shows this moment: editors/vscode/images/screenshot.png.)
    vscode.wait_editor_text(CIRCUMFERENCE[3].strip())
    vscode.screenshot("typing-mid-stream")
    request = emulator.emulator.requests[-1]
    assert request.outcome == "pending", "the stream ended before the typing: no overlap tested"
    assert request.chunks_sent == 4

    emulator.release(request)
    vscode.wait_idle()
    vscode.save()
    assert (vscode.workspace / "geometry.py").read_text() == (
        "# typed above while Gemini writes\n"
        "import math\n\n" + GENERATED + "def area(r):\n    return math.pi * r * r\n"
        "# typed below, also while it writes"
    )
    assert request.outcome == "completed"


LONG = [f"    total += {i}  # step {i} of a long answer\n" for i in range(40)]


@pytest.mark.timeout(420)
def test_escape_stops_it_within_a_second(open_vscode: OpenVSCode, emulator: EmulatorThread) -> None:
    emulator.script(Reply(LONG, chunk_delay_ms=250, first_chunk_delay_ms=250))
    vscode = open_vscode({"sum.py": "def total_of_steps():\n    total = 0\n\n    return total\n"})
    path = vscode.workspace / "sum.py"
    vscode.open("sum.py")
    vscode.goto(3, 1)
    vscode.command(GENERATE, answer="Add the steps")
    vscode.wait_editor_text("step 2 of")
    vscode.wait_status(r"^\[generating\]")

    pressed = time.monotonic()
    vscode.press("Escape")
    request = emulator.emulator.requests[-1]
    disconnected = emulator.wait_for_disconnect(request, timeout=5)
    assert disconnected - pressed < 1.0, f"the stream stayed open {disconnected - pressed:.2f} s"
    vscode.wait_idle(timeout=2)

    # Nothing arrives afterwards: the screen does not change, and the partial text stays.
    after_cancel = vscode.editor_text()
    time.sleep(1.5)
    assert vscode.editor_text() == after_cancel
    vscode.save()
    text = path.read_text()
    head, tail = "def total_of_steps():\n    total = 0\n", "\n    return total\n"
    assert text.startswith(head) and text.endswith(tail), text
    partial = text[len(head) : -len(tail)]
    assert partial and "".join(LONG).startswith(partial.rstrip("\n")), partial
    assert request.chunks_sent < len(LONG)
    assert partial.count("\n") <= request.chunks_sent
    assert len(emulator.emulator.requests) == 1


@pytest.mark.timeout(420)
def test_escape_leaves_widgets_and_cursors_alone_then_stops_it(
    open_vscode: OpenVSCode, emulator: EmulatorThread
) -> None:
    """Escape belongs to whatever shows: the suggest widget, extra cursors; only then it stops
    the generation."""
    # A few lines, then the stream waits: edits arriving would close the widget by themselves.
    emulator.script(Reply(LONG, chunk_delay_ms=100, first_chunk_delay_ms=100, stall_after=3))
    vscode = open_vscode(
        {"sum.py": "def total_of_steps():\n    total = 0\n\n    return total\n"},
        settings={"editor.wordBasedSuggestions": "currentDocument"},
    )
    vscode.open("sum.py")
    vscode.goto(3, 1)
    vscode.command(GENERATE, answer="Add the steps")
    vscode.wait_editor_text("step 2 of")
    request = emulator.emulator.requests[-1]

    vscode.press("Control+End")
    vscode.type("tot")
    vscode.press("Control+Space")
    wait_for(lambda: vscode.call("suggestVisible"), "the suggest widget")
    vscode.press("Escape")
    wait_for(lambda: not vscode.call("suggestVisible"), "the suggest widget to close")

    vscode.press("Control+Shift+ArrowUp")
    wait_for(lambda: vscode.call("cursorCount") == 2, "a second cursor")
    vscode.press("Escape")
    wait_for(lambda: vscode.call("cursorCount") == 1, "one cursor again")

    time.sleep(0.3)
    assert request.outcome == "pending", "Escape for a widget cancelled the generation"
    assert vscode.status().startswith("[generating]")
    pressed = time.monotonic()
    vscode.press("Escape")
    disconnected = emulator.wait_for_disconnect(request, timeout=5)
    assert disconnected - pressed < 1.0
    vscode.wait_idle(timeout=2)
    assert request.chunks_sent == 3


def wait_for(check: Callable[[], object], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.timeout(420)
def test_rewrite_selection(open_vscode: OpenVSCode, emulator: EmulatorThread) -> None:
    rewritten = [
        "def area(r: float) -> float:\n",
        '    """The area of the circle of radius r."""\n',
        "    return math.pi * r**2\n",
    ]
    emulator.script(slow_reply(rewritten, delay_ms=600, hold_after=1))
    vscode = open_vscode({"geometry.py": ORIGINAL})
    vscode.open("geometry.py")
    vscode.select_lines(4, 5)
    vscode.command(REWRITE, answer="Add type hints and a docstring")

    # While it streams, the original stays; once complete it is replaced in one edit.
    screen = vscode.wait_editor_text("def area(r: float)")
    assert "return math.pi * r * r" in screen
    request = emulator.emulator.requests[-1]
    emulator.release(request)
    vscode.wait_idle()
    vscode.save()
    assert (vscode.workspace / "geometry.py").read_text() == "import math\n\n\n" + "".join(
        rewritten
    )
    assert "return math.pi * r * r" in str(request.body), "the selection was not sent"


@pytest.mark.timeout(420)
def test_one_undo_restores_the_file(open_vscode: OpenVSCode, emulator: EmulatorThread) -> None:
    emulator.script(slow_reply(delay_ms=120))
    vscode = open_vscode({"geometry.py": ORIGINAL})
    path = vscode.workspace / "geometry.py"
    vscode.open("geometry.py")
    vscode.goto(3, 1)
    vscode.command(GENERATE, answer="Write circumference and diameter")
    vscode.wait_editor_text("def diameter")
    vscode.wait_idle()
    vscode.save()
    generated = path.read_text()
    assert GENERATED in generated
    # What the person types next is an undo step of its own, not part of the generation.
    vscode.press("Control+End")
    vscode.type("xyz")

    vscode.press("Control+Z")
    vscode.save()
    assert path.read_text() == generated
    vscode.press("Control+Z")
    vscode.save()
    assert path.read_text() == ORIGINAL
    # and redo brings the whole generation back, also in one step
    vscode.press("Control+Shift+Z")
    vscode.save()
    assert path.read_text() == generated


@pytest.mark.timeout(420)
def test_code_action_asks_for_the_instruction(
    open_vscode: OpenVSCode, emulator: EmulatorThread
) -> None:
    emulator.script(slow_reply(delay_ms=100))
    vscode = open_vscode({"geometry.py": ORIGINAL})
    vscode.open("geometry.py")
    vscode.goto(3, 1)

    vscode.call("codeAction", title="Gemini: Generate here")
    vscode.wait_quick_input("What should Gemini write here?")
    vscode.call("answer", title="Gemini", text="Write circumference and diameter")
    vscode.wait_editor_text("def diameter")
    vscode.wait_idle()
    vscode.save()
    assert (vscode.workspace / "geometry.py").read_text() == (
        "import math\n\n" + GENERATED + "def area(r):\n    return math.pi * r * r\n"
    )
    assert "Write circumference and diameter" in str(emulator.emulator.requests[-1].body)


@pytest.mark.timeout(420)
def test_refine_replaces_the_last_generation(
    open_vscode: OpenVSCode, emulator: EmulatorThread
) -> None:
    refined = [
        "def circumference(r: float) -> float:\n",
        "    return math.tau * r\n",
    ]
    emulator.script(slow_reply(delay_ms=100), slow_reply(refined, delay_ms=200))
    vscode = open_vscode({"geometry.py": ORIGINAL})
    vscode.open("geometry.py")
    vscode.goto(3, 1)
    vscode.command(GENERATE, answer="Write circumference and diameter")
    vscode.wait_editor_text("def diameter")
    vscode.wait_idle()

    vscode.command("Gemini: Refine…", answer="Only circumference, with type hints and tau")
    vscode.wait_editor_text("math.tau")
    vscode.wait_idle()
    vscode.save()
    assert (vscode.workspace / "geometry.py").read_text() == (
        "import math\n\n" + "".join(refined) + "def area(r):\n    return math.pi * r * r\n"
    )
    assert "Only circumference" in str(emulator.emulator.requests[-1].body)


@pytest.mark.timeout(420)
def test_revert_removes_the_generation_after_other_edits(
    open_vscode: OpenVSCode, emulator: EmulatorThread
) -> None:
    emulator.script(slow_reply(delay_ms=100))
    vscode = open_vscode({"geometry.py": ORIGINAL})
    path = vscode.workspace / "geometry.py"
    vscode.open("geometry.py")
    vscode.goto(3, 1)
    vscode.command(GENERATE, answer="Write circumference and diameter")
    vscode.wait_editor_text("def diameter")
    vscode.wait_idle()
    vscode.press("Control+Home")
    vscode.type("# a note written afterwards\n")

    # Undo would take the note first; Revert takes exactly the generation.
    vscode.command("Gemini: Revert Last Generation")
    vscode.call("waitEditorTextGone", text="def circumference")
    vscode.save()
    assert path.read_text() == "# a note written afterwards\n" + ORIGINAL


@pytest.mark.timeout(420)
def test_missing_server_is_told_when_asked_not_before(open_vscode: OpenVSCode) -> None:
    vscode = open_vscode(
        {"geometry.py": ORIGINAL},
        settings={"geminiLsp.server.command": None, "geminiLsp.server.python": "/nowhere/python3"},
    )
    # Opening a Python file starts the extension: a server that cannot start is a hint in the
    # status bar, not a pop-up in a window where nobody asked for anything.
    vscode.open("geometry.py")
    wait_for(lambda: vscode.status_item("geminiLsp.server"), "the server's status bar hint", 30)
    assert not [n for n in vscode.notifications() if "Gemini" in n]

    vscode.goto(3, 1)
    vscode.command(GENERATE)
    message = vscode.wait_notification(r"geminiLsp\.server\.python", timeout=30)
    assert "/nowhere/python3" in message
    assert "pip install gemini-lsp" in message


@pytest.mark.timeout(420)
def test_a_remote_window_says_where_machine_settings_go(open_vscode: OpenVSCode) -> None:
    # code-server is a remote window: machine settings in the User settings are ignored there.
    # (The tests' server command is in the Remote settings; the interpreter only in User's.)
    vscode = open_vscode(
        {"geometry.py": ORIGINAL}, user_settings={"geminiLsp.server.python": "/usr/bin/python3"}
    )
    vscode.open("geometry.py")
    message = vscode.wait_notification("Remote settings", timeout=30)
    assert "geminiLsp.server.python" in message
    assert "geminiLsp.server.command" not in message
    assert "User settings" in message


@pytest.mark.timeout(420)
def test_quota_error_shows_a_readable_notification(
    open_vscode: OpenVSCode, emulator: EmulatorThread
) -> None:
    emulator.script(Reply(error=ErrorSpec(code=429, retry_delay="1s")))
    vscode = open_vscode({"geometry.py": ORIGINAL}, settings={"geminiLsp.retries": 0})
    vscode.open("geometry.py")
    vscode.goto(3, 1)
    vscode.command(GENERATE, answer="Write circumference")

    message = vscode.wait_notification(r"quota")
    vscode.screenshot("quota")
    assert "429" in message or "quota" in message.lower()
    for noise in ("Traceback", "{", "Request workspace/executeCommand failed"):
        assert noise not in message, message
    assert vscode.wait_status("failed", timeout=5)
    assert (vscode.workspace / "geometry.py").read_text() == ORIGINAL
