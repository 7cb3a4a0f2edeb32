"""One generation: from the model's stream to text in the document, and how it ends."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from typing import Any

import attrs

from gemini_lsp.config import Settings
from gemini_lsp.engine.anchor import Region
from gemini_lsp.engine.documents import Document
from gemini_lsp.engine.postprocess import Transform
from gemini_lsp.engine.pump import EditPump
from gemini_lsp.engine.text import range_json
from gemini_lsp.engine.writer import Writer
from gemini_lsp.gemini.backend import GeminiBackend, ModelCall, load_sdk
from gemini_lsp.gemini.errors import GenerationFailedError, explain
from gemini_lsp.gemini.streaming import Usage
from gemini_lsp.generations.link import Stop
from gemini_lsp.generations.reporting import Reporting

log = logging.getLogger(__name__)


class Kind(enum.Enum):
    GENERATE = "generate"  # insert at a position
    EDIT = "edit"  # replace a range once the new text is complete
    REFINE = "refine"  # replace an earlier generation's text by a revised version


class Status(enum.Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


# A stop waits this long for the editor to answer the edit in flight.
WIND_DOWN_SECONDS = 0.05

# A stop that is a failure for the user, and what they are told.
STOP_FAILURES = {
    Stop.CLOSED: "The document was closed during the generation — reopen it and try again",
    Stop.DISCONNECTED: "The editor disconnected during the generation",
}


# Finish reasons that mean the model refused or was cut off by a filter.
BLOCKED_REASONS = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "OTHER", "LANGUAGE"}
)


class BlockedError(GenerationFailedError):
    """Gemini refused or filtered the answer: what it sent is not kept."""


class Limiter:
    """At most `maxConcurrent` generations talk to Gemini at once; the rest wait in order."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0
        self._waiters: list[asyncio.Future[None]] = []

    async def acquire(self, on_wait: Any) -> None:
        if self.running >= self.limit:
            on_wait(len(self._waiters) + 1)
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    self.release()  # handed a slot just as it was cancelled: pass it on
                raise
            return
        self.running += 1

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on, `running` unchanged
                return
        self.running -= 1


@attrs.define(eq=False)
class Generation:
    """A generation's state. The registry owns it; `run` is its task."""

    id: str
    kind: Kind
    document: Document
    pump: EditPump
    writer: Writer
    original: Region | None  # the text an edit or refinement replaces, kept until the end
    original_text: str  # what `revert` puts back
    call: ModelCall
    transform: Transform
    progress: Reporting
    settings: Settings
    started: float = attrs.field(factory=time.monotonic)
    status: Status = Status.RUNNING
    usage: Usage = attrs.field(factory=Usage)
    # The model's own words, for the conversation history; joined only when read, since
    # growing one string chunk by chunk copies it every time.
    raw_pieces: list[str] = attrs.field(factory=list)
    first_token_ms: float | None = None
    total_ms: float | None = None
    notice: str | None = None  # what the user should know about a completed generation
    stop_reason: Stop | None = None
    task: asyncio.Task[None] | None = None
    outcome: asyncio.Future[None] = attrs.field(
        factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def raw_text(self) -> str:
        return "".join(self.raw_pieces)

    @property
    def label(self) -> str:
        return self.writer.label

    def stop(self, reason: Stop) -> None:
        if self.stop_reason is None and self.task is not None and not self.task.done():
            self.stop_reason = reason
            self.task.cancel()

    def result(self) -> dict[str, Any]:
        region = self.writer.region
        return {
            "id": self.id,
            "status": self.status.value,
            "range": range_json(self.pump.where(region)),
            "text": self.writer.placed,
            "model": self.call.model,
            "usage": {
                "promptTokens": self.usage.prompt_tokens,
                "outputTokens": self.usage.output_tokens,
                "totalTokens": self.usage.total_tokens,
            },
            "timings": {
                "firstTokenMs": _ms(self.first_token_ms),
                "totalMs": _ms(self.total_ms),
            },
            **({"notice": self.notice} if self.notice else {}),
        }

    async def run(self, backend: GeminiBackend, limiter: Limiter) -> None:
        try:
            await self._run(backend, limiter)
        finally:
            if not self.outcome.done():
                # Stopped again while winding down: end anyway, so that the request is
                # answered and nobody waits for this generation.
                self.pump.close_writer(self.writer)
                if self.status is Status.RUNNING:
                    self.status = Status.CANCELLED
                self.progress.end("Cancelled")
                self.outcome.set_result(None)

    async def _run(self, backend: GeminiBackend, limiter: Limiter) -> None:
        try:
            # Begun before queueing, so that a queued generation can say it is waiting.
            self.progress.begin("Gemini", f"{self.call.model}: waiting for the first token")
            await limiter.acquire(self._waiting)
            try:
                finish_reason = await self._stream(backend)
            finally:
                # The slot is for talking to Gemini: edits a slow editor has yet to take
                # must not hold up other generations.
                limiter.release()
            await self._complete(finish_reason)
        except asyncio.CancelledError:
            failure = STOP_FAILURES.get(self.stop_reason) if self.stop_reason else None
            if failure is None:
                await self._wind_down(Status.CANCELLED, "Cancelled")
                self.outcome.set_result(None)
            else:
                log.info("generation %s stopped: %s", self.id, failure)
                await self._wind_down(Status.FAILED, f"Failed: {failure}")
                self.outcome.set_exception(GenerationFailedError(failure))
        except Exception as error:
            await self._fail(error)
        else:
            self.outcome.set_result(None)

    async def _fail(self, error: Exception) -> None:
        """Tell why. Partial text follows onCancel (a rewrite restores the original); a
        blocked answer is never kept."""
        message = explain(error, self.settings, self.call.model)
        discard = isinstance(error, BlockedError) or self.settings.on_cancel == "discard"
        if not discard and self.kind is Kind.GENERATE and self._can_edit():
            # Everything that arrived lands first, the text the post-processor still held
            # back included: winding down drops what is not yet sent.
            self.pump.append(self.writer, self.transform.finish())
            await self.writer.idle.wait()
        arrived = bool(self.raw_pieces)
        await self._wind_down(Status.FAILED, f"Failed: {message}", discard=discard)
        if self.kind is not Kind.GENERATE:
            message += " (the original text is unchanged)"
        elif self.writer.placed:
            lines = _lines(self.writer.placed_lines)
            verb = "was" if lines == "1 line" else "were"
            message += f" (the {lines} that arrived {verb} kept)"
        elif arrived and not isinstance(error, BlockedError):
            message += " (what arrived was not kept: geminiLsp.onCancel is discard)"
        log.warning("generation %s failed: %s", self.id, message)
        self.outcome.set_exception(GenerationFailedError(message))

    def _can_edit(self) -> bool:
        return not self.document.closed and self.pump.failure is None

    def _waiting(self, place: int) -> None:
        self.progress.report(
            f"Waiting for a free slot ({place} in line, maxConcurrent "
            f"{self.settings.max_concurrent})",
            force=True,
        )

    async def _retrying(self, delay: float, reason: str) -> None:
        self.progress.report(f"{reason}: retrying in {delay:.1f} s", force=True)

    async def _stream(self, backend: GeminiBackend) -> str | None:
        """Feed the model's answer to the pump; its finish reason."""
        finish_reason = None
        await load_sdk()
        async with backend.stream(self.call, self._retrying) as stream:
            async for pieces in stream:
                texts = [piece.text for piece in pieces if piece.text]
                if texts:
                    if self.first_token_ms is None:
                        self.first_token_ms = self._elapsed_ms()
                    self.raw_pieces.extend(texts)
                    self.pump.append(self.writer, self.transform.feed("".join(texts)))
                for piece in pieces:
                    if piece.usage is not None:
                        self.usage = piece.usage
                    finish_reason = piece.finish_reason or finish_reason
                if self.writer.placed_length and self.progress.due():
                    self.progress.report(self._progress_message())
        return finish_reason

    async def _complete(self, finish_reason: str | None) -> None:
        if finish_reason is not None and (
            finish_reason in BLOCKED_REASONS or finish_reason.startswith("BLOCKED")
        ):
            raise BlockedError(
                f"Gemini stopped the answer ({finish_reason}) — nothing was kept; "
                "rephrase the instruction"
            )
        self.pump.append(self.writer, self.transform.finish())
        await self._flush()
        if finish_reason == "MAX_TOKENS":
            self.notice = (
                "The answer was cut off at the output limit (MAX_TOKENS) — raise "
                "geminiLsp.maxOutputTokens or ask for less"
            )
        if self.original is not None:
            await self.pump.replace(self.original, "", self.label)
            self.pump.untrack(self.original)
        self.status = Status.COMPLETED
        self.total_ms = self._elapsed_ms()
        summary = f"{_lines(self.writer.placed_lines)} in {self.total_ms / 1000:.1f} s"
        if self.usage.total_tokens:
            summary += f", {self.usage.total_tokens} tokens"
        if self.notice:
            summary += " (cut off: MAX_TOKENS)"
        self.progress.end(summary)
        log.info(
            "generation %s completed: %s, tokens %d in / %d out",
            self.id,
            summary,
            self.usage.prompt_tokens,
            self.usage.output_tokens,
        )

    async def _flush(self) -> None:
        """Until everything produced is confirmed in the document."""
        # The pump sets `idle` only once nothing is pending or in flight for this writer.
        await self.writer.idle.wait()
        if self.pump.failure is not None:
            raise GenerationFailedError(self.pump.failure)
        if self.document.closed:
            raise GenerationFailedError(
                "The document was closed during the generation — reopen it and try again"
            )

    async def _wind_down(self, status: Status, end_message: str, discard: bool = False) -> None:
        """Stop cleanly: no edit goes out after this returns."""
        self.pump.close_writer(self.writer)
        closed = self.document.closed or self.stop_reason in STOP_FAILURES
        if not closed:
            # The edit in flight is answered first, unless the editor has stopped answering:
            # a stop answers promptly whatever the editor does.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.writer.idle.wait()), WIND_DOWN_SECONDS)
            # A rewrite restores the original untouched; a cancelled insert follows onCancel.
            discard = (
                discard
                or self.kind is not Kind.GENERATE
                or (status is Status.CANCELLED and self.settings.on_cancel == "discard")
            )
            if discard and self.writer.placed:
                if self.writer.idle.is_set():
                    await self.pump.remove_generated(self.writer, "", self.label)
                    self.writer.placed = ""
                else:
                    log.warning("generation %s: the editor is not answering, text kept", self.id)
        if self.original is not None:
            self.pump.untrack(self.original)
        self.status = status
        self.total_ms = self._elapsed_ms()
        if self.document.closed and self.stop_reason is None:
            end_message = "Failed: the document was closed"
        self.progress.end(end_message)

    def _progress_message(self) -> str:
        tokens = self.usage.output_tokens
        return _lines(self.writer.placed_lines) + (f", {tokens} tokens" if tokens else "")

    def _elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000


def _lines(count: int) -> str:
    return "1 line" if count == 1 else f"{count} lines"


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
