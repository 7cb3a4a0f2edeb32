"""Inline completions (`textDocument/inlineCompletion`) end to end: the real server over
stdio, the real google-genai SDK, the emulator answering fill-in-the-middle requests."""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import client_capabilities, make_test_lsp_client

from gemini_lsp.emulator import Emulator, ErrorSpec, FimRule, Reply
from gemini_lsp.inline.service import SENDABLE_CHECK_S
from testkit.document import ClientDocument
from testkit.environment import server_env
from tests.clients import EditorClient
from tests.e2e.helpers import (
    REQUEST_CANCELLED,
    STYLES,
    editor,
    execute,
    generate_args,
    wait_for,
)

INVOKED = types.InlineCompletionTriggerKind.Invoked
AUTOMATIC = types.InlineCompletionTriggerKind.Automatic
# No debounce unless a test is about it: the tests' requests are all deliberate.
FAST = {"inlineCompletion": {"debounceMs": 0}}

SOURCE = "def add(a, b):\n    \n\n\nprint(add(1, 2))\n"
CURSOR = SOURCE.index("    \n") + 4  # after the indentation of the body's blank line


def params(doc: ClientDocument, offset: int, kind: Any = INVOKED) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=kind),
        text_document=types.TextDocumentIdentifier(doc.uri),
        position=doc.position(offset),
    )


def items_of(result: Any) -> list[types.InlineCompletionItem]:
    if result is None:
        return []
    return list(result.items if isinstance(result, types.InlineCompletionList) else result)


def texts_of(result: Any) -> list[str]:
    return [str(item.insert_text) for item in items_of(result)]


async def suggest(
    client: EditorClient, doc: ClientDocument, offset: int, kind: Any = INVOKED
) -> list[str]:
    return texts_of(
        await client.lsp.text_document_inline_completion_async(params(doc, offset, kind))
    )


def send(client: EditorClient, doc: ClientDocument, offset: int, msg_id: str, kind: Any = INVOKED):  # type: ignore[no-untyped-def]
    return asyncio.ensure_future(
        client.lsp.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params(doc, offset, kind), msg_id=msg_id
        )
    )


async def stats(client: EditorClient) -> dict[str, int]:
    result = await client.lsp.protocol.send_request_async("gemini/inlineStats", None)
    return dict(result._asdict() if hasattr(result, "_asdict") else vars(result))


async def test_the_server_advertises_inline_completions(tmp_path: Path) -> None:
    lsp = make_test_lsp_client()
    await lsp.start_io(sys.executable, "-m", "gemini_lsp", env=server_env({}))
    result = await lsp.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), root_uri=tmp_path.as_uri()
        )
    )
    assert result.capabilities.inline_completion_provider is not None
    await lsp.shutdown_session()
    await lsp.stop()  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("style", STYLES)
async def test_a_suggestion_from_a_fill_in_the_middle_prompt(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script_fim(FimRule(text="    return a + b\n", when_before="def add(a, b):\n    "))
    settings = {"inlineCompletion": {"debounceMs": 0, "contextChars": 1000}}
    async with editor(style, tmp_path, emulator, **settings) as client:
        code = "# filler\n" * 200 + SOURCE
        doc = client.open(tmp_path / "pkg" / "calc.py", code)
        offset = len(code) - len(SOURCE) + CURSOR
        result = await client.lsp.text_document_inline_completion_async(params(doc, offset))
        (item,) = items_of(result)
        # Indentation: the model repeated the line's indentation, which the cursor is past.
        assert item.insert_text == "return a + b"
        assert item.range is not None and item.range.start == doc.position(offset)
        (request,) = emulator.fim_requests
        assert request.fim is not None
        assert request.fim.path == "pkg/calc.py" and request.fim.language == "python"
        assert request.fim.before.endswith("def add(a, b):\n    ")
        assert request.fim.after.startswith("\n\n\nprint(add(1, 2))")
        # The stated budget: 1,000 characters, a quarter of them for the code after.
        assert len(request.fim.before) + len(request.fim.after) <= 1000
        assert len(request.fim.before) == 1000 - len(request.fim.after)
        assert request.model == "gemini-2.5-flash-lite"
        config = request.body["generationConfig"] if request.body else {}
        # The SDK sends thinkingConfig's fields in snake_case.
        assert config["thinkingConfig"]["thinking_budget"] == 0
        assert 0 < config["maxOutputTokens"] <= 1000
        assert request.action == "streamGenerateContent"


@pytest.mark.parametrize(
    ("code", "answer", "expected"),
    [
        # A closing bracket the line already has.
        ("total = sum(|)\n", "values)", "values"),
        # A closing quote and bracket.
        ('print("|")\n', 'hello")', "hello"),
        # The following line, repeated, and what the model wrote after it.
        ("if x:\n    |\nreturn y\n", "y = 1\nreturn y\nmore()", "y = 1"),
        # Fences, and a copy of the line already typed.
        ("    resu|\n", "```python\n    result = compute()\n```\n", "lt = compute()"),
    ],
)
async def test_suggestions_fit_their_place(
    code: str, answer: str, expected: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script_fim(FimRule(text=answer))
    async with editor("visual-studio-code", tmp_path, emulator, **FAST) as client:
        offset = code.index("|")
        doc = client.open(tmp_path / "fit.py", code.replace("|", ""))
        assert await suggest(client, doc, offset) == [expected]


@pytest.mark.parametrize("style", STYLES)
async def test_a_new_request_supersedes_and_closes_the_previous_one(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script_fim(FimRule(text="slow_answer()", latency_ms=5000, times=1))
    async with editor(style, tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "s.py", "x = \n")
        first = send(client, doc, 4, "first")
        slow = await emulator.wait_for_request(1)
        client.type(doc, 4, "y")
        client.flush(doc)
        second = await suggest(client, doc, 5)
        # The first answers at once, with nothing; its HTTP request was closed.
        assert texts_of(await asyncio.wait_for(first, 2)) == []
        closed_at = await emulator.wait_for_disconnect(slow, timeout=2)
        assert second == [" = emulator_suggestion()"]
        # One model request in flight per document: the second began after the first closed.
        (_, newer) = emulator.fim_requests
        assert newer.received_at >= closed_at
        counts = await stats(client)
        assert counts["superseded"] == 1 and counts["cancelledCalls"] == 1


async def test_never_two_model_requests_in_flight_for_one_document(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script_fim(FimRule(text="slow()", latency_ms=300))
    async with editor("visual-studio-code", tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "burst.py", "x = \n")
        other = client.open(tmp_path / "other.py", "y = \n")
        await suggest(client, other, 4)  # the SDK is loaded and connected
        pending = []
        for i in range(6):  # a burst of keys, each with an explicit request
            client.type(doc, 4 + i, "abcdef"[i])
            client.flush(doc)
            pending.append(send(client, doc, 5 + i, f"burst-{i}"))
            pending.append(send(client, other, 4, f"other-{i}"))
            await asyncio.sleep(0.03)  # the pace of typing, not a wait for anything
        answers = await asyncio.wait_for(asyncio.gather(*pending), 10)
        assert texts_of(answers[-2]) == ["slow()"]  # the last one for the document
        mine = [r for r in emulator.fim_requests if r.fim and r.fim.path == "burst.py"]
        assert len(mine) >= 2
        for older, newer in itertools.pairwise(mine):
            ended = older.disconnected_at or older.finished_at
            assert ended is not None and newer.received_at >= ended
        # Another document's requests are its own: the last one was never superseded.
        assert texts_of(answers[-1]) == ["slow()"]


@pytest.mark.parametrize("style", STYLES)
async def test_cancel_request_closes_the_model_request(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script_fim(FimRule(text="never()", latency_ms=5000))
    async with editor(style, tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "c.py", "x = \n")
        pending = send(client, doc, 4, "to-cancel")
        request = await emulator.wait_for_request(1)
        client.lsp.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
        with pytest.raises(JsonRpcException) as raised:
            await asyncio.wait_for(pending, 2)
        assert raised.value.code == REQUEST_CANCELLED
        await emulator.wait_for_disconnect(request, timeout=2)


async def test_an_answer_the_user_typed_into_is_moved_and_one_they_typed_against_dropped(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script_fim(
        FimRule(text="return a + b", latency_ms=400, when_before="def add(a, b):\n    ")
    )
    async with editor("visual-studio-code", tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "t.py", SOURCE)
        pending = send(client, doc, CURSOR, "typed-along")
        await emulator.wait_for_request(1)
        client.type(doc, CURSOR, "ret")  # the client does not ask again
        (item,) = items_of(await asyncio.wait_for(pending, 3))
        assert item.insert_text == "urn a + b"
        assert item.range is not None and item.range.start == doc.position(CURSOR + 3)

        emulator.script_fim(FimRule(text="more()", latency_ms=400))
        end = len(doc.text)
        pending = send(client, doc, end, "typed-against")
        await emulator.wait_for_request(2)
        client.type(doc, end, "print")
        assert texts_of(await asyncio.wait_for(pending, 3)) == []
        counts = await stats(client)
        assert counts["adjusted"] == 1 and counts["dropped"] == 1


@pytest.mark.parametrize("style", STYLES)
async def test_typing_the_suggestion_or_going_back_costs_no_request(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script_fim(FimRule(text="return a + b", when_before="def add(a, b):\n    "))
    async with editor(style, tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "k.py", SOURCE)
        assert await suggest(client, doc, CURSOR, AUTOMATIC) == ["return a + b"]
        for offset, typed in enumerate("ret", CURSOR):
            client.type(doc, offset, typed)
            client.flush(doc)
        assert await suggest(client, doc, CURSOR + 3, AUTOMATIC) == ["urn a + b"]
        client.type(doc, CURSOR + 2, "", delete=1)  # back one character
        client.flush(doc)
        assert await suggest(client, doc, CURSOR + 2, AUTOMATIC) == ["turn a + b"]
        client.type(doc, CURSOR, "", delete=2)  # back to where it was asked
        client.flush(doc)
        assert await suggest(client, doc, CURSOR, AUTOMATIC) == ["return a + b"]
        assert len(emulator.fim_requests) == 1
        assert (await stats(client))["cacheHits"] == 3


async def test_settings_apply_live(tmp_path: Path, emulator: Emulator) -> None:
    async with editor("visual-studio-code", tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "live.py", "x = \n")
        assert await suggest(client, doc, 4) == ["emulator_suggestion()"]

        def push(inline: dict[str, Any]) -> None:
            client.lsp.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(
                    settings={
                        "geminiLsp": {"baseUrl": emulator.base_url, "inlineCompletion": inline}
                    }
                )
            )

        # No wait after a push: the server handles messages in order.
        push({"enabled": False})
        assert await suggest(client, doc, 4) == []
        assert len(emulator.fim_requests) == 1
        push({"model": "gemini-2.0-flash-lite", "maxLines": 1, "debounceMs": 0})
        emulator.script_fim(FimRule(text="first()\nsecond()"))
        assert await suggest(client, doc, 4) == ["first()"]
        assert emulator.fim_requests[-1].model == "gemini-2.0-flash-lite"
        assert emulator.fim_requests[-1].fim.max_lines == 1  # type: ignore[union-attr]


async def test_the_debounce_holds_automatic_requests_and_invoked_ones_skip_it(
    tmp_path: Path, emulator: Emulator
) -> None:
    settings = {"inlineCompletion": {"debounceMs": 5000}}
    async with editor("visual-studio-code", tmp_path, emulator, **settings) as client:
        doc = client.open(tmp_path / "d.py", "x = \n")
        waiting = send(client, doc, 4, "automatic", AUTOMATIC)
        # That nothing goes out before the debounce ends only waiting can show (a part of it).
        await asyncio.sleep(0.3)
        assert emulator.fim_requests == []
        # An explicit request is asked at once, and the waiting one gives way to it.
        assert await asyncio.wait_for(suggest(client, doc, 4), 3) == ["emulator_suggestion()"]
        assert texts_of(await asyncio.wait_for(waiting, 2)) == []
        assert len(emulator.fim_requests) == 1


SLOW = Reply([f"line_{i} = {i}\n" for i in range(60)], chunk_delay_ms=10)


@pytest.mark.parametrize("style", STYLES)
async def test_inline_requests_do_not_disturb_a_generation(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(SLOW)
    async with editor(style, tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "g.py", "\n\nx = \n")
        other = client.open(tmp_path / "other.py", "y = \n")
        generation = asyncio.ensure_future(
            execute(client, "gemini.generate", generate_args(doc, 0))
        )
        await wait_for(lambda: len(client.applied) >= 2)
        answers = []
        for _ in range(5):
            answers.append(await suggest(client, other, 4))
            answers.append(await suggest(client, doc, doc.text.index("x = ") + 4))
        result = await asyncio.wait_for(generation, 10)
        assert result["status"] == "completed"
        assert doc.text == "".join(f"line_{i} = {i}\n" for i in range(60)) + "\nx = \n"
        (generating,) = [r for r in emulator.requests if r.fim is None]
        assert generating.outcome == "completed"
        assert all(answer for answer in answers[0::2])


@pytest.mark.parametrize("style", STYLES)
async def test_a_generation_does_not_disturb_an_inline_request(
    style: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script_fim(FimRule(text="done()", latency_ms=600))
    emulator.script(Reply([f"line_{i} = {i}\n" for i in range(20)], chunk_delay_ms=5))
    async with editor(style, tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "h.py", "x = \n\n\n")
        pending = send(client, doc, 4, "inline")
        inline = await emulator.wait_for_request(1)
        result = await execute(client, "gemini.generate", generate_args(doc, len("x = \n\n")))
        assert result["status"] == "completed"
        assert texts_of(await asyncio.wait_for(pending, 3)) == ["done()"]
        assert inline.outcome == "completed"
        assert (await stats(client))["cancelledCalls"] == 0


async def test_an_ignored_file_is_never_sent(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / ".geminiignore").write_text("secret_*.py\n")
    async with editor("visual-studio-code", tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "secret_keys.py", "token = \n")
        assert await suggest(client, doc, 8) == []
        assert emulator.requests == []


async def test_a_file_ignored_while_it_is_open_is_no_longer_sent(
    tmp_path: Path, emulator: Emulator
) -> None:
    async with editor("visual-studio-code", tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "notes.py", "x = \ny = \n")
        assert await suggest(client, doc, 4) == ["emulator_suggestion()"]
        (tmp_path / ".geminiignore").write_text("notes.py\n")
        await asyncio.sleep(SENDABLE_CHECK_S)  # how long a check is trusted
        client.type(doc, len(doc.text) - 1, "1 + ")
        assert await suggest(client, doc, len(doc.text) - 1) == []
        assert len(emulator.fim_requests) == 1


async def test_a_failure_is_reported_once(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script_fim(FimRule(error=ErrorSpec(429)))
    async with editor("visual-studio-code", tmp_path, emulator, **FAST) as client:
        doc = client.open(tmp_path / "f.py", "x = \n")
        assert await suggest(client, doc, 4) == []
        # Each warning goes out before its request's answer, so both are in by now.
        assert await suggest(client, doc, 4) == []
        shown = [m.message for m in client.lsp.messages if "inline" in m.message]
        assert len(shown) == 1 and "quota" in shown[0]
