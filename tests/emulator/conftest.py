"""Fixtures for the emulator suite: a fast emulator and a real google-genai client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from google import genai
from google.genai import types

from gemini_lsp.emulator import Emulator
from testkit.emulators import fast_emulator

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
    async with fast_emulator(API_KEY) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[genai.Client]:
    sdk = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=emu.base_url))
    yield sdk
    await sdk.aio.aclose()


ClientFactory = Callable[..., genai.Client]


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """make_client(emu or base URL, api_key=..., **HttpOptions fields), closed at teardown."""
    made: list[genai.Client] = []

    def make(target: Emulator | str, api_key: str = API_KEY, **options: Any) -> genai.Client:
        options.setdefault("base_url", target if isinstance(target, str) else target.base_url)
        made.append(genai.Client(api_key=api_key, http_options=types.HttpOptions(**options)))
        return made[-1]

    yield make
    for sdk in made:
        await sdk.aio.aclose()
