"""The emulator's HTTP/1.1 and Gemini wire format, byte by byte, without the SDK."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from gemini_lsp.emulator import Emulator, Reply

from .conftest import API_KEY

STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
UNARY = "/v1beta/models/gemini-2.5-flash:generateContent"
BODY = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()


def post(path: str, body: bytes = BODY, *, key: str | None = API_KEY, extra: str = "") -> bytes:
    key_header = f"x-goog-api-key: {key}\r\n" if key is not None else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: emulator\r\nContent-Type: application/json\r\n"
        f"{key_header}Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[Any]:
        """The JSON payloads of an SSE body, checking its framing on the way."""
        text = self.body.decode()
        assert text.endswith("\r\n\r\n")
        blocks = text[: -len("\r\n\r\n")].split("\r\n\r\n")
        assert all(block.startswith("data: ") for block in blocks)
        return [json.loads(block[len("data: ") :]) for block in blocks]


async def read_response(reader: asyncio.StreamReader) -> Response:
    """Reads one response: Content-Length, chunked or close-delimited."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head[:-4].split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        chunks = bytearray()
        while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
            chunks += await reader.readexactly(size)
            assert await reader.readexactly(2) == b"\r\n"
        assert await reader.readexactly(2) == b"\r\n"
        body = bytes(chunks)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
    return Response(int(status_line.split()[1]), headers, body)


async def exchange(emu: Emulator, *requests: bytes) -> list[Response]:
    """Sends requests one after the other on one connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    try:
        responses = []
        for request in requests:
            writer.write(request)
            responses.append(await asyncio.wait_for(read_response(reader), 5))
        return responses
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_stream_is_chunked_sse_with_google_shapes(emu: Emulator) -> None:
    emu.script(Reply(["Hello", ", world"]))
    (response,) = await exchange(emu, post(STREAM + "?alt=sse"))
    assert response.status == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    first, last = response.events()
    assert first["candidates"] == [
        {"content": {"parts": [{"text": "Hello"}], "role": "model"}, "index": 0}
    ]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert set(last["usageMetadata"]) >= {
        "promptTokenCount",
        "candidatesTokenCount",
        "totalTokenCount",
    }
    assert last["modelVersion"] == "gemini-lsp-emulator"
    assert first["responseId"] == last["responseId"]


async def test_keep_alive_serves_several_requests_on_one_connection(emu: Emulator) -> None:
    emu.script(Reply(["one"]), Reply(["two"]), Reply(["three"]))
    responses = await exchange(
        emu, post(STREAM + "?alt=sse"), post(UNARY), post(STREAM + "?alt=sse")
    )
    assert [r.status for r in responses] == [200, 200, 200]
    assert responses[1].json()["candidates"][0]["content"]["parts"] == [{"text": "two"}]
    assert len({r.peer for r in emu.requests}) == 1


async def test_pipelined_requests_are_answered_in_order(emu: Emulator) -> None:
    emu.script(Reply(["one"]), Reply(["two"]))
    reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    writer.write(post(UNARY) + post(UNARY))
    first = await asyncio.wait_for(read_response(reader), 5)
    second = await asyncio.wait_for(read_response(reader), 5)
    writer.close()
    await writer.wait_closed()
    texts = [r.json()["candidates"][0]["content"]["parts"][0]["text"] for r in (first, second)]
    assert texts == ["one", "two"]


async def test_the_key_may_come_in_the_query(emu: Emulator) -> None:
    emu.script(Reply(["ok"]))
    (response,) = await exchange(emu, post(UNARY + f"?key={API_KEY}", key=None))
    assert response.status == 200
    (record,) = emu.requests
    assert record.api_key == API_KEY


async def test_a_missing_key_is_api_key_invalid(emu: Emulator) -> None:
    (response,) = await exchange(emu, post(UNARY, key=None))
    assert response.status == 400
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    error = response.json()["error"]
    assert (error["status"], error["details"][0]["reason"]) == (
        "INVALID_ARGUMENT",
        "API_KEY_INVALID",
    )


async def test_without_alt_sse_the_stream_is_a_json_array(emu: Emulator) -> None:
    emu.script(Reply(["a", "b", "c"]))
    (response,) = await exchange(emu, post(STREAM))
    events = response.json()
    assert [e["candidates"][0]["content"]["parts"][0]["text"] for e in events] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Invalid JSON payload received"),
        (b"[]", "Invalid JSON payload received"),
        (b"{}", "contents is not specified"),
        (b'{"contents": []}', "contents is not specified"),
    ],
)
async def test_a_bad_body_is_invalid_argument(emu: Emulator, body: bytes, message: str) -> None:
    (response,) = await exchange(emu, post(UNARY, body))
    assert response.status == 400
    assert message in response.json()["error"]["message"]
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    "request_line",
    [
        "GET /v1beta/models/gemini-2.5-flash:generateContent",
        "POST /v1beta/models/gemini-2.5-flash:countTokens",
        "POST /v9/models/gemini-2.5-flash:generateContent",
        "POST /v1beta/files",
    ],
)
async def test_unknown_routes_are_not_found(emu: Emulator, request_line: str) -> None:
    method, path = request_line.split()
    raw = post(path).replace(b"POST", method.encode(), 1)
    (response,) = await exchange(emu, raw)
    assert response.status == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


async def test_a_model_given_as_a_resource_name_is_accepted(emu: Emulator) -> None:
    emu.script(Reply(["ok"]))
    (response,) = await exchange(emu, post("/v1/models/models/gemini-2.5-pro:generateContent"))
    assert response.status == 200
    (record,) = emu.requests
    assert record.model == "gemini-2.5-pro"


async def test_a_chunked_request_body_is_accepted(emu: Emulator) -> None:
    emu.script(Reply(["ok"]))
    head = post(UNARY, b"").split(b"Content-Length: 0\r\n")[0]
    raw = head + b"Transfer-Encoding: chunked\r\n\r\n"
    raw += b"".join(
        b"%x;ext=1\r\n%s\r\n" % (len(BODY[i : i + 7]), BODY[i : i + 7])
        for i in range(0, len(BODY), 7)
    )
    raw += b"0\r\nX-Trailer: yes\r\n\r\n"
    (response,) = await exchange(emu, raw)
    assert response.status == 200
    (record,) = emu.requests
    assert record.body == json.loads(BODY)


async def test_expect_100_continue_is_honoured(emu: Emulator) -> None:
    emu.script(Reply(["ok"]))
    reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    head, body = post(UNARY, extra="Expect: 100-continue\r\n").split(b"\r\n\r\n", 1)
    writer.write(head + b"\r\n\r\n")
    assert (
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
    )
    writer.write(body)
    response = await asyncio.wait_for(read_response(reader), 5)
    writer.close()
    await writer.wait_closed()
    assert response.status == 200


async def test_an_http_1_0_stream_is_close_delimited(emu: Emulator) -> None:
    emu.script(Reply(["a", "b"]))
    raw = post(STREAM + "?alt=sse").replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    (response,) = await exchange(emu, raw)
    assert "transfer-encoding" not in response.headers
    assert response.headers["connection"] == "close"
    assert [e["candidates"][0]["content"]["parts"][0]["text"] for e in response.events()] == [
        "a",
        "b",
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"NONSENSE\r\n\r\n",
        b"POST /x HTTP/2.0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nBad Header: x\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ],
)
async def test_malformed_http_gets_an_error_and_a_closed_connection(
    emu: Emulator, raw: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    writer.write(raw)
    response = await asyncio.wait_for(read_response(reader), 5)
    assert response.status in (400, 505)
    assert response.headers["connection"] == "close"
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    await writer.wait_closed()


async def test_a_client_leaving_mid_request_does_not_hurt_the_server(emu: Emulator) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    writer.write(post(UNARY)[:-5])
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    emu.script(Reply(["still here"]))
    (response,) = await exchange(emu, post(UNARY))
    assert response.json()["candidates"][0]["content"]["parts"][0]["text"] == "still here"
    assert len(emu.requests) == 1  # an incomplete request is not a request


async def test_fast_mode_streams_well_over_50k_characters_per_second(emu: Emulator) -> None:
    size = 200_000
    emu.script(Reply(text="x" * size))
    reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
    started = time.perf_counter()
    writer.write(post(STREAM + "?alt=sse"))
    response = await asyncio.wait_for(read_response(reader), 30)
    elapsed = time.perf_counter() - started
    writer.close()
    await writer.wait_closed()
    received = sum(
        len(event["candidates"][0]["content"]["parts"][0]["text"]) for event in response.events()
    )
    assert received == size
    print(f"emulator alone: {size / elapsed:,.0f} characters per second")
    # About a million here when the machine is quiet: 50k holds even when it is not.
    assert size / elapsed >= 50_000
