"""Gemini through the google-genai SDK: one client per set of connection settings, and the
streaming calls made with it.

google-genai is imported lazily (`load_sdk`, then inside the functions that need it): it
costs half a second, and `initialize` must not wait. The client itself is built in
`client.py`, the stream read in `streaming.py`; `retries.py` and `errors.py` say what a
failure means.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import attrs

from gemini_lsp.config import Settings
from gemini_lsp.gemini.client import make_client
from gemini_lsp.gemini.collector import long_lived
from gemini_lsp.gemini.held import Attachment
from gemini_lsp.gemini.streaming import ModelStream, RetryNotice

if TYPE_CHECKING:
    from google import genai
    from google.genai import types as genai_types


@attrs.frozen
class ModelCall:
    """Everything one call needs: the turns so far, the instruction and the options."""

    model: str
    # The conversation as genai content dicts (`{"role", "parts"}`); the last is the new
    # user turn.
    contents: list[dict[str, Any]]
    system_instruction: str
    settings: Settings


async def load_sdk() -> None:
    """Import the SDK the first time, in a worker thread so that the server keeps serving."""
    if "google.genai" not in sys.modules:
        await asyncio.get_running_loop().run_in_executor(None, _import_sdk)


# One import at a time: pauses of the collector (`long_lived`) must not overlap. Only the
# first finds work to do.
_IMPORTING = threading.Lock()


def _import_sdk() -> None:
    with _IMPORTING:
        if "google.genai" in sys.modules:
            return
        # What the server and the SDK imported lives as long as the process: frozen out of
        # the collector's full scans, which would otherwise stall the event loop for tens of
        # milliseconds mid-stream.
        with long_lived():
            importlib.import_module("google.genai")


@attrs.define(eq=False)
class Connection:
    """An SDK client and the HTTP client under it, for one set of connection settings."""

    key: tuple[Any, ...]
    client: genai.Client
    http: Any  # httpx2.AsyncClient, imported lazily
    users: int = 0
    retired: bool = False


class GeminiBackend:
    """The SDK client for the current settings, rebuilt when they change.

    A client replaced by new settings is closed once the streams using it have ended, so
    that changing settings all day leaves no connection pools behind.
    """

    def __init__(self) -> None:
        self._current: Connection | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def client(self, settings: Settings) -> genai.Client:
        return self._connection(settings).client

    def _connection(self, settings: Settings) -> Connection:
        key = (
            settings.api_key,
            settings.vertexai,
            settings.project,
            settings.location,
            settings.base_url,
            settings.timeout_seconds,
        )
        current = self._current
        if current is not None and key == current.key:
            return current
        client, http = make_client(settings)
        self._current = Connection(key, client, http)
        if current is not None:
            current.retired = True
            self._close_if_unused(current)
        return self._current

    def stream(self, call: ModelCall, on_retry: RetryNotice) -> ModelStream:
        return ModelStream(lambda: self._opened(call), call.settings.retries, on_retry)

    def _close_if_unused(self, connection: Connection) -> None:
        if connection.retired and connection.users == 0:
            with contextlib.suppress(Exception):
                connection.client.close()  # the SDK's own synchronous client
            task = asyncio.get_running_loop().create_task(connection.http.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Close every HTTP client (the server is stopping)."""
        if self._current is not None:
            self._current.retired = True
            self._current.users = 0
            self._close_if_unused(self._current)
            self._current = None
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=2)

    @contextlib.asynccontextmanager
    async def _opened(
        self, call: ModelCall
    ) -> AsyncIterator[AsyncIterator[genai_types.GenerateContentResponse]]:
        """The call's response stream, its connection counted as in use until it ends."""
        connection = self._connection(call.settings)
        connection.users += 1
        try:
            yield await self._open(connection.client, call)
        finally:
            connection.users -= 1
            self._close_if_unused(connection)

    async def _open(
        self, client: genai.Client, call: ModelCall
    ) -> AsyncIterator[genai_types.GenerateContentResponse]:
        config = _generation_config(call)
        contents = _on_the_wire(call.contents)
        if len(contents) > 1:
            # A refinement: the conversation so far continues as a Gemini chat.
            history: list[Any] = contents[:-1]
            chat = client.aio.chats.create(model=call.model, config=config, history=history)
            # Chats take Part objects only, not the dicts `generate_content` accepts.
            from google.genai import types as genai_types

            parts = [
                genai_types.Part.model_validate(part) if isinstance(part, dict) else part
                for part in contents[-1]["parts"]
            ]
            return await chat.send_message_stream(parts)
        return await client.aio.models.generate_content_stream(
            model=call.model, contents=contents, config=config
        )


def _on_the_wire(contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The turns with each attached file made a part: the call itself keeps the files, whose
    bytes are dropped when the generation ends, not parts that would keep them."""
    return [
        {
            **turn,
            "parts": [
                part.part() if isinstance(part, Attachment) else part for part in turn["parts"]
            ],
        }
        for turn in contents
    ]


def _generation_config(call: ModelCall) -> genai_types.GenerateContentConfig:
    from google.genai import types as genai_types

    settings = call.settings
    config = genai_types.GenerateContentConfig(
        system_instruction=call.system_instruction,
        # No tools are declared: the SDK's function-calling loop would only inspect and
        # keep every streamed chunk (and log a line per call).
        automatic_function_calling=genai_types.AutomaticFunctionCallingConfig(disable=True),
    )
    if settings.temperature is not None:
        config.temperature = settings.temperature
    if settings.max_output_tokens is not None:
        config.max_output_tokens = settings.max_output_tokens
    if settings.thinking_budget is not None:
        config.thinking_config = genai_types.ThinkingConfig(
            thinking_budget=settings.thinking_budget
        )
    return config
