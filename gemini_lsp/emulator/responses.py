"""Sending a planned answer: a stream of events, one JSON response, or an error, with the
reply's fault where it asks for one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from gemini_lsp.emulator import protocol
from gemini_lsp.emulator.http import Connection, Request
from gemini_lsp.emulator.plan import Plan
from gemini_lsp.emulator.record import RecordedRequest
from gemini_lsp.emulator.scenario import ErrorSpec, Fault

# An event cut short: valid SSE framing around JSON that never ends.
MALFORMED_PAYLOAD = b'{"candidates": [{"content": {"parts": [{"text": "cut sho'


async def send_error(
    conn: Connection,
    request: Request,
    record: RecordedRequest,
    body: dict[str, Any],
    headers: Sequence[tuple[str, str]] = (),
) -> None:
    """Answer with an error response (`body` is a Google-style error)."""
    code = int(body["error"]["code"])
    record.status = code
    await conn.send_response(
        code,
        [*protocol.JSON_HEADERS, *headers],
        protocol.json_bytes(body),
        keep_alive=request.keep_alive,
    )
    record.finish("completed")


class _EventWriter:
    """A streamed response's events: a JSON array element by element, or SSE events."""

    def __init__(self, conn: Connection, request: Request, record: RecordedRequest) -> None:
        self._conn = conn
        self._request = request
        self._record = record
        # Without alt=sse the API streams one JSON array, element by element.
        self.sse = request.query.get("alt") == "sse"
        self._sent = 0

    async def send(self, payload: bytes | None) -> None:
        """Sends one event (None: just the response head, if not sent yet)."""
        if self._record.status is None:
            self._record.status = 200
            headers = protocol.SSE_HEADERS if self.sse else protocol.JSON_HEADERS
            await self._conn.begin_stream(200, headers, http_version=self._request.http_version)
        if payload is None:
            return
        if self.sse:
            await self._conn.send_data(b"data: " + payload + b"\r\n\r\n")
        else:
            await self._conn.send_data((b"," if self._sent else b"[") + payload + b"\r\n")
        self._sent += 1


async def stream(conn: Connection, request: Request, record: RecordedRequest, plan: Plan) -> None:
    """Answer a streaming request: the plan's events at its pace, then its fault if any."""
    events = _EventWriter(conn, request, record)
    fault, fault_at = plan.fault or (None, -1)
    count = max(len(plan.texts), 1)  # an empty answer is still one (final) event
    deadline = record.received_at
    for i in range(count):
        if i == fault_at:
            break
        if i == plan.hold_after:
            deadline = await _held(events, record)
        deadline += plan.waits[i]
        await sleep_until(deadline)
        last = i == count - 1
        text = plan.texts[i] if plan.texts else None
        payload = protocol.response_json(
            text,
            finish_reason=plan.finish_reason if last else None,
            usage=plan.usage(final=last),
            model_version=plan.model_version,
            response_id=f"emulator-{record.index}",
        )
        await events.send(protocol.compact_json(payload))
        if record.first_chunk_at is None:
            record.first_chunk_at = time.monotonic()
        if text is not None:
            record.sent([text])
    else:
        if plan.hold_after is not None and plan.hold_after >= count:
            await _held(events, record)
    if not await _stream_fault(conn, events, record, plan, fault):
        return
    if not events.sse:
        await conn.send_data(b"]")
    await conn.end_stream()
    record.finish("completed")


async def _held(events: _EventWriter, record: RecordedRequest) -> float:
    """Wait, with the response begun, until the test releases the request; the time then."""
    await events.send(None)
    await record.wait_released()
    return time.monotonic()


async def _stream_fault(
    conn: Connection,
    events: _EventWriter,
    record: RecordedRequest,
    plan: Plan,
    fault: Fault | None,
) -> bool:
    """Play a stream's fault; whether the stream is then to be ended normally."""
    if fault is Fault.STALL:
        await events.send(None)
        await asyncio.Event().wait()  # until the client leaves or stop() cancels us
    elif fault is Fault.DISCONNECT:
        await events.send(None)
        record.finish("aborted")
        await conn.close()
        return False
    elif fault is Fault.MALFORMED:
        await events.send(MALFORMED_PAYLOAD)
    elif fault is Fault.ERROR_EVENT:
        assert plan.error_event is not None
        await events.send(protocol.compact_json(error_reply(plan.error_event)[0]))
    return True


async def unary(conn: Connection, request: Request, record: RecordedRequest, plan: Plan) -> None:
    """Answer a request for one response: the whole text at once, or the plan's fault."""
    fault, fault_at = plan.fault or (None, len(plan.waits))
    if plan.hold_after is not None:
        await record.wait_released()
    await sleep_until(record.received_at + sum(plan.waits[:fault_at]))
    if fault is Fault.STALL:
        await asyncio.Event().wait()
    if fault is Fault.DISCONNECT:
        record.finish("aborted")
        await conn.close()
        return
    if fault is Fault.ERROR_EVENT:
        assert plan.error_event is not None
        body, headers = error_reply(plan.error_event)
        await send_error(conn, request, record, body, headers)
        return
    record.status = 200
    if fault is Fault.MALFORMED:
        await conn.send_response(
            200, protocol.JSON_HEADERS, MALFORMED_PAYLOAD, keep_alive=request.keep_alive
        )
        record.finish("completed")
        return
    payload = protocol.response_json(
        "".join(plan.texts) if plan.texts else None,
        finish_reason=plan.finish_reason,
        usage=plan.usage(final=True),
        model_version=plan.model_version,
        response_id=f"emulator-{record.index}",
    )
    await conn.send_response(
        200, protocol.JSON_HEADERS, protocol.json_bytes(payload), keep_alive=request.keep_alive
    )
    record.first_chunk_at = time.monotonic()
    record.sent(plan.texts)
    record.finish("completed")


async def sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    # Sleeping 0 still yields, so one fast stream cannot starve the others.
    await asyncio.sleep(max(delay, 0.0))


def error_reply(error: ErrorSpec) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The body and headers of a Google-style error response."""
    details = [dict(d) for d in error.details]
    if error.retry_delay is not None:
        delay = error.retry_delay
        details.append(
            {
                "@type": protocol.RETRY_INFO_TYPE,
                "retryDelay": delay if isinstance(delay, str) else protocol.format_duration(delay),
            }
        )
    body = protocol.error_body(error.code, error.message, error.google_status, details)
    headers = [("Retry-After", str(error.retry_after))] if error.retry_after is not None else []
    return body, headers
