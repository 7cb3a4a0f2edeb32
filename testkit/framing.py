"""LSP base-protocol framing (a `Content-Length` header, a blank line, a JSON body) over
asyncio streams, for the clients that talk to the server without pygls in between."""

from __future__ import annotations

import asyncio
import json
from typing import Any


def encode(message: Any) -> bytes:
    """One framed message: JSON as it is (no `jsonrpc` member added: tests frame broken
    messages too), or bytes as they are (bodies no real client would send)."""
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_message(stream: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message, or None once the stream has ended. Headers other than
    `Content-Length` are read and ignored."""
    length: int | None = None
    while True:
        line = await stream.readline()
        if not line:
            return None
        if line == b"\r\n":
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError("a message without a Content-Length header")
    message: dict[str, Any] = json.loads(await stream.readexactly(length))
    return message
