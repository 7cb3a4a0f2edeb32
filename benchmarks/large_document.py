"""Per-edit cost of streaming into a large document (50 MB) against a 5 KB one.

The server streams a long generation into the middle of each document while a lean editor
(below) applies every `workspace/applyEdit`, syncs it back with `didChange` and answers. The
cost of one edit on the server is its turnaround: from the moment the editor has sent the
sync and the answer for one edit to the moment the next edit arrives. The editor
takes HOLD_MS over each edit, as a busy editor might, while the model's text keeps coming (a
line every CHUNK_DELAY_MS); so text is waiting whenever an edit settles, and the turnaround is
the server's own work (reading the sync, matching it to the edit in flight, planning and
sending the next one), not a wait for the model. Only edits that carry more than one line
count, which checks that. The editor's own work is outside the turnaround.

`measure_large_document()` runs both sizes on one server, one after the other, and returns
the median turnaround of each (ms) and their ratio (the target is at most 1.5).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from .stats import median

API_KEY = "large-document-benchmark"
# One line of generated code per chunk; the editor holds each edit a while, so text queues.
CHUNK_DELAY_MS = 1.0
HOLD_MS = 4.0
WARM_UP_CHUNKS = 3
LINE = "value = compute(value, 42)  # streamed\n"


async def measure_large_document(
    large_bytes: int, chunks: int, small_bytes: int = 5_000, large_first: bool = False
) -> dict[str, float]:
    """{"small_ms", "large_ms", "ratio", "small_edits", "large_edits", "small_first_edit_ms",
    "large_first_edit_ms"}: the median server turnaround per edit in a document of
    `small_bytes` and of `large_bytes`, and the time from the command to its first edit."""
    sizes = {"small": small_bytes, "large": large_bytes}
    results: dict[str, float] = {}
    async with (
        _emulator(measured=len(sizes), chunks=chunks) as base_url,
        _server(base_url) as editor,
    ):
        # The caller alternates the order, so that neither size always runs second.
        for name in ("large", "small") if large_first else ("small", "large"):
            turnarounds, first_edit = await _generate(
                editor, f"{name}_document.py", _document(sizes[name])
            )
            results[f"{name}_ms"] = median(turnarounds) * 1000
            results[f"{name}_edits"] = float(len(turnarounds))
            results[f"{name}_first_edit_ms"] = first_edit * 1000
    results["ratio"] = results["large_ms"] / results["small_ms"]
    return results


def _document(size: int) -> str:
    """About `size` bytes of code, with a blank line in the middle for the generation."""
    line = "result = transform(result, index)  # existing code\n"
    half = max(size // (2 * len(line)), 1)
    return line * half + "\n" + line * half


@contextlib.asynccontextmanager
async def _emulator(measured: int, chunks: int) -> Any:
    """In order: a short warm-up reply, then `measured` long ones."""
    warm_up = {"chunks": [{"text": LINE, "delayMs": 0}] * WARM_UP_CHUNKS}
    long = {"chunks": [{"text": LINE, "delayMs": CHUNK_DELAY_MS}] * chunks}
    script = {"firstTokenMs": 0, "charsPerSecond": 0, "replies": [warm_up] + [long] * measured}
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder, "scenario.json")
        await asyncio.to_thread(scenario.write_text, json.dumps(script))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gemini_lsp", "emulator", "--quiet", "--api-key", API_KEY,
            "--scenario", str(scenario),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        try:
            yield line.strip().split("=", 1)[1]
        finally:
            process.terminate()
            await process.wait()


class _LeanEditor:
    """Just enough of an editor over stdio: documents as lists of lines, VS Code's manners."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._ids = itertools.count(1)
        self._answers: dict[int, asyncio.Future[Any]] = {}
        self.lines: list[str] = []
        self.version = 1
        self.uri = ""
        self.replied_at: float | None = None
        self.turnarounds: list[float] = []
        self.first_edit_at: float | None = None

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self._writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any) -> Any:
        number = next(self._ids)
        self._answers[number] = asyncio.get_running_loop().create_future()
        self.send({"id": number, "method": method, "params": params})
        return await self._answers[number]

    async def read_forever(self) -> None:
        while True:
            length = 0
            while (header := await self._reader.readline()) not in (b"\r\n", b""):
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
            if not length:
                return
            message = json.loads(await self._reader.readexactly(length))
            arrived = time.perf_counter()
            if "method" not in message:
                self._answers.pop(message["id"]).set_result(message.get("result"))
            elif message["method"] == "workspace/applyEdit":
                edit = message["params"]["edit"]["documentChanges"][0]["edits"][0]
                if self.first_edit_at is None:
                    self.first_edit_at = arrived
                if self.replied_at is not None and edit["newText"].count("\n") > 1:
                    self.turnarounds.append(arrived - self.replied_at)
                await asyncio.sleep(HOLD_MS / 1000)
                self._apply(message)
            elif "id" in message:  # progress tokens, configuration: nothing to say
                self.send({"id": message["id"], "result": None})

    def _apply(self, message: dict[str, Any]) -> None:
        change = message["params"]["edit"]["documentChanges"][0]
        applied = change["textDocument"]["version"] == self.version
        if applied:
            for edit in change["edits"]:
                self._splice(edit["range"], edit["newText"])
                self.version += 1
                self.send(
                    {
                        "method": "textDocument/didChange",
                        "params": {
                            "textDocument": {"uri": self.uri, "version": self.version},
                            "contentChanges": [{"range": edit["range"], "text": edit["newText"]}],
                        },
                    }
                )
        self.send({"id": message["id"], "result": {"applied": applied}})
        self.replied_at = time.perf_counter()

    def _splice(self, span: dict[str, Any], text: str) -> None:
        # ASCII only here: UTF-16 positions are string indexes.
        start, end = span["start"], span["end"]
        head = self.lines[start["line"]][: start["character"]]
        tail = self.lines[end["line"]][end["character"] :]
        new = (head + text + tail).split("\n")
        self.lines[start["line"] : end["line"] + 1] = new


async def _generate(editor: _LeanEditor, name: str, text: str) -> tuple[list[float], float]:
    """Open `text` as `name`, generate into its blank line, close it; the turnarounds and
    the time from the command to the first edit (s)."""
    editor.uri = Path(tempfile.gettempdir(), name).as_uri()
    editor.lines = text.split("\n")
    editor.version = 1
    editor.replied_at = None
    editor.turnarounds = []
    editor.first_edit_at = None
    item = {"uri": editor.uri, "languageId": "python", "version": editor.version, "text": text}
    editor.send({"method": "textDocument/didOpen", "params": {"textDocument": item}})
    # Answered (method not found) once the server has taken the document in: the command
    # is timed from there, not from the end of a 50 MB upload.
    await editor.request("benchmark/barrier", None)
    argument = {
        "textDocument": {"uri": editor.uri},
        "position": {"line": text.count("\n") // 2, "character": 0},
        "prompt": "more",
    }
    # The editor's own collector would walk a large document's lines mid-turnaround: that
    # is the editor's cost, not the server's, so its objects are kept out of collections.
    gc.freeze()
    sent = time.perf_counter()
    try:
        result = await editor.request(
            "workspace/executeCommand", {"command": "gemini.generate", "arguments": [argument]}
        )
    finally:
        gc.unfreeze()
    assert result and result.get("status") == "completed", result
    assert "\n".join(editor.lines).count(LINE.strip()) > 0
    editor.send(
        {"method": "textDocument/didClose", "params": {"textDocument": {"uri": editor.uri}}}
    )
    assert editor.first_edit_at is not None
    return editor.turnarounds, editor.first_edit_at - sent


@contextlib.asynccontextmanager
async def _server(base_url: str) -> AsyncIterator[_LeanEditor]:
    """A server, warmed up with a generation in a small document (it imports the SDK then,
    as a server in use has), and the editor talking to it."""
    env = {**os.environ, "GEMINI_API_KEY": API_KEY}
    env.pop("GOOGLE_API_KEY", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gemini_lsp",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=env, limit=2**24,
    )  # fmt: skip
    assert server.stdin is not None and server.stdout is not None
    editor = _LeanEditor(server.stdout, server.stdin)
    reading = asyncio.ensure_future(editor.read_forever())
    try:
        capabilities = {
            "general": {"positionEncodings": ["utf-16"]},
            "workspace": {"workspaceEdit": {"documentChanges": True}},
        }
        await editor.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": capabilities,
                "initializationOptions": {"geminiLsp": {"baseUrl": base_url}},
            },
        )
        editor.send({"method": "initialized", "params": {}})
        await _generate(editor, "warm_up.py", _document(1_000))
        yield editor
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(editor.request("shutdown", None), 5)
            editor.send({"method": "exit"})
            await asyncio.wait_for(server.wait(), 5)
        reading.cancel()
        with contextlib.suppress(ProcessLookupError):
            server.kill()
        await server.wait()


if __name__ == "__main__":
    print(asyncio.run(measure_large_document(50_000_000, 600)))
