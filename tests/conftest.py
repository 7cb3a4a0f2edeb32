"""Fixtures shared by the server's tests: the Gemini emulator."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from hypothesis import settings

from gemini_lsp.emulator import Emulator
from testkit.emulators import fast_emulator

# CI (`.ci/run`) replays one fixed set of examples per property test: a gate that a lucky or
# unlucky draw opens or shuts blames the wrong change. Runs elsewhere draw new examples each
# time and keep what fails in `.hypothesis/`, so the hunt goes on there.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """The emulator at full speed: timing comes from scripted replies when a test needs it."""
    async with fast_emulator() as emu:
        yield emu
