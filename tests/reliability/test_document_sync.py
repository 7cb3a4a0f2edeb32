"""Document sync, which every streamed edit comes back as, goes from the intake straight to
the document store (`RobustProtocol.direct_notifications`): applied in order, with no
bookkeeping left behind, and a failure is reported without stopping the server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from gemini_lsp.emulator import Emulator, Reply
from gemini_lsp.lsp import transport
from gemini_lsp.lsp.server import GeminiLanguageServer, create_server
from testkit.emulators import API_KEY
from testkit.framing import encode
from tests.reliability.rawrpc import RawServer

URI = "file:///workspace/a.py"


class Collected:
    """A writer that keeps what the server sends."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.messages.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))

    def close(self) -> None:
        pass


async def send(server: GeminiLanguageServer, method: str, params: dict[str, Any]) -> None:
    body = {"jsonrpc": "2.0", "method": method, "params": params}
    assert await server.protocol.intake(json.dumps(body).encode())


def change(version: int, line: int, text: str, uri: str = URI) -> dict[str, Any]:
    at = {"line": line, "character": 0}
    return {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"range": {"start": at, "end": at}, "text": text}],
    }


@pytest.fixture
async def server() -> tuple[GeminiLanguageServer, Collected]:
    server = create_server()
    out = Collected()
    server.protocol.set_writer(out)
    document = {"uri": URI, "languageId": "python", "version": 1, "text": "a\nb\n"}
    await send(server, "textDocument/didOpen", {"textDocument": document})
    return server, out


async def test_changes_apply_in_order_and_leave_nothing_behind(
    server: tuple[GeminiLanguageServer, Collected],
) -> None:
    lsp, out = server
    for k in range(100):
        await send(lsp, "textDocument/didChange", change(k + 2, 1 + k, f"x{k}\n"))
    document = lsp.documents.get(URI)
    assert document is not None and document.version == 101
    assert document.buffer.text == "a\n" + "".join(f"x{k}\n" for k in range(100)) + "b\n"
    assert lsp.protocol._request_futures == {}
    assert out.messages == []
    await send(lsp, "textDocument/didClose", {"textDocument": {"uri": URI}})
    assert lsp.documents.get(URI) is None


async def test_a_failed_change_is_reported_and_the_next_one_applies(
    server: tuple[GeminiLanguageServer, Collected], monkeypatch: pytest.MonkeyPatch
) -> None:
    lsp, out = server
    store = type(lsp.documents)
    original = store.change

    def broken(self: Any, params: Any) -> None:
        raise RuntimeError("planted failure")

    monkeypatch.setattr(store, "change", broken)
    await send(lsp, "textDocument/didChange", change(2, 0, "lost\n"))
    shown = [m["params"]["message"] for m in out.messages if m["method"] == "window/showMessage"]
    assert len(shown) == 1 and "planted failure" in shown[0]
    monkeypatch.setattr(store, "change", original)
    await send(lsp, "textDocument/didChange", change(3, 0, "kept\n"))
    document = lsp.documents.get(URI)
    assert document is not None and document.buffer.text == "kept\na\nb\n"


async def test_a_change_read_with_the_command_comes_after_it(
    tmp_path: Path, emulator: Emulator
) -> None:
    # The user asks for code at line 1 and at once types a line above it; the server reads
    # the command and the change together. The command takes its place first (it is the
    # place the editor saw), and the change moves it: the generation goes to line 2.
    emulator.script(Reply(["x = 1"]))
    server = await RawServer.start(env={"GEMINI_API_KEY": API_KEY})
    try:
        settings = {"geminiLsp": {"baseUrl": emulator.base_url}}
        params = {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}
        await server.request(1, "initialize", {**params, "initializationOptions": settings})
        uri = (tmp_path / "a.py").as_uri()
        document = {"uri": uri, "languageId": "python", "version": 1, "text": "# head\n\n"}
        opened = {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {"textDocument": document},
        }
        argument = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 0}}
        command = {"command": "gemini.generate", "arguments": [{**argument, "prompt": "x"}]}
        typed = {
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": change(2, 0, "# typed\n", uri),
        }
        # One write: the server reads all of it at once.
        await server.send(
            encode({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            + encode(opened)
            + encode(
                {"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": command}
            )
            + encode(typed)
        )
        while (message := await server.read()).get("method") != "workspace/applyEdit":
            pass
        (edit,) = message["params"]["edit"]["changes"][uri]
        assert edit["range"]["start"] == {"line": 2, "character": 0}
        assert edit["newText"] == "x = 1"
    finally:
        server.process.kill()
        await server.ended()


def _read_together(
    lsp: GeminiLanguageServer, *messages: dict[str, Any]
) -> tuple[Coroutine[Any, Any, None], list[bytes]]:
    """The server's reading loop over `messages` as one write would leave them, and the
    bodies it has read so far."""
    reader = asyncio.StreamReader()
    reader.feed_data(b"".join(encode({"jsonrpc": "2.0", **m}) for m in messages))
    reader.feed_eof()
    read: list[bytes] = []

    async def receive(body: bytes) -> bool:
        read.append(body)
        return await lsp.protocol.intake(body)

    return transport.read_frames(reader, receive, lsp.protocol.reject), read


def _command(msg_id: int, name: str) -> dict[str, Any]:
    return {"id": msg_id, "method": "workspace/executeCommand", "params": {"command": name}}


async def test_commands_sent_together_are_all_read_before_the_first_runs(
    server: tuple[GeminiLanguageServer, Collected],
) -> None:
    # A batch of commands (many generations asked for at once) is read in one go: a turn of
    # the event loop per command would wait behind every stream already running.
    lsp, out = server
    read_when_run: list[int] = []

    @lsp.command("test.probe")
    async def probe(params: Any) -> None:
        read_when_run.append(len(read))

    reading, read = _read_together(lsp, *(_command(k, "test.probe") for k in range(5)))
    await reading
    await asyncio.sleep(0.01)  # the commands' tasks answer
    assert read_when_run == [5] * 5
    assert sorted(m["id"] for m in out.messages) == list(range(5))


async def test_a_change_after_a_command_and_an_answer_waits_for_the_command(
    server: tuple[GeminiLanguageServer, Collected],
) -> None:
    # An answer to the server's own request is read on at once, but the change behind it
    # still waits until the command has looked at the document as the client sent it.
    lsp, _ = server
    seen: list[str] = []

    @lsp.command("test.probe")
    async def probe(params: Any) -> None:
        document = lsp.documents.get(URI)
        assert document is not None
        seen.append(document.buffer.text)

    reading, _ = _read_together(
        lsp,
        _command(1, "test.probe"),
        {"id": "gemini-unknown", "result": None},
        {"method": "textDocument/didChange", "params": change(2, 0, "typed\n")},
    )
    await reading
    document = lsp.documents.get(URI)
    assert seen == ["a\nb\n"]
    assert document is not None and document.buffer.text == "typed\na\nb\n"
