"""The Emulator: a Gemini API server on asyncio that records what it is asked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from gemini_lsp.emulator import protocol
from gemini_lsp.emulator.fim import FimContext, FimRule, parse_fim
from gemini_lsp.emulator.http import Connection, HttpProtocolError, Request
from gemini_lsp.emulator.plan import Pace, make_plan
from gemini_lsp.emulator.record import RecordedRequest
from gemini_lsp.emulator.responses import error_reply, send_error, stream, unary
from gemini_lsp.emulator.scenario import Reply

log = logging.getLogger(__name__)

DEFAULT_MODEL_VERSION = "gemini-lsp-emulator"
DEFAULT_FIRST_TOKEN_MS = 300.0
DEFAULT_CHARS_PER_SECOND = 400.0


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
        log.info("Gemini emulator listening on %s", self.base_url)
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
        await asyncio.wait_for(request.wait_done(), timeout)
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
                    log.info("bad request from %s: %s", conn.peer, exc.message)
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
            log.exception("emulator connection failed")
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
                record.finish("disconnected")
            for task in (work, watch):
                task.cancel()
            outcome, _ = await asyncio.gather(work, watch, return_exceptions=True)
            if isinstance(outcome, OSError) and record.outcome == "pending":
                # A write failed: the client is gone, noticed before the watcher did.
                record.disconnected_at = conn.peer_closed_at or time.monotonic()
                record.finish("disconnected")
            record.finish("aborted")
            self._log(record)
        if isinstance(outcome, Exception) and not isinstance(outcome, OSError):
            log.error("emulator failed to answer %s", request.path, exc_info=outcome)
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
        log.info(
            "%s %s -> %s %s, %d chunks, %.0f ms",
            record.method,
            record.path,
            record.status,
            record.outcome,
            record.chunks_sent,
            elapsed,
        )

    async def _respond(self, conn: Connection, request: Request, record: RecordedRequest) -> None:
        route = protocol.parse_route(request.path)
        if (
            route is None
            or request.method != "POST"
            or route.version not in protocol.API_VERSIONS
            or route.action not in protocol.GENERATE_ACTIONS
        ):
            message = f"The emulator has no {request.method} {request.path}."
            await send_error(conn, request, record, protocol.error_body(404, message))
            return
        key = record.api_key
        if not key or (self.api_key is not None and key != self.api_key):
            await send_error(conn, request, record, protocol.api_key_invalid_body())
            return
        if not route.model.startswith("gemini-"):
            await send_error(conn, request, record, protocol.model_not_found_body(route))
            return
        problem = _validate_body(request.body, record.body)
        if problem is not None:
            await send_error(conn, request, record, protocol.error_body(400, problem))
            return
        assert record.body is not None
        reply = self._take_reply() if record.fim is None else self._fim_reply(record.fim)
        record.reply = reply
        if reply is not None and reply.is_http_error:
            assert reply.error is not None
            if reply.first_chunk_delay_ms:
                await asyncio.sleep(reply.first_chunk_delay_ms / 1000)
            body, headers = error_reply(reply.error)
            await send_error(conn, request, record, body, headers)
            return
        pace = Pace(self.first_token_ms, self.chars_per_second, self.model_version)
        plan = make_plan(record.body, reply, pace)
        if route.action == protocol.STREAM_ACTION:
            await stream(conn, request, record, plan)
        else:
            await unary(conn, request, record, plan)


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
