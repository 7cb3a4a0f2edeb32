"""What every measurement shares: the emulator process, the baseline SDK, warm servers,
and one run of a scripted stream through either side."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from gemini_lsp.contract.settings import SETTINGS
from testkit import environment
from testkit.emulators import API_KEY, EmulatorProcess
from testkit.styles import Style
from testkit.waiting import within

from .baseline import RawSdk, Stream
from .client import Document, LeanClient, Response
from .cpu import own_cpu_s, process_cpu_s

PROMPT = "Write the next lines"
DOCUMENT = "# benchmark\n\n"  # generation goes on the blank line 1
OPEN_SETTLE_S = 0.005
# The most generations the server lets talk to Gemini at once (`maxConcurrent`'s maximum):
# batches up to this size do not queue.
MAX_CONCURRENT = int(next(s.maximum or 1 for s in SETTINGS if s.name == "maxConcurrent"))
_MARKER = re.compile(r"c(\d{5}) =")


def chunk_texts(count: int, width: int = 40) -> list[str]:
    """Distinct lines of code; each starts with a marker that tells which chunk it was."""
    lines = []
    for i in range(count):
        head = f"c{i:05d} = {i}  # "
        lines.append(head + "x" * max(width - len(head) - 1, 0) + "\n")
    return lines


def reply(chunks: list[str], pace_ms: float, first_ms: float | None = None) -> dict[str, Any]:
    """A scripted reply in the emulator's scenario form."""
    return {
        "chunks": chunks,
        "chunkDelayMs": pace_ms,
        "firstChunkDelayMs": pace_ms if first_ms is None else first_ms,
    }


def marker_times(pieces: list[tuple[float, str]]) -> dict[int, float]:
    """When each chunk's marker was first seen, from (time, text) pieces in order."""
    seen: dict[int, float] = {}
    text = ""
    for at, piece in pieces:
        scan_from = max(len(text) - 8, 0)  # a marker may straddle two pieces
        text += piece
        for match in _MARKER.finditer(text, scan_from):
            seen.setdefault(int(match.group(1)), at)
    return seen


@attrs.define
class ServerRun:
    sent_at: float  # executeCommand written to the server
    response: Response
    document: Document
    request: dict[str, Any]  # the emulator's record of the model call
    cpu_seconds: float  # the server process's, during the run

    @property
    def received_at(self) -> float:
        return float(self.request["receivedAt"])

    def chunk_times(self) -> dict[int, float]:
        return marker_times([(e.received_at, e.text) for e in self.document.edits])

    @property
    def first_edit_at(self) -> float:
        return self.document.edits[0].received_at

    @property
    def last_edit_at(self) -> float:
        return self.document.edits[-1].applied_at


@attrs.define
class BaselineRun:
    stream: Stream
    request: dict[str, Any]
    cpu_seconds: float  # this process's, during the run

    @property
    def received_at(self) -> float:
        return float(self.request["receivedAt"])

    def chunk_times(self) -> dict[int, float]:
        return marker_times(list(zip(self.stream.chunk_times, self.stream.texts, strict=True)))


def server_env() -> dict[str, str]:
    return environment.server_env({"GEMINI_API_KEY": API_KEY})


class Harness:
    def __init__(self) -> None:
        self.emulator = EmulatorProcess()
        self.sdk: RawSdk | None = None
        self.workspace = Path(tempfile.mkdtemp(prefix="gemini-lsp-bench-"))
        self._servers: dict[str, LeanClient] = {}
        self._uris = itertools.count(1)

    async def __aenter__(self) -> Harness:
        base_url = await self.emulator.start()
        self.sdk = RawSdk(base_url, API_KEY)
        # Its first call pays for lazy imports and a connection, as the server's does.
        for _ in range(2):
            await self.baseline_run(reply(chunk_texts(3), 0, 0))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self._servers.values():
            await client.shutdown()
        if self.sdk is not None:
            await self.sdk.close()
        await self.emulator.stop()
        # Documents live only in the editor's memory: the folder stayed empty.
        with contextlib.suppress(OSError):
            self.workspace.rmdir()

    def settings(self) -> dict[str, Any]:
        # Batches of 32 and 100 at once are figures; the default maxConcurrent (4) would
        # queue them.
        return {"baseUrl": self.emulator.base_url, "maxConcurrent": MAX_CONCURRENT}

    def new_uri(self) -> str:
        return (self.workspace / f"doc{next(self._uris)}.py").as_uri()

    async def server(self, style: Style) -> LeanClient:
        """A started, initialized and warmed-up server for `style` (one per style)."""
        client = self._servers.get(style.name)
        if client is None:
            client = LeanClient(style, self.settings())
            await client.spawn(server_env())
            await client.initialize(self.workspace.as_uri())
            self._servers[style.name] = client
            # The first generation pays for importing the SDK and opening a connection.
            for _ in range(2):
                await self.server_run(client, reply(chunk_texts(3), 0, 0))
        return client

    async def stop_server(self, style: Style) -> None:
        client = self._servers.pop(style.name, None)
        if client is not None:
            await client.shutdown()

    async def server_run(self, client: LeanClient, scripted: Mapping[str, Any]) -> ServerRun:
        await self.emulator.script(scripted)
        index = await self.emulator.count()
        document = client.open(self.new_uri(), DOCUMENT)
        # An editor opens the file long before the user asks for code: let didOpen land.
        await asyncio.sleep(OPEN_SETTLE_S)
        assert client.proc is not None
        cpu = process_cpu_s(client.proc.pid)
        sent_at = time.monotonic()
        response = await within(client.generate(document, 1, PROMPT), "gemini.generate")
        cpu = process_cpu_s(client.proc.pid) - cpu
        if response.error is not None:
            raise RuntimeError(f"generation failed: {response.error} {client.messages}")
        client.close(document)
        request = await self.emulator.wait_done(index)
        return ServerRun(sent_at, response, document, request, cpu)

    async def baseline_run(self, scripted: Mapping[str, Any]) -> BaselineRun:
        assert self.sdk is not None
        await self.emulator.script(scripted)
        index = await self.emulator.count()
        cpu = own_cpu_s()
        stream = await self.sdk.stream(PROMPT)
        cpu = own_cpu_s() - cpu
        request = await self.emulator.wait_done(index)
        return BaselineRun(stream, request, cpu)

    async def settle(self) -> None:
        """A moment for stragglers (closing sockets, late notifications) between phases."""
        await asyncio.sleep(0.05)
