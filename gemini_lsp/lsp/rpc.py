"""pygls' JSON-RPC protocol, hardened: every message gets the answer the spec asks for, and the
bookkeeping stays bounded however long the server runs.

What pygls 2.1 does otherwise (read in pygls/protocol/json_rpc.py):
- a future is kept in `_request_futures` for each notification handled by a coroutine or a
  generator (pygls' own `initialized`, `$/setTrace`, …) and never removed;
- a result type is kept in `_result_types` for each request the client answers with an error;
- a body that is not JSON, or whose shape is wrong, is logged and left unanswered, so the
  client waits for ever; a request without `params` for an unknown method is one of them;
- every InvalidParams answer is logged as an exception with a traceback;
- `shutdown` cancels pending futures while iterating over the dict their callbacks change
  ("dictionary changed size during iteration"), and answers requests that arrive after it
  with silence instead of InvalidRequest.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

import cattrs
from lsprotocol import types
from pygls.exceptions import (
    FeatureNotificationError,
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
)
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    MsgId,
)
from pygls.protocol.language_server import lsp_method

from gemini_lsp.gemini.secrets import KEYS, Secrets

log = logging.getLogger(__name__)


class UnusableMessageError(Exception):
    """A message that cannot be handled; `error` is the answer it gets, if it can get one."""

    def __init__(self, msg_id: MsgId | None, error: JsonRpcException | None) -> None:
        super().__init__(error.message if error else "unusable message")
        self.msg_id = msg_id
        self.error = error


class FutureTable(dict[MsgId, Any]):
    """`_request_futures` that forgets each future, and its result type, once it is done."""

    def __init__(self, result_types: dict[MsgId, Any]) -> None:
        super().__init__()
        self._result_types = result_types

    def __setitem__(self, key: MsgId, future: Any) -> None:
        super().__setitem__(key, future)
        future.add_done_callback(functools.partial(self._forget, key))

    def _forget(self, key: MsgId, future: Any) -> None:
        if self.get(key) is future:
            del self[key]
        self._result_types.pop(key, None)


class RobustProtocol(LanguageServerProtocol):
    """The JSON-RPC layer under our LSP handlers."""

    def __init__(self, server: Any, converter: cattrs.Converter) -> None:
        super().__init__(server, converter)
        self._request_futures = FutureTable(self._result_types)
        self._request_ids = itertools.count(1)
        self.exiting = False
        self.exit_code = 1
        # Masks the keys in everything sent to the client (the server sets its own).
        self.secrets: Secrets = KEYS
        # executeCommand tasks still running: `shutdown` lets them answer first.
        self.command_tasks: set[asyncio.Task[Any]] = set()
        # Notifications handled by a plain function, called straight from the intake: pygls'
        # dispatch gives each a uuid, a future, a context copy and a Protocol type check,
        # which together cost more than applying a `didChange` does.
        self.direct_notifications: dict[str, Callable[[Any], None]] = {}
        self._request_started = False
        # One encoder for every message: `json.dumps` with `default` builds one per call.
        self._encoder = json.JSONEncoder(default=self._serialize_message)

    # -- requests to the client ------------------------------------------------------------

    def send_request_now(self, method: str, params: Any) -> asyncio.Future[Any]:
        """Send a request before returning; its answer resolves an asyncio future.

        For the edits, which are the hot path: pygls' `*_async` requests are written on their
        task's first step (an event-loop iteration later), and their answers come through a
        thread-safe future whose hand-over wakes the loop once more.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        msg_id = f"gemini-{next(self._request_ids)}"
        # pygls answers it through set_result / set_exception, which asyncio futures have.
        self._request_futures[msg_id] = future  # type: ignore[assignment]
        self._result_types[msg_id] = self.get_result_type(method)
        message = {"jsonrpc": self.VERSION, "id": msg_id, "method": method}
        message["params"] = self._converter.unstructure(params)
        self._send_data(message)
        return future

    def _send_data(self, data: Any) -> None:
        """Every message to the client, serialized once, with the keys masked in its strings:
        answers, errors (and their data), `window/showMessage`, `window/logMessage`, progress.
        The edits are the document's own text, and are sent as they are."""
        if not data or self.writer is None:
            return
        try:
            body = self._encoder.encode(data)
        except (TypeError, ValueError):
            log.exception("a message to the client could not be serialized")
            return
        if not _is_edit(data):
            body = self.secrets.mask_json(body)
        log.debug("Sending data: %s", body)
        # ASCII (the encoder escapes the rest): its length in characters is its length in bytes.
        header = (
            f"Content-Length: {len(body)}\r\n"
            f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
            if self._include_headers
            else ""
        )
        self.writer.write((header + body).encode())

    # -- intake ---------------------------------------------------------------------------

    async def intake(self, body: bytes) -> bool:
        """Handle one frame's body. False once `exit` has arrived: stop reading.

        A request that has just started takes its first step before a message that could
        change what that step reads is handled: the request reads the documents as the client
        had them when it sent it (a command takes hold of its position then), and the changes
        the client sent after it may already be waiting in the same read. Answers to the
        server's requests and further commands are read on at once: an answer only resolves a
        future, and a command starts a task that runs after the earlier ones, so a batch of
        commands is read without a turn of the loop each.
        """
        try:
            data = json.loads(body)
        except ValueError as error:  # not JSON, or not UTF-8
            log.warning("message is not valid JSON: %s", error)
            self.answer_error(None, JsonRpcParseError(f"Parse error: {error}"))
            return not self.exiting
        if self._request_started and not _reads_on(data):
            self._request_started = False
            await asyncio.sleep(0)
        self.inspect(data)
        try:
            message = self.structure_message(data)
        except UnusableMessageError as error:
            if error.error is not None:
                self.answer_error(error.msg_id, error.error)
            return not self.exiting
        try:
            self.handle_message(message)
        except Exception:
            log.exception("failed to handle a message")
        return not self.exiting

    def inspect(self, data: Any) -> None:
        """Sees each message as parsed, before anything handles or logs it."""

    def reject(self, reason: str) -> None:
        """A frame was dropped unread: answer as for a request whose id cannot be known."""
        self.answer_error(None, JsonRpcInvalidRequest(f"Invalid Request: {reason}"))

    def structure_message(self, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("jsonrpc") != self.VERSION:
            raise UnusableMessageError(
                _id_of(data),
                JsonRpcInvalidRequest(
                    'Invalid Request: a message is an object with "jsonrpc": "2.0"'
                ),
            )
        method = data.get("method")
        if "method" in data and not isinstance(method, str):
            raise UnusableMessageError(
                _id_of(data), JsonRpcInvalidRequest("Invalid Request: method must be a string")
            )
        if method is not None and "params" not in data:
            data = {**data, "params": None}  # params are optional; pygls' fallbacks need one
        if "id" in data and _id_of(data) is None and data["id"] is not None:
            raise UnusableMessageError(
                None, JsonRpcInvalidRequest("Invalid Request: id must be a number or a string")
            )
        try:
            return self._converter.structure(data, self._message_type(data))
        except Exception as error:  # cattrs' errors, with a traceback pygls would log
            detail = _validation_detail(error)
            log.warning("malformed %s message: %s", (method or "response")[:80], detail)
            if method is None or "id" not in data:
                raise UnusableMessageError(None, None) from None  # nobody waits for an answer
            raise UnusableMessageError(
                _id_of(data), JsonRpcInvalidParams(f"Invalid params for {method}: {detail}")
            ) from None

    def _message_type(self, data: dict[str, Any]) -> Any:
        """The class a message is structured as, chosen as pygls chooses it."""
        if "id" not in data:
            return self.get_message_type(data.get("method", "")) or JsonRPCNotification
        if "error" in data:
            return types.ResponseErrorMessage
        if "method" in data:
            return self.get_message_type(data["method"]) or JsonRPCRequestMessage
        return self._result_types.pop(data["id"], None) or JsonRPCResponseMessage

    def handle_message(self, message: Any) -> None:
        """Hand a structured message to its handler, told apart by its fields as pygls does,
        but without pygls' `typing.Protocol` isinstance checks: each costs about 20 µs, and an
        edit's answer took three, more than the rest of handling it."""
        method: str | None = getattr(message, "method", None)
        is_request = method is not None and hasattr(message, "id")
        if self._shutdown and method != types.EXIT:
            if is_request:
                self.answer_error(
                    message.id,
                    JsonRpcInvalidRequest("Invalid Request: the server is shutting down"),
                )
            elif method is None:
                self._handle_response(
                    message.id, getattr(message, "result", None), getattr(message, "error", None)
                )
            return
        direct = None if is_request or method is None else self.direct_notifications.get(method)
        if direct is not None:
            try:
                direct(message.params)
            except Exception as error:
                log.exception("failed to handle %s", method)
                self._server._report_server_error(error, FeatureNotificationError)
            return
        if is_request:
            self._request_started = True  # until `intake` has given it a turn
        # Each handler runs in its own context, as under pygls.
        context = contextvars.copy_context()
        if method is None:
            context.run(
                self._handle_response,
                message.id,
                getattr(message, "result", None),
                getattr(message, "error", None),
            )
        elif is_request:
            context.run(self._handle_request, message.id, method, message.params)
        else:
            context.run(self._handle_notification, method, message.params)

    def _handle_response(
        self, msg_id: MsgId, result: Any | None = None, error: Any | None = None
    ) -> None:
        future = self._request_futures.get(msg_id)
        if future is not None and future.done():
            # Cancelled (at `shutdown`) and not yet forgotten: nobody waits for this answer.
            self._request_futures.pop(msg_id, None)
            return
        super()._handle_response(msg_id, result, error)

    def answer_error(self, msg_id: MsgId | None, error: JsonRpcException) -> None:
        self._send_data({"jsonrpc": self.VERSION, "id": msg_id, "error": _error_json(error)})

    # -- answers ----------------------------------------------------------------------------

    def _send_handler_result(self, future: Any, *, msg_id: MsgId) -> None:
        # An error meant for the client (InvalidParams, RequestFailed) is an answer, not a
        # server fault: no traceback in the log.
        if not future.cancelled() and isinstance(future.exception(), JsonRpcException):
            self._request_futures.pop(msg_id, None)
            error: JsonRpcException = future.exception()
            log.info("request %s answered with error %s: %s", msg_id, error.code, error.message)
            self.answer_error(msg_id, error)
            return
        super()._send_handler_result(future, msg_id=msg_id)

    # -- lifecycle ----------------------------------------------------------------------------

    # A coroutine: our `shutdown` handler waits for generations to wind down first.
    @lsp_method(types.SHUTDOWN)
    async def lsp_shutdown(self, *args: Any) -> None:  # type: ignore[override]
        handler = self.fm.features.get(types.SHUTDOWN)
        if handler is not None:
            result = handler(*args)
            if inspect.isawaitable(result):
                await result
        current = self.msg_id
        # A snapshot: cancelling runs callbacks that remove entries.
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:  # type: ignore[override]
        self.exiting = True
        self.exit_code = 0 if self._shutdown else 1


def _reads_on(data: Any) -> bool:
    """Whether a message can be handled before a request just started has taken its first
    step: an answer (to the server's own request), or a command, which starts a task."""
    if not isinstance(data, dict) or "id" not in data:
        return False  # a notification (a document change …), or no message at all
    method = data.get("method")
    return method is None or method == types.WORKSPACE_EXECUTE_COMMAND


def _is_edit(data: Any) -> bool:
    method = data.get("method") if isinstance(data, dict) else getattr(data, "method", None)
    return method == types.WORKSPACE_APPLY_EDIT


def _id_of(data: Any) -> MsgId | None:
    value = data.get("id") if isinstance(data, dict) else None
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    return None


def _validation_detail(cause: BaseException) -> str:
    if isinstance(cause, cattrs.BaseValidationError):
        return "; ".join(
            m.replace(" @ .", " @ ") for m in cattrs.transform_error(cause, path="")[:5]
        )
    return "the message does not have the shape the method needs"


def _error_json(error: JsonRpcException) -> dict[str, Any]:
    answer: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.data is not None:
        answer["data"] = error.data
    return answer
