"""The server over stdio with nothing in between: for bytes no real client would send."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from testkit.environment import server_env
from testkit.framing import encode, read_message


class RawServer:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stderr = bytearray()
        assert process.stdin and process.stdout and process.stderr
        self.stdin = process.stdin
        self.stdout = process.stdout
        self._collector = asyncio.ensure_future(self._collect(process.stderr))

    @classmethod
    async def start(cls, *args: str, env: dict[str, str] | None = None) -> RawServer:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gemini_lsp",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=server_env(env),
        )
        return cls(process)

    async def _collect(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self.stderr.extend(chunk)

    async def send(self, data: bytes) -> None:
        self.stdin.write(data)
        await self.stdin.drain()

    async def request(self, msg_id: int, method: str, params: Any = None) -> dict[str, Any]:
        message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(encode(message))
        return await self.answer(msg_id)

    async def answer(self, msg_id: int | None, timeout: float = 10) -> dict[str, Any]:
        """The next response (skipping the server's own requests and notifications)."""
        while True:
            message = await asyncio.wait_for(self.read(), timeout)
            if "method" not in message:
                assert message.get("id") == msg_id, message
                return message

    async def read(self) -> dict[str, Any]:
        message = await read_message(self.stdout)
        if message is None:
            raise EOFError("the server closed its output")
        return message

    async def ended(self, timeout: float = 10) -> int:
        """The exit code, once the process has exited (the test fails if it hangs)."""
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.wait_for(self._collector, 5)
        return code

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
