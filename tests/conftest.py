"""Fixtures shared by the server's tests: the Gemini emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gemini_lsp.emulator import Emulator
from testkit.emulators import fast_emulator


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """The emulator at full speed: timing comes from scripted replies when a test needs it."""
    async with fast_emulator() as emu:
        yield emu
