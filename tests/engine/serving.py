"""Streaming into a real server over stdio: one editor session, many generations."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types
from pygls.protocol import JsonRPCProtocol

from gemini_lsp.emulator import Chunk, Emulator, Reply
from testkit.document import ClientDocument, anchor_offset, generation_origin
from testkit.emulators import API_KEY
from testkit.styles import Style
from testkit.typist import Action, eol_of, type_along
from tests.clients import EditorClient, start_editor, stop_editor
from tests.engine.oracle import check_generation


def expected_text(chunks: list[str], original: str) -> str:
    """What the server writes for code at column 0 inserted at the start of a blank line:
    the text as it came, less its final line break, in the document's line endings."""
    raw = "".join(chunks)
    raw = raw[:-1] if raw.endswith("\n") else raw
    return raw.replace("\n", eol_of(original))


@attrs.define
class Stream:
    """One generation: where, what the model sends, what the typist does meanwhile."""

    document: ClientDocument
    offset: int  # in the original text
    chunks: list[str]
    delays_ms: list[float] | None = None
    plan: list[Action] = attrs.field(factory=list)
    number: int = 0  # the server's generation number, gN
    result: dict[str, Any] | None = None

    @property
    def origin(self) -> int:
        return generation_origin(f"g{self.number}")

    @property
    def reply(self) -> Reply:
        delays = self.delays_ms or [0.0] * len(self.chunks)
        return Reply([Chunk(t, d) for t, d in zip(self.chunks, delays, strict=True)])


class Session:
    """An editor connected to a fresh server, and the emulator it talks to."""

    def __init__(self, client: EditorClient, emulator: Emulator, workspace: Path) -> None:
        self.client = client
        self.emulator = emulator
        self.workspace = workspace
        self._names = itertools.count()
        self._generations = itertools.count(1)

    def open(self, text: str) -> ClientDocument:
        return self.client.open(self.workspace / f"doc{next(self._names)}.py", text)

    async def start(self, stream: Stream) -> asyncio.Future[Any]:
        """Send the command; return once the server holds the anchor and asks the model."""
        stream.number = next(self._generations)
        self.emulator.script(stream.reply)
        seen = len(self.emulator.requests)
        # As Neovim does, send what is held before a request; then name the place and send
        # the request in one step, so that no edit or keystroke can slip in between.
        self.client.flush()
        document = stream.document
        position = document.position(anchor_offset(document, stream.offset))
        argument = {
            "textDocument": {"uri": document.uri},
            "position": {"line": position.line, "character": position.character},
            "prompt": "write it",
        }
        params = types.ExecuteCommandParams("gemini.generate", [argument])
        # pytest-lsp's own send_request_async is a coroutine: it would send later.
        command: asyncio.Future[Any] = JsonRPCProtocol.send_request_async(
            self.client.lsp.protocol, types.WORKSPACE_EXECUTE_COMMAND, params
        )
        # An editor that syncs nothing while a request is pending holds its changes until
        # this one is answered.
        self.client.request_sent()
        command.add_done_callback(lambda _: self.client.request_answered())
        # Type only once the server has taken the position: a change that overtook the
        # command would move the place it names.
        await self.emulator.wait_for_request(seen + 1, timeout=10)
        return command

    async def run(self, *streams: Stream) -> None:
        """Run generations at once, each with its typist, until every one has answered."""
        commands = [await self.start(stream) for stream in streams]
        typists = [
            asyncio.ensure_future(type_along(self.client, s.document, s.plan, s.origin, s.offset))
            for s in streams
        ]
        try:
            results = await asyncio.wait_for(asyncio.gather(*commands), 30)
        finally:
            for typist in typists:
                typist.cancel()
            await asyncio.gather(*typists, return_exceptions=True)
        for stream, result in zip(streams, results, strict=True):
            stream.result = result
        await self.client.quiet(0.05)

    def check(self, stream: Stream) -> None:
        result = stream.result
        assert result is not None and result["status"] == "completed", result
        assert result["id"] == f"g{stream.number}", (result["id"], stream.number)
        expected = expected_text(stream.chunks, stream.document.original)
        assert result["text"] == expected, (result["text"], expected, stream.document.text)
        check_generation(stream.document, stream.origin, expected, stream.offset)


@asynccontextmanager
async def session(
    style: Style | str, workspace: Path, emulator: Emulator, **settings: Any
) -> AsyncIterator[Session]:
    client = await start_editor(
        style, workspace, {"baseUrl": emulator.base_url, **settings}, {"GEMINI_API_KEY": API_KEY}
    )
    try:
        yield Session(client, emulator, workspace)
    finally:
        await stop_editor(client)
