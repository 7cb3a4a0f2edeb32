"""Malformed JSON-RPC over stdio: the server answers as the spec says, or exits cleanly, and
never hangs."""

from __future__ import annotations

import asyncio
import json

from gemini_lsp.lsp.transport import MAX_BODY
from testkit.framing import encode as frame
from tests.reliability.rawrpc import RawServer

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602

# What is sent, and the error it must be answered with: (id, code), or None for no answer.
BAD_MESSAGES: list[tuple[bytes, tuple[int | None, int] | None]] = [
    (b"hello, I am not a header\r\n\r\n", None),
    (frame(b'{"jsonrpc": "2.0", "id": 3, "method": '), (None, PARSE_ERROR)),
    (frame(b"\xff\xfe not utf-8"), (None, PARSE_ERROR)),
    (frame(b""), (None, PARSE_ERROR)),  # Content-Length: 0
    (frame([1, 2, 3]), (None, INVALID_REQUEST)),
    (frame(42), (None, INVALID_REQUEST)),
    (frame({"id": 4, "method": "shutdown"}), (4, INVALID_REQUEST)),
    (frame({"jsonrpc": "1.0", "id": 5, "method": "x"}), (5, INVALID_REQUEST)),
    (frame({"jsonrpc": "2.0", "id": 6, "method": 7}), (6, INVALID_REQUEST)),
    (frame({"jsonrpc": "2.0", "id": {"a": 1}, "method": "x"}), (None, INVALID_REQUEST)),
    (frame({"jsonrpc": "2.0", "id": 7, "method": "no/such/method"}), (7, METHOD_NOT_FOUND)),
    (
        frame({"jsonrpc": "2.0", "id": 8, "method": "workspace/executeCommand", "params": 5}),
        (8, INVALID_PARAMS),
    ),
    (
        frame(
            {
                "jsonrpc": "2.0",
                "id": 9,
                "method": "workspace/executeCommand",
                "params": {"command": 5},
            }
        ),
        (9, INVALID_PARAMS),
    ),
    (
        frame(
            {
                "jsonrpc": "2.0",
                "id": 10,
                "method": "workspace/executeCommand",
                "params": {"command": "gemini.nothing", "arguments": []},
            }
        ),
        (10, INVALID_PARAMS),
    ),
    (frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {}}), None),
    (frame({"jsonrpc": "2.0", "method": "$/no.such.notification"}), None),
    (frame({"jsonrpc": "2.0", "id": "late", "result": 1}), None),  # answers nothing asked
    # Content-Length shorter than the body: the cut body is unparsable, the rest is skipped.
    (
        b"Content-Length: 20\r\n\r\n"
        + json.dumps({"jsonrpc": "2.0", "id": 11}).encode()
        + b"\r\n\r\n",
        (None, PARSE_ERROR),
    ),
    (b"Content-Length: abc\r\n\r\n{}\r\n\r\n", None),  # no usable length: skipped
    (b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}\r\n\r\n", None),
    # Header names in any case, other headers in any order.
    (
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}",
        (None, INVALID_REQUEST),
    ),
]


async def test_malformed_messages_are_answered_and_the_server_keeps_serving() -> None:
    server = await RawServer.start()
    try:
        init = await server.request(1, "initialize", {"processId": None, "capabilities": {}})
        assert "capabilities" in init["result"]
        for number, (data, expected) in enumerate(BAD_MESSAGES):
            await server.send(data)
            if expected is not None:
                answer = await server.answer(expected[0])
                assert answer["error"]["code"] == expected[1], (data, answer)
                assert answer["error"]["message"]
            # Still serving, and in step: the next request gets its own answer.
            alive = await server.request(1000 + number, "gemini/debugStats")
            assert "tasks" in alive["result"], (data, alive)

        # A body over the limit is skipped without being held in memory, and answered.
        before = (await server.request(2000, "gemini/debugStats"))["result"]["rssBytes"]
        await server.send(b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1) + b" " * (MAX_BODY + 1))
        answer = await server.answer(None, timeout=30)
        assert answer["error"]["code"] == INVALID_REQUEST
        after = (await server.request(2001, "gemini/debugStats"))["result"]["rssBytes"]
        assert after - before < 16 * 1024 * 1024

        # After `shutdown`, requests are refused as LSP says, and `exit` ends the process
        # at once although stdin stays open.
        assert (await server.request(2002, "shutdown"))["result"] is None
        refused = await server.request(2003, "gemini/debugStats")
        assert refused["error"]["code"] == INVALID_REQUEST
        await server.send(frame({"jsonrpc": "2.0", "method": "exit"}))
        assert await server.ended() == 0
    finally:
        server.kill()
    assert b"Traceback" not in server.stderr, server.stderr.decode()


async def test_streams_that_end_badly_end_the_server() -> None:
    endings = [
        b"Content-Len",  # a header cut short
        b'Content-Length: 500\r\n\r\n{"jsonrpc": ',  # a body cut short
        b"Content-Length: 99999999999\r\n\r\n{}",  # a length no one could send
        frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
        b"",
    ]
    servers = await asyncio.gather(*(RawServer.start() for _ in endings))
    try:
        for server, data in zip(servers, endings, strict=True):
            await server.send(data)
            server.stdin.close()
        codes = await asyncio.gather(*(server.ended() for server in servers))
        assert codes == [1] * len(endings)  # ended without `shutdown`: 1, as LSP asks
    finally:
        for server in servers:
            server.kill()
    for server in servers:
        assert b"Traceback" not in server.stderr, server.stderr.decode()
