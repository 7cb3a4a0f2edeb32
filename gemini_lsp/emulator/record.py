"""What the emulator was asked, and what became of each answer."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import attrs

from gemini_lsp.emulator.fim import FimContext
from gemini_lsp.emulator.scenario import Reply


@attrs.define(eq=False)
class RecordedRequest:
    """One HTTP request as the emulator received it, and what became of its response.

    Times are `time.monotonic()`. `disconnected_at` is set only when the client
    closed the connection before the response was complete; `outcome` is
    "pending", "completed", "disconnected" (by the client) or "aborted" (by the
    emulator: a disconnect fault, or `stop()`).
    """

    index: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    received_at: float
    peer: str = ""  # the client's address: requests on one connection share it
    version: str | None = None
    model: str | None = None
    action: str | None = None
    api_key: str | None = None
    body: dict[str, Any] | None = None
    status: int | None = None
    reply: Reply | None = None
    first_chunk_at: float | None = None
    finished_at: float | None = None
    disconnected_at: float | None = None
    chunks_sent: int = 0
    outcome: str = "pending"
    # A fill-in-the-middle request (an inline completion): what it asked about.
    fim: FimContext | None = None
    _texts: list[str] = attrs.field(factory=list, init=False, repr=False)
    _done: asyncio.Event = attrs.field(factory=asyncio.Event, init=False, repr=False)
    _released: asyncio.Event = attrs.field(factory=asyncio.Event, init=False, repr=False)

    @property
    def text_sent(self) -> str:
        """The text of the chunks that were sent, in order."""
        return "".join(self._texts)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def sent(self, texts: list[str]) -> None:
        """Count chunks as sent, with their texts."""
        self.chunks_sent += len(texts)
        self._texts.extend(texts)

    async def wait_done(self) -> None:
        await self._done.wait()

    def release(self) -> None:
        """Let a held answer go on (see `Reply.hold_after`); on the emulator's loop."""
        self._released.set()

    async def wait_released(self) -> None:
        await self._released.wait()

    def finish(self, outcome: str) -> None:
        """End the response (the first outcome given stays)."""
        if self.outcome == "pending":
            self.outcome = outcome
            if outcome == "completed":
                self.finished_at = time.monotonic()
        self._done.set()
