"""Fixtures for the VS Code tests.

One code-server serves the whole session (installing the .vsix and starting take seconds);
every test opens its own workspace folder in a fresh browser, which gives it a fresh window,
extension host and language server, pointed by workspace settings at its own emulator.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vscode_harness import (
    ARTIFACTS,
    MACHINE_SETTINGS,
    CodeServer,
    OpenVSCode,
    VSCode,
    server_command,
)

from gemini_lsp.emulator import EmulatorThread

# A person's reading pace: text keeps coming for seconds, so typing overlaps the stream.
FIRST_TOKEN_MS = 400
CHARS_PER_SECOND = 60


@pytest.fixture(scope="session")
def code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    server = CodeServer(tmp_path_factory.mktemp("code-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    emu = EmulatorThread(first_token_ms=FIRST_TOKEN_MS, chars_per_second=CHARS_PER_SECOND)
    emu.start()
    yield emu
    emu.stop()


def server_settings(emulator: EmulatorThread, log: Path) -> dict[str, Any]:
    """Where the tests' server comes from and whom it asks: this checkout, this emulator."""
    return {
        "geminiLsp.server.command": [
            str(server_command()),
            "--log-file",
            str(log),
            "--log-level",
            "DEBUG",
        ],
        "geminiLsp.baseUrl": emulator.base_url,
    }


@pytest.fixture
def open_vscode(
    code_server: CodeServer,
    emulator: EmulatorThread,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[OpenVSCode]:
    """`open_vscode(files={...}, settings={...}, user_settings={...})`: a window on a new
    workspace with those files, whose server is this checkout's, asking this test's emulator.

    Machine-scoped settings (the server's command, the endpoint) go where VS Code reads them in
    a remote window such as code-server's: the Remote settings; the others into the workspace.
    """
    windows: list[VSCode] = []
    name = request.node.name

    def open_(
        files: dict[str, str],
        settings: dict[str, Any] | None = None,
        user_settings: dict[str, Any] | None = None,
    ) -> VSCode:
        folder = tmp_path / "workspace"
        (folder / ".vscode").mkdir(parents=True)
        for relative, text in files.items():
            (folder / relative).write_text(text)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = ARTIFACTS / f"{name}.server.log"
        log.unlink(missing_ok=True)
        everything = {**server_settings(emulator, log), **(settings or {})}
        machine = {k: v for k, v in everything.items() if k in MACHINE_SETTINGS}
        workspace = {k: v for k, v in everything.items() if k not in MACHINE_SETTINGS}
        code_server.write_remote_settings(machine)
        code_server.write_user_settings(user_settings)
        (folder / ".vscode" / "settings.json").write_text(json.dumps(workspace, indent=2))
        window = VSCode(code_server, folder, tmp_path / "chromium", name)
        windows.append(window)
        return window

    yield open_
    for window in windows:
        try:
            window.screenshot("end")
        finally:
            window.close()
            log = code_server.latest_extension_log()
            if log is not None:
                shutil.copyfile(log, ARTIFACTS / f"{name}.extension.log")
    code_server.write_user_settings()
