"""`initialize` is answered, and the server idles, without google-genai imported (it costs
half a second of CPU and 25 MB), nor the inline completion service, nor the generation
machinery: all of them wait for the first request that needs them. An editor's plain launch
does not build the command-line parser either."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_message(stream: asyncio.StreamReader) -> dict[str, Any]:
    length = 0
    while (line := await stream.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    message: dict[str, Any] = json.loads(await stream.readexactly(length))
    return message


# Loaded by the first command, or the first inline request.
LATER = (
    "google.genai",
    "gemini_lsp.inline.service",
    "gemini_lsp.lsp.handlers",
    "gemini_lsp.generations.registry",
    "gemini_lsp.gemini.backend",
    "gemini_lsp.gemini.attachments",
    "gemini_lsp.contract.commands",
    # Serving never needs these: only a launch with options builds the parser.
    "argparse",
    "shutil",
)


def imported(log: bytearray, module: str) -> bool:
    return any(line.split(b"|")[-1].strip() == module.encode() for line in log.splitlines())


@pytest.mark.parametrize("launch", [[], ["--stdio"]], ids=["bare", "stdio"])
async def test_initialize_answers_without_importing_genai(launch: list[str]) -> None:
    # -X importtime logs each import to stderr as it happens.
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "gemini_lsp",
        *launch,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert server.stdin and server.stdout and server.stderr
    log = bytearray()

    async def collect(stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            log.extend(chunk)

    collector = asyncio.ensure_future(collect(server.stderr))
    try:
        server.stdin.write(
            frame(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"processId": None, "rootUri": None, "capabilities": {}},
                }
            )
        )
        response = await asyncio.wait_for(read_message(server.stdout), 20)
        await asyncio.sleep(0.05)  # let the import log written before the answer arrive
        assert response["id"] == 1
        commands = response["result"]["capabilities"]["executeCommandProvider"]["commands"]
        assert "gemini.generate" in commands
        assert imported(log, "pygls.lsp.server"), "the import log is missing"
        assert [module for module in LATER if imported(log, module)] == []

        # Nor while idle: the SDK would double the idle footprint; the first generation
        # imports it.
        server.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        await asyncio.sleep(1.0)
        assert [module for module in LATER if imported(log, module)] == []
        server.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        assert (await asyncio.wait_for(read_message(server.stdout), 20))["id"] == 2
        server.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
        assert await asyncio.wait_for(server.wait(), 20) == 0
    finally:
        if server.returncode is None:
            server.kill()
        collector.cancel()
