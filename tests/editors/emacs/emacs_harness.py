"""Runs driver.el in a real `emacs --batch -Q` with Eglot, against the real server and the
Gemini emulator, in an isolated home; returns what the driver recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from testkit.emulators import API_KEY, EmulatorInThread

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PACKAGE = REPO / "editors" / "emacs"
DRIVER = HERE / "driver.el"
# The driver's own waits fail within seconds; this only guards against Emacs itself hanging.
PROCESS_TIMEOUT = 40.0


def server_command(log: Path) -> list[str]:
    local = Path(sys.executable).parent / "gemini-lsp"
    found = str(local) if local.exists() else shutil.which("gemini-lsp")
    assert found, "gemini-lsp not found: pip install -e ."
    return [found, "--log-file", str(log), "--log-level", "DEBUG"]


class Run:
    """One Emacs session's results: `text`, `answers`, `syncs`, `mode-line` …"""

    def __init__(
        self, results: dict[str, Any], seconds: float, server_log: Path, stderr: str
    ) -> None:
        self.results = results
        self.seconds = seconds
        self.server_log = server_log
        self.stderr = stderr  # what Emacs printed: the echo area, in batch mode

    def __getitem__(self, key: str) -> Any:
        return self.results[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.results.get(key, default)

    @property
    def text(self) -> str:
        text: str = self.results["text"]
        return text

    def answer(self, command: str, n: int = 1) -> dict[str, Any]:
        """The n-th answer to `command` (its `result`, `error`, `at` in driver ms)."""
        found = [a for a in self.results.get("answers", []) if a["command"] == command]
        assert len(found) >= n, f"no answer {n} to {command}: {self.results.get('answers')}"
        answer: dict[str, Any] = found[n - 1]
        return answer

    def result(self, command: str, n: int = 1) -> dict[str, Any]:
        """The n-th successful answer's result."""
        answer = self.answer(command, n)
        assert answer.get("error") is None, answer["error"]
        result: dict[str, Any] = answer["result"]
        return result


class Emacs:
    """Runs the driver for one scenario in a fresh project folder and home."""

    def __init__(self, root: Path, emulator: EmulatorInThread) -> None:
        self.root = root
        self.emulator = emulator
        self.runs = 0
        self.binary = shutil.which("emacs")

    def run(
        self,
        scenario: str,
        text: str,
        *,
        name: str = "main.py",
        package: bool = True,
        settings: dict[str, Any] | None = None,
        **params: Any,
    ) -> Run:
        if self.binary is None:
            pytest.fail("emacs not found: `make editors` installs it (scripts/install-emacs.sh)")
        self.runs += 1
        base = self.root / f"run{self.runs}"
        project, home = base / "project", base / "home"
        (project / ".git").mkdir(parents=True)  # project.el's root marker
        home.mkdir()
        path = project / name
        path.write_text(text, encoding="utf-8")
        out, log = base / "results.json", base / "gemini-lsp.log"
        config = {
            "scenario": scenario,
            "file": str(path),
            "out": str(out),
            "server": server_command(log),
            "package": str(PACKAGE) if package else None,
            "settings": {"retries": 0, **(settings or {})},
            **params,
        }
        (base / "params.json").write_text(json.dumps(config), encoding="utf-8")
        env = {
            "HOME": str(home),
            **{f"XDG_{k}_HOME": str(home / k.lower()) for k in ("CONFIG", "DATA", "CACHE")},
            "PATH": os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
            "GEMINI_TEST_PARAMS": str(base / "params.json"),
            "GOOGLE_GEMINI_BASE_URL": self.emulator.url,
            "GEMINI_API_KEY": API_KEY,
        }
        started = time.monotonic()
        done = subprocess.run(
            [self.binary, "--batch", "-Q", "-l", str(DRIVER)],
            env=env,
            cwd=project,
            capture_output=True,
            text=True,
            timeout=PROCESS_TIMEOUT,
            check=False,
        )
        seconds = time.monotonic() - started
        results: dict[str, Any] = (
            json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
        )
        if done.returncode != 0 or "error" in results:
            report = [
                f"the Emacs driver failed ({scenario}, exit {done.returncode}, {seconds:.1f} s):",
                f"  {results.get('error', '(no results)')}",
                "--- results (without events)",
                json.dumps({k: v for k, v in results.items() if k != "events"}, indent=1)[:6000],
                "--- emacs stderr (end)",
                done.stderr[-3000:],
                "--- Eglot events (end)",
                str(results.get("events", ""))[-6000:],
                "--- server log (end)",
                "\n".join(log.read_text(errors="replace").splitlines()[-60:])
                if log.exists()
                else "(none)",
            ]
            pytest.fail("\n".join(report), pytrace=False)
        return Run(results, seconds, log, done.stderr)
