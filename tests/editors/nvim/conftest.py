"""Fixtures for the real-Neovim tests: the Gemini emulator and Neovim sessions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from nvim_harness import MakeNeovim, Neovim, clean_env

from testkit.emulators import EmulatorInThread


@pytest.fixture
def gemini() -> Iterator[EmulatorInThread]:
    emu = EmulatorInThread(api_key=None, chars_per_second=2000)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def make_nvim(tmp_path: Path, gemini: EmulatorInThread) -> Iterator[MakeNeovim]:
    """Start Neovim sessions pointed at the emulator. They are closed after the test and
    the server's log is printed (pytest shows it when the test fails)."""
    sessions: list[Neovim] = []

    def make(
        setup: Mapping[str, Any] | None = None, *, as_010: bool = False, plain: bool = False
    ) -> Neovim:
        home = tmp_path / f"home{len(sessions)}"
        home.mkdir()
        options: dict[str, Any] = {"settings": {"retries": 0}, **(setup or {})}
        env = clean_env(gemini.url)
        if as_010:
            env["GEMINI_NVIM_AS_010"] = "1"
        if plain:  # no plugin: the server through vim.lsp.config alone
            env["GEMINI_NVIM_PLAIN"] = "1"
        session = Neovim(home, env, options)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()
        session.print_logs()
