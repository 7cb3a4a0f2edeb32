"""Fill-in-the-middle requests: the inline completions' prompts, read back, and their answers.

The server's inline completion prompt (gemini_lsp.inline.context) starts with a task line and
holds the code in `<code>…</code>` with a marker at the cursor; the emulator recognises it,
records the context (path, language, code before and after the cursor) and answers from
FIM rules: the first rule whose conditions hold, else a deterministic suggestion that says it
comes from the emulator. FIM requests never take the replies queued for generations, so
suggestions and generations can run side by side in a test.

JSON (a scenario's "fim" list), camelCase like the rest of a scenario:

    {"fim": [{"whenBefore": "def add(a, b):\\n    ", "text": "return a + b",
              "latencyMs": 120, "times": 1},
             {"chunks": ["x", " = 1"], "chunkDelayMs": 10}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from gemini_lsp.emulator.scenario import ErrorSpec, Reply

TASK_LINE = "Task: fill in the middle"
FILL = "<<<FILL>>>"
CODE_OPEN = "<code>\n"
CODE_CLOSE = "\n</code>"
DEFAULT_SUGGESTION = "emulator_suggestion()"


@attrs.frozen
class FimContext:
    """What a fill-in-the-middle request asked about."""

    path: str
    language: str
    before: str
    after: str
    max_lines: int | None = None

    @property
    def line_before(self) -> str:
        return self.before.rsplit("\n", 1)[-1]


def parse_fim(body: Mapping[str, Any] | None) -> FimContext | None:
    """The context of a fill-in-the-middle request, or None for any other request."""
    if not body:
        return None
    try:
        text = body["contents"][-1]["parts"][0]["text"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(text, str) or not text.startswith(TASK_LINE + "\n"):
        return None
    header = dict(line.split(": ", 1) for line in text.split("\n", 4)[1:3] if ": " in line)
    start = text.find(CODE_OPEN)
    end = text.rfind(CODE_CLOSE)
    if start < 0 or end < start:
        return None
    code = text[start + len(CODE_OPEN) : end]
    before, marker, after = code.partition(FILL)
    if not marker:
        return None
    lines = re.search(r"at most (\d+) lines", text[end:])
    return FimContext(
        path=header.get("File", ""),
        language=header.get("Language", ""),
        before=before,
        after=after,
        max_lines=int(lines.group(1)) if lines else None,
    )


@attrs.frozen
class FimRule:
    """An answer for the FIM requests it matches.

    `when_before` / `when_after`: the code before the cursor ends with it / the code after
    it starts with it (None: any). The answer is `chunks` (one event each) or `text`; the
    first arrives after `latency_ms`, the others `chunk_delay_ms` apart (None: the
    emulator's pace). `error` answers with that HTTP error instead. `times`: how many
    requests it answers (None: all).
    """

    text: str | None = None
    chunks: Sequence[str] | None = None
    when_before: str | None = None
    when_after: str | None = None
    latency_ms: float | None = None
    chunk_delay_ms: float | None = None
    error: ErrorSpec | None = None
    times: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.text is not None and self.chunks is not None:
            raise ValueError("give chunks or text, not both")
        if self.times is not None and self.times < 1:
            raise ValueError("times counts from 1")

    def matches(self, context: FimContext) -> bool:
        return (self.when_before is None or context.before.endswith(self.when_before)) and (
            self.when_after is None or context.after.startswith(self.when_after)
        )

    def reply(self, context: FimContext) -> Reply:
        if self.error is not None:
            return Reply(error=self.error, first_chunk_delay_ms=self.latency_ms)
        if self.chunks is not None:
            return Reply(
                list(self.chunks),
                first_chunk_delay_ms=self.latency_ms,
                chunk_delay_ms=self.chunk_delay_ms,
            )
        return Reply(
            text=self.text if self.text is not None else default_suggestion(context),
            first_chunk_delay_ms=self.latency_ms,
            chunk_delay_ms=self.chunk_delay_ms,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FimRule:
        keys = {
            "text": "text",
            "chunks": "chunks",
            "whenBefore": "when_before",
            "whenAfter": "when_after",
            "latencyMs": "latency_ms",
            "chunkDelayMs": "chunk_delay_ms",
            "error": "error",
            "times": "times",
        }
        if not isinstance(data, Mapping):
            raise ValueError("a fim rule must be an object")
        unknown = set(data) - set(keys)
        if unknown:
            raise ValueError(f"unknown fim rule keys: {', '.join(sorted(unknown))}")
        fields = {keys[name]: value for name, value in data.items()}
        if "error" in fields:
            error = fields["error"]
            fields["error"] = (
                ErrorSpec(error)
                if isinstance(error, int)
                else Reply.from_json({"error": error}).error
            )
        return cls(**fields)


def default_suggestion(context: FimContext) -> str:
    """A deterministic suggestion that is plainly the emulator's."""
    last = context.line_before[-1:]
    return (" = " if last.isalnum() or last == "_" else "") + DEFAULT_SUGGESTION
