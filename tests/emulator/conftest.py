"""Fixtures for the emulator suite: a fast emulator and a real google-genai client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from google import genai
from google.genai import types

from gemini_lsp.emulator import Emulator

API_KEY = "test-key"
MODEL = "gemini-2.5-flash"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads these; a developer's shell must not change what the tests see."""
    for name in (
        "GOOGLE_GEMINI_BASE_URL",
        "GOOGLE_VERTEX_BASE_URL",
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """An emulator answering as fast as it can, requiring API_KEY."""
    async with Emulator(api_key=API_KEY, first_token_ms=0, chars_per_second=0) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[genai.Client]:
    sdk = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=emu.base_url))
    yield sdk
    await sdk.aio.aclose()


def client_for(emu: Emulator, api_key: str = API_KEY, **options: object) -> genai.Client:
    return genai.Client(
        api_key=api_key, http_options=types.HttpOptions(base_url=emu.base_url, **options)
    )
