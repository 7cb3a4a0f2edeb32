"""The Gemini emulator, launched for tests and benchmarks: on the caller's event loop (the
`Emulator` itself, via `fast_emulator`), in a thread of its own for synchronous callers
(`EmulatorInThread`, the editor tests), or in a process of its own (`EmulatorProcess`, the
benchmarks, where it must not share a CPU and a GIL with the client being timed).

The thread and the process answer the same calls (`base_url`, `script`, `script_fim`,
`count`, `requests`, `wait_done`, `stop`): the thread's block, the process's are awaited.
Replies and FIM rules go in the scenario JSON form (camelCase); the thread also takes the
objects, and its requests are the emulator's own records rather than their JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from gemini_lsp.emulator import Emulator, EmulatorThread, FimRule, RecordedRequest, Reply

# The key the emulator expects; tests check that it never leaks.
API_KEY = "test-key-5f0c2b"
# A scripted process call answers at once; waiting for a stream to end is bounded apart.
CALL_TIMEOUT = 30.0


def fast_emulator(api_key: str | None = API_KEY) -> Emulator:
    """An emulator at full speed: timing comes from scripted replies when a test needs it."""
    return Emulator(api_key=api_key, first_token_ms=0, chars_per_second=0)


def as_reply(reply: Reply | Mapping[str, Any]) -> Reply:
    return reply if isinstance(reply, Reply) else Reply.from_json(dict(reply))


def as_rule(rule: FimRule | Mapping[str, Any]) -> FimRule:
    return rule if isinstance(rule, FimRule) else FimRule.from_json(dict(rule))


def record(request: RecordedRequest) -> dict[str, Any]:
    """What the process tells of one request, as JSON."""
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


class EmulatorInThread:
    """The emulator on an event loop in a daemon thread, started at once; calls block."""

    def __init__(
        self, api_key: str | None = API_KEY, first_token_ms: float = 0, chars_per_second: float = 0
    ) -> None:
        self.thread = EmulatorThread(
            api_key=api_key, first_token_ms=first_token_ms, chars_per_second=chars_per_second
        )
        self.base_url: str = self.thread.start()

    @property
    def emulator(self) -> Emulator:
        return self.thread.emulator

    @property
    def url(self) -> str:
        return self.base_url

    def script(self, *replies: Reply | Mapping[str, Any]) -> None:
        self.thread.script(*(as_reply(r) for r in replies))

    def script_fim(self, *rules: FimRule | Mapping[str, Any]) -> None:
        """Answers for fill-in-the-middle requests, replacing earlier ones."""
        self.emulator.clear_fim()
        self.emulator.script_fim(*(as_rule(r) for r in rules))

    def count(self) -> int:
        return len(self.emulator.requests)

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self.emulator.requests)

    def wait_done(self, index: int, timeout: float = 5.0) -> RecordedRequest:
        """The request (0-based), once its response has ended or `timeout` has passed."""
        request = self.thread.wait_for_request(index + 1, timeout)
        deadline = time.monotonic() + timeout
        while request.outcome == "pending" and time.monotonic() < deadline:
            time.sleep(0.01)
        return request

    def stop(self) -> None:
        self.thread.stop()


class EmulatorProcess:
    """The emulator in a child process (`python -m testkit.emulator_process`), scripted over
    a pipe: one JSON command a line, one JSON answer a line."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.base_url = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> str:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "testkit.emulator_process",
            self.api_key,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 24,  # a script line holds a whole stream
        )
        self.base_url = str((await self._read("start"))["baseUrl"])
        return self.base_url

    async def _read(self, what: str, timeout: float = CALL_TIMEOUT) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"the emulator process did not answer {what!r}") from None
        if not line:
            raise RuntimeError("the emulator process exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def _call(self, op: str, limit: float = CALL_TIMEOUT, **args: Any) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdin is not None
        async with self._lock:
            self._proc.stdin.write(json.dumps({"op": op, **args}).encode() + b"\n")
            await self._proc.stdin.drain()
            reply = await self._read(op, limit)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    async def script(self, *replies: Mapping[str, Any]) -> None:
        """Queue replies, one per request."""
        await self._call("script", replies=list(replies))

    async def script_fim(self, *rules: Mapping[str, Any]) -> None:
        """Answers for fill-in-the-middle requests, replacing earlier ones."""
        await self._call("fim", rules=list(rules))

    async def count(self) -> int:
        return int((await self._call("count"))["count"])

    async def requests(self, since: int = 0) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self._call("requests", since=since))["requests"]
        return found

    async def wait_done(self, index: int, timeout: float = 5.0) -> dict[str, Any]:
        """The request (0-based), once its response has ended or `timeout` has passed."""
        done: dict[str, Any] = (
            await self._call(
                "wait_done", limit=timeout + CALL_TIMEOUT, index=index, timeout=timeout
            )
        )["request"]
        return done

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
