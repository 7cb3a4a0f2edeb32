"""The Gemini emulator in a process of its own, scripted over a pipe.

The emulator plays the network: in the benchmark's own process it would share a CPU and a
GIL with the client being timed, and with the raw-SDK baseline, and so tilt the comparison.
Times it reports are `time.monotonic()`, which on Linux is one clock for every process.

Run as `python -m benchmarks.emulator_proc`: reads one JSON command a line on stdin, answers
one JSON line on stdout. The first line it writes is `{"baseUrl": ...}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Mapping
from typing import Any

API_KEY = "bench-key-7d41"


def _record(request: Any) -> dict[str, Any]:
    return {
        "index": request.index,
        "receivedAt": request.received_at,
        "firstChunkAt": request.first_chunk_at,
        "finishedAt": request.finished_at,
        "disconnectedAt": request.disconnected_at,
        "outcome": request.outcome,
        "chunksSent": request.chunks_sent,
        "fim": request.fim.path if request.fim is not None else None,
    }


async def _serve() -> None:
    from gemini_lsp.emulator import Emulator, FimRule, Reply

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)  # a script line holds a whole stream
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout

    def answer(value: Mapping[str, Any]) -> None:
        out.write(json.dumps(value) + "\n")
        out.flush()

    async with Emulator(api_key=API_KEY, first_token_ms=0, chars_per_second=0) as emulator:
        answer({"baseUrl": emulator.base_url})
        while line := await reader.readline():
            command = json.loads(line)
            op = command["op"]
            if op == "script":
                emulator.script(*(Reply.from_json(r) for r in command["replies"]))
                answer({"ok": True})
            elif op == "fim":  # inline completions' answers (benchmarks/inline.py)
                emulator.clear_fim()
                emulator.script_fim(*(FimRule.from_json(r) for r in command["rules"]))
                answer({"ok": True})
            elif op == "count":
                answer({"count": len(emulator.requests)})
            elif op == "requests":
                answer({"requests": [_record(r) for r in emulator.requests[command["since"] :]]})
            elif op == "wait_done":
                # A cancelled stream ends when the emulator notices the peer has gone.
                request = emulator.requests[command["index"]]
                with contextlib.suppress(asyncio.TimeoutError):
                    await emulator.wait_until_done(request, command.get("timeout", 5.0))
                answer({"request": _record(request)})
            else:
                answer({"error": f"unknown op {op!r}"})


class EmulatorProcess:
    """The parent's handle on the emulator process."""

    def __init__(self) -> None:
        self.base_url = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> str:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.emulator_proc",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 24,
        )
        self.base_url = (await self._read())["baseUrl"]
        return self.base_url

    async def _read(self) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdout is not None
        line = await self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process exited")
        return json.loads(line)  # type: ignore[no-any-return]

    async def _call(self, **command: Any) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdin is not None
        async with self._lock:
            self._proc.stdin.write(json.dumps(command).encode() + b"\n")
            await self._proc.stdin.drain()
            reply = await self._read()
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    async def script(self, *replies: Mapping[str, Any]) -> None:
        """Queue replies in the scenario JSON form (camelCase), one per request."""
        await self._call(op="script", replies=list(replies))

    async def script_fim(self, *rules: Mapping[str, Any]) -> None:
        """Answers for fill-in-the-middle requests (FimRule JSON), replacing earlier ones."""
        await self._call(op="fim", rules=list(rules))

    async def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return (await self._call(op="requests", since=since))["requests"]  # type: ignore[no-any-return]

    async def count(self) -> int:
        return (await self._call(op="count"))["count"]  # type: ignore[no-any-return]

    async def wait_done(self, index: int, timeout: float = 5.0) -> dict[str, Any]:
        return (await self._call(op="wait_done", index=index, timeout=timeout))["request"]  # type: ignore[no-any-return]

    async def stop(self) -> None:
        if self._proc is None:
            return
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), 5)
        except asyncio.TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        self._proc = None


if __name__ == "__main__":
    asyncio.run(_serve())
