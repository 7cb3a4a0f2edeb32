"""Inline completions for open documents: one model call in flight per document.

A request is answered from the cache when it can be (no wait, no model call). Otherwise it
supersedes the document's previous request (which is answered with no suggestion, its model
call cancelled: cancelling the task that reads the stream is what closes the HTTP request),
waits out the debounce unless the user asked explicitly, and asks the model. An answer for
a document that changed meanwhile is moved to where the user's typing put the cursor, or
dropped when the typing does not agree with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types

from gemini_lsp.config import Settings
from gemini_lsp.engine.documents import Document
from gemini_lsp.engine.text import Loc, content
from gemini_lsp.gemini.attachments import PrivateDocumentError, UriError, check_document
from gemini_lsp.gemini.backend import GeminiBackend, ModelCall, load_sdk
from gemini_lsp.gemini.errors import explain
from gemini_lsp.inline.cache import KEY_AFTER, KEY_BEFORE, SuggestionCache, continuation
from gemini_lsp.inline.context import Around, around
from gemini_lsp.inline.fit import fit
from gemini_lsp.inline.pace import TypingPace
from gemini_lsp.inline.request import model_call

log = logging.getLogger(__name__)

# The answer is cut to `maxLines` anyway: a stream that has written this many more lines
# than that (fences and echoes take some) is closed early.
SPARE_LINES = 3
# How long a document's "may it be sent" answer (.geminiignore, .env) is trusted.
SENDABLE_CHECK_S = 2.0


@attrs.define(eq=False)
class Ticket:
    """One request of a document, until it is answered."""

    wake: asyncio.Future[None]
    superseded: bool = False


@attrs.define(eq=False)
class Slot:
    """What one document has going on."""

    ticket: Ticket | None = None
    call: Call | None = None


@attrs.define(eq=False)
class Call:
    """A model call: the task reading its stream, and the answer, known at the last piece
    (the stream then ends on its own, keeping its connection for the next call)."""

    task: asyncio.Task[None]
    answer: asyncio.Future[str]

    @property
    def answering(self) -> bool:
        return not self.answer.done() and not self.task.done()


@attrs.define
class Stats:
    requests: int = 0
    cache_hits: int = 0
    model_calls: int = 0
    superseded: int = 0
    cancelled_calls: int = 0
    adjusted: int = 0
    dropped: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "cacheHits": self.cache_hits,
            "modelCalls": self.model_calls,
            "superseded": self.superseded,
            "cancelledCalls": self.cancelled_calls,
            "adjusted": self.adjusted,
            "dropped": self.dropped,
        }


@attrs.frozen
class Snapshot:
    """The document around the cursor when the request came."""

    version: int
    loc: Loc
    line: str  # the cursor's line, without its terminator
    key: Around  # the cache's windows, wide enough for a lookup
    near: Around  # the cache's windows as an entry keeps them


class InlineCompletions:
    def __init__(
        self,
        backend: GeminiBackend,
        settings: Callable[[], Settings],
        folders: Callable[[], list[Path]],
        tell: Callable[[str], None],
    ) -> None:
        self._backend = backend
        self._settings = settings
        self._folders = folders
        self._tell = tell
        self._slots: dict[str, Slot] = {}
        self._told: set[str] = set()
        self._checked: dict[str, tuple[float, str | None]] = {}
        self.cache = SuggestionCache()
        self._cache_for: tuple[Any, ...] | None = None
        self.stats = Stats()
        self.pace = TypingPace()

    # -- requests -------------------------------------------------------------------------------

    async def complete(
        self, document: Document, position: types.Position, invoked: bool
    ) -> list[types.InlineCompletionItem]:
        settings = self._settings()
        if not settings.inline_enabled:
            return []
        self.stats.requests += 1
        loop = asyncio.get_running_loop()
        slot = self._slots.setdefault(document.uri, Slot())
        if not invoked:
            self.pace.keystroke(document.uri, loop.time())
        self._supersede(slot)
        buffer = document.buffer
        loc = buffer.loc(position)
        snapshot = self._snapshot(document, loc)
        self._check_cache_settings(settings)
        rest = self.cache.get(document.uri, snapshot.key.before, snapshot.key.after)
        if rest is not None:
            self.stats.cache_hits += 1
            return [_item(rest, position)]

        ticket = Ticket(loop.create_future())
        slot.ticket = ticket
        try:
            if not invoked:
                await self._debounce(ticket, self.pace.wait(settings.inline_debounce_ms / 1000))
                if ticket.superseded:
                    return []
            name = await self._sendable_name(document.uri)
            if name is None:
                return []
            text = await self._ask(document, slot, ticket, snapshot, settings, name)
        finally:
            if slot.ticket is ticket:
                slot.ticket = None
        if not text:
            return []
        self.cache.put(document.uri, snapshot.near.before, snapshot.near.after, text)
        return self._place(document, snapshot, text, position)

    def _supersede(self, slot: Slot) -> None:
        """The document's previous request gives way: answered at once, its call cancelled."""
        ticket = slot.ticket
        if ticket is not None:
            ticket.superseded = True
            if not ticket.wake.done():
                ticket.wake.set_result(None)
            self.stats.superseded += 1
            slot.ticket = None
        if slot.call is not None and slot.call.answering:
            slot.call.task.cancel()
            self.stats.cancelled_calls += 1

    async def _debounce(self, ticket: Ticket, seconds: float) -> None:
        if seconds <= 0:
            return
        handle = asyncio.get_running_loop().call_later(seconds, _settle, ticket.wake)
        try:
            await ticket.wake
        finally:
            handle.cancel()

    def _snapshot(self, document: Document, loc: Loc) -> Snapshot:
        lines = document.buffer.lines
        key = around(lines, loc.line, loc.col, KEY_BEFORE + self.cache.longest, KEY_AFTER)
        near = around(lines, loc.line, loc.col, KEY_BEFORE, KEY_AFTER)
        return Snapshot(document.version, loc, content(lines[loc.line]), key, near)

    def _unchanged(self, document: Document, snapshot: Snapshot) -> bool:
        """Whether the code before the snapshot's place, and the rest of its line, are
        still as they were (the document may have changed elsewhere)."""
        if document.closed:
            return False
        if document.version == snapshot.version:
            return True
        lines, loc = document.buffer.lines, snapshot.loc
        if loc.line >= len(lines) or loc.col > len(content(lines[loc.line])):
            return False
        now = around(lines, loc.line, loc.col, KEY_BEFORE, KEY_AFTER)
        # What lies below the cursor's line may change (a generation writing there): the
        # suggestion still continues the same code.
        return now.before == snapshot.near.before and now.line_after == snapshot.near.line_after

    async def _sendable_name(self, uri: str) -> str | None:
        """What the prompt calls the document, or None when it must not be sent: excluded
        (.geminiignore, .env; any scheme, matched by its path) or naming no local file (%00 …).
        Checked off the event loop, at most every SENDABLE_CHECK_S per document rather than
        at every pause in typing."""
        now = time.monotonic()
        known = self._checked.get(uri)
        if known is not None and now - known[0] < SENDABLE_CHECK_S:
            return known[1]
        name: str | None
        try:
            name = await check_document(uri, self._folders())
        except (PrivateDocumentError, UriError):
            name = None
        if uri in self._slots:  # not closed meanwhile
            self._checked[uri] = (now, name)
        return name

    def _check_cache_settings(self, settings: Settings) -> None:
        # Held answers were fitted for these settings: others start afresh.
        signature = (
            settings.inline_model,
            settings.inline_max_lines,
            settings.inline_context_chars,
        )
        if signature != self._cache_for:
            self.cache.clear()
            self._cache_for = signature

    # -- the model call -------------------------------------------------------------------------

    async def _ask(
        self,
        document: Document,
        slot: Slot,
        ticket: Ticket,
        snapshot: Snapshot,
        settings: Settings,
        name: str,
    ) -> str:
        """The fitted answer for the snapshot's place ("" for none)."""
        if not self._unchanged(document, snapshot):
            # The text at the cursor changed during the wait (a client that does not ask
            # again at each keystroke): what the request was about is gone.
            self.stats.dropped += 1
            return ""
        lines = document.buffer.lines
        loc = snapshot.loc
        call = model_call(lines, loc, name, document.language_id, settings)
        line_before = snapshot.line[: loc.col]
        after = snapshot.line[loc.col :] + "\n" + "".join(lines[loc.line + 1 : loc.line + 40])
        previous = slot.call
        if previous is not None and previous.answering:
            # Never two calls for one document: the previous one is closing already.
            await asyncio.wait({previous.task})
        if ticket.superseded:
            return ""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()
        task = loop.create_task(self._stream(call, settings.inline_max_lines, answer))
        task.add_done_callback(_retrieve)
        slot.call = Call(task, answer)
        self.stats.model_calls += 1
        try:
            waited: set[asyncio.Future[Any]] = {answer, task}
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # `$/cancelRequest`: close the stream at once
            if not answer.done():
                task.cancel()
                self.stats.cancelled_calls += 1
            raise
        if answer.done():
            return fit(answer.result(), line_before, after, settings.inline_max_lines)
        if not task.cancelled() and (error := task.exception()) is not None:
            self._report(explain(error, settings, settings.inline_model))
        return ""

    async def _stream(self, call: ModelCall, max_lines: int, answer: asyncio.Future[str]) -> None:
        """Read the call's stream; `answer` is set at the last piece (the stream then ends
        by itself) or once there are more lines than a suggestion keeps (then it is closed)."""
        await load_sdk()
        pieces: list[str] = []
        breaks = 0
        async with self._backend.stream(call, _no_retry) as stream:
            async for batch in stream:
                if answer.done():
                    continue
                for piece in batch:
                    pieces.append(piece.text)
                    breaks += piece.text.count("\n")
                    if piece.finish_reason is not None:
                        answer.set_result("".join(pieces))
                if breaks > max_lines + SPARE_LINES:
                    break  # leaving the stream's context closes it
        if not answer.done():
            answer.set_result("".join(pieces))

    def _report(self, message: str) -> None:
        log.warning("inline completion failed: %s", message)
        if message not in self._told:
            self._told.add(message)
            self._tell(f"Gemini inline completions: {message}")

    # -- answering ------------------------------------------------------------------------------

    def _place(
        self, document: Document, snapshot: Snapshot, text: str, position: types.Position
    ) -> list[types.InlineCompletionItem]:
        """The item for the request's place, moved or dropped if the user typed since."""
        if document.closed:
            return []
        if self._unchanged(document, snapshot):
            return [_item(text, position)]
        buffer = document.buffer
        loc = snapshot.loc
        if loc.line >= len(buffer.lines):
            self.stats.dropped += 1
            return []
        now = buffer.line_text(loc.line)
        old = snapshot.line
        head, tail = old[: loc.col], old[loc.col :]
        if not (now.startswith(head) and now.endswith(tail) and len(now) >= len(old)):
            self.stats.dropped += 1
            return []
        moved = Loc(loc.line, len(now) - len(tail))
        key = around(buffer.lines, moved.line, moved.col, KEY_BEFORE + len(text), KEY_AFTER)
        rest = continuation(snapshot.near.before, snapshot.near.after, text, key.before, key.after)
        if rest is None:
            self.stats.dropped += 1
            return []
        self.stats.adjusted += 1
        return [_item(rest, buffer.position(moved))]

    # -- bookkeeping ----------------------------------------------------------------------------

    def forget(self, uri: str) -> None:
        """The document closed."""
        slot = self._slots.pop(uri, None)
        if slot is not None:
            self._supersede(slot)
        self.cache.forget(uri)
        self._checked.pop(uri, None)
        self.pace.forget(uri)

    def in_flight(self) -> int:
        return sum(1 for slot in self._slots.values() if slot.call and slot.call.answering)

    def debug(self) -> dict[str, Any]:
        return {
            **self.stats.as_json(),
            "documents": len(self._slots),
            "inFlight": self.in_flight(),
            "cached": len(self.cache),
        }


def _item(text: str, position: types.Position) -> types.InlineCompletionItem:
    return types.InlineCompletionItem(insert_text=text, range=types.Range(position, position))


def _retrieve(task: asyncio.Task[None]) -> None:
    """Errors of a stream whose answer was already given are of no interest."""
    if not task.cancelled():
        task.exception()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _no_retry(delay: float, reason: str) -> None:
    return None
