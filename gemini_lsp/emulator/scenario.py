"""Scripted replies, and the JSON scenario format that loads into them.

A `Reply` answers one generate request. Python uses snake_case fields; JSON
uses the same names in camelCase, so a scenario file reads like the API:

    {"firstTokenMs": 0, "charsPerSecond": 0,
     "replies": [
        {"chunks": ["def f():", {"text": "\\n    pass\\n", "delayMs": 50}],
         "usage": {"promptTokenCount": 7, "candidatesTokenCount": 4}},
        {"error": {"code": 429, "retryDelay": "2s"}},
        {"text": "partial answer", "disconnectAfter": 1}
     ]}
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from gemini_lsp.emulator.protocol import GOOGLE_STATUS

FINISH_REASONS = frozenset(
    {
        "STOP",
        "MAX_TOKENS",
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "OTHER",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "MALFORMED_FUNCTION_CALL",
        "IMAGE_SAFETY",
        "UNEXPECTED_TOOL_CALL",
        "FINISH_REASON_UNSPECIFIED",
    }
)


class Fault(str, enum.Enum):
    """What goes wrong in a reply after some chunks; the value is the Reply field (and, in
    camelCase, the scenario key) that asks for it."""

    STALL = "stall_after"  # nothing more until the client leaves
    DISCONNECT = "disconnect_after"  # the connection closes
    MALFORMED = "malformed_after"  # an event that is not valid JSON
    ERROR_EVENT = "error_event_after"  # an error event (an error response, when unary)


@attrs.frozen
class Chunk:
    """A piece of streamed text; `delay_ms` overrides the wait before it is sent."""

    text: str
    delay_ms: float | None = None


@attrs.frozen
class Usage:
    """usageMetadata; a count left as None is estimated (~4 characters per token)."""

    prompt_token_count: int | None = None
    candidates_token_count: int | None = None
    total_token_count: int | None = None

    def __attrs_post_init__(self) -> None:
        for value in (self.prompt_token_count, self.candidates_token_count, self.total_token_count):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"token counts are non-negative integers, not {value!r}")


@attrs.frozen
class ErrorSpec:
    """A Google-style API error: an HTTP error response, or an error event mid-stream.

    `status` is Google's status string (derived from `code` when None);
    `retry_delay` (seconds, or a Duration string like "2s") adds a
    google.rpc.RetryInfo detail; `retry_after` (seconds) adds a Retry-After header.
    """

    code: int = 500
    message: str | None = None
    status: str | None = None
    retry_delay: float | str | None = None
    retry_after: int | None = None
    details: Sequence[Mapping[str, Any]] = ()

    def __attrs_post_init__(self) -> None:
        if not 400 <= self.code <= 599:
            raise ValueError(f"error code must be 4xx or 5xx, not {self.code}")
        if isinstance(self.retry_delay, str) and not _DURATION.fullmatch(self.retry_delay):
            raise ValueError(f"retryDelay must look like '2s' or '0.5s': {self.retry_delay!r}")

    @property
    def google_status(self) -> str:
        return self.status or GOOGLE_STATUS.get(self.code, "UNKNOWN")


_DURATION = re.compile(r"\d+(\.\d{1,9})?s")


def _chunks(chunks: Sequence[str | Chunk] | None) -> tuple[Chunk, ...] | None:
    """Plain strings made Chunks."""
    if chunks is None:
        return None
    made = tuple(Chunk(c) if isinstance(c, str) else c for c in chunks)
    for chunk in made:
        if not isinstance(chunk, Chunk):
            raise TypeError(f"a chunk is a str or a Chunk, not {chunk!r}")
    return made


@attrs.frozen
class Reply:
    """How the emulator answers one generate request.

    Text comes from `chunks` (one stream event each), else from `text` (split
    like the default answer), else from the default generator; so a Reply with
    only timing or a fault applies it to the default answer. Waits left as None
    follow the emulator's pace (first_token_ms, chars_per_second).
    `finish_reason` None means STOP (or MAX_TOKENS for a default answer that
    hit the request's maxOutputTokens).

    `error` alone answers with that HTTP error instead of a stream. With
    `error_event_after=N`, it is sent instead as a `data: {"error": ...}` event
    after N chunks (a 500 INTERNAL when `error` is None). At most one fault:
    `stall_after` (send N chunks, then nothing until the client leaves),
    `disconnect_after` (close the connection after N chunks),
    `malformed_after` (after N chunks, an event that is not valid JSON),
    `error_event_after`; `fault` names the one given as a `Fault`.

    `hold_after=N` pauses the answer after N chunks until the test calls the request's
    `release()`, then goes on at the reply's pace (a one-response request waits for it
    before answering): a test that must act while a stream is open holds it open however
    slow the machine. Python only: a scenario file has nothing to release it.
    """

    chunks: tuple[Chunk, ...] | None = attrs.field(default=None, converter=_chunks)
    text: str | None = attrs.field(default=None, kw_only=True)
    chunk_delay_ms: float | None = attrs.field(default=None, kw_only=True)
    first_chunk_delay_ms: float | None = attrs.field(default=None, kw_only=True)
    usage: Usage | None = attrs.field(default=None, kw_only=True)
    finish_reason: str | None = attrs.field(default=None, kw_only=True)
    model_version: str | None = attrs.field(default=None, kw_only=True)
    error: ErrorSpec | None = attrs.field(default=None, kw_only=True)
    stall_after: int | None = attrs.field(default=None, kw_only=True)
    disconnect_after: int | None = attrs.field(default=None, kw_only=True)
    malformed_after: int | None = attrs.field(default=None, kw_only=True)
    error_event_after: int | None = attrs.field(default=None, kw_only=True)
    hold_after: int | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.chunks is not None and self.text is not None:
            raise ValueError("give chunks or text, not both")
        if self.finish_reason is not None and self.finish_reason not in FINISH_REASONS:
            raise ValueError(f"unknown finishReason {self.finish_reason!r}")
        faults = [fault.value for fault in Fault if getattr(self, fault.value) is not None]
        if len(faults) > 1:
            raise ValueError(f"at most one fault per reply, got {', '.join(faults)}")
        for name in (*faults, "hold_after", "chunk_delay_ms", "first_chunk_delay_ms"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} cannot be negative")

    @property
    def text_chunks(self) -> tuple[Chunk, ...] | None:
        """The chunks (None: text comes from elsewhere)."""
        return self.chunks

    @property
    def fault(self) -> tuple[Fault, int] | None:
        """This reply's fault, if any, and after how many chunks it happens."""
        for fault in Fault:
            value = getattr(self, fault.value)
            if value is not None:
                return fault, value
        return None

    @property
    def is_http_error(self) -> bool:
        return self.error is not None and self.error_event_after is None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reply:
        """Builds a Reply from its camelCase JSON form; unknown keys are an error."""
        fields = _snake_fields(data, _REPLY_KEYS, "reply")
        if "chunks" in fields:
            fields["chunks"] = [_chunk_from_json(c) for c in _list(fields["chunks"], "chunks")]
        if "usage" in fields:
            fields["usage"] = Usage(**_snake_fields(fields["usage"], _USAGE_KEYS, "usage"))
        if "error" in fields:
            fields["error"] = _error_from_json(fields["error"])
        return cls(**fields)


@attrs.frozen
class Scenario:
    """What a scenario file holds: the reply queue and the emulator's pace."""

    replies: tuple[Reply, ...] = ()
    first_token_ms: float | None = None
    chars_per_second: float | None = None
    fim: tuple[Any, ...] = ()  # FimRules (see fim.py), for inline completion requests

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scenario:
        if not isinstance(data, Mapping):
            raise ValueError("a scenario is a JSON object")
        # "description" is free text for the people who read the file.
        unknown = set(data) - {"replies", "firstTokenMs", "charsPerSecond", "description", "fim"}
        if unknown:
            raise ValueError(f"unknown scenario keys: {', '.join(sorted(unknown))}")
        replies = []
        for i, item in enumerate(_list(data.get("replies", []), "replies")):
            if not isinstance(item, Mapping):
                raise ValueError(f"replies[{i}] must be an object")
            try:
                replies.append(Reply.from_json(item))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"replies[{i}]: {exc}") from exc
        from gemini_lsp.emulator.fim import FimRule

        rules = []
        for i, item in enumerate(_list(data.get("fim", []), "fim")):
            try:
                rules.append(FimRule.from_json(item))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"fim[{i}]: {exc}") from exc
        return cls(
            replies=tuple(replies),
            fim=tuple(rules),
            first_token_ms=_number_or_none(data.get("firstTokenMs"), "firstTokenMs"),
            chars_per_second=_number_or_none(data.get("charsPerSecond"), "charsPerSecond"),
        )


def load_scenario(source: str | os.PathLike[str] | Mapping[str, Any]) -> Scenario:
    """Loads a scenario from a JSON file path or an already-parsed mapping."""
    if isinstance(source, Mapping):
        return Scenario.from_json(source)
    path = Path(source)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    try:
        return Scenario.from_json(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


_REPLY_KEYS = {
    _camel(name): name
    for name in (
        "chunks",
        "text",
        "chunk_delay_ms",
        "first_chunk_delay_ms",
        "usage",
        "finish_reason",
        "model_version",
        "error",
        *(fault.value for fault in Fault),
    )
}
_USAGE_KEYS = {
    _camel(n): n for n in ("prompt_token_count", "candidates_token_count", "total_token_count")
}
_ERROR_KEYS = {
    _camel(n): n for n in ("code", "message", "status", "retry_delay", "retry_after", "details")
}


def _snake_fields(data: Any, keys: Mapping[str, str], what: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{what} must be an object")
    unknown = set(data) - set(keys)
    if unknown:
        raise ValueError(f"unknown {what} keys: {', '.join(sorted(unknown))}")
    return {keys[k]: v for k, v in data.items()}


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list")
    return value


def _chunk_from_json(value: Any) -> Chunk:
    if isinstance(value, str):
        return Chunk(value)
    if isinstance(value, Mapping) and isinstance(value.get("text"), str):
        unknown = set(value) - {"text", "delayMs"}
        if unknown:
            raise ValueError(f"unknown chunk keys: {', '.join(sorted(unknown))}")
        return Chunk(value["text"], _number_or_none(value.get("delayMs"), "delayMs"))
    raise ValueError(f"a chunk is a string or {{text, delayMs}}, not {value!r}")


def _error_from_json(value: Any) -> ErrorSpec:
    if isinstance(value, int) and not isinstance(value, bool):
        return ErrorSpec(value)
    return ErrorSpec(**_snake_fields(value, _ERROR_KEYS, "error"))


def _number_or_none(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number")
    return float(value)
