"""The Emulator: a Gemini API server on asyncio that records what it is asked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from gemini_lsp.emulator import codegen, protocol
from gemini_lsp.emulator.fim import FimContext, FimRule, parse_fim
from gemini_lsp.emulator.http import Connection, HttpProtocolError, Request
from gemini_lsp.emulator.scenario import ErrorSpec, Reply

logger = logging.getLogger("gemini_lsp.emulator")
T = TypeVar("T")

DEFAULT_MODEL_VERSION = "gemini-lsp-emulator"
DEFAULT_FIRST_TOKEN_MS = 300.0
DEFAULT_CHARS_PER_SECOND = 400.0

# An event cut short: valid SSE framing around JSON that never ends.
_MALFORMED_PAYLOAD = b'{"candidates": [{"content": {"parts": [{"text": "cut sho'


@dataclass(eq=False)
class RecordedRequest:
    """One HTTP request as the emulator received it, and what became of its response.

    Times are `time.monotonic()`. `disconnected_at` is set only when the client
    closed the connection before the response was complete; `outcome` is
    "pending", "completed", "disconnected" (by the client) or "aborted" (by the
    emulator: a disconnect fault, or `stop()`).
    """

    index: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    received_at: float
    peer: str = ""  # the client's address: requests on one connection share it
    version: str | None = None
    model: str | None = None
    action: str | None = None
    api_key: str | None = None
    body: dict[str, Any] | None = None
    status: int | None = None
    reply: Reply | None = None
    first_chunk_at: float | None = None
    finished_at: float | None = None
    disconnected_at: float | None = None
    chunks_sent: int = 0
    outcome: str = "pending"
    # A fill-in-the-middle request (an inline completion): what it asked about.
    fim: FimContext | None = None
    _texts: list[str] = field(default_factory=list, init=False, repr=False)
    _done: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    @property
    def text_sent(self) -> str:
        """The text of the chunks that were sent, in order."""
        return "".join(self._texts)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def _finish(self, outcome: str) -> None:
        if self.outcome == "pending":
            self.outcome = outcome
            if outcome == "completed":
                self.finished_at = time.monotonic()
        self._done.set()


@dataclass
class _Plan:
    """A reply made concrete for one request: texts, waits (seconds), metadata."""

    texts: list[str]
    waits: list[float]
    finish_reason: str
    prompt_tokens: int
    output_tokens: int
    total_tokens: int
    model_version: str
    fault: tuple[str, int] | None
    error_event: ErrorSpec | None

    def usage(self, final: bool) -> dict[str, Any]:
        full = protocol.usage_metadata(self.prompt_tokens, self.output_tokens, self.total_tokens)
        if final:
            return full
        # Like the real API mid-stream: prompt counts only, no candidates yet.
        del full["candidatesTokenCount"]
        full["totalTokenCount"] = self.prompt_tokens
        return full


class Emulator:
    """A protocol-faithful Gemini API server for tests, demos and offline use.

    Point google-genai at `base_url` (HttpOptions(base_url=...) or the
    GOOGLE_GEMINI_BASE_URL environment variable). Scripted replies are used one
    per generate request, in order; when none is left, the default generator
    answers with deterministic code at the configured pace
    (`first_token_ms`/`chars_per_second` of 0 or None: as fast as possible).
    With `api_key=None` any non-empty key is accepted.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        replies: Iterable[Reply] = (),
        first_token_ms: float | None = DEFAULT_FIRST_TOKEN_MS,
        chars_per_second: float | None = DEFAULT_CHARS_PER_SECOND,
        *,
        model_version: str = DEFAULT_MODEL_VERSION,
        fim: Iterable[FimRule] = (),
    ) -> None:
        self.host = host
        self.api_key = api_key
        self.first_token_ms = first_token_ms
        self.chars_per_second = chars_per_second
        self.model_version = model_version
        self.requests: list[RecordedRequest] = []
        self._requested_port = port
        self._port: int | None = None
        # script() may be called from other threads (EmulatorThread).
        self._replies_lock = threading.Lock()
        self._replies: deque[Reply] = deque(replies)
        # FIM rules, each with the number of requests it may still answer (None: any).
        self._fim: list[list[Any]] = [[rule, rule.times] for rule in fim]
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], Connection] = {}
        self._arrived = asyncio.Condition()

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> str:
        """Starts listening; returns the base URL."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self._requested_port, reuse_address=True
        )
        self._port = self._server.sockets[0].getsockname()[1]
        logger.info("Gemini emulator listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        """Stops listening and closes every connection, open streams included."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        connections = dict(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        # Let the sockets really close before a caller closes the event loop.
        await asyncio.gather(*(conn.wait_closed() for conn in connections.values()))
        await server.wait_closed()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    # -- scripting and the log -------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queues replies, each used by one generate request. Thread-safe."""
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"expected a Reply, got {reply!r}")
        with self._replies_lock:
            self._replies.extend(replies)

    def script_fim(self, *rules: FimRule) -> None:
        """Adds rules for fill-in-the-middle requests, tried in order. Thread-safe."""
        for rule in rules:
            if not isinstance(rule, FimRule):
                raise TypeError(f"expected a FimRule, got {rule!r}")
        with self._replies_lock:
            self._fim.extend([rule, rule.times] for rule in rules)

    def clear_fim(self) -> None:
        with self._replies_lock:
            self._fim.clear()

    @property
    def fim_requests(self) -> list[RecordedRequest]:
        """The fill-in-the-middle requests received, in order."""
        return [request for request in self.requests if request.fim is not None]

    def _fim_reply(self, context: FimContext) -> Reply:
        with self._replies_lock:
            for state in self._fim:
                rule, left = state
                if left != 0 and rule.matches(context):
                    if left is not None:
                        state[1] = left - 1
                    return rule.reply(context)  # type: ignore[no-any-return]
        return FimRule().reply(context)

    @property
    def pending_replies(self) -> int:
        with self._replies_lock:
            return len(self._replies)

    def _take_reply(self) -> Reply | None:
        with self._replies_lock:
            return self._replies.popleft() if self._replies else None

    async def wait_for_request(self, n: int = 1, timeout: float = 5.0) -> RecordedRequest:
        """Waits until at least n requests have arrived; returns the n-th (1-based)."""
        if n < 1:
            raise ValueError("n counts from 1")
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.requests) >= n), timeout)
        return self.requests[n - 1]

    async def wait_until_done(
        self, request: RecordedRequest, timeout: float = 5.0
    ) -> RecordedRequest:
        """Waits until the request's response has ended, whatever the outcome."""
        await asyncio.wait_for(request._done.wait(), timeout)
        return request

    async def wait_for_disconnect(self, request: RecordedRequest, timeout: float = 5.0) -> float:
        """Waits for the client to abandon `request`; returns its `disconnected_at`.

        Raises TimeoutError if the response is still going on after `timeout`, and
        RuntimeError if it ended any other way (completed, or aborted by the emulator).
        """
        await self.wait_until_done(request, timeout)
        if request.disconnected_at is None:
            raise RuntimeError(
                f"request {request.index} ended without a client disconnect "
                f"(outcome: {request.outcome})"
            )
        return request.disconnected_at

    # -- connections -------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = Connection(reader, writer)
        self._connections[task] = conn
        try:
            while True:
                try:
                    request = await conn.read_request()
                except HttpProtocolError as exc:
                    logger.info("bad request from %s: %s", conn.peer, exc.message)
                    if conn.peer_gone:
                        break
                    body = protocol.error_body(exc.status, exc.message)
                    await conn.send_response(
                        exc.status,
                        protocol.JSON_HEADERS,
                        protocol.json_bytes(body),
                        keep_alive=False,
                    )
                    break
                if request is None:
                    break
                await self._exchange(conn, request)
                if not (request.keep_alive and conn.reusable):
                    break
        except OSError:  # ConnectionResetError and friends: the client is gone
            pass
        except asyncio.CancelledError:
            # stop() cancels connections. End normally: Python 3.11's start_server
            # reports a cancelled handler task as "Unhandled exception".
            pass
        except Exception:
            logger.exception("emulator connection failed")
        finally:
            self._connections.pop(task, None)
            conn.close_nowait()

    async def _exchange(self, conn: Connection, request: Request) -> None:
        """Answers one request while watching for the client leaving."""
        record = self._record(request, conn.peer)
        async with self._arrived:
            self._arrived.notify_all()
        work = asyncio.create_task(self._respond(conn, request, record))
        watch = asyncio.create_task(conn.wait_peer_closed())
        try:
            await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Also reached when stop() cancels this connection: then it is "aborted".
            if not work.done() and watch.done() and record.outcome == "pending":
                record.disconnected_at = conn.peer_closed_at or time.monotonic()
                record._finish("disconnected")
            for task in (work, watch):
                task.cancel()
            outcome, _ = await asyncio.gather(work, watch, return_exceptions=True)
            if isinstance(outcome, OSError) and record.outcome == "pending":
                # A write failed: the client is gone, noticed before the watcher did.
                record.disconnected_at = conn.peer_closed_at or time.monotonic()
                record._finish("disconnected")
            record._finish("aborted")
            self._log(record)
        if isinstance(outcome, Exception) and not isinstance(outcome, OSError):
            logger.error("emulator failed to answer %s", request.path, exc_info=outcome)
            if record.status is None and conn.reusable:
                body = protocol.error_body(500, f"gemini-lsp emulator bug: {outcome!r}")
                await conn.send_response(
                    500, protocol.JSON_HEADERS, protocol.json_bytes(body), keep_alive=False
                )
            await conn.close()

    def _record(self, request: Request, peer: str) -> RecordedRequest:
        body: dict[str, Any] | None = None
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            parsed = json.loads(request.body) if request.body else None
            body = parsed if isinstance(parsed, dict) else None
        route = protocol.parse_route(request.path)
        record = RecordedRequest(
            index=len(self.requests),
            method=request.method,
            path=request.path,
            query=request.query,
            headers={name: value for name, value in request.headers},
            received_at=time.monotonic(),
            peer=peer,
            version=route.version if route else None,
            model=route.model if route else None,
            action=route.action if route else None,
            api_key=request.header("x-goog-api-key") or request.query.get("key"),
            body=body,
            fim=parse_fim(body),
        )
        self.requests.append(record)
        return record

    def _log(self, record: RecordedRequest) -> None:
        elapsed = (time.monotonic() - record.received_at) * 1000
        logger.info(
            "%s %s -> %s %s, %d chunks, %.0f ms",
            record.method,
            record.path,
            record.status,
            record.outcome,
            record.chunks_sent,
            elapsed,
        )

    # -- responses ---------------------------------------------------------

    async def _send_error(
        self,
        conn: Connection,
        request: Request,
        record: RecordedRequest,
        body: dict[str, Any],
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        code = int(body["error"]["code"])
        record.status = code
        await conn.send_response(
            code,
            [*protocol.JSON_HEADERS, *headers],
            protocol.json_bytes(body),
            keep_alive=request.keep_alive,
        )
        record._finish("completed")

    async def _respond(self, conn: Connection, request: Request, record: RecordedRequest) -> None:
        route = protocol.parse_route(request.path)
        if (
            route is None
            or request.method != "POST"
            or route.version not in protocol.API_VERSIONS
            or route.action not in protocol.GENERATE_ACTIONS
        ):
            message = f"The emulator has no {request.method} {request.path}."
            await self._send_error(conn, request, record, protocol.error_body(404, message))
            return
        key = record.api_key
        if not key or (self.api_key is not None and key != self.api_key):
            await self._send_error(conn, request, record, protocol.api_key_invalid_body())
            return
        if not route.model.startswith("gemini-"):
            await self._send_error(conn, request, record, protocol.model_not_found_body(route))
            return
        problem = _validate_body(request.body, record.body)
        if problem is not None:
            await self._send_error(conn, request, record, protocol.error_body(400, problem))
            return
        assert record.body is not None
        reply = self._take_reply() if record.fim is None else self._fim_reply(record.fim)
        record.reply = reply
        if reply is not None and reply.is_http_error:
            assert reply.error is not None
            if reply.first_chunk_delay_ms:
                await asyncio.sleep(reply.first_chunk_delay_ms / 1000)
            body, headers = _error_reply(reply.error)
            await self._send_error(conn, request, record, body, headers)
            return
        plan = self._plan(record.body, reply)
        if route.action == protocol.STREAM_ACTION:
            await self._stream(conn, request, record, plan)
        else:
            await self._unary(conn, request, record, plan)

    def _plan(self, body: dict[str, Any], reply: Reply | None) -> _Plan:
        texts: list[str]
        explicit_waits: list[float | None]
        natural_finish = "STOP"
        chunks = reply.text_chunks if reply is not None else None
        if chunks is not None:
            texts = [c.text for c in chunks]
            explicit_waits = [c.delay_ms for c in chunks]
        else:
            if reply is not None and reply.text is not None:
                text = reply.text
            else:
                answer = codegen.default_answer(body)
                text, natural_finish = answer.text, answer.finish_reason
            texts = codegen.split_into_chunks(text)
            explicit_waits = [None] * len(texts)
        finish_reason = _first(reply.finish_reason if reply else None, natural_finish)

        first_ms = _first(reply.first_chunk_delay_ms if reply else None, self.first_token_ms, 0.0)
        chunk_ms = reply.chunk_delay_ms if reply else None
        cps = self.chars_per_second or 0.0
        waits: list[float] = []
        for i, text in enumerate(texts or [""]):
            explicit = explicit_waits[i] if i < len(explicit_waits) else None
            if explicit is not None:
                waits.append(explicit / 1000)
            elif i == 0:
                waits.append(first_ms / 1000)
            elif chunk_ms is not None:
                waits.append(chunk_ms / 1000)
            else:
                waits.append(len(text) / cps if cps > 0 else 0.0)

        usage = reply.usage if reply is not None else None
        prompt_tokens = _first(
            usage.prompt_token_count if usage else None, codegen.prompt_tokens(body)
        )
        output_tokens = _first(
            usage.candidates_token_count if usage else None,
            codegen.estimate_tokens("".join(texts)),
        )
        total_tokens = _first(
            usage.total_token_count if usage else None, prompt_tokens + output_tokens
        )
        error_event = None
        if reply is not None and reply.error_event_after is not None:
            error_event = reply.error or ErrorSpec(500)
        return _Plan(
            texts=texts,
            waits=waits,
            finish_reason=finish_reason,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            total_tokens=total_tokens,
            model_version=(reply.model_version if reply else None) or self.model_version,
            fault=reply.fault if reply is not None else None,
            error_event=error_event,
        )

    async def _stream(
        self, conn: Connection, request: Request, record: RecordedRequest, plan: _Plan
    ) -> None:
        # Without alt=sse the API streams one JSON array, element by element.
        sse = request.query.get("alt") == "sse"
        sent = 0

        async def send(payload: bytes | None) -> None:
            """Sends one event (None: just the response head, if not sent yet)."""
            nonlocal sent
            if record.status is None:
                record.status = 200
                headers = protocol.SSE_HEADERS if sse else protocol.JSON_HEADERS
                await conn.begin_stream(200, headers, http_version=request.http_version)
            if payload is None:
                return
            if sse:
                await conn.send_data(b"data: " + payload + b"\r\n\r\n")
            else:
                await conn.send_data((b"," if sent else b"[") + payload + b"\r\n")
            sent += 1

        fault, fault_at = plan.fault or ("", -1)
        events = max(len(plan.texts), 1)  # an empty answer is still one (final) event
        deadline = record.received_at
        for i in range(events):
            if i == fault_at:
                break
            deadline += plan.waits[i]
            await _sleep_until(deadline)
            last = i == events - 1
            text = plan.texts[i] if plan.texts else None
            payload = protocol.response_json(
                text,
                finish_reason=plan.finish_reason if last else None,
                usage=plan.usage(final=last),
                model_version=plan.model_version,
                response_id=f"emulator-{record.index}",
            )
            await send(protocol.compact_json(payload))
            if record.first_chunk_at is None:
                record.first_chunk_at = time.monotonic()
            if text is not None:
                record.chunks_sent += 1
                record._texts.append(text)

        if fault == "stall_after":
            await send(None)
            await asyncio.Event().wait()  # until the client leaves or stop() cancels us
        elif fault == "disconnect_after":
            await send(None)
            record._finish("aborted")
            await conn.close()
            return
        elif fault == "malformed_after":
            await send(_MALFORMED_PAYLOAD)
        elif fault == "error_event_after":
            assert plan.error_event is not None
            await send(protocol.compact_json(_error_reply(plan.error_event)[0]))
        if not sse:
            await conn.send_data(b"]")
        await conn.end_stream()
        record._finish("completed")

    async def _unary(
        self, conn: Connection, request: Request, record: RecordedRequest, plan: _Plan
    ) -> None:
        fault, fault_at = plan.fault or ("", len(plan.waits))
        await _sleep_until(record.received_at + sum(plan.waits[:fault_at]))
        if fault == "stall_after":
            await asyncio.Event().wait()
        if fault == "disconnect_after":
            record._finish("aborted")
            await conn.close()
            return
        if fault == "error_event_after":
            assert plan.error_event is not None
            body, headers = _error_reply(plan.error_event)
            await self._send_error(conn, request, record, body, headers)
            return
        record.status = 200
        if fault == "malformed_after":
            await conn.send_response(
                200, protocol.JSON_HEADERS, _MALFORMED_PAYLOAD, keep_alive=request.keep_alive
            )
            record._finish("completed")
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
        record.chunks_sent = len(plan.texts)
        record._texts.extend(plan.texts)
        record._finish("completed")


def _first(*values: T | None) -> T:
    """The first value that is not None."""
    return next(v for v in values if v is not None)


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    # Sleeping 0 still yields, so one fast stream cannot starve the others.
    await asyncio.sleep(max(delay, 0.0))


def _validate_body(raw: bytes, body: dict[str, Any] | None) -> str | None:
    if body is None:
        return (
            "Invalid JSON payload received. Unexpected token."
            if raw
            else "* GenerateContentRequest.contents: contents is not specified"
        )
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    return None


def _error_reply(error: ErrorSpec) -> tuple[dict[str, Any], list[tuple[str, str]]]:
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
