"""The real google-genai SDK against the emulator: what a gemini-lsp backend will see."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors, types

from gemini_lsp.emulator import Emulator, ErrorSpec, Reply, Usage

from .conftest import API_KEY, MODEL, ClientFactory

PROMPT = "Language: python\nFile: src/app.py\nInstruction: parse the config file"


async def stream_of(
    client: genai.Client, contents: Any = "hi", **kwargs: Any
) -> AsyncIterator[types.GenerateContentResponse]:
    return await client.aio.models.generate_content_stream(
        model=kwargs.pop("model", MODEL), contents=contents, **kwargs
    )


async def collect(client: genai.Client, contents: Any = "hi", **kwargs: Any) -> list[str]:
    return [r.text or "" async for r in await stream_of(client, contents, **kwargs)]


async def collect_into(
    received: list[str], client: genai.Client, arrived: asyncio.Event | None = None
) -> None:
    """Like collect, but what arrived before an exception stays visible; `arrived` is set
    at each chunk."""
    async for response in await stream_of(client):
        received.append(response.text or "")
        if arrived is not None:
            arrived.set()


def test_sdk_uses_httpx2_not_aiohttp() -> None:
    # With aiohttp importable the SDK silently changes transport, exceptions and timeouts.
    assert importlib.util.find_spec("aiohttp") is None


async def test_stream_delivers_text_usage_and_metadata_exactly(
    emu: Emulator, client: genai.Client
) -> None:
    chunks = ["def add(a, b):\n", "    return a + b\n", "# ünïcødé ✓ \u2028 \u0085 end"]
    emu.script(Reply(chunks, usage=Usage(11, 7, 20), model_version="gemini-2.5-flash-001"))

    responses = [r async for r in await stream_of(client, "add two numbers")]

    assert [r.text for r in responses] == chunks
    assert [r.candidates[0].finish_reason for r in responses if r.candidates] == [
        None,
        None,
        types.FinishReason.STOP,
    ]
    usage = responses[-1].usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count) == (
        11,
        7,
        20,
    )
    # Mid-stream events carry the prompt count only, like the real API.
    first_usage = responses[0].usage_metadata
    assert first_usage is not None
    assert first_usage.candidates_token_count is None
    assert {r.model_version for r in responses} == {"gemini-2.5-flash-001"}
    assert responses[0].candidates[0].content.role == "model"  # type: ignore[index, union-attr]
    (record,) = emu.requests
    assert record.outcome == "completed"
    assert record.chunks_sent == 3
    assert record.text_sent == "".join(chunks)


async def test_usage_defaults_to_four_characters_per_token(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply(["x" * 10, "y" * 7]))
    responses = [r async for r in await stream_of(client, "p" * 13)]
    usage = responses[-1].usage_metadata
    assert usage is not None
    assert usage.prompt_token_count == math.ceil(13 / 4)
    assert usage.candidates_token_count == math.ceil(17 / 4)
    assert usage.total_token_count == math.ceil(13 / 4) + math.ceil(17 / 4)


async def test_generate_content_returns_one_joined_answer(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply(["Hello, ", "world"], finish_reason="MAX_TOKENS", usage=Usage(3, 2)))
    response = await client.aio.models.generate_content(model=MODEL, contents="hi")
    assert response.text == "Hello, world"
    assert response.candidates
    assert response.candidates[0].finish_reason == "MAX_TOKENS"
    assert response.usage_metadata is not None
    assert response.usage_metadata.total_token_count == 5
    (record,) = emu.requests
    assert record.action == "generateContent"
    assert record.chunks_sent == 2


async def test_an_answer_without_text_is_one_event_without_content(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply([], finish_reason="SAFETY"))
    responses = [r async for r in await stream_of(client)]
    assert len(responses) == 1
    assert responses[0].text is None
    assert responses[0].candidates
    assert responses[0].candidates[0].content is None
    assert responses[0].candidates[0].finish_reason == types.FinishReason.SAFETY
    (record,) = emu.requests
    assert record.chunks_sent == 0


async def test_the_request_is_recorded_as_received(
    emu: Emulator, make_client: ClientFactory
) -> None:
    client = make_client(emu, api_version="v1beta")
    config = types.GenerateContentConfig(
        system_instruction="You write code.", temperature=0.2, max_output_tokens=512
    )
    await collect(client, PROMPT, model="models/gemini-2.5-pro", config=config)

    (record,) = emu.requests
    assert (record.method, record.version, record.model, record.action) == (
        "POST",
        "v1beta",
        "gemini-2.5-pro",
        "streamGenerateContent",
    )
    assert record.path == "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    assert record.query == {"alt": "sse"}
    assert record.api_key == API_KEY
    assert record.body is not None
    assert record.body["contents"] == [{"parts": [{"text": PROMPT}], "role": "user"}]
    assert record.body["systemInstruction"]["parts"] == [{"text": "You write code."}]
    assert record.body["generationConfig"] == {"temperature": 0.2, "maxOutputTokens": 512}
    assert record.first_chunk_at is not None
    assert record.finished_at is not None
    assert record.received_at <= record.first_chunk_at <= record.finished_at
    assert record.disconnected_at is None


async def test_default_api_version_is_v1(emu: Emulator, client: genai.Client) -> None:
    await client.aio.models.generate_content(model=MODEL, contents="hi")
    (record,) = emu.requests
    assert record.version == "v1"


@pytest.mark.parametrize("streaming", [True, False])
async def test_rate_limit_is_a_client_error_with_retry_info(
    emu: Emulator, client: genai.Client, streaming: bool
) -> None:
    emu.script(Reply(error=ErrorSpec(429, retry_delay=2, retry_after=2)))
    call = (
        collect(client)
        if streaming
        else client.aio.models.generate_content(model=MODEL, contents="hi")
    )
    with pytest.raises(errors.ClientError) as caught:
        await call
    error = caught.value
    assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED")
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"} in (
        error.details["error"]["details"]
    )
    assert error.response.headers["retry-after"] == "2"


@pytest.mark.parametrize(("code", "status"), [(500, "INTERNAL"), (503, "UNAVAILABLE")])
async def test_5xx_is_a_server_error(
    emu: Emulator, client: genai.Client, code: int, status: str
) -> None:
    emu.script(Reply(error=ErrorSpec(code, message="try later")))
    with pytest.raises(errors.ServerError) as caught:
        await collect(client)
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        code,
        status,
        "try later",
    )


async def test_a_wrong_api_key_is_rejected_like_google_does(
    emu: Emulator, make_client: ClientFactory
) -> None:
    emu.script(Reply(["scripted"]))
    with pytest.raises(errors.ClientError) as caught:
        await collect(make_client(emu, api_key="wrong"))
    assert caught.value.code == 400
    assert caught.value.details == {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        }
    }
    # A rejected request does not use up the script.
    assert emu.pending_replies == 1
    (record,) = emu.requests
    assert record.api_key == "wrong"


async def test_without_a_required_key_any_key_is_accepted(make_client: ClientFactory) -> None:
    async with Emulator(first_token_ms=0, chars_per_second=0) as emu:
        emu.script(Reply(["ok"]))
        assert await collect(make_client(emu, api_key="anything")) == ["ok"]


async def test_an_unknown_model_is_not_found(emu: Emulator, client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await collect(client, model="claude-3")
    assert (caught.value.code, caught.value.status) == (404, "NOT_FOUND")
    assert "models/claude-3 is not found" in (caught.value.message or "")


async def test_disconnect_mid_stream_raises_the_transport_error(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply(["one", "two", "three"], disconnect_after=2))
    received: list[str] = []
    with pytest.raises(httpx2.RemoteProtocolError):
        await collect_into(received, client)
    assert received == ["one", "two"]
    (record,) = emu.requests
    assert (record.outcome, record.chunks_sent, record.disconnected_at) == ("aborted", 2, None)


async def test_a_malformed_event_raises_unknown_api_response_error(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply(["one", "two"], malformed_after=1))
    received: list[str] = []
    with pytest.raises(errors.UnknownApiResponseError):
        await collect_into(received, client)
    assert received == ["one"]
    assert issubclass(errors.UnknownApiResponseError, ValueError)
    assert not issubclass(errors.UnknownApiResponseError, errors.APIError)


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [(None, 500, "INTERNAL"), (ErrorSpec(503, message="overloaded"), 503, "UNAVAILABLE")],
)
async def test_an_error_event_mid_stream_raises_server_error(
    emu: Emulator, client: genai.Client, error: ErrorSpec | None, code: int, status: str
) -> None:
    emu.script(Reply(["one", "two"], error_event_after=1, error=error))
    received: list[str] = []
    with pytest.raises(errors.ServerError) as caught:
        await collect_into(received, client)
    assert received == ["one"]
    assert (caught.value.code, caught.value.status) == (code, status)


async def _cancel_when(
    emu: Emulator, client: genai.Client, chunks_before_cancel: int
) -> tuple[float, float]:
    """Consumes a stream in a task and cancels it after some chunks.

    Returns (when the task was cancelled, when the emulator saw the client leave).
    """
    enough = asyncio.Event()

    async def consume() -> None:
        count = 0
        async for _ in await stream_of(client):
            count += 1
            if count >= chunks_before_cancel:
                enough.set()

    task = asyncio.create_task(consume())
    record = await emu.wait_for_request()
    if chunks_before_cancel:
        await asyncio.wait_for(enough.wait(), 5)
    # Nothing shows that the emulator has entered its stall or wait (it only stops sending):
    # a moment lets it, so that the cancel lands inside it.
    await asyncio.sleep(0.1)
    cancelled_at = time.monotonic()
    task.cancel()
    disconnected_at = await emu.wait_for_disconnect(record, timeout=5)
    with pytest.raises(asyncio.CancelledError):
        await task
    return cancelled_at, disconnected_at


async def test_cancelling_during_a_stall_is_seen_within_50_ms(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply(["a", "b", "c"], stall_after=1))
    cancelled_at, disconnected_at = await _cancel_when(emu, client, 1)
    assert 0 <= disconnected_at - cancelled_at < 0.05
    (record,) = emu.requests
    assert (record.outcome, record.chunks_sent, record.finished_at) == ("disconnected", 1, None)


async def test_cancelling_between_slow_chunks_is_seen_within_50_ms(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply(["a", "b"], chunk_delay_ms=10_000))
    cancelled_at, disconnected_at = await _cancel_when(emu, client, 1)
    assert 0 <= disconnected_at - cancelled_at < 0.05
    (record,) = emu.requests
    assert record.chunks_sent == 1


async def test_cancelling_before_the_first_token_is_seen_within_50_ms(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply(["a"], first_chunk_delay_ms=10_000))
    cancelled_at, disconnected_at = await _cancel_when(emu, client, 0)
    assert 0 <= disconnected_at - cancelled_at < 0.05
    (record,) = emu.requests
    assert record.first_chunk_at is None


async def test_a_client_timeout_during_a_stall_is_a_disconnect(
    emu: Emulator, make_client: ClientFactory
) -> None:
    # HttpOptions.timeout is in milliseconds; with httpx2 it limits each read, not the total.
    client = make_client(emu, timeout=300)
    # The whole stream outlasts the timeout (0.45 s), no gap does (0.15 s), until the stall.
    emu.script(Reply(["a", "b", "c", "d", "e"], chunk_delay_ms=150, stall_after=4))
    received: list[str] = []
    with pytest.raises(httpx2.ReadTimeout):
        await collect_into(received, client)
    assert received == ["a", "b", "c", "d"]
    (record,) = emu.requests
    await emu.wait_for_disconnect(record, timeout=2)
    assert record.first_chunk_at is not None
    assert record.disconnected_at is not None
    last_chunk_at = record.first_chunk_at + 3 * 0.150
    assert 0.25 < record.disconnected_at - last_chunk_at < 1.0


async def test_stop_closes_open_streams(emu: Emulator, client: genai.Client) -> None:
    emu.script(Reply(["a", "b"], stall_after=1))
    received: list[str] = []
    arrived = asyncio.Event()
    task = asyncio.create_task(collect_into(received, client, arrived))
    record = await emu.wait_for_request()
    await asyncio.wait_for(arrived.wait(), 5)  # the first chunk; then the stall
    assert received == ["a"] and record.chunks_sent == 1
    await asyncio.wait_for(emu.stop(), 2)
    with pytest.raises(httpx2.RemoteProtocolError):
        await asyncio.wait_for(task, 2)
    assert record.outcome == "aborted"
    assert received == ["a"]


async def test_a_held_answer_waits_for_its_release(emu: Emulator, client: genai.Client) -> None:
    emu.script(Reply(["Hello, ", "world"], hold_after=0))
    answer = asyncio.create_task(client.aio.models.generate_content(model=MODEL, contents="hi"))
    record = await emu.wait_for_request()
    await asyncio.sleep(0.3)
    assert not answer.done() and record.outcome == "pending"
    record.release()
    assert (await asyncio.wait_for(answer, 5)).text == "Hello, world"


def test_a_hold_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="hold_after cannot be negative"):
        Reply(["a"], hold_after=-1)


async def test_default_answer_is_deterministic_fenced_code(
    emu: Emulator, client: genai.Client
) -> None:
    first = "".join(await collect(client, PROMPT))
    second = "".join(await collect(client, PROMPT))
    assert first == second
    assert first.startswith("```python\n# Written by the gemini-lsp emulator, not a real model.\n")
    assert "def parse_config_file(" in first
    assert first.endswith("```")
    assert [r.reply for r in emu.requests] == [None, None]  # nothing scripted answered


async def test_a_chat_refinement_gets_a_visibly_revised_answer(
    emu: Emulator, client: genai.Client
) -> None:
    chat = client.aio.chats.create(model=MODEL)
    first = "".join(
        [r.text or "" async for r in await chat.send_message_stream(PROMPT.replace("python", "go"))]
    )
    second = "".join(
        [r.text or "" async for r in await chat.send_message_stream("handle empty input too")]
    )
    assert first.startswith("```go\n// Written by the gemini-lsp emulator")
    assert second.startswith("```go\n// Written by the gemini-lsp emulator")
    assert "func parseConfigFile(" in first
    assert "func parseConfigFile(" in second
    assert "Revision" not in first
    assert "// Revision 2: handle empty input too\n" in second
    assert second != first
    (asked,) = [r for r in emu.requests if "handle empty input too" not in str(r.body)]
    (again,) = [r for r in emu.requests if "handle empty input too" in str(r.body)]
    body = again.body
    assert body is not None
    roles = [turn["role"] for turn in body["contents"]]
    # The SDK's chat keeps every streamed chunk as a model turn of its own.
    assert roles == ["user", *["model"] * (len(roles) - 2), "user"]
    assert len(roles) - 2 == asked.chunks_sent
    model_turns = body["contents"][1:-1]
    assert "".join(part["text"] for turn in model_turns for part in turn["parts"]) == first


async def test_max_output_tokens_truncates_the_default_answer(
    emu: Emulator, client: genai.Client
) -> None:
    config = types.GenerateContentConfig(max_output_tokens=10)
    responses = [r async for r in await stream_of(client, PROMPT, config=config)]
    assert len("".join(r.text or "" for r in responses)) == 40
    assert responses[-1].candidates
    assert responses[-1].candidates[0].finish_reason == "MAX_TOKENS"


async def test_the_base_url_environment_variable_reaches_the_emulator(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emu.base_url)
    emu.script(Reply(["from the environment"]))
    client = genai.Client(api_key=API_KEY)
    response = await client.aio.models.generate_content(model=MODEL, contents="hi")
    await client.aio.aclose()
    assert response.text == "from the environment"


async def test_default_pace_follows_first_token_ms_and_chars_per_second(
    make_client: ClientFactory,
) -> None:
    async with Emulator(first_token_ms=150, chars_per_second=4000) as emu:
        text = "".join(await collect(make_client(emu), PROMPT))
        (record,) = emu.requests
    assert record.first_chunk_at is not None
    assert record.finished_at is not None
    first_wait = record.first_chunk_at - record.received_at
    total = record.finished_at - record.received_at
    expected = 0.150 + len(text) / 4000  # approximately: the first chunk's length is not paced
    assert first_wait >= 0.145
    assert expected - 0.05 <= total < expected + 1.0


async def test_streams_run_concurrently(emu: Emulator, client: genai.Client) -> None:
    emu.script(*[Reply(["a", "b", "c"], chunk_delay_ms=150) for _ in range(2)])
    results = await asyncio.gather(collect(client), collect(client))
    assert results == [["a", "b", "c"]] * 2
    # Judged by the emulator's clock, not the wall: each stream was under way
    # while the other one was, whatever the load on the machine.
    first, second = emu.requests
    assert first.finished_at is not None
    assert second.finished_at is not None
    assert second.first_chunk_at is not None
    assert first.first_chunk_at is not None
    assert second.first_chunk_at < first.finished_at
    assert first.first_chunk_at < second.finished_at


async def test_fast_mode_streams_a_large_answer_intact_through_the_sdk(
    emu: Emulator, client: genai.Client
) -> None:
    # How fast is for `make bench` to say (the throughput baseline's characters per
    # second): a rate asserted here fails on a slow machine, not on a slow emulator.
    size = 100_000
    emu.script(Reply(text="x" * size))
    texts = await collect(client)
    assert "".join(texts) == "x" * size
    assert len(texts) > 1  # in pieces, as Gemini streams
