"""Scripted replies in Python and in scenario JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.genai import errors

from gemini_lsp.emulator import Chunk, Emulator, ErrorSpec, Reply, Usage, load_scenario

from .conftest import MODEL, ClientFactory

SCENARIO: dict[str, Any] = {
    "description": "one of everything",
    "firstTokenMs": 0,
    "charsPerSecond": 0,
    "replies": [
        {
            "chunks": ["def f():", {"text": "\n    pass\n", "delayMs": 5}],
            "chunkDelayMs": 1,
            "firstChunkDelayMs": 2,
            "usage": {"promptTokenCount": 7, "candidatesTokenCount": 4},
            "finishReason": "MAX_TOKENS",
            "modelVersion": "gemini-2.5-flash-preview",
        },
        {"error": {"code": 429, "message": "slow down", "retryDelay": "2s", "retryAfter": 2}},
        {"error": 503},
        {"text": "partial answer", "disconnectAfter": 1},
        {"stallAfter": 2},
        {"chunks": ["a"], "malformedAfter": 0},
        {"chunks": ["a", "b"], "errorEventAfter": 1, "error": {"code": 500, "status": "INTERNAL"}},
    ],
}


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_scenario_file_loads_into_replies(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, SCENARIO))
    assert (scenario.first_token_ms, scenario.chars_per_second) == (0, 0)
    assert scenario.replies == (
        Reply(
            [Chunk("def f():"), Chunk("\n    pass\n", 5)],
            chunk_delay_ms=1,
            first_chunk_delay_ms=2,
            usage=Usage(7, 4),
            finish_reason="MAX_TOKENS",
            model_version="gemini-2.5-flash-preview",
        ),
        Reply(error=ErrorSpec(429, "slow down", retry_delay="2s", retry_after=2)),
        Reply(error=ErrorSpec(503)),
        Reply(text="partial answer", disconnect_after=1),
        Reply(stall_after=2),
        Reply(["a"], malformed_after=0),
        Reply(["a", "b"], error_event_after=1, error=ErrorSpec(500, status="INTERNAL")),
    )


def test_a_mapping_loads_too() -> None:
    assert load_scenario({"replies": [{"chunks": ["x"]}]}).replies == (Reply(["x"]),)


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"replies": [{"chunk": ["typo"]}]}, "unknown reply keys: chunk"),
        ({"replys": []}, "unknown scenario keys: replys"),
        ({"replies": [{"stallAfter": 1, "disconnectAfter": 2}]}, "at most one fault"),
        ({"replies": [{"finishReason": "DONE"}]}, "unknown finishReason"),
        ({"replies": [{"chunkDelayMs": -1}]}, "cannot be negative"),
        # Nothing in a scenario file could release a held answer.
        ({"replies": [{"holdAfter": 1}]}, "unknown reply keys: holdAfter"),
        ({"replies": [{"chunks": [3]}]}, "a chunk is a string"),
        ({"replies": [{"error": {"code": 200}}]}, "4xx or 5xx"),
        ({"replies": [{"error": {"code": 429, "retryDelay": "soon"}}]}, "retryDelay"),
        ({"replies": [{"usage": {"promptTokenCount": -3}}]}, "non-negative"),
        ({"replies": [{"chunks": ["a"], "text": "b"}]}, "chunks or text"),
        ({"firstTokenMs": "fast"}, "must be a number"),
        ([], "a scenario is a JSON object"),
    ],
)
def test_mistakes_in_a_scenario_are_reported(tmp_path: Path, data: Any, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        load_scenario(write(tmp_path, data))


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.json"):
        load_scenario(path)


async def test_a_loaded_scenario_drives_the_sdk(tmp_path: Path, make_client: ClientFactory) -> None:
    scenario = load_scenario(write(tmp_path, SCENARIO))
    async with Emulator(
        replies=scenario.replies,
        first_token_ms=scenario.first_token_ms,
        chars_per_second=scenario.chars_per_second,
    ) as emu:
        client = make_client(emu)
        responses = [
            r
            async for r in await client.aio.models.generate_content_stream(
                model=MODEL, contents="x"
            )
        ]
        assert [r.text for r in responses] == ["def f():", "\n    pass\n"]
        assert responses[-1].model_version == "gemini-2.5-flash-preview"
        with pytest.raises(errors.ClientError, match="slow down"):
            await client.aio.models.generate_content(model=MODEL, contents="x")
        with pytest.raises(errors.ServerError):
            await client.aio.models.generate_content(model=MODEL, contents="x")
        assert emu.pending_replies == 4
        # Replies are used in order, then the default generator takes over.
        emu.script(Reply(["scripted later"]))
        assert emu.pending_replies == 5


def test_a_reply_keeps_plain_strings_as_chunks() -> None:
    reply = Reply(["a", Chunk("b", 10)])
    assert reply.text_chunks == (Chunk("a"), Chunk("b", 10))
    assert Reply().text_chunks is None
    assert Reply(disconnect_after=3).fault == ("disconnect_after", 3)
    assert Reply(error=ErrorSpec(429)).is_http_error
    assert not Reply(error=ErrorSpec(429), error_event_after=1).is_http_error
