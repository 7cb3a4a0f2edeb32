"""Fixtures shared by the server's tests: the Gemini emulator and editor-like clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gemini_lsp.emulator import Emulator

API_KEY = "test-key-5f0c2b"  # what the emulator expects; tests check it never leaks


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """The emulator at full speed: timing comes from scripted replies when a test needs it."""
    async with Emulator(api_key=API_KEY, first_token_ms=0, chars_per_second=0) as emu:
        yield emu
