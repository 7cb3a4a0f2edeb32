"""The child side of `testkit.emulators.EmulatorProcess`: run as
`python -m testkit.emulator_process API_KEY`, it reads one JSON command a line on stdin and
answers one JSON line on stdout. The first line it writes is `{"baseUrl": ...}`.

Times it reports are `time.monotonic()`, which on Linux is one clock for every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Mapping
from typing import Any

from gemini_lsp.emulator import Emulator
from testkit.emulators import as_reply, as_rule, fast_emulator, record


def _answer(value: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


async def _obey(emulator: Emulator, command: dict[str, Any]) -> dict[str, Any]:
    op = command["op"]
    if op == "script":
        emulator.script(*(as_reply(r) for r in command["replies"]))
        return {"ok": True}
    if op == "fim":  # inline completions' answers
        emulator.clear_fim()
        emulator.script_fim(*(as_rule(r) for r in command["rules"]))
        return {"ok": True}
    if op == "count":
        return {"count": len(emulator.requests)}
    if op == "requests":
        return {"requests": [record(r) for r in emulator.requests[command["since"] :]]}
    if op == "wait_done":
        # A cancelled stream ends when the emulator notices the peer has gone.
        request = emulator.requests[command["index"]]
        with contextlib.suppress(asyncio.TimeoutError):
            await emulator.wait_until_done(request, command.get("timeout", 5.0))
        return {"request": record(request)}
    return {"error": f"unknown op {op!r}"}


async def _serve(api_key: str) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)  # a script line holds a whole stream
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with fast_emulator(api_key) as emulator:
        _answer({"baseUrl": emulator.base_url})
        while line := await reader.readline():
            _answer(await _obey(emulator, json.loads(line)))


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
