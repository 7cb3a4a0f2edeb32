"""Inline suggestions in a real Neovim 0.11 (the plugin's own ghost text: 0.12's
vim.lsp.inline_completion is not there), against the real server and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nvim_harness import MakeNeovim, Neovim, write

from gemini_lsp.emulator import FimRule
from testkit.emulators import EmulatorInThread as Emulator

pytestmark = pytest.mark.editor

SUGGESTION = "compute_total(values)"
SETUP = {"settings": {"retries": 0, "inlineCompletion": {"debounceMs": 0}}}


def script(gemini: Emulator) -> None:
    # Only "total = " gets a suggestion; every other place gets none.
    gemini.thread.emulator.script_fim(FimRule(text=SUGGESTION, when_before="total = "))
    gemini.thread.emulator.script_fim(FimRule(text=""))


def shown(nv: Neovim) -> str:
    text: str = nv.lua("return require('gemini_lsp.inline').current()")
    return text


def ghost(nv: Neovim) -> list[Any]:
    """The ghost text's extmarks: [id, row, col, details]."""
    marks: list[Any] = nv.lua(
        "local ns = vim.api.nvim_get_namespaces()['gemini_lsp.inline']"
        " return vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })"
    )
    return marks


def model_requests(gemini: Emulator) -> int:
    return len(gemini.thread.emulator.fim_requests)


def start_typing(nv: Neovim, path: Path) -> None:
    nv.open(path)
    nv.nvim.command("call cursor(2, 1)")
    nv.nvim.input("itotal = ")


@pytest.mark.parametrize("as_010", [False, True], ids=["0.11", "0.10-path"])
def test_a_suggestion_shows_and_the_accept_key_inserts_it(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path, as_010: bool
) -> None:
    script(gemini)
    nv = make_nvim(SETUP, as_010=as_010)
    start_typing(nv, write(tmp_path / "t.py", "values = [1, 2]\n\n"))
    nv.wait_for("the suggestion", lambda: shown(nv) == SUGGESTION)
    ((_, row, col, details),) = ghost(nv)
    assert (row, col) == (1, len("total = "))
    assert details["virt_text"][0][0] == SUGGESTION
    assert nv.lines() == ["values = [1, 2]", "total = "]  # ghost text only
    nv.nvim.input("<C-l>")
    nv.wait_lines(["values = [1, 2]", f"total = {SUGGESTION}"], "the accepted suggestion")
    assert nv.lua("return vim.api.nvim_win_get_cursor(0)") == [2, len(f"total = {SUGGESTION}")]
    assert ghost(nv) == []


def test_typing_through_a_suggestion_costs_no_request(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path
) -> None:
    script(gemini)
    nv = make_nvim(SETUP)
    start_typing(nv, write(tmp_path / "t.py", "values = [1, 2]\n\n"))
    nv.wait_for("the suggestion", lambda: shown(nv) == SUGGESTION)
    asked_before = nv.lua("return require('gemini_lsp.inline').asked()")
    calls = model_requests(gemini)
    asked = lambda: nv.lua("return require('gemini_lsp.inline').asked()")  # noqa: E731
    for n, char in enumerate("comp", 1):
        nv.nvim.input(char)  # one key at a time, as a person types
        nv.wait_for(f"key {n} to be asked about", lambda n=n: asked() >= asked_before + n)
        nv.wait_for(f"the suggestion after key {n}", lambda n=n: shown(nv) == SUGGESTION[n:])
    # Every key asked the server, which answered from its cache: Gemini was not asked.
    nv.nvim.command("sleep 300m")
    assert model_requests(gemini) == calls
    assert shown(nv) == SUGGESTION[4:]
    nv.nvim.input("<C-l>")
    nv.wait_lines(["values = [1, 2]", f"total = {SUGGESTION}"], "the accepted suggestion")


def test_typing_something_else_or_leaving_insert_mode_dismisses(
    make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path
) -> None:
    script(gemini)
    nv = make_nvim(SETUP)
    start_typing(nv, write(tmp_path / "t.py", "values = [1, 2]\n\n"))
    nv.wait_for("the suggestion", lambda: shown(nv) == SUGGESTION)
    nv.nvim.input("x")
    nv.wait_for("the dismissal", lambda: ghost(nv) == [] and shown(nv) == "")
    nv.nvim.input("<BS>")
    nv.wait_for("the suggestion again", lambda: shown(nv) == SUGGESTION)
    nv.nvim.input("<Esc>")
    nv.wait_for("the dismissal", lambda: ghost(nv) == [] and shown(nv) == "")
    assert nv.lines() == ["values = [1, 2]", "total = "]
    # Without a suggestion the accept key is itself (<C-l> does nothing in Insert mode).
    nv.nvim.input("A<C-l><Esc>")
    nv.nvim.command("sleep 100m")
    assert nv.lines() == ["values = [1, 2]", "total = "]


def test_gemini_inline_off_and_on(make_nvim: MakeNeovim, gemini: Emulator, tmp_path: Path) -> None:
    script(gemini)
    nv = make_nvim(SETUP)
    nv.open(write(tmp_path / "t.py", "values = [1, 2]\n\n"))
    nv.nvim.command("GeminiInline off")
    nv.nvim.command("call cursor(2, 1)")
    nv.nvim.input("itotal = ")
    nv.nvim.command("sleep 300m")
    assert nv.lua("return require('gemini_lsp.inline').asked()") == 0
    assert shown(nv) == "" and model_requests(gemini) == 0
    nv.nvim.command("GeminiInline on")
    nv.nvim.input("<BS> ")
    nv.wait_for("the suggestion", lambda: shown(nv) == SUGGESTION)
