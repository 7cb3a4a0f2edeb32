"""The engine alone, wired to an editor through message queues that a test drains step by step.

The real server and stdio make interleavings a matter of timing; here each message moves
when the test says so, so hypothesis can choose (and shrink) the interleaving itself: which
message arrives next, when the user types, when a debouncing editor syncs.
"""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path
from typing import Any

from lsprotocol import types

from gemini_lsp.engine.anchor import Region
from gemini_lsp.engine.documents import DocumentStore
from gemini_lsp.engine.pump import EditPump
from gemini_lsp.engine.writer import Writer
from testkit.document import generation_origin
from testkit.editor import Editor, StaleEditError
from testkit.styles import Style


class QueuedEditor(Editor):
    """An editor whose notifications go into a queue instead of a pipe."""

    def __init__(self, encoding: str, style: Style, outbox: collections.deque[Any]) -> None:
        super().__init__(encoding, style)
        self.manual_flush = True
        self._outbox = outbox

    def _send_open(self, item: types.TextDocumentItem) -> None:
        pass  # the simulation opens the server's copy itself

    def _send_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._outbox.append(("change", params))

    def _send_close(self, uri: str) -> None:
        self._outbox.append(("close", uri))


class Simulation:
    """One document, one pump, an editor, and the two message queues between them."""

    def __init__(self, style: Style, text: str) -> None:
        encoding, versioned = style.encoding, style.versioned
        self.to_client: collections.deque[tuple[Any, asyncio.Future[Any]]] = collections.deque()
        self.to_server: collections.deque[Any] = collections.deque()
        self.editor = QueuedEditor(encoding, style, self.to_server)
        self.store = DocumentStore()
        self.store.encoding = encoding
        self.doc = self.editor.open(Path("/sim/doc.py"), text)
        self.document = self.store.open(
            types.TextDocumentItem(self.doc.uri, "python", self.doc.version, text)
        )
        self.pump = EditPump(self.document, self._send, versioned)
        self.writers: list[Writer] = []

    def writer(self, offset: int) -> tuple[Writer, int]:
        """A generation writing at `offset` of the client's text, and its origin."""
        number = len(self.writers) + 1
        position = self.doc.position(offset)
        at = self.document.buffer.loc(position)
        writer = Writer(Region(at, at), f"Gemini generation g{number}")
        self.pump.add_writer(writer)
        self.writers.append(writer)
        return writer, generation_origin(f"g{number}")

    async def _send(self, params: types.ApplyWorkspaceEditParams) -> Any:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.to_client.append((params, answer))
        return await answer

    # -- moving messages ---------------------------------------------------------------------

    def deliver_to_client(self) -> None:
        params, answer = self.to_client.popleft()
        try:
            result: Any = self.editor.apply_edit(params)
        except StaleEditError as error:
            result = error
        self.to_server.append(("answer", answer, result))

    def deliver_to_server(self) -> None:
        message = self.to_server.popleft()
        if message[0] == "change":
            self.store.change(message[1])
        elif message[0] == "answer":
            if isinstance(message[2], Exception):
                message[1].set_exception(message[2])
            else:
                message[1].set_result(message[2])

    def begin_request(self) -> None:
        """The user's command is pending: a quiet-while-requesting editor holds its syncs."""
        self.editor.request_sent()

    def end_request(self) -> None:
        """Answered; the test decides when the held syncs go."""
        self.editor.sync.requesting -= 1

    @property
    def can_sync(self) -> bool:
        return self.editor.holding and not self.editor.held_back

    def sync(self) -> None:
        self.editor.flush()

    async def run_loop(self) -> None:
        """Let the pump's tasks run until they wait for a message."""
        for _ in range(5):
            await asyncio.sleep(0)

    async def drain(self, timeout: float = 10.0) -> None:
        """Deliver everything, in order, until the engine has nothing more to say."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.run_loop()
            if self.to_client:
                self.deliver_to_client()
            elif self.to_server:
                self.deliver_to_server()
            elif self.can_sync:
                self.sync()
            elif self.editor.owes_sync and not self.editor.requesting:
                return  # only the user's next change can show the server what was dropped
            elif any(not writer.idle.is_set() for writer in self.writers):
                await asyncio.sleep(0.01)  # a retry waits on the clock
            elif self.editor.requesting:
                self.end_request()  # every writer is idle: the command is answered
            elif self.editor.holding:
                self.sync()
            else:
                return
            if loop.time() > deadline:
                raise TimeoutError("the engine never settled")
