"""Fixtures for the real-Emacs tests: the Gemini emulator and an Emacs runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emacs_harness import Emacs

from testkit.emulators import EmulatorInThread


@pytest.fixture
def gemini() -> Iterator[EmulatorInThread]:
    emu = EmulatorInThread(api_key=None)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emacs(tmp_path: Path, gemini: EmulatorInThread) -> Emacs:
    return Emacs(tmp_path, gemini)
