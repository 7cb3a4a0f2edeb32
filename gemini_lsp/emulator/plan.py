"""A reply made concrete for one request: its texts, the waits before them, its metadata."""

from __future__ import annotations

from typing import Any, TypeVar

import attrs

from gemini_lsp.emulator import codegen, protocol
from gemini_lsp.emulator.scenario import ErrorSpec, Fault, Reply

T = TypeVar("T")

# The error event sent mid-stream when the reply names none.
DEFAULT_ERROR_EVENT = ErrorSpec(500)


@attrs.frozen
class Pace:
    """The emulator's pace, for what a reply leaves unsaid."""

    first_token_ms: float | None
    chars_per_second: float | None
    model_version: str


@attrs.frozen
class Plan:
    """A reply made concrete for one request: texts, waits (seconds), metadata."""

    texts: list[str]
    waits: list[float]
    finish_reason: str
    prompt_tokens: int
    output_tokens: int
    total_tokens: int
    model_version: str
    fault: tuple[Fault, int] | None
    error_event: ErrorSpec | None
    hold_after: int | None

    def usage(self, final: bool) -> dict[str, Any]:
        full = protocol.usage_metadata(self.prompt_tokens, self.output_tokens, self.total_tokens)
        if final:
            return full
        # Like the real API mid-stream: prompt counts only, no candidates yet.
        del full["candidatesTokenCount"]
        full["totalTokenCount"] = self.prompt_tokens
        return full


def make_plan(body: dict[str, Any], reply: Reply | None, pace: Pace) -> Plan:
    """The plan for a request's `body`: from the scripted `reply`, or the default answer."""
    texts, explicit_waits, natural_finish = _texts(body, reply)
    usage = reply.usage if reply is not None else None
    prompt_tokens = _first(usage.prompt_token_count if usage else None, codegen.prompt_tokens(body))
    output_tokens = _first(
        usage.candidates_token_count if usage else None,
        codegen.estimate_tokens("".join(texts)),
    )
    total_tokens = _first(usage.total_token_count if usage else None, prompt_tokens + output_tokens)
    error_event = None
    if reply is not None and reply.error_event_after is not None:
        error_event = reply.error or DEFAULT_ERROR_EVENT
    return Plan(
        texts=texts,
        waits=_waits(texts, explicit_waits, reply, pace),
        finish_reason=_first(reply.finish_reason if reply else None, natural_finish),
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        total_tokens=total_tokens,
        model_version=(reply.model_version if reply else None) or pace.model_version,
        fault=reply.fault if reply is not None else None,
        error_event=error_event,
        hold_after=reply.hold_after if reply is not None else None,
    )


def _texts(body: dict[str, Any], reply: Reply | None) -> tuple[list[str], list[float | None], str]:
    """The texts to send, the waits the reply gives for them (ms), and the finish reason
    the answer comes to by itself."""
    chunks = reply.text_chunks if reply is not None else None
    if chunks is not None:
        return [c.text for c in chunks], [c.delay_ms for c in chunks], "STOP"
    natural_finish = "STOP"
    if reply is not None and reply.text is not None:
        text = reply.text
    else:
        answer = codegen.default_answer(body)
        text, natural_finish = answer.text, answer.finish_reason
    texts = codegen.split_into_chunks(text)
    return texts, [None] * len(texts), natural_finish


def _waits(
    texts: list[str], explicit_waits: list[float | None], reply: Reply | None, pace: Pace
) -> list[float]:
    """The wait before each event, in seconds (an empty answer is still one event)."""
    first_ms = _first(reply.first_chunk_delay_ms if reply else None, pace.first_token_ms, 0.0)
    chunk_ms = reply.chunk_delay_ms if reply else None
    cps = pace.chars_per_second or 0.0
    waits: list[float] = []
    for i, text in enumerate(texts or [""]):
        explicit = explicit_waits[i] if i < len(explicit_waits) else None
        if explicit is not None:
            waits.append(explicit / 1000)
        elif i == 0:
            waits.append(first_ms / 1000)
        elif chunk_ms is not None:
            waits.append(chunk_ms / 1000)
        else:
            waits.append(len(text) / cps if cps > 0 else 0.0)
    return waits


def _first(*values: T | None) -> T:
    """The first value that is not None."""
    return next(v for v in values if v is not None)
