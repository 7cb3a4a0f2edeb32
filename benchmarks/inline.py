"""Inline completions: what the server adds to the model's latency, how fast a superseded
request's HTTP stream closes, and how few model requests typing costs.

- **Overhead**: a keystroke (`didChange`) and an explicit (`Invoked`, so no debounce)
  `textDocument/inlineCompletion` request → the answer, against the raw SDK making the same
  request (prompt and configuration) and reading the same scripted answer to its end;
  pairs alternate, the figure is the median of their differences.
- **Superseded → closed**: a request whose answer is slow, then a keystroke and a new
  request: from the new request to the emulator seeing the first one's connection closed.
  The baseline is the raw SDK's own best (cancelling the task that reads the stream).
- **Typing**: a typist at 60 words a minute (a keystroke every 200 ms at the median, the
  gaps log-normal with sigma 0.35) sends `didChange` and an `Automatic` request at every key, as
  editors do. Counted: model requests per 100 keystrokes of steady typing, per burst (a few
  words then a pause long enough for the suggestion), and the cache's hit rate while the
  typist then types the suggestion itself. A client asking the SDK at every keystroke makes
  100 requests per 100 keystrokes and hits no cache.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from gemini_lsp.inline.context import START, SYSTEM_INSTRUCTION, Around, prompt_text
from gemini_lsp.inline.request import TOKENS_PER_LINE
from testkit.styles import Style

from .client import Document, LeanClient, Response
from .cpu import own_cpu_s, process_cpu_s
from .harness import Harness
from .report import Figure
from .sizes import Sizes
from .stats import median, ms, percentile

INVOKED, AUTOMATIC = 1, 2
CODE = "import math\n\n\ndef area(radius):\n    return math.pi * radius ** 2\n\n"
# The scripted model: a suggestion in two pieces, the first after the model's latency.
ANSWER = ["= compute_total(", "values, weights)"]
MODEL_MS = 20.0
PIECE_MS = 5.0
SLOW_MS = 5000.0  # an answer that is always still coming when it is superseded
TYPING_MODEL_MS = 250.0  # a fast model's time to answer a short completion
MEDIAN_GAP_S = 0.2  # 60 words a minute, five characters a word
GAP_SIGMA = 0.35
STEADY_TEXT = "total_weight = sum(w for w in weights if w > 0) and all(x for x in values) or 0"
BURST_WORDS = ["result", "values", "average"]


def _rule(pieces: list[str], latency_ms: float, when_before: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"chunks": pieces, "latencyMs": latency_ms, "chunkDelayMs": PIECE_MS}
    if when_before is not None:
        rule["whenBefore"] = when_before
    return rule


class Typist:
    """Types into one line of a document, syncing every key the way an editor does."""

    def __init__(self, client: LeanClient, document: Document, line: int) -> None:
        self.client = client
        self.document = document
        self.line = line
        self.pending: list[asyncio.Future[Response]] = []

    @property
    def col(self) -> int:
        return len(self.document.lines[self.line])

    def key(self, char: str) -> None:
        position = {"line": self.line, "character": self.col}
        where = {"start": position, "end": position}
        self.client._replace(self.document, where, char)
        self.document.version += 1
        self.client._write(self.client._did_change(self.document, [{"range": where, "text": char}]))

    def ask(self, kind: int) -> asyncio.Future[Response]:
        future = self.client.send_request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": self.document.uri},
                "position": {"line": self.line, "character": self.col},
                "context": {"triggerKind": kind},
            },
        )
        self.pending.append(future)
        return future

    async def settle(self) -> list[Response]:
        done = await asyncio.gather(*self.pending)
        self.pending.clear()
        return list(done)


def _suggestion(response: Response) -> str:
    items = (response.result or {}).get("items") or []
    return str(items[0]["insertText"]) if items else ""


async def _fim_count(harness: Harness, document: Document) -> int:
    """Model requests so far for a document (the emulator records each one's file)."""
    name = document.uri.rsplit("/", 1)[-1]
    return sum(1 for r in await harness.emulator.requests() if r["fim"] == name)


async def _arrival(harness: Harness, count: int, timeout: float = 5.0) -> int:
    """Wait for request number `count` (0-based) to reach the emulator; its index."""
    deadline = time.monotonic() + timeout
    while await harness.emulator.count() <= count:
        if time.monotonic() > deadline:
            raise RuntimeError("the request never reached the emulator")
        await asyncio.sleep(0.001)
    return count


async def _sdk_call(harness: Harness, prompt: str) -> tuple[float, float]:
    """The raw SDK making the server's request (same prompt, same configuration) and
    reading the answer to its last piece: (call made, last piece read)."""
    from google.genai import types

    assert harness.sdk is not None
    config = types.GenerateContentConfig(
        system_instruction=SYSTEM_INSTRUCTION,
        thinking_config=types.ThinkingConfig(thinking_budget=0),
        max_output_tokens=6 * TOKENS_PER_LINE,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    started = ended = time.monotonic()
    stream: Any = await harness.sdk._client.aio.models.generate_content_stream(
        model="gemini-2.5-flash-lite", contents=prompt, config=config
    )
    async for _ in stream:
        ended = time.monotonic()
    return started, ended


async def overhead(harness: Harness, client: LeanClient, style: Style, sizes: Sizes) -> Figure:
    await harness.emulator.script_fim(_rule(ANSWER, MODEL_MS))
    document = client.open(harness.new_uri(), CODE)
    typist = Typist(client, document, len(document.lines) - 1)
    await asyncio.sleep(0.05)
    fim = prompt_text(
        "bench.py", "python", Around(START + CODE + "x", ""), 6
    )  # the same size of prompt for the SDK
    assert harness.sdk is not None
    server_ms: list[float] = []
    sdk_ms: list[float] = []
    # Before the model: call → emulator has the request; after: last piece sent → answer.
    before: dict[str, list[float]] = {"server": [], "sdk": []}
    after: dict[str, list[float]] = {"server": [], "sdk": []}
    # CPU time over all runs (10 ms ticks: only the total is meaningful), per request.
    cpu = {"server": 0.0, "sdk": 0.0}
    assert client.proc is not None
    pid = client.proc.pid
    for k in range(sizes.inline_pairs):
        for side in ("server", "sdk") if k % 2 == 0 else ("sdk", "server"):
            index = await harness.emulator.count()
            if side == "server":
                typist.key("x")  # never what the answer starts with: always a model call
                spent = process_cpu_s(pid)
                sent = time.monotonic()
                response = await typist.ask(INVOKED)
                cpu["server"] += process_cpu_s(pid) - spent
                typist.pending.clear()
                if not _suggestion(response):
                    raise RuntimeError(f"no suggestion: {response.error or response.result}")
                server_ms.append(ms(response.received_at - sent))
                started, ended = sent, response.received_at
            else:
                spent = own_cpu_s()
                started, ended = await _sdk_call(harness, fim)
                cpu["sdk"] += own_cpu_s() - spent
                sdk_ms.append(ms(ended - started))
            record = await harness.emulator.wait_done(index)
            before[side].append(ms(record["receivedAt"] - started))
            after[side].append(ms(ended - (record["finishedAt"] or ended)))
    # The floor: a request the server answers at once, over the same pipe.
    floor = []
    for _ in range(10):
        sent = time.monotonic()
        response = await client.send_request("gemini/inlineStats", None)
        floor.append(ms(response.received_at - sent))
    client.close(document)
    return _overhead_figure(style, sizes, server_ms, sdk_ms, before, after, cpu, floor)


def _overhead_figure(
    style: Style,
    sizes: Sizes,
    server_ms: list[float],
    sdk_ms: list[float],
    before: dict[str, list[float]],
    after: dict[str, list[float]],
    cpu: dict[str, float],
    floor: list[float],
) -> Figure:
    differences = [s - b for s, b in zip(server_ms, sdk_ms, strict=True)]
    return Figure(
        "inline_overhead_ms",
        "Inline: keystroke → suggestion, over the SDK's own",
        style.name,
        median(differences),
        "ms",
        5.0,
        server=(
            f"median {median(server_ms):.1f} ms ({median(before['server']):.1f} before the "
            f"model, {median(after['server']):.1f} after); LSP round trip {median(floor):.2f} ms;"
            f" CPU {ms(cpu['server']) / sizes.inline_pairs:.1f} ms/request"
        ),
        baseline=(
            f"SDK median {median(sdk_ms):.1f} ms ({median(before['sdk']):.1f} before, "
            f"{median(after['sdk']):.1f} after; model {MODEL_MS:g} + {PIECE_MS:g} ms);"
            f" CPU {ms(cpu['sdk']) / sizes.inline_pairs:.1f} ms/request"
        ),
        details={
            "pairs": sizes.inline_pairs,
            "p95_ms": percentile(differences, 95),
            "server_ms": server_ms,
            "sdk_ms": sdk_ms,
            "round_trip_ms": floor,
            "before_model_ms": before,
            "after_model_ms": after,
            "server_cpu_ms_per_request": ms(cpu["server"]) / sizes.inline_pairs,
            "sdk_cpu_ms_per_request": ms(cpu["sdk"]) / sizes.inline_pairs,
        },
    )


async def superseded(harness: Harness, client: LeanClient, style: Style, sizes: Sizes) -> Figure:
    await harness.emulator.script_fim(_rule(ANSWER, MODEL_MS, "y"), _rule(ANSWER, SLOW_MS))
    document = client.open(harness.new_uri(), CODE)
    typist = Typist(client, document, len(document.lines) - 1)
    await asyncio.sleep(0.05)
    to_close: list[float] = []
    not_closed = 0
    for _ in range(sizes.inline_supersede_runs):
        typist.key("x")
        index = await harness.emulator.count()
        typist.ask(INVOKED)
        await _arrival(harness, index)
        typist.key("y")
        sent = time.monotonic()
        typist.ask(INVOKED)
        first, _ = await typist.settle()
        record = await harness.emulator.wait_done(index)
        if record["disconnectedAt"] is None or _suggestion(first):
            not_closed += 1
        else:
            to_close.append(ms(record["disconnectedAt"] - sent))
    client.close(document)
    # The baseline: the SDK's stream read by a task, cancelled (what closes its connection).
    fim = prompt_text("bench.py", "python", Around(START + CODE + "x", ""), 6)
    sdk_close: list[float] = []
    for _ in range(max(sizes.inline_supersede_runs // 4, 1)):
        index = await harness.emulator.count()
        reading = asyncio.ensure_future(_sdk_call(harness, fim))
        await _arrival(harness, index)
        cancelled = time.monotonic()
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        record = await harness.emulator.wait_done(index)
        if record["disconnectedAt"] is not None:
            sdk_close.append(ms(record["disconnectedAt"] - cancelled))
    runs = sizes.inline_supersede_runs
    return Figure(
        "inline_superseded_close_p99_ms",
        "Inline: new request → superseded HTTP closed, p99",
        style.name,
        percentile(to_close, 99) if not not_closed else float("inf"),
        "ms",
        20.0,
        server=f"p50 {median(to_close):.2f} ms over {runs} runs",
        baseline=f"SDK task cancelled → closed, p50 {median(sdk_close):.2f} ms",
        details={"not_closed": not_closed, "samples_ms": to_close, "sdk_ms": sdk_close},
    )


async def typing(harness: Harness, client: LeanClient, style: Style, sizes: Sizes) -> list[Figure]:
    """Two typists at once, in two documents (each document has its own requests): one
    types steadily, the other in bursts, each then typing the suggestion it was shown."""
    chooser = random.Random(60)

    def gap() -> float:
        return MEDIAN_GAP_S * chooser.lognormvariate(0.0, GAP_SIGMA)

    await harness.emulator.script_fim(_rule(ANSWER, TYPING_MODEL_MS))

    async def steady() -> tuple[int, int]:
        document = client.open(harness.new_uri(), CODE)
        typist = Typist(client, document, len(document.lines) - 1)
        await asyncio.sleep(0.05)
        keys = STEADY_TEXT[: sizes.inline_steady_keys]
        for char in keys:
            typist.key(char)
            typist.ask(AUTOMATIC)
            await asyncio.sleep(gap())
        await typist.settle()
        asked = await _fim_count(harness, document)
        client.close(document)
        return asked, len(keys)

    async def bursts() -> tuple[list[int], int, int]:
        document = client.open(harness.new_uri(), CODE)
        typist = Typist(client, document, len(document.lines) - 1)
        await asyncio.sleep(0.05)
        per_burst: list[int] = []
        served = sent = 0
        for word in BURST_WORDS[: sizes.inline_bursts]:
            typist.key(" ")
            before = await _fim_count(harness, document)
            for char in word:
                typist.key(char)
                typist.ask(AUTOMATIC)
                await asyncio.sleep(gap())
            answers = await typist.settle()
            asked = await _fim_count(harness, document)
            per_burst.append(asked - before)
            shown = _suggestion(answers[-1])
            for char in shown[: sizes.inline_typed_chars]:
                await asyncio.sleep(gap())
                typist.key(char)
                typist.ask(AUTOMATIC)
            answers = await typist.settle()
            calls = await _fim_count(harness, document) - asked
            # Served without a model request, with the rest of the suggestion.
            served += sum(1 for answer in answers if _suggestion(answer)) - calls
            sent += len(answers)
        client.close(document)
        return per_burst, served, sent

    return _typing_figures(style, *await asyncio.gather(steady(), bursts()))


def _typing_figures(
    style: Style, steady: tuple[int, int], bursts: tuple[list[int], int, int]
) -> list[Figure]:
    (steady_asked, keys), (per_burst, hits, asked) = steady, bursts
    per_100 = 100 * steady_asked / keys
    hit_rate = 100 * hits / asked if asked else float("nan")
    return [
        Figure(
            "inline_requests_per_100_keys",
            "Inline: model requests per 100 keystrokes, steady 60 wpm",
            style.name,
            per_100,
            "",
            15.0,
            server=f"{steady_asked} requests for {keys} keystrokes",
            baseline="100 (a request per keystroke)",
            details={"keystrokes": keys, "requests": steady_asked},
        ),
        Figure(
            "inline_requests_per_burst",
            "Inline: model requests per burst of typing",
            style.name,
            median(per_burst),
            "",
            None,
            server=f"bursts: {per_burst}",
            baseline="one per keystroke",
            details={"per_burst": per_burst},
        ),
        Figure(
            "inline_cache_hit_rate",
            "Inline: cache hits while typing the suggestion",
            style.name,
            hit_rate,
            "%",
            None,
            higher_is_better=True,
            server=f"{hits} of {asked} requests",
            baseline="0 %",
            details={"hits": hits, "requests": asked},
        ),
    ]


async def inline(harness: Harness, style: Style, sizes: Sizes) -> list[Figure]:
    client = await harness.server(style)
    figures = [
        await overhead(harness, client, style, sizes),
        await superseded(harness, client, style, sizes),
        *await typing(harness, client, style, sizes),
    ]
    await harness.emulator.script_fim()
    return figures
