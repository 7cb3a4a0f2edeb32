"""LSP's base protocol (`Content-Length` framing) over stdio or one TCP connection.

It replaces pygls' reading loop (`pygls.io_.run_async`), which allocates whatever size a
`Content-Length` claims, understands only one exact spelling of that header, and reads stdin
from a pool thread that keeps the process alive after `exit` until the client closes the pipe.
Here a frame larger than `MAX_BODY` is skipped in bounded chunks, headers are parsed as the
spec says (case-insensitive names, any order, other headers ignored), and stdin is read
without a thread that could outlive `exit`. What a frame holds is the protocol's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import BinaryIO

log = logging.getLogger(__name__)

# A body larger than this is discarded unread rather than held in memory. Documents of tens
# of megabytes still fit.
MAX_BODY = 64 * 1024 * 1024
_CHUNK = 1024 * 1024

# Awaited with each frame's body; returns False once the server must stop reading (`exit`).
Receive = Callable[[bytes], Awaitable[bool]]
# Called when a frame cannot be used at all: there is no request id to answer.
Reject = Callable[[str], None]


async def read_frames(reader: asyncio.StreamReader, receive: Receive, reject: Reject) -> None:
    """Deliver each frame's body until the stream ends or `receive` says stop."""
    while True:
        length = await _read_header(reader)
        if length is None:
            return
        if length < 0:
            log.warning("skipped a header block without a usable Content-Length")
            continue
        if length > MAX_BODY:
            log.warning("skipping a %d-byte message (the limit is %d)", length, MAX_BODY)
            if not await _discard(reader, length):
                return
            reject(f"message of {length} bytes is larger than the limit of {MAX_BODY}")
            continue
        try:
            body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            log.warning("the stream ended inside a message")
            return
        if not await receive(body):
            return


async def _read_header(reader: asyncio.StreamReader) -> int | None:
    """The Content-Length of the next header block; -1 if it has none; None at the end."""
    length: int | None = None
    lines = 0
    while True:
        try:
            line = await reader.readline()
        except ValueError:  # a line over the reader's limit: consumed, and garbage anyway
            lines += 1
            continue
        if not line:
            return None
        if not line.strip():
            if lines:
                return length if length is not None else -1
            continue  # stray blank lines between messages
        lines += 1
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"content-length":
            text = value.strip()
            # No more digits than any real length has (int() refuses thousands of them).
            length = int(text) if text.isdigit() and len(text) <= 18 else None


async def _discard(reader: asyncio.StreamReader, length: int) -> bool:
    while length > 0:
        chunk = await reader.read(min(length, _CHUNK))
        if not chunk:
            return False
        length -= len(chunk)
    return True


async def stdin_reader(stream: BinaryIO | None = None) -> asyncio.StreamReader:
    """A StreamReader on stdin.

    A pipe (what editors give) is read by the event loop, which stops reading while the
    buffer is full, and leaves no thread behind to keep the process alive after `exit`. A
    terminal or a file is read by a daemon thread: the loop would make a terminal non-blocking
    for the shell too, and cannot watch a file.
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(loop=loop)
    stdin = stream or sys.stdin.buffer
    mode = os.fstat(stdin.fileno()).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    else:
        _feed_from_thread(stdin.fileno(), reader, loop)
    return reader


def _feed_from_thread(
    fd: int, reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop
) -> None:
    def pump() -> None:
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            try:
                if data:
                    loop.call_soon_threadsafe(reader.feed_data, data)
                else:
                    loop.call_soon_threadsafe(reader.feed_eof)
            except RuntimeError:  # the loop has closed: nobody is listening any more
                return
            if not data:
                return

    threading.Thread(target=pump, name="gemini-lsp-stdin", daemon=True).start()


class StdoutWriter:
    """pygls' writer interface over stdout, quiet once the client has gone."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream or sys.stdout.buffer
        self.broken = False

    def write(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self._stream.write(data)
            self._stream.flush()
        except (BrokenPipeError, ValueError, OSError):
            # The client is gone (or stdout is closed): reading will end the session.
            self.broken = True

    def close(self) -> None:
        self.broken = True
        with contextlib.suppress(OSError, ValueError):
            self._stream.close()


class NullWriter:
    """Where messages go once the session is over."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


# Runs one client's session: reads from the reader, answers through the writer.
Session = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve_tcp(
    host: str, port: int, session: Session, on_ready: Callable[[str], None]
) -> None:
    """Serve the first client that connects, then stop listening; return when it leaves."""
    connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
        asyncio.get_running_loop().create_future()
    )

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if connected.done():
            writer.close()  # one client per server, like stdio
        else:
            connected.set_result((reader, writer))

    server = await asyncio.start_server(accept, host, port)
    address = server.sockets[0].getsockname()
    on_ready(f"{address[0]}:{address[1]}")
    try:
        reader, writer = await connected
    finally:
        server.close()
    try:
        await session(reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
