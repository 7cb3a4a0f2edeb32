from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
from google.genai import errors

from gemini_lsp.config import Settings
from gemini_lsp.gemini.backend import GeminiBackend
from gemini_lsp.gemini.errors import explain
from gemini_lsp.gemini.retries import retry_delay, server_retry_delay
from gemini_lsp.gemini.streaming import ModelStream


def api_error(code: int, status: str, details: list[dict[str, Any]] | None = None) -> Any:
    body = {"error": {"code": code, "message": "m", "status": status, "details": details or []}}
    cls = errors.ServerError if code >= 500 else errors.ClientError
    return cls(code, body)


def test_retry_delay_honours_retry_info() -> None:
    error = api_error(
        429,
        "RESOURCE_EXHAUSTED",
        [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}],
    )
    assert server_retry_delay(error) == 7.0
    assert retry_delay(error, 0) == 7.0


def test_backoff_grows_with_jitter_and_skips_the_unretryable() -> None:
    error = api_error(503, "UNAVAILABLE")
    first = [retry_delay(error, 0) or 0 for _ in range(50)]
    third = [retry_delay(error, 2) or 0 for _ in range(50)]
    assert all(0.25 <= d <= 0.5 for d in first) and len(set(first)) > 1
    assert all(1.0 <= d <= 2.0 for d in third)
    assert retry_delay(api_error(400, "INVALID_ARGUMENT"), 0) is None
    assert retry_delay(httpx2.ConnectError("refused"), 0) is not None


def test_messages_say_what_to_do_and_hide_the_key() -> None:
    settings = Settings(api_key="sekrit-key", model="gemini-x")
    bad_key = api_error(400, "INVALID_ARGUMENT", [{"reason": "API_KEY_INVALID"}])
    assert "set GEMINI_API_KEY or geminiLsp.apiKey" in explain(bad_key, settings)
    assert "check geminiLsp.model" in explain(api_error(404, "NOT_FOUND"), settings)
    assert "try again" in explain(api_error(500, "INTERNAL"), settings)
    stall = explain(httpx2.ReadTimeout("x"), Settings(timeout_seconds=9))
    assert "9 s" in stall and "timeoutSeconds" in stall
    leaky = explain(RuntimeError("failed with key sekrit-key"), settings)
    assert "sekrit-key" not in leaky


async def test_vertex_settings_reach_the_client() -> None:
    client = GeminiBackend().client(
        Settings(vertexai=True, project="proj", location="europe-west4")
    )
    assert client.vertexai
    assert client._api_client.project == "proj"
    assert client._api_client.location == "europe-west4"


async def test_client_is_reused_until_settings_change() -> None:
    backend = GeminiBackend()
    first = backend.client(Settings(api_key="key-0123456"))
    assert backend.client(Settings(api_key="key-0123456", model="other")) is first
    assert backend.client(Settings(api_key="key-0123456", timeout_seconds=5)) is not first


async def test_a_stop_between_reads_still_closes_the_stream_from_inside_the_read() -> None:
    # Only a cancellation inside the SDK's read closes the connection. A lone piece is
    # handed to the consumer between reads: a stop that lands then must reach the read.
    read_cancelled = asyncio.Event()
    never = asyncio.get_running_loop().create_future()

    class Chunk:
        candidates = [
            type("C", (), {"content": None, "finish_reason": None})(),
        ]
        prompt_feedback = None
        usage_metadata = None

    async def responses() -> AsyncIterator[Any]:
        yield Chunk()
        try:
            await never  # the next read: Gemini has not sent more yet
        except asyncio.CancelledError:
            read_cancelled.set()
            raise

    async with _without_retries(responses) as stream:
        pieces = await anext(stream)  # handed over while the reader waits its turn
        assert len(pieces) == 1
    # Leaving stopped the reader at once, before it went back to reading.
    assert read_cancelled.is_set()


def _without_retries(responses: Callable[[], AsyncIterator[Any]]) -> ModelStream:
    """A stream over `responses` that fails the test if it ever retries."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[AsyncIterator[Any]]:
        yield responses()

    async def no_retry(delay: float, reason: str) -> None:
        raise AssertionError("no retry expected")

    return ModelStream(start, 0, no_retry)


def _text_chunk(text: str) -> Any:
    part = type("P", (), {"text": text, "thought": False})()
    content = type("Content", (), {"parts": [part]})()
    candidate = type("C", (), {"content": content, "finish_reason": None})()
    return type(
        "R", (), {"candidates": [candidate], "prompt_feedback": None, "usage_metadata": None}
    )()


async def test_a_fast_stream_waits_for_its_consumer_and_loses_nothing() -> None:
    """The reader holds at most MAX_QUEUED_PIECES that the consumer has not taken: it waits
    (and so does the HTTP stream) instead of piling up the answer in memory."""
    from gemini_lsp.gemini.streaming import MAX_QUEUED_PIECES

    count = MAX_QUEUED_PIECES * 4
    read = 0

    async def responses() -> AsyncIterator[Any]:
        nonlocal read
        for index in range(count):
            read += 1
            yield _text_chunk(f"{index}\n")

    texts: list[str] = []
    async with _without_retries(responses) as stream:
        for _ in range(200):  # a consumer busy elsewhere
            await asyncio.sleep(0)
        assert stream.queued <= MAX_QUEUED_PIECES
        assert read <= MAX_QUEUED_PIECES + 1
        async for pieces in stream:
            texts += [piece.text for piece in pieces]
            assert stream.queued <= MAX_QUEUED_PIECES
    assert texts == [f"{index}\n" for index in range(count)]


async def test_a_stream_waiting_for_its_consumer_still_closes_from_inside_the_read() -> None:
    from gemini_lsp.gemini.streaming import MAX_QUEUED_PIECES

    read_cancelled = asyncio.Event()
    never = asyncio.get_running_loop().create_future()

    async def responses() -> AsyncIterator[Any]:
        for index in range(MAX_QUEUED_PIECES):
            yield _text_chunk(f"{index}\n")
        try:
            await never
        except asyncio.CancelledError:
            read_cancelled.set()
            raise

    async with _without_retries(responses) as stream:
        for _ in range(50):
            await asyncio.sleep(0)
        assert stream.queued == MAX_QUEUED_PIECES  # waiting for room
    assert read_cancelled.is_set()


async def test_a_failure_before_any_text_is_retried_and_one_after_text_is_not() -> None:
    attempts: list[int] = []
    retries: list[str] = []

    def opener(fail_after: list[str]) -> Any:
        @contextlib.asynccontextmanager
        async def start() -> AsyncIterator[AsyncIterator[Any]]:
            async def responses() -> AsyncIterator[Any]:
                attempts.append(len(attempts))
                for text in fail_after:
                    yield _text_chunk(text)
                if len(attempts) == 1:
                    raise api_error(503, "UNAVAILABLE")
                yield _text_chunk("done")

            yield responses()

        return start

    async def on_retry(delay: float, reason: str) -> None:
        retries.append(reason)

    async def read(stream: ModelStream) -> str:
        async with stream:
            return "".join([piece.text async for pieces in stream for piece in pieces])

    assert await read(ModelStream(opener([]), 2, on_retry)) == "done"
    assert (len(attempts), retries) == (2, ["HTTP 503"])

    attempts.clear()
    retries.clear()
    with pytest.raises(errors.ServerError):
        await read(ModelStream(opener(["partial "]), 2, on_retry))
    assert (len(attempts), retries) == (1, [])


def test_the_server_starts_without_importing_the_sdk() -> None:
    # google-genai costs half a second: it is imported once a generation needs it.
    check = (
        "import sys, gemini_lsp.lsp.server, gemini_lsp.gemini.backend, gemini_lsp.gemini.errors;"
        "print(sorted(m for m in ('google.genai', 'httpx2') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


_LOAD_SDK = """
import asyncio, gc, sys
from gemini_lsp.gemini.backend import load_sdk

def collections():
    return sum(generation["collections"] for generation in gc.get_stats())

async def main():
    before = collections()
    # Three at once, as a generation and inline requests can: none may leave the
    # collector off for the others.
    await asyncio.gather(load_sdk(), load_sdk(), load_sdk())
    print(collections() - before, gc.isenabled(), gc.get_freeze_count() > 40_000,
          "google.genai" in sys.modules)

asyncio.run(main())
"""


def test_the_sdk_loads_without_pausing_for_the_collector_and_leaves_it_on() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _LOAD_SDK], capture_output=True, text=True, check=True
    )
    # No collection ran during the import (each would scan what it made, for nothing);
    # the collector is on again and what the import made is out of its reach.
    assert run.stdout.split() == ["0", "True", "True", "True"]
