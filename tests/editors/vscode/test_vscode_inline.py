"""Inline suggestions in real VS Code (code-server + Chromium), against the emulator: the
ghost text appears as you type, Tab accepts it, typing on cancels the stale request, and the
status bar item turns suggestions off."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from vscode_harness import ARTIFACTS, CodeServer, OpenVSCode, VSCode

from gemini_lsp.emulator import EmulatorThread, FimRule

pytestmark = pytest.mark.editor

ORIGINAL = "values = [1, 2, 3]\nweights = [3, 2, 1]\n\n"
SUGGESTION = "sum(v * w for v, w in zip(values, weights))"
# The README shows what this test sees (set GEMINI_LSP_UPDATE_SCREENSHOTS=1 to renew it).
README_SHOT = Path(__file__).resolve().parents[3] / "docs" / "images" / "vscode-inline.png"
# The other editor tests turn VS Code's inline suggestions off; these need them.
INLINE_ON = {"editor.inlineSuggest.enabled": True}

GHOST = (
    "[...document.querySelectorAll('.editor-group-container.active .ghost-text-decoration,"
    " .editor-group-container.active .ghost-text')].map(e => e.textContent).join('')"
)


ITEM = "document.querySelector('[id$=\"geminiLsp.inline\"] .statusbar-item-label')"
# A person's click: the events a mouse sends, in order.
CLICK_ITEM = (
    f"(() => {{ const item = {ITEM}; for (const type of"
    " ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click'])"
    " item.dispatchEvent(new MouseEvent(type, {bubbles: true, cancelable: true, button: 0}));"
    " })()"
)


def item_label(vscode: VSCode) -> str:
    return str(vscode.call("evaluate", expression=f"{ITEM}?.getAttribute('aria-label') ?? ''"))


def ghost_text(vscode: VSCode) -> str:
    return str(vscode.call("evaluate", expression=GHOST) or "").replace("\u00a0", " ")


def wait(what: str, check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def server_ready(request: pytest.FixtureRequest, name: str) -> None:
    """Wait until the server has the file open: VS Code only asks providers that were there
    when the typing happened."""
    log = ARTIFACTS / f"{request.node.name}.server.log"
    wait(
        "the server to open the file",
        lambda: (
            log.exists()
            and f"{name}" in log.read_text(errors="replace")
            and "textDocument/didOpen" in log.read_text(errors="replace")
        ),
        timeout=30,
    )


@pytest.mark.timeout(420)
def test_a_suggestion_appears_tab_accepts_and_typing_cancels_the_stale_one(
    open_vscode: OpenVSCode, emulator: EmulatorThread, request: pytest.FixtureRequest
) -> None:
    emu = emulator.emulator
    emu.script_fim(
        FimRule(chunks=[SUGGESTION], when_before="total = ", latency_ms=150),
        FimRule(chunks=["never_shown()"], when_before="late", latency_ms=8000),
        FimRule(text=""),  # elsewhere: no suggestion
    )
    vscode = open_vscode({"weighted.py": ORIGINAL}, user_settings=INLINE_ON)
    path = vscode.workspace / "weighted.py"
    vscode.open("weighted.py")
    server_ready(request, "weighted.py")
    vscode.goto(3, 1)
    vscode.type("total = ", delay_ms=40)

    wait("the ghost text", lambda: ghost_text(vscode) == SUGGESTION)
    screen = vscode.editor_text()
    assert f"total = {SUGGESTION}" in screen  # shown after the cursor, not yet in the file
    shot = vscode.screenshot("inline-suggestion")
    if not README_SHOT.exists() or os.environ.get("GEMINI_LSP_UPDATE_SCREENSHOTS"):
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, README_SHOT)
    (request,) = [r for r in emu.fim_requests if r.fim and r.fim.before.endswith("total = ")]
    assert request.fim is not None and request.fim.path == "weighted.py"

    # The editor's own word-by-word accept (Ctrl+Right), then Tab for the rest.
    vscode.press("Control+ArrowRight")
    wait(
        "one word accepted",
        lambda: (
            SUGGESTION.endswith(ghost_text(vscode))
            and 0 < len(ghost_text(vscode)) < len(SUGGESTION)
        ),
    )
    vscode.press("Tab")
    vscode.save()
    assert path.read_text() == f"values = [1, 2, 3]\nweights = [3, 2, 1]\ntotal = {SUGGESTION}\n"

    # A slow answer, then more typing: the request for the old place is closed at once.
    vscode.press("End")
    vscode.press("Enter")
    vscode.type("late", delay_ms=40)
    wait(
        "the slow request",
        lambda: any(r.fim and r.fim.before.endswith("late") for r in emu.fim_requests),
    )
    (slow,) = [r for r in emu.fim_requests if r.fim and r.fim.before.endswith("late")]
    vscode.type("r")
    wait("the slow request to be closed", lambda: slow.outcome == "disconnected", timeout=5)
    assert slow.disconnected_at is not None
    assert "never_shown" not in vscode.editor_text()


@pytest.mark.timeout(420)
def test_the_status_bar_item_turns_suggestions_off(
    open_vscode: OpenVSCode,
    emulator: EmulatorThread,
    request: pytest.FixtureRequest,
    code_server: CodeServer,
) -> None:
    emu = emulator.emulator
    emu.script_fim(FimRule(chunks=[SUGGESTION], latency_ms=100))
    vscode = open_vscode({"weighted.py": ORIGINAL}, user_settings=INLINE_ON)
    vscode.open("weighted.py")
    server_ready(request, "weighted.py")
    wait("the status bar item", lambda: "Gemini" in vscode.status_item("geminiLsp.inline"))
    assert ": on" in item_label(vscode)
    vscode.call("evaluate", expression=CLICK_ITEM)
    wait("the item to say off", lambda: ": off" in item_label(vscode))
    # Not set in the workspace: the toggle is the user's, for every window.
    settings = code_server.user_settings
    wait(
        "the setting to turn off",
        lambda: json.loads(settings.read_text()).get("geminiLsp.inlineCompletion.enabled") is False,
    )
    time.sleep(0.5)  # the server hears of it
    vscode.goto(3, 1)
    vscode.type("total = ", delay_ms=40)
    time.sleep(1.5)
    assert ghost_text(vscode) == ""
    assert emu.fim_requests == []
