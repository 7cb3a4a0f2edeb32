"""One streaming call read by its own task: pieces queue up for a consumer that may lag.

Cancelling the task that is suspended inside the SDK's read is what closes the HTTP
connection (breaking out of the loop or `aclose()` does not), so the reader is a task of its
own, and a cancellation that reaches it anywhere else is asked for again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import attrs

from gemini_lsp.gemini.retries import retry_delay, short_reason

# Pieces further apart than this came one by one (as Gemini streams), not in a burst of
# buffered ones.
PAUSE_SECONDS = 0.001
# Pieces read ahead of a consumer that has not taken them: the reader waits at this many
# (and so does Gemini's stream, through TCP), rather than holding a fast answer in memory.
MAX_QUEUED_PIECES = 256

RetryNotice = Callable[[float, str], Awaitable[None]]
Opener = Callable[[], contextlib.AbstractAsyncContextManager[AsyncIterator[Any]]]


@attrs.frozen
class Usage:
    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


@attrs.frozen
class Piece:
    """One streamed response: its text and, on the last, the usage and finish reason."""

    text: str
    usage: Usage | None = None
    finish_reason: str | None = None


class ModelStream:
    """One streaming call, read by its own task; iterating it gives every piece that has
    arrived since the last step, so a consumer that falls behind a fast stream catches up
    in one step instead of one step per piece. Leaving this context cancels the reader.
    """

    def __init__(self, start: Opener, retries: int, on_retry: RetryNotice) -> None:
        self._start = start
        self._retries = retries
        self._on_retry = on_retry
        self._arrived: list[Piece] = []
        self._ended = False
        self._error: BaseException | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None  # the reader, waiting for the consumer
        self._reader: asyncio.Task[None] | None = None
        self._started = False  # text arrived in the current attempt

    async def __aenter__(self) -> ModelStream:
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def __aiter__(self) -> ModelStream:
        return self

    async def __anext__(self) -> list[Piece]:
        while not self._arrived:
            if self._ended:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        pieces, self._arrived = self._arrived, []
        if self._room is not None and not self._room.done():
            self._room.set_result(None)
        return pieces

    @property
    def queued(self) -> int:
        """Pieces read and not yet taken."""
        return len(self._arrived)

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _end(self, error: BaseException | None = None) -> None:
        self._ended = True
        self._error = error
        self._wake()

    async def _read(self) -> None:
        attempt = 0
        while True:
            self._started = False  # once text has arrived, a retry would write it twice
            try:
                await self._read_responses()
                self._end()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                delay = retry_delay(error, attempt) if not self._started else None
                if delay is None or attempt >= self._retries:
                    self._end(error)
                    return
                attempt += 1
                await self._on_retry(delay, short_reason(error))
                await asyncio.sleep(delay)

    async def _read_responses(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._start() as responses:
            last = 0.0
            async for response in responses:
                piece = piece_of(response)
                self._started = self._started or bool(piece.text)
                self._arrived.append(piece)
                self._wake()
                now = loop.time()
                if len(self._arrived) >= MAX_QUEUED_PIECES:
                    await self._make_room()
                elif now - last >= PAUSE_SECONDS or piece.finish_reason is not None:
                    # The piece came after a pause, not in a burst, or it is the last: let
                    # the consumer take it before this task goes back to reading (or to
                    # closing the stream).
                    await _hand_over()
                last = now

    async def _make_room(self) -> None:
        """Until the consumer has taken what is queued (backpressure, nothing dropped).

        As in `_hand_over`, a cancellation that arrives here is asked for again, so that it
        lands inside the SDK's next read, which is what closes the connection.
        """
        self._room = asyncio.get_running_loop().create_future()
        try:
            await self._room
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.cancel()
        finally:
            self._room = None


async def _hand_over() -> None:
    """One turn of the event loop for the others, without being stopped here.

    Only a cancellation that reaches the task inside the SDK's read closes the connection
    (breaking out of the loop leaves it open), so one that arrives now is asked for again:
    the next read, the first thing the task awaits, takes it.
    """
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.cancel()


def piece_of(response: Any) -> Piece:
    """The text (thoughts left out), usage and finish reason of one SDK response."""
    text = ""
    finish_reason = None
    candidates = response.candidates or []
    if candidates:
        candidate = candidates[0]
        if candidate.content is not None and candidate.content.parts:
            text = "".join(
                part.text
                for part in candidate.content.parts
                if part.text and not getattr(part, "thought", False)
            )
        if candidate.finish_reason is not None:
            finish_reason = str(getattr(candidate.finish_reason, "value", candidate.finish_reason))
    elif response.prompt_feedback is not None and response.prompt_feedback.block_reason:
        finish_reason = "BLOCKED:" + str(
            getattr(response.prompt_feedback.block_reason, "value", "")
        )
    return Piece(text, _usage(response), finish_reason)


def _usage(response: Any) -> Usage | None:
    meta = response.usage_metadata
    if meta is None:
        return None
    return Usage(
        prompt_tokens=meta.prompt_token_count or 0,
        output_tokens=meta.candidates_token_count or 0,
        total_tokens=meta.total_token_count or 0,
    )
