"""Fill-in-the-middle requests (inline completions) through the real SDK: recognised,
recorded with their context, answered by rules apart from the generations' queue."""

from __future__ import annotations

import asyncio

import pytest
from google import genai
from google.genai import errors

from gemini_lsp.emulator import Emulator, ErrorSpec, FimRule, Reply, load_scenario
from gemini_lsp.inline.context import START, Around, prompt_text

from .conftest import MODEL


def fim(before: str, after: str = "\n") -> str:
    return prompt_text("src/app.py", "python", Around(START + before, after), 3)


async def answer(client: genai.Client, contents: str) -> str:
    stream = await client.aio.models.generate_content_stream(model=MODEL, contents=contents)
    return "".join([r.text or "" async for r in stream])


async def test_rules_answer_by_context_and_the_queue_is_left_alone(
    emu: Emulator, client: genai.Client
) -> None:
    emu.script(Reply(["generated\n"]))
    emu.script_fim(
        FimRule(text="a + b", when_before="return ", times=1),
        FimRule(chunks=["x", "y"], when_after=")"),
    )
    assert await answer(client, fim("def f(a, b):\n    return ")) == "a + b"
    assert await answer(client, fim("def f(a, b):\n    return ")) == "emulator_suggestion()"
    assert await answer(client, fim("print(", ")\n")) == "xy"
    assert await answer(client, fim("value")) == " = emulator_suggestion()"
    # The generation's reply was still queued for the generation.
    assert await answer(client, "Write code") == "generated\n"
    recorded = next(r.fim for r in emu.fim_requests if r.fim and r.fim.before.endswith("return "))
    assert (recorded.path, recorded.language, recorded.max_lines) == ("src/app.py", "python", 3)
    assert recorded.before == "def f(a, b):\n    return " and recorded.after == "\n"
    assert len(emu.fim_requests) == 4
    assert len([r for r in emu.requests if r.fim is None]) == 1  # the generation


async def test_a_fim_rule_answers_with_its_error(emu: Emulator, client: genai.Client) -> None:
    emu.script_fim(FimRule(error=ErrorSpec(429), when_before="quota"))
    with pytest.raises(errors.ClientError) as raised:
        await answer(client, fim("quota"))
    assert raised.value.code == 429


async def test_a_slow_fim_answer_sees_the_client_leave(emu: Emulator, client: genai.Client) -> None:
    emu.script_fim(FimRule(text="slow()", latency_ms=5000))
    reading = asyncio.ensure_future(answer(client, fim("x = ")))
    request = await emu.wait_for_request()
    reading.cancel()  # what closes the SDK's connection
    await asyncio.gather(reading, return_exceptions=True)
    closed_at = await emu.wait_for_disconnect(request, timeout=2)
    assert request.outcome == "disconnected" and closed_at >= request.received_at


def test_scenario_files_carry_fim_rules() -> None:
    scenario = load_scenario(
        {"fim": [{"whenBefore": "total = ", "text": "sum(values)", "latencyMs": 120, "times": 2}]}
    )
    (rule,) = scenario.fim
    assert rule == FimRule(text="sum(values)", when_before="total = ", latency_ms=120, times=2)
    with pytest.raises(ValueError, match="fim\\[0\\]"):
        load_scenario({"fim": [{"bogus": 1}]})
