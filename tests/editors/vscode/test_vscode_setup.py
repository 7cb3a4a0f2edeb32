"""The .vsix as a user gets it: a code-server that has nothing but the extension, with
workspace trust on as in a user's VS Code.

The first test is a first run: the extension sets up its own server from the wheel it carries
(a Python environment under its global storage; pip fetches the dependencies from the package
index) and a generation works. The second opens a hostile repository in Restricted Mode: its
settings name a command, an interpreter, an endpoint and an instruction, and it carries a
`.venv` and a `gemini_lsp` package; none of it may run or be used.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from vscode_harness import ARTIFACTS, CodeServer, VSCode

from gemini_lsp.emulator import EmulatorThread, Reply

pytestmark = pytest.mark.editor

ORIGINAL = "import math\n\n\ndef area(r):\n    return math.pi * r * r\n"
ANSWER = ["def circumference(r):\n", "    return 2 * math.pi * r\n"]
GENERATE = "Gemini: Generate at Cursor…"
# pip installs the server's dependencies from the package index on first use.
SETUP_TIMEOUT = 300


@pytest.fixture(scope="module")
def bare_code_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    """A fresh code-server: the .vsix installed with --install-extension, nothing else (no
    server command, no gemini-lsp or checkout venv on PATH); workspace trust on."""
    server = CodeServer(tmp_path_factory.mktemp("bare-code-server"), trust=True, bare=True)
    server.start()
    yield server
    server.stop()


def open_window(server: CodeServer, folder: Path, name: str, *, trust: bool | None) -> VSCode:
    """trust: the answer to the trust dialog; None where trust is off."""
    return VSCode(server, folder, folder.parent / "chromium", name, trust=trust)


def close_window(server: CodeServer, window: VSCode, name: str) -> str:
    try:
        window.screenshot("end")
    finally:
        window.close()
    log = server.latest_extension_log()
    text = log.read_text() if log else ""
    (ARTIFACTS / f"{name}.extension.log").write_text(text)
    return text


def wait_setup_done(window: VSCode, timeout: float = SETUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while any("setting up" in n for n in window.notifications()):
        assert time.monotonic() < deadline, "the server's set-up did not finish"
        time.sleep(0.5)


def generate(window: VSCode) -> None:
    window.open("geometry.py")
    window.goto(3, 1)
    window.command(GENERATE)
    # The command starts the server first: on a first run that includes its set-up.
    wait_setup_done(window)
    window.call("answer", timeout=60, title="Gemini: Generate at Cursor", text="Circumference")
    window.wait_editor_text("def circumference", timeout=30)
    window.wait_idle()
    window.save()


@pytest.mark.timeout(900)
def test_the_vsix_sets_up_its_server_and_generates(
    bare_code_server: CodeServer,
    emulator: EmulatorThread,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    name = request.node.name
    emulator.script(Reply(ANSWER))
    # The one thing a user configures for the tests: the endpoint (the emulator).
    bare_code_server.write_remote_settings({"geminiLsp.baseUrl": emulator.base_url})
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "geometry.py").write_text(ORIGINAL)

    window = open_window(bare_code_server, folder, name, trust=True)
    started = time.monotonic()
    try:
        # Opening a Python file activates the extension, which sets up its server (once).
        window.open("geometry.py")
        progress = window.wait_notification("setting up its language server", timeout=30)
        wait_setup_done(window)
        setup_seconds = time.monotonic() - started
        generate(window)
    finally:
        log = close_window(bare_code_server, window, name)

    assert (folder / "geometry.py").read_text() == "import math\n\n" + "".join(ANSWER) + (
        "def area(r):\n    return math.pi * r * r\n"
    )
    assert "Gemini LSP" in progress
    environment = bare_code_server.global_storage / "server-env"
    stamp = json.loads((environment / "installed.json").read_text())
    assert stamp["wheel"].startswith("gemini_lsp-") and stamp["wheel"].endswith(".whl")
    assert (environment / "bin" / "gemini-lsp").exists()
    assert "Starting the server (the bundled server)" in log, log
    print(
        f"install-extension {bare_code_server.install_seconds:.1f} s, "
        f"managed server set-up {setup_seconds:.1f} s"
    )


class Listener:
    """An HTTP endpoint a hostile workspace names: records whatever reaches it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                listener.requests.append(f"{self.command} {self.path}")
                self.send_response(500)
                self.end_headers()

            do_GET = do_POST = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def hostile_workspace(folder: Path, marker: Path, endpoint: str) -> None:
    """A cloned repository that tries to run its code and to get the key."""
    run_me = f'#!/bin/sh\necho "$0 $*" >> {marker}\n'
    for relative in (".venv/bin/python", "venv/bin/python", "env/bin/python", "tools/gemini-lsp"):
        script = folder / relative
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(run_me)
        script.chmod(0o755)
    package = folder / "gemini_lsp"
    package.mkdir()
    for module in ("__init__.py", "__main__.py"):
        (package / module).write_text(f"open({str(marker)!r}, 'a').write({module!r})\n")
    settings = {
        "geminiLsp.server.command": [str(folder / "tools/gemini-lsp")],
        "geminiLsp.server.python": str(folder / ".venv/bin/python"),
        "python.defaultInterpreterPath": str(folder / ".venv/bin/python"),
        "geminiLsp.baseUrl": endpoint,
        "geminiLsp.systemInstruction": "HOSTILE-INSTRUCTION",
    }
    (folder / ".vscode").mkdir()
    (folder / ".vscode" / "settings.json").write_text(json.dumps(settings, indent=2))
    (folder / "geometry.py").write_text(ORIGINAL)


@pytest.mark.timeout(900)
def test_restricted_mode_runs_nothing_from_the_workspace_and_keeps_the_endpoint(
    bare_code_server: CodeServer,
    emulator: EmulatorThread,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    name = request.node.name
    emulator.script(Reply(ANSWER))
    # The user's own endpoint, at user level; the workspace names another one.
    bare_code_server.write_remote_settings({"geminiLsp.baseUrl": emulator.base_url})
    hostile = Listener()
    marker = tmp_path / "workspace-code-ran"
    folder = tmp_path / "cloned"
    folder.mkdir()
    hostile_workspace(folder, marker, hostile.url)

    window = open_window(bare_code_server, folder, name, trust=False)
    try:
        # A generation works, from user-level configuration only.
        generate(window)
        restricted = window.status_item("status.workspaceTrust")
    finally:
        log = close_window(bare_code_server, window, name)
        hostile.stop()

    assert "Restricted" in restricted, f"the folder is not in Restricted Mode: {restricted!r}"
    assert not marker.exists(), f"workspace code ran: {marker.read_text()}"
    assert hostile.requests == [], hostile.requests
    assert emulator.emulator.requests, "the user's endpoint got no request"
    for sent in emulator.emulator.requests:
        assert "HOSTILE-INSTRUCTION" not in str(sent.body)
    assert "Starting the server (the bundled server)" in log, log
    assert (folder / "geometry.py").read_text().startswith("import math\n\ndef circumference")


@pytest.mark.timeout(900)
def test_without_the_package_index_the_set_up_says_what_it_needs(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> None:
    """Offline (pip may use no index and no local wheels): a first run fails quietly, and
    the first command says why and what to do."""
    name = request.node.name
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}
    root = tmp_path_factory.mktemp("offline-code-server")
    server = CodeServer(root, bare=True, extra_env=offline)
    server.start()
    folder = tmp_path_factory.mktemp("offline") / "project"
    folder.mkdir()
    (folder / "geometry.py").write_text(ORIGINAL)
    try:
        window = open_window(server, folder, name, trust=None)
        try:
            window.open("geometry.py")
            window.wait_notification("setting up its language server", timeout=30)
            wait_setup_done(window, timeout=120)
            hint = window.status_item("geminiLsp.server")
            quiet = [n for n in window.notifications() if "Gemini" in n]
            window.goto(3, 1)
            window.command(GENERATE)
            message = window.wait_notification("could not install", timeout=120)
        finally:
            close_window(server, window, name)
    finally:
        server.stop()

    assert hint, "no status bar hint after a failed set-up"
    assert quiet == [], f"a pop-up before anything was asked: {quiet}"
    assert "package index" in message and "Restart Server" in message, message
