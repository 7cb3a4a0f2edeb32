"""The Neovim plugin in a real Neovim 0.11, against the real server and the Gemini emulator.

Each test drives Neovim the way a person would (commands, keys, a timer typing) and checks
what they would check: where the text lands, that it streams, that typing loses nothing,
that <C-c> stops it, that one `u` removes it, that a failure says why.
"""

from __future__ import annotations

import difflib
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from nvim_harness import MakeNeovim, Neovim, write

from gemini_lsp.emulator import ErrorSpec, Reply
from testkit.emulators import EmulatorInThread as Emulator

pytestmark = pytest.mark.editor

ERROR = 4  # vim.log.levels.ERROR


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def generate_at(nv: Neovim, line: int, col: int, prompt: str) -> None:
    """Put the cursor at (line, col), 1-based byte column, and run :Gemini."""
    nv.nvim.command(f"call cursor({line}, {col})")
    nv.nvim.command(f"Gemini {prompt}")


def completed(record: dict[str, Any]) -> dict[str, Any]:
    assert record["err"] is None, record["err"]
    result: dict[str, Any] = record["result"]
    assert result["status"] == "completed", result
    return result


def assert_lines(actual: list[str], expected: list[str]) -> None:
    """Equal buffers, or a failure that shows the whole difference."""
    if actual != expected:
        diff = difflib.unified_diff(expected, actual, "expected", "buffer", lineterm="")
        pytest.fail("the buffer differs:\n" + "\n".join(diff))


def changes_between(nv: Neovim, start: float, end: float) -> int:
    changes: list[dict[str, Any]] = nv.t("changes")
    return sum(1 for c in changes if start < c["at"] <= end)


def test_generate_at_cursor_streams_with_indentation(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path
) -> None:
    gemini.script(Reply(["message = 'hi, ' ", "+ name\n", "print(", "message)"], chunk_delay_ms=80))
    path = write(tmp_path / "greet.py", "def greet(name):\n    \n    return name\n")
    nv = make_nvim()
    nv.open(path)

    generate_at(nv, 2, 1, "say hi to name")  # the indented blank line
    record = nv.wait_done()
    completed(record)
    nv.wait_quiet()

    assert nv.lines() == [
        "def greet(name):",
        "    message = 'hi, ' + name",
        "    print(message)",
        "    return name",
    ]
    # It streamed: several changes between the command and its answer.
    started = nv.t("started")[0]["at"]
    assert changes_between(nv, started, record["at"]) >= 2
    # The emulator got the prompt.
    assert "say hi to name" in str(gemini.requests[-1].body)
    # Progress was visible while it streamed, and the statusline is quiet now.
    progress: list[dict[str, Any]] = nv.t("progress")
    kinds = [p["kind"] for p in progress]
    assert kinds[0] == "begin", kinds
    assert kinds[-1] == "end", kinds
    assert "Gemini" in (progress[0]["title"] or "")
    echoed = [e for e in nv.t("echoed") if e.startswith("Gemini")]
    assert len(echoed) >= 2, echoed  # in the message area while it streamed...
    assert re.search(r"\d+ lines? in [\d.]+ m?s", echoed[-1]), echoed  # ...then the outcome
    statuslines: list[str] = nv.t("statuslines")
    assert any("Gemini" in s for s in statuslines[:-1]), statuslines
    assert nv.lua("return require('gemini_lsp').statusline()") == ""


def test_rewrite_visual_range(make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path) -> None:
    gemini.script(
        Reply(["def add(a: int, b: int) -> int:\n", "    return a + b\n"], chunk_delay_ms=60)
    )
    original = ["def add(a, b):", "    return a+b", "", "", "def sub(a, b):", "    return a-b"]
    path = write(tmp_path / "calc.py", "\n".join(original) + "\n")
    nv = make_nvim()
    nv.open(path)

    nv.nvim.input("ggVj:Gemini add type hints<CR>")
    record = nv.wait_done()
    completed(record)
    nv.wait_quiet()

    assert record["command"] == "gemini.edit"
    assert nv.lines() == [
        "def add(a: int, b: int) -> int:",
        "    return a + b",
        *original[2:],
    ]
    # The rewrite is one undo step too.
    nv.nvim.input("u")
    nv.wait_lines(original, "one undo of the rewrite")


GENERATED = [f"v{i:02d} = {i * 7}" for i in range(1, 41)]


def expected_after_typing(typed: list[dict[str, Any]]) -> list[str]:
    """The buffer the typing timer (init.lua T.start_typing) and the generation make.

    The generation fills the blank line it was asked on: its final newline is dropped
    (the line's own line break ends it).
    """
    count = Counter(t["kind"] for t in typed)
    numbers = {kind: [t["n"] for t in typed if t["kind"] == kind] for kind in count}
    above = [f"# above {n}" for n in reversed(numbers.get("above_line", []))]
    inside = [f"# inside {n}" for n in reversed(numbers.get("inside_line", []))]
    below = [f"# below {n}" for n in numbers.get("below_line", [])]
    first = GENERATED[0] + "i" * count["inside_char"]
    return [
        *above,
        "# head",
        "x = 1" + "b" * count["above_char"],
        first,
        *inside,
        *GENERATED[1:],
        "y = 2",
        "# tail" + "a" * count["below_char"],
        *below,
    ]


@pytest.mark.parametrize("versioned", [True, False], ids=["documentChanges", "changes"])
def test_typing_during_the_stream_loses_nothing(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path, versioned: bool
) -> None:
    text = "\n".join(GENERATED) + "\n"
    gemini.script(Reply(pieces(text, 11), chunk_delay_ms=30))
    path = write(tmp_path / "vars.py", "# head\nx = 1\n\ny = 2\n# tail\n")
    nv = make_nvim({"versioned_edits": versioned})
    nv.open(path)

    generate_at(nv, 3, 1, "forty numbered variables")
    nv.lua(
        "T.start_typing(...)",
        {
            "every_ms": 23,
            "above": "x = 1",
            "below": "# tail",
            "first_generated": GENERATED[0],
            "third_generated": GENERATED[2],
        },
    )
    completed(nv.wait_done(timeout=20))
    nv.wait_quiet()

    typed: list[dict[str, Any]] = nv.t("typed")
    kinds = Counter(t["kind"] for t in typed)
    for kind in ("above_char", "above_line", "inside_char", "inside_line", "below_char"):
        assert kinds[kind] >= 2, f"the timer typed too little during the stream: {kinds}"
    assert_lines(nv.lines(), expected_after_typing(typed))


def test_plain_neovim_with_default_flags_while_typing(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path
) -> None:
    """No plugin: unversioned edits and Neovim's 150 ms debounce, which a keystroke every
    23 ms or so keeps restarting, so the server hears nothing from the editor until the
    stream is over. Every character still lands exactly once, in place.

    The typing goes above and below the generation, not into it: an unversioned edit made
    while lines above it are being added lands on a stale line until the next sync shows
    the server where it went, so typing relative to streamed text could follow a copy that
    is then moved."""
    text = "\n".join(GENERATED) + "\n"
    gemini.script(Reply(pieces(text, 11), chunk_delay_ms=30))
    path = write(tmp_path / "vars.py", "# head\nx = 1\n\ny = 2\n# tail\n")
    nv = make_nvim(plain=True)
    nv.open(path)

    nv.lua("T.plain_generate(...)", 2, 0, "forty numbered variables")
    nv.lua(
        "T.start_typing(...)",
        {
            "every_ms": 23,
            "above": "x = 1",
            "below": "# tail",
            "first_generated": "(no typing inside)",
            "third_generated": "(no typing inside)",
        },
    )
    completed(nv.wait_done(timeout=20))
    nv.wait_quiet(quiet=0.6)

    typed: list[dict[str, Any]] = nv.t("typed")
    kinds = Counter(t["kind"] for t in typed)
    for kind in ("above_char", "above_line", "below_char", "below_line"):
        assert kinds[kind] >= 2, f"the timer typed too little during the stream: {kinds}"
    assert_lines(nv.lines(), expected_after_typing(typed))


def test_ctrl_c_stops_the_stream(make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path) -> None:
    lines = [f"line{i:02d} = {i}" for i in range(60)]
    gemini.script(Reply([line + "\n" for line in lines], chunk_delay_ms=60))
    path = write(tmp_path / "long.py", "x = 1\n\n")
    nv = make_nvim()
    nv.open(path)

    generate_at(nv, 2, 1, "sixty lines")
    nv.wait_for("some text", lambda: "line02 = 2" in nv.lines())
    assert nv.lua("return vim.fn.maparg('<C-c>', 'n') ~= ''"), "<C-c> is mapped while generating"

    pressed = time.monotonic()
    nv.nvim.input("<C-c>")
    record = nv.wait_done(timeout=5)
    assert record["err"] is None, record["err"]
    assert record["result"]["status"] == "cancelled"

    # The HTTP stream to Gemini was closed, promptly.
    request = gemini.requests[-1]
    disconnected = gemini.thread.wait_for_disconnect(request, timeout=3)
    assert disconnected - pressed < 2.5  # the whole stream would take 3.6 s
    assert request.chunks_sent < len(lines)

    # Nothing arrives after the answer.
    snapshot = nv.lines()
    time.sleep(0.6)
    assert nv.lua("return T.changes_after(...)", record["at"]) == 0
    assert nv.lines() == snapshot
    generated = [line for line in snapshot if line.startswith("line")]
    assert generated == lines[: len(generated)]
    assert len(generated) < len(lines)
    # The key is the user's again.
    assert nv.lua("return vim.fn.maparg('<C-c>', 'n')") == ""


def test_one_undo_removes_the_generation(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path
) -> None:
    body = ["    total = 0", "    for n in numbers:", "        total += n", "    return total"]
    gemini.script(Reply(pieces("\n".join(s[4:] for s in body), 9), chunk_delay_ms=60))
    original = ["def total(numbers):", "    "]
    path = write(tmp_path / "total.py", "\n".join(original) + "\n")
    nv = make_nvim()
    nv.open(path)

    # The user's own edit first: it must stay a separate undo step.
    nv.nvim.input("ggA  # sum<Esc>")
    mine = ["def total(numbers):  # sum", "    "]
    nv.wait_for("the user's edit", lambda: nv.lines() == mine)

    generate_at(nv, 2, 1, "sum the numbers")
    record = nv.wait_done()
    completed(record)
    nv.wait_quiet()
    assert nv.lines() == [mine[0], *body]
    started = nv.t("started")[0]["at"]
    assert changes_between(nv, started, record["at"]) >= 3, "the text came in several edits"

    nv.nvim.input("u")
    nv.wait_lines(mine, "one undo to remove the generation")
    nv.nvim.input("u")
    nv.wait_lines(original, "a second undo to remove the user's edit")


def test_failure_shows_a_readable_message(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path
) -> None:
    quota = ErrorSpec(code=429, message="Resource has been exhausted (e.g. check quota).")
    gemini.script(*[Reply(error=quota) for _ in range(3)])
    path = write(tmp_path / "quota.py", "x = 1\n")
    nv = make_nvim()
    nv.open(path)

    generate_at(nv, 1, 1, "anything")
    record = nv.wait_done()
    assert record["err"] is not None, record

    nv.wait_for("an error notification", lambda: nv.t("notes"))
    time.sleep(0.3)  # the server's showMessage and the answer both arrive
    notes: list[dict[str, Any]] = nv.t("notes")
    errors = [n["msg"] for n in notes if n["level"] == ERROR]
    assert len(errors) == 1, notes  # once, not twice
    message = errors[0]
    assert "Traceback" not in message
    assert len(message) < 400
    assert any(word in message.lower() for word in ("quota", "rate", "429", "too many")), message
    assert nv.lines() == ["x = 1"]


def test_multibyte_text_with_utf8_positions(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path
) -> None:
    gemini.script(Reply(["ñ", "😀漢", "字ü"], chunk_delay_ms=250))
    path = write(tmp_path / "words.py", "# é😀中文\nx = 'é😀'\n")
    nv = make_nvim()
    nv.open(path)
    assert nv.lua("return T.client().offset_encoding") == "utf-8"

    col = len("x = 'é😀".encode()) + 1  # on the closing quote
    generate_at(nv, 2, col, "more letters")
    nv.wait_for("the first chunk", lambda: "ñ" in nv.lines()[1])
    # Type a multi-byte letter before the insertion point, on its own line.
    nv.lua("vim.api.nvim_buf_set_text(0, 1, 0, 1, 0, { 'ö' })")
    completed(nv.wait_done())
    nv.wait_quiet()

    assert nv.lines() == ["# é😀中文", "öx = 'é😀ñ😀漢字ü'"]

    # A characterwise selection of multi-byte characters, rewritten.
    gemini.script(Reply(["Z"], chunk_delay_ms=30))
    start = len("öx = 'é😀ñ".encode())
    nv.lua("vim.api.nvim_win_set_cursor(0, { 2, ... })", start)
    nv.nvim.input("vl:Gemini shorter<CR>")  # selects 😀漢
    completed(nv.wait_done(2))
    nv.wait_lines(["# é😀中文", "öx = 'é😀ñZ字ü'"], "the rewrite of the selection")


def test_checkhealth_and_the_command_list(make_nvim: MakeNeovim, tmp_path: Path) -> None:
    path = write(tmp_path / "a.py", "x = 1\n")
    nv = make_nvim()
    nv.open(path)

    server_commands: list[str] = nv.lua(
        "return T.client().server_capabilities.executeCommandProvider.commands"
    )
    plugin_commands: list[str] = nv.lua("return require('gemini_lsp.config').server_commands")
    assert {c for c in server_commands if c.startswith("gemini.")} == set(plugin_commands)

    nv.nvim.command("checkhealth gemini_lsp")
    report = "\n".join(nv.lines())
    assert "ERROR" not in report, report
    assert "OK server version" in report, report
    assert "OK API key" in report, report


def test_refine_then_revert(make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path) -> None:
    gemini.script(
        Reply(["limit = ", "10"], chunk_delay_ms=30),
        Reply(["limit = ", "20  # ", "refined"], chunk_delay_ms=30),
    )
    path = write(tmp_path / "limit.py", "\n")
    nv = make_nvim()
    nv.open(path)

    generate_at(nv, 1, 1, "a limit")
    first = completed(nv.wait_done())
    nv.wait_lines(["limit = 10"], "the generation")
    assert nv.lua("return vim.b.gemini_lsp_last_id") == first["id"]

    nv.nvim.command("GeminiRefine make it twenty")
    second = completed(nv.wait_done(2))
    nv.wait_lines(["limit = 20  # refined"], "the refinement")
    assert second["id"] != first["id"]
    assert "limit = 10" in str(gemini.requests[-1].body), "refine continues the conversation"

    nv.nvim.command("GeminiRevert")
    nv.wait_lines(["limit = 10"], "the revert of the refinement")
    # The revert is an undo step of its own, not folded into the generation it reverts.
    nv.nvim.input("u")
    nv.wait_lines(["limit = 20  # refined"], "undo of the revert")


def test_neovim_010_path(make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path) -> None:
    """The plugin's path for Neovim 0.10 (vim.lsp.start, client.request), run on 0.11."""
    gemini.script(Reply(["print(", "'0.10')"], chunk_delay_ms=30))
    path = write(tmp_path / "old.py", "\n")
    nv = make_nvim(as_010=True)
    nv.open(path)
    assert not nv.lua("return vim.lsp.is_enabled('gemini_lsp')"), "vim.lsp.enable was used"
    assert nv.lua("return #vim.api.nvim_get_autocmds({ group = 'gemini_lsp.start' })") == 1

    generate_at(nv, 1, 1, "print the version")
    completed(nv.wait_done())
    nv.wait_lines(["print('0.10')"], "the generation")


def test_code_action_asks_for_the_instruction(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path
) -> None:
    """vim.lsp.buf.code_action() -> the server's "Generate here…", whose command has a
    `promptRequest` and no `prompt`: the plugin asks (vim.ui.input), adds the answer as
    `prompt` and runs it like :Gemini."""
    gemini.script(Reply(["radius = ", "2.0"], chunk_delay_ms=30))
    path = write(tmp_path / "circle.py", "import math\n\nprint(math.pi * radius**2)\n")
    nv = make_nvim()
    nv.open(path)
    nv.nvim.command("call cursor(2, 1)")
    nv.lua(
        """
        T.questions = {}
        vim.ui.input = function(opts, on_confirm)
          table.insert(T.questions, opts.prompt)
          on_confirm('define the radius')
        end
        vim.lsp.buf.code_action({
          apply = true,
          filter = function(action)
            return vim.startswith(action.title, 'Gemini: Generate here')
          end,
        })
        """
    )
    completed(nv.wait_done())
    nv.wait_lines(["import math", "radius = 2.0", "print(math.pi * radius**2)"], "the code")
    assert nv.t("questions") == ["What should Gemini write here? "]
    assert "define the radius" in str(gemini.requests[-1].body)
