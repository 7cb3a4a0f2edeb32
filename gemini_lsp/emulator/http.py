"""A small, strict-enough HTTP/1.1 server connection over asyncio streams.

Only what a JSON API server needs: request line, headers, bodies framed by
Content-Length or chunked transfer coding, keep-alive, and responses that are
either complete (Content-Length) or streamed (chunked for HTTP/1.1 clients,
close-delimited for HTTP/1.0). The one unusual feature is `wait_peer_closed`:
while a response is being produced nobody reads the socket, so without it a
client that goes away would only be noticed at the next failed write. (A
client that half-closes its side while waiting counts as gone: HTTP clients
of this API never do that.)
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

MAX_HEAD_BYTES = 64 * 1024
# Inline attachments (images, PDFs) travel base64-encoded in the JSON body.
MAX_BODY_BYTES = 64 * 1024 * 1024
_READ_SIZE = 64 * 1024
_DIGITS = re.compile(r"[0-9]+")  # not str.isdigit(), which accepts "²"
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field names and methods


class HttpProtocolError(Exception):
    """The client sent something that is not acceptable HTTP/1.1."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@attrs.frozen
class Request:
    method: str
    target: str
    path: str
    query: dict[str, str]
    http_version: str
    headers: list[tuple[str, str]] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)

    def header(self, name: str) -> str | None:
        """The last value of a header (names are case-insensitive)."""
        name = name.lower()
        found: str | None = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.http_version == "HTTP/1.1":
            return "close" not in tokens
        return False  # HTTP/1.0: always close, which every 1.0 client understands


def _parse_head(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[2].startswith("HTTP/"):
        raise HttpProtocolError(400, f"malformed request line: {lines[0][:100]!r}")
    method, target, version = parts
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise HttpProtocolError(505, f"unsupported protocol version {version}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        # Obsolete line folding and whitespace before the colon are request smuggling vectors.
        if not sep or not _TOKEN.fullmatch(name):
            raise HttpProtocolError(400, f"malformed header line: {line[:100]!r}")
        headers.append((name.lower(), value.strip(" \t")))
    return method, target, version, headers


def _split_target(target: str) -> tuple[str, dict[str, str]]:
    if target.startswith(("http://", "https://")):  # absolute-form, as sent to proxies
        parts = urlsplit(target)
        raw_path, raw_query = parts.path or "/", parts.query
    else:
        if not target.startswith("/"):
            raise HttpProtocolError(400, f"unsupported request target: {target[:100]!r}")
        raw_path, _, raw_query = target.partition("?")
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    return unquote(raw_path), query


class Connection:
    """One client connection: reads requests and writes responses, in turn."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._buffer = bytearray()
        self._eof = False
        self._chunked = False
        self._streaming = False
        self._close_after = False
        self.peer_closed_at: float | None = None

    @property
    def peer(self) -> str:
        peer = self._writer.get_extra_info("peername")
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    async def _fill(self) -> bool:
        """Reads more bytes into the buffer; False once the peer has closed."""
        if self._eof:
            return False
        try:
            data = await self._reader.read(_READ_SIZE)
        except OSError:  # a reset is just a ruder way to leave
            data = b""
        if not data:
            self._eof = True
            self.peer_closed_at = time.monotonic()
            return False
        self._buffer += data
        return True

    @property
    def peer_gone(self) -> bool:
        return self._eof

    async def wait_peer_closed(self) -> None:
        """Returns as soon as the client closes or resets the connection.

        Bytes that arrive meanwhile (a pipelined request) are kept for the next
        `read_request`, so running this alongside a response loses nothing.
        """
        while await self._fill():
            pass

    async def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not await self._fill():
                raise HttpProtocolError(400, "connection closed inside the request body")
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def _read_line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise HttpProtocolError(431, "line too long")
            if not await self._fill():
                raise HttpProtocolError(400, "connection closed inside a chunked body")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    async def read_request(self) -> Request | None:
        """The next request, or None if the client closed the connection between requests."""
        while True:
            # RFC 9112 §2.2: ignore empty lines before a request line.
            while self._buffer.startswith(b"\r\n"):
                del self._buffer[:2]
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise HttpProtocolError(431, "request head too large")
            if not await self._fill():
                return None  # an incomplete head from a departing client is not a request
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        method, target, version, headers = _parse_head(head)
        path, query = _split_target(target)
        probe = Request(method, target, path, query, version, headers, b"")
        if (probe.header("expect") or "").lower() == "100-continue" and version == "HTTP/1.1":
            self._writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await self._read_body(probe)
        return Request(method, target, path, query, version, headers, body)

    async def _read_body(self, request: Request) -> bytes:
        encoding = request.header("transfer-encoding")
        lengths = {value for key, value in request.headers if key == "content-length"}
        if encoding is not None:
            if lengths:
                raise HttpProtocolError(400, "both Transfer-Encoding and Content-Length")
            if encoding.lower() != "chunked":
                raise HttpProtocolError(501, f"unsupported transfer coding {encoding!r}")
            return await self._read_chunked_body()
        if not lengths:
            return b""
        if len(lengths) > 1 or not _DIGITS.fullmatch(next(iter(lengths))):
            raise HttpProtocolError(400, "invalid Content-Length")
        size = int(next(iter(lengths)))
        if size > MAX_BODY_BYTES:
            raise HttpProtocolError(413, "request body too large")
        return await self._read_exactly(size)

    async def _read_chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            size_text = (await self._read_line()).split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size_text):
                raise HttpProtocolError(400, "invalid chunk size")
            size = int(size_text, 16)
            if size == 0:
                while await self._read_line():  # trailer fields, ignored
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise HttpProtocolError(413, "request body too large")
            body += await self._read_exactly(size)
            if await self._read_exactly(2) != b"\r\n":
                raise HttpProtocolError(400, "chunk data not followed by CRLF")

    @staticmethod
    def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Status"
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}"]
        lines += [f"{name}: {value}" for name, value in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send_response(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        keep_alive: bool,
    ) -> None:
        """Writes a complete response framed by Content-Length."""
        headers = [*headers, ("Content-Length", str(len(body)))]
        if not keep_alive:
            headers.append(("Connection", "close"))
        self._writer.write(self._head(status, headers) + body)
        await self._writer.drain()

    async def begin_stream(
        self, status: int, headers: list[tuple[str, str]], *, http_version: str
    ) -> None:
        """Starts a response whose length is unknown: chunked, or close-delimited for HTTP/1.0."""
        self._chunked = http_version == "HTTP/1.1"
        self._streaming = True
        self._close_after = not self._chunked
        framing = ("Transfer-Encoding", "chunked") if self._chunked else ("Connection", "close")
        self._writer.write(self._head(status, [*headers, framing]))
        await self._writer.drain()

    async def send_data(self, data: bytes) -> None:
        """Writes one piece of a streamed body, as one HTTP chunk."""
        if not data:
            return  # a zero-size chunk would end the body
        if self._chunked:
            self._writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self._writer.write(data)
        await self._writer.drain()

    async def end_stream(self) -> None:
        """Ends a streamed body cleanly; the connection may then be reused if chunked."""
        if self._chunked:
            self._writer.write(b"0\r\n\r\n")
            await self._writer.drain()
        self._streaming = False

    @property
    def reusable(self) -> bool:
        """Whether another request may follow on this connection."""
        return not (self._eof or self._streaming or self._close_after or self._writer.is_closing())

    def close_nowait(self) -> None:
        """Starts a graceful close without waiting for it (safe in a cancelled task)."""
        self._writer.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def close(self) -> None:
        """Closes gracefully: what was written is still delivered, then FIN.

        Closed in the middle of a streamed body, this is what a client sees as
        an incomplete response ("peer closed connection without sending complete
        message body").
        """
        self._writer.close()
        await self.wait_closed()
